/* cmd_prune.c — `nexo-archive prune` and `forget` (cmd_archive.h), the two commands that
 * remove files from the archive: options, keys, the run lock, the holds, output and exit
 * codes. What is removed and how the manifest records it is prune.c's. */
#include "cmd_archive.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd_archive_internal.h"
#include "archive/hold.h"
#include "archive/manifest.h"
#include "archive/prune.h"
#include "archive/store.h"
#include "base/config.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "base/pbxtime.h"
#include "crypto/minisign.h"

static const char prune_usage[] = "usage: nexo-archive prune [--dry-run]\n";
static const char forget_usage[] = "usage: nexo-archive forget PATH --reason TEXT\n";

/* What prune and forget hold while they remove files: keys to check and re-sign the days they
 * change, the archive, its run lock and its holds. */
struct removal {
	struct minisign_secret *key;
	struct minisign_public *pk;
	struct store *s;
	int lockfd;
	struct holds *h;
};

/* Loads the keys, opens the archive, takes the lock (`what` names the command in the message
 * when it is held) and reads the holds (`verb`: "pruning", "forgetting"). Returns EXIT_OK, or
 * the exit code with the message printed; removal_end() releases `r` either way. */
static int removal_begin(const struct config *cfg, const char *what, const char *verb,
			 struct removal *r)
{
	char err[512];

	memset(r, 0, sizeof *r);
	r->lockfd = -1;
	if (cmd_load_keys(cfg, &r->key, &r->pk) != 0)
		return EXIT_USAGE;
	r->s = cmd_open_archive(cfg);
	if (!r->s)
		return EXIT_STORAGE;
	r->lockfd = cmd_lock(cfg, r->s, what);
	if (r->lockfd < 0)
		return -r->lockfd;
	r->h = holds_load(r->s, err, sizeof err);
	if (!r->h) {
		log_error("%s; %s nothing while the holds cannot be read", err, verb);
		return EXIT_STORAGE;
	}
	return EXIT_OK;
}

static void removal_end(struct removal *r)
{
	holds_free(r->h);
	if (r->lockfd >= 0)
		close(r->lockfd);
	store_close(r->s);
	minisign_secret_free(r->key);
	minisign_public_free(r->pk);
}

/* ---- prune ---- */

static void prune_note(void *ctx, enum prune_event ev, const struct manifest_entry *e,
		       const struct hold *hold)
{
	char f[CMD_ESC], r[CMD_ESC];

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
	struct removal r;
	int c, rc;

	memset(&o, 0, sizeof o);
	cmd_restart_getopt();
	while ((c = getopt_long(argc, argv, "nh", longopts, NULL)) != -1) {
		if (c == 'n') {
			o.dry_run = 1;
		} else if (c == 'h') {
			fputs(prune_usage, stdout);
			return EXIT_OK;
		} else {
			return cmd_usage_error(prune_usage);
		}
	}
	if (optind != argc)
		return cmd_usage_error(prune_usage);
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
	rc = removal_begin(cfg, "prune", "pruning", &r);
	if (rc != EXIT_OK)
		goto out;
	o.keep_days = cfg->retention.archive_keep_days;
	o.now = pbxtime_now(cfg->pbx.timezone);
	o.key = r.key;
	o.pk = r.pk;
	o.note = prune_note;
	prune_cutoff(o.now, o.keep_days, rep.cutoff);
	log_info("%s calls before %s (archive_keep_days = %ld)",
		 o.dry_run ? "dry run: would prune" : "pruning", rep.cutoff, o.keep_days);
	rc = prune_archive(r.s, r.h, &o, &rep);
	printf("%sprune: %lu pruned, %lu held, %llu bytes freed\n", o.dry_run ? "dry run: " : "",
	       rep.pruned, rep.held, (unsigned long long)rep.bytes);
	fflush(stdout);
	if (rep.bad_days)
		log_warn("%lu manifest days could not be used and were not pruned (see above; "
			 "nexo-archive verify says more)", rep.bad_days);
	rc = rc < 0 ? EXIT_STORAGE : rc > 0 ? EXIT_PARTIAL : EXIT_OK;
out:
	removal_end(&r);
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
	struct forget_info info;
	struct removal r;
	const char *reason = NULL, *path;
	char f[CMD_ESC], p[CMD_ESC];
	int c, rc;

	cmd_restart_getopt();
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'r') {
			reason = optarg;
		} else if (c == 'h') {
			fputs(forget_usage, stdout);
			return EXIT_OK;
		} else {
			return cmd_usage_error(forget_usage);
		}
	}
	if (optind + 1 != argc || !reason || !*reason || strlen(reason) >= HOLD_TEXT_MAX) {
		if (!reason || !*reason)
			log_error("forget needs --reason (it is recorded in the manifest)");
		return cmd_usage_error(forget_usage);
	}
	path = archive_relative(cfg, argv[optind]);
	rc = removal_begin(cfg, "forget", "forgetting", &r);
	if (rc != EXIT_OK)
		goto out;
	log_escape(path, p, sizeof p);
	c = prune_forget(r.s, r.h, path, reason, r.key, r.pk, &info);
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
	removal_end(&r);
	return rc;
}
