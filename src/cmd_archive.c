/* cmd_archive.c — command-line faces of verify.c, prune.c and hold.c: option parsing, keys
 * from the config, the run lock, output and exit codes. The work itself lives in those
 * modules. */
#include "cmd_archive.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "age.h"
#include "config.h"
#include "hold.h"
#include "job.h"
#include "log.h"
#include "manifest.h"
#include "minisign.h"
#include "pbxtime.h"
#include "prune.h"
#include "state.h"
#include "store.h"
#include "verify.h"

#define ESC 4096 /* an escaped path or reason: up to 4 bytes per byte */

static const char verify_usage[] =
	"usage: nexo-archive verify [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--deep]\n"
	"                           [-i IDENTITY]... [--json] [--sample PERCENT]\n";
static const char prune_usage[] = "usage: nexo-archive prune [--dry-run]\n";
static const char hold_usage[] =
	"usage: nexo-archive hold add (--number EXT | --from DAY --to DAY | --path GLOB)"
	" --reason TEXT\n"
	"       nexo-archive hold remove ID\n"
	"       nexo-archive hold list [--json]\n";
static const char forget_usage[] = "usage: nexo-archive forget PATH --reason TEXT\n";

/* Restarts getopt on a command's argv. optind = 0 rather than 1: glibc then re-reads the
 * option string, so main's "+" (stop at the first operand) does not carry over and options may
 * follow operands ("forget PATH --reason TEXT"). argv[0] is skipped either way. */
static void reset_getopt(void)
{
	optind = 0;
}

static int usage_error(const char *usage)
{
	fputs(usage, stderr);
	return EXIT_USAGE;
}

/* Opens the archive, which must exist already: these commands never create one. */
static struct store *open_archive(const struct config *cfg)
{
	struct store *s;
	struct stat st;
	char err[512];

	if (!cfg->archive.dir) {
		log_error("%s: [archive] dir is not set", cfg->path ? cfg->path : "config");
		return NULL;
	}
	if (stat(cfg->archive.dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_error("no archive at %s", cfg->archive.dir);
		return NULL;
	}
	s = store_open(cfg->archive.dir, err, sizeof err);
	if (!s)
		log_error("%s", err);
	return s;
}

/* Takes the run lock. Returns the fd to keep, or -(exit code) with the message printed. */
static int take_lock(const struct config *cfg, struct store *s, const char *what)
{
	long holder;
	int fd = state_lock(s, &holder);

	if (fd == -2) {
		log_error("another nexo-archive (pid %ld) holds the lock on %s; %s later", holder,
			  cfg->archive.dir, what);
		return -EXIT_LOCKED;
	}
	return fd < 0 ? -EXIT_STORAGE : fd;
}

/* [signing] public_key_file, when set. Returns 0 (*pk NULL when unset) or -1 (printed). */
static int load_public(const struct config *cfg, struct minisign_public **pk)
{
	char err[512];

	*pk = NULL;
	if (!cfg->signing.public_key_file)
		return 0;
	*pk = minisign_public_load(cfg->signing.public_key_file, err, sizeof err);
	if (!*pk) {
		log_error("%s: [signing] public_key_file: %s", cfg->path, err);
		return -1;
	}
	return 0;
}

/* The keys of a command that changes manifest days: the secret key to re-sign them and, when
 * set, the public key to check a day's signature before touching it. Returns 0 or -1 (printed;
 * nothing left loaded). */
static int load_keys(const struct config *cfg, struct minisign_secret **k,
		     struct minisign_public **pk)
{
	char err[512];

	*k = NULL;
	if (load_public(cfg, pk) != 0)
		return -1;
	if (!cfg->signing.secret_key_file) {
		if (*pk)
			log_warn("[signing] secret_key_file is not set: days changed now keep "
				 "their old signatures, which will no longer verify");
		return 0;
	}
	*k = minisign_secret_load(cfg->signing.secret_key_file, err, sizeof err);
	if (!*k) {
		log_error("%s: [signing] secret_key_file: %s", cfg->path, err);
		minisign_public_free(*pk);
		*pk = NULL;
		return -1;
	}
	return 0;
}

static int valid_day(const char *s)
{
	char buf[32];
	pbx_minute m;

	if (strlen(s) != 10)
		return 0;
	snprintf(buf, sizeof buf, "%s 00:00", s);
	return pbxtime_parse(buf, &m) == 0;
}

/* ---- verify ---- */

struct verify_out {
	int json;
	json_object *findings;
};

static void print_finding(void *ctx, const char *path, const char *reason)
{
	struct verify_out *v = ctx;
	char p[ESC], r[ESC];

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
	char err[512];
	int c, rc = EXIT_USAGE;

	memset(&o, 0, sizeof o);
	age_identities_init(&ids);
	reset_getopt();
	while ((c = getopt_long(argc, argv, "i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
		case 't':
			if (!valid_day(optarg)) {
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
		case 'h':
			fputs(verify_usage, stdout);
			rc = EXIT_OK;
			goto out;
		default:
			rc = usage_error(verify_usage);
			goto out;
		}
	}
	if (optind != argc) {
		rc = usage_error(verify_usage);
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
	if (load_public(cfg, &pk) != 0)
		goto out;
	if (!pk) {
		log_warn("manifest signatures were not checked: [signing] public_key_file is not "
			 "set");
	}
	rc = EXIT_STORAGE;
	s = open_archive(cfg);
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

/* ---- prune ---- */

static void prune_note(void *ctx, enum prune_event ev, const struct manifest_entry *e,
		       const struct hold *hold)
{
	char f[ESC], r[ESC];

	(void)ctx;
	log_escape(e->file, f, sizeof f);
	switch (ev) {
	case PRUNE_WOULD:
		printf("would prune %s (%llu bytes)\n", f, (unsigned long long)e->size);
		break;
	case PRUNE_REMOVED:
		log_info("pruned %s", f);
		break;
	case PRUNE_GONE:
		log_warn("%s was already missing; recorded as pruned", f);
		break;
	case PRUNE_HELD:
		printf("%s: held by hold %s: %s\n", f, hold->id,
		       log_escape(hold->reason, r, sizeof r));
		break;
	}
}

int cmd_prune(const struct config *cfg, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct prune_options o;
	struct prune_report rep;
	struct minisign_secret *key = NULL;
	struct minisign_public *pk = NULL;
	struct holds *h = NULL;
	struct store *s = NULL;
	char err[512];
	int c, lockfd = -1, rc;

	memset(&o, 0, sizeof o);
	reset_getopt();
	while ((c = getopt_long(argc, argv, "nh", longopts, NULL)) != -1) {
		if (c == 'n') {
			o.dry_run = 1;
		} else if (c == 'h') {
			fputs(prune_usage, stdout);
			return EXIT_OK;
		} else {
			return usage_error(prune_usage);
		}
	}
	if (optind != argc)
		return usage_error(prune_usage);
	if (cfg->retention.archive_keep_days < 0) {
		log_error("prune: [retention] archive_keep_days is not set (pruning is off); set "
			  "it to the days of calls to keep");
		return EXIT_USAGE;
	}
	if (cfg->retention.archive_keep_days < cfg->retention.archive_min_days) {
		log_error("prune: [retention] archive_keep_days (%ld) is below the floor "
			  "archive_min_days (%ld); refusing", cfg->retention.archive_keep_days,
			  cfg->retention.archive_min_days);
		return EXIT_USAGE;
	}
	if (load_keys(cfg, &key, &pk) != 0)
		return EXIT_USAGE;
	rc = EXIT_STORAGE;
	s = open_archive(cfg);
	if (!s)
		goto out;
	lockfd = take_lock(cfg, s, "prune");
	if (lockfd < 0) {
		rc = -lockfd;
		goto out;
	}
	h = holds_load(s, err, sizeof err);
	if (!h) {
		log_error("%s; pruning nothing while the holds cannot be read", err);
		goto out;
	}
	o.keep_days = cfg->retention.archive_keep_days;
	o.now = pbxtime_now(cfg->pbx.timezone);
	o.key = key;
	o.pk = pk;
	o.note = prune_note;
	prune_cutoff(o.now, o.keep_days, rep.cutoff);
	log_info("%s calls before %s (archive_keep_days = %ld)",
		 o.dry_run ? "dry run: would prune" : "pruning", rep.cutoff, o.keep_days);
	rc = prune_archive(s, h, &o, &rep);
	printf("%sprune: %lu pruned, %lu held, %llu bytes freed\n", o.dry_run ? "dry run: " : "",
	       rep.pruned, rep.held, (unsigned long long)rep.bytes);
	fflush(stdout);
	if (rep.bad_days)
		log_warn("%lu manifest days could not be used and were not pruned (see above; "
			 "nexo-archive verify says more)", rep.bad_days);
	rc = rc < 0 ? EXIT_STORAGE : rc > 0 ? EXIT_PARTIAL : EXIT_OK;
out:
	holds_free(h);
	if (lockfd >= 0)
		close(lockfd);
	store_close(s);
	minisign_secret_free(key);
	minisign_public_free(pk);
	return rc;
}

/* ---- hold ---- */

static void print_hold(const struct hold *x)
{
	char v[ESC], r[ESC], w[ESC], rb[ESC];

	if (x->kind == HOLD_RANGE)
		snprintf(v, sizeof v, "%s..%s", x->from, x->to);
	else
		log_escape(x->value, v, sizeof v);
	log_escape(x->who, w, sizeof w);
	printf("%s  %s  %s %s  created %s by %s", x->id, x->removed ? "removed " : "in force",
	       hold_kind_name(x->kind), v, x->created, w);
	if (x->removed)
		printf("  removed %s by %s", x->removed_at,
		       log_escape(x->removed_by, rb, sizeof rb));
	printf("  reason: %s\n", log_escape(x->reason, r, sizeof r));
}

static int hold_list(struct store *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct holds *h;
	char err[512];
	int c, json = 0;

	reset_getopt();
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'j')
			return usage_error(hold_usage);
		json = 1;
	}
	if (optind != argc)
		return usage_error(hold_usage);
	h = holds_load(s, err, sizeof err);
	if (!h) {
		log_error("%s", err);
		return EXIT_STORAGE;
	}
	if (json) {
		char *text = holds_to_json(h);
		if (!text) {
			holds_free(h);
			log_error("out of memory");
			return EXIT_STORAGE;
		}
		fputs(text, stdout);
		free(text);
	} else {
		for (size_t i = 0; i < holds_count(h); i++)
			print_hold(holds_at(h, i));
		if (holds_count(h) == 0)
			printf("no holds\n");
	}
	holds_free(h);
	return EXIT_OK;
}

/* add/remove: parse, then change and save under the lock. */
static int hold_change(const struct config *cfg, struct store *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "number", required_argument, NULL, 'N' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "path", required_argument, NULL, 'p' },
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *number = NULL, *from = NULL, *to = NULL, *glob = NULL, *reason = NULL, *id;
	int add = strcmp(argv[0], "add") == 0, c, lockfd, rc = EXIT_STORAGE, kinds;
	const struct hold *added;
	struct holds *h;
	char err[512], who[HOLD_WHO_MAX], esc[ESC];

	reset_getopt();
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char **slot = c == 'N' ? &number : c == 'f' ? &from : c == 't' ? &to
				  : c == 'p' ? &glob : c == 'r' ? &reason : NULL;
		if (!add || !slot)
			return usage_error(hold_usage);
		*slot = optarg;
	}
	kinds = !!number + !!glob + !!(from || to);
	if (add ? optind != argc || kinds != 1 || !reason : optind + 1 != argc) {
		if (add && kinds != 1)
			log_error("hold add takes exactly one of --number, --from/--to, --path");
		else if (add && !reason)
			log_error("hold add needs --reason");
		return usage_error(hold_usage);
	}
	lockfd = take_lock(cfg, s, add ? "add the hold" : "remove the hold");
	if (lockfd < 0)
		return -lockfd;
	h = holds_load(s, err, sizeof err);
	if (!h) {
		log_error("%s", err);
		close(lockfd);
		return EXIT_STORAGE;
	}
	holds_whoami(who, sizeof who);
	if (add) {
		enum hold_kind k = number ? HOLD_NUMBER : glob ? HOLD_PATH : HOLD_RANGE;
		added = holds_add(h, k, number ? number : glob, from, to, reason, who, err,
				  sizeof err);
		if (!added) {
			log_error("hold add: %s", err);
			rc = EXIT_USAGE;
			goto out;
		}
		id = added->id;
	} else {
		id = argv[optind];
		c = holds_remove(h, id, who);
		if (c != 0) {
			log_error("hold remove %s: %s (see hold list)",
				  log_escape(id, esc, sizeof esc),
				  c == 1 ? "no hold has that id" : "that hold was already removed");
			rc = EXIT_PARTIAL;
			goto out;
		}
	}
	if (holds_save(h, s, err, sizeof err) != 0) {
		log_error("cannot write %s/" HOLDS_FILE ": %s", cfg->archive.dir, err);
		goto out;
	}
	printf("%s hold %s\n", add ? "added" : "removed", log_escape(id, esc, sizeof esc));
	rc = EXIT_OK;
out:
	holds_free(h);
	close(lockfd);
	return rc;
}

int cmd_hold(const struct config *cfg, int argc, char **argv)
{
	struct store *s;
	int rc;

	if (argc < 2)
		return usage_error(hold_usage);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(hold_usage, stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "add") && strcmp(argv[1], "remove") && strcmp(argv[1], "list"))
		return usage_error(hold_usage);
	s = open_archive(cfg);
	if (!s)
		return EXIT_STORAGE;
	if (!strcmp(argv[1], "list"))
		rc = hold_list(s, argc - 1, argv + 1);
	else
		rc = hold_change(cfg, s, argc - 1, argv + 1);
	store_close(s);
	return rc;
}

/* ---- forget ---- */

/* PATH as the manifest writes it: without "./" or the archive's own folder in front. */
static const char *archive_relative(const struct config *cfg, const char *path)
{
	size_t n = cfg->archive.dir ? strlen(cfg->archive.dir) : 0;

	if (!n)
		return path;
	while (n > 1 && cfg->archive.dir[n - 1] == '/')
		n--;
	if (strncmp(path, cfg->archive.dir, n) == 0 && path[n] == '/')
		path += n + 1;
	while (strncmp(path, "./", 2) == 0)
		path += 2;
	return path;
}

int cmd_forget(const struct config *cfg, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct minisign_secret *key = NULL;
	struct minisign_public *pk = NULL;
	struct forget_info info;
	struct holds *h = NULL;
	struct store *s = NULL;
	const char *reason = NULL, *path;
	char err[512], f[ESC], p[ESC];
	int c, lockfd = -1, rc;

	reset_getopt();
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'r') {
			reason = optarg;
		} else if (c == 'h') {
			fputs(forget_usage, stdout);
			return EXIT_OK;
		} else {
			return usage_error(forget_usage);
		}
	}
	if (optind + 1 != argc || !reason || !*reason || strlen(reason) >= HOLD_TEXT_MAX) {
		if (!reason || !*reason)
			log_error("forget needs --reason (it is recorded in the manifest)");
		return usage_error(forget_usage);
	}
	path = archive_relative(cfg, argv[optind]);
	if (load_keys(cfg, &key, &pk) != 0)
		return EXIT_USAGE;
	rc = EXIT_STORAGE;
	s = open_archive(cfg);
	if (!s)
		goto out;
	lockfd = take_lock(cfg, s, "forget");
	if (lockfd < 0) {
		rc = -lockfd;
		goto out;
	}
	h = holds_load(s, err, sizeof err);
	if (!h) {
		log_error("%s; forgetting nothing while the holds cannot be read", err);
		goto out;
	}
	log_escape(path, p, sizeof p);
	c = prune_forget(s, h, path, reason, key, pk, &info);
	log_escape(info.file, f, sizeof f);
	switch (c) {
	case FORGET_DONE:
		printf("forgotten %s%s\n", f, info.file_was_missing ? " (the file was already gone)"
								    : "");
		if (!info.pbx_deleted)
			log_warn("the manifest records no deletion from the PBX: the PBX may "
				 "still hold %s; delete it there too",
				 log_escape(info.pbx_path, p, sizeof p));
		rc = EXIT_OK;
		break;
	case FORGET_ALREADY:
		printf("%s was already forgotten\n", f);
		rc = EXIT_OK;
		break;
	case FORGET_HELD:
		log_error("%s is under hold %s (%s); not forgotten (remove the hold first)", f,
			  info.hold_id, log_escape(info.hold_reason, p, sizeof p));
		rc = EXIT_PARTIAL;
		break;
	case FORGET_UNKNOWN:
		log_error("no archived recording has the file or PBX path '%s'", p);
		rc = EXIT_PARTIAL;
		break;
	default:
		rc = EXIT_STORAGE;
		break;
	}
out:
	holds_free(h);
	if (lockfd >= 0)
		close(lockfd);
	store_close(s);
	minisign_secret_free(key);
	minisign_public_free(pk);
	return rc;
}
