/* cmd_verify.c — `nexo-archive verify` (cmd_archive.h): options, the public key, the sample
 * offset, findings as text or JSON, and the exit code. The audit itself is verify.c's; this
 * file takes no lock and writes nothing but the sample offset. */
#include "cmd_archive.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_archive_internal.h"
#include "archive/store.h"
#include "archive/verify.h"
#include "base/config.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "crypto/age.h"
#include "crypto/minisign.h"

static const char verify_usage[] =
	"usage: nexo-archive verify [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--deep]\n"
	"                           [-i IDENTITY]... [--json] [--sample PERCENT]\n"
	"                           [--witness FILE] [--offsite]\n";

struct verify_out {
	int json;
	json_object *findings;
};

static void print_finding(void *ctx, const char *path, const char *reason)
{
	struct verify_out *v = ctx;
	char p[CMD_ESC], r[CMD_ESC];

	log_escape(path, p, sizeof p);
	log_escape(reason, r, sizeof r);
	if (v->json) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "path", json_object_new_string(p));
		json_object_object_add(o, "reason", json_object_new_string(r));
		json_object_array_add(v->findings, o);
	} else {
		printf("%s: %s\n", p, r);
	}
}

static void print_verify_json(const struct verify_report *rep, json_object *findings)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "days", json_object_new_int64((int64_t)rep->days));
	json_object_object_add(o, "files", json_object_new_int64((int64_t)rep->files));
	json_object_object_add(o, "hashed", json_object_new_int64((int64_t)rep->hashed));
	json_object_object_add(o, "findings", json_object_get(findings));
	json_object_object_add(o, "signatures_checked",
			       json_object_new_boolean(rep->signatures_checked));
	json_object_object_add(o, "head", json_object_new_int64((int64_t)rep->head_seq));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int parse_percent(const char *s, unsigned *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < 1 || v > 100)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int cmd_verify(const struct config *cfg, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "deep", no_argument, NULL, 'd' },
		{ "identity", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "sample", required_argument, NULL, 's' },
		{ "witness", required_argument, NULL, 'w' },
		{ "offsite", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct verify_options o;
	struct verify_report rep;
	struct verify_out out = { 0, NULL };
	struct age_identities ids;
	struct minisign_public *pk = NULL;
	struct store *s = NULL;
	unsigned percent = 0;
	int offsite = 0;
	char err[512];
	int c, rc = EXIT_USAGE;

	memset(&o, 0, sizeof o);
	age_identities_init(&ids);
	cmd_restart_getopt();
	while ((c = getopt_long(argc, argv, "i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
		case 't':
			if (!cmd_valid_day(optarg)) {
				log_error("verify %s '%s': expected YYYY-MM-DD",
					  c == 'f' ? "--from" : "--to", optarg);
				goto out;
			}
			*(c == 'f' ? &o.from : &o.to) = optarg;
			break;
		case 'd':
			o.deep = 1;
			break;
		case 'i':
			if (age_identities_load(&ids, optarg, err, sizeof err) != 0) {
				log_error("verify -i: %s", err);
				goto out;
			}
			break;
		case 'j':
			out.json = 1;
			break;
		case 's':
			if (parse_percent(optarg, &percent) != 0) {
				log_error("verify --sample '%s': expected a percentage, 1 to 100",
					  optarg);
				goto out;
			}
			break;
		case 'w':
			o.witness = optarg;
			break;
		case 'o':
			offsite = 1;
			break;
		case 'h':
			fputs(verify_usage, stdout);
			rc = EXIT_OK;
			goto out;
		default:
			rc = cmd_usage_error(verify_usage);
			goto out;
		}
	}
	if (optind != argc) {
		rc = cmd_usage_error(verify_usage);
		goto out;
	}
	if (o.from && o.to && strcmp(o.from, o.to) > 0) {
		log_error("verify: --from is after --to");
		goto out;
	}
	if (age_identities_count(&ids) && !o.deep) {
		log_error("verify: -i is for --deep (decrypting .age files)");
		goto out;
	}
	if (cmd_load_public(cfg, &pk) != 0)
		goto out;
	if (!pk) {
		log_warn("manifest signatures were not checked: [signing] public_key_file is not "
			 "set");
	}
	rc = EXIT_STORAGE;
	s = cmd_open_archive(cfg);
	if (!s)
		goto out;
	o.ids = &ids;
	o.pk = pk;
	if (percent) {
		o.sample_every = verify_sample_every(percent);
		o.sample_offset = verify_sample_offset(s);
	}
	if (out.json && !(out.findings = json_object_new_array())) {
		log_error("out of memory");
		goto out;
	}
	if (verify_archive(s, &o, print_finding, &out, &rep) != 0)
		goto out;
	if (offsite) {
		unsigned long more = 0;
		int orc = cmd_verify_offsite(cfg, s, o.deep, print_finding, &out, &more);
		rep.findings += more;
		if (orc != 0) {
			rc = orc;
			goto out;
		}
	}
	if (out.json)
		print_verify_json(&rep, out.findings);
	else
		printf("verify: %lu days, %lu files checked (%lu hashed), %lu findings\n", rep.days,
		       rep.files, rep.hashed, rep.findings);
	fflush(stdout);
	if (rep.not_decrypted)
		log_warn("%lu encrypted files were hashed but not decrypted: --deep needs -i "
			 "IDENTITY to check their audio", rep.not_decrypted);
	/* A read-only copy cannot advance the offset: said (as an error), but it changes
	 * nothing about what this verify found. */
	if (percent)
		verify_sample_advance(s, o.sample_offset);
	rc = rep.findings ? EXIT_PARTIAL : EXIT_OK;
out:
	json_object_put(out.findings);
	store_close(s);
	minisign_public_free(pk);
	age_identities_free(&ids);
	return rc;
}
