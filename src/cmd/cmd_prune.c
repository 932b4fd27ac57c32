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
#include "archive/offsiteq.h"
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

/* ---- the offsite queue ---- */

/* Days prune or forget changed go up again with the next run's offsite copy (.state/offsite):
 * the days, and the head written over them. An absent queue already means "everything". */
struct requeue {
	struct offsiteq q;
	int loaded;
};

static void requeue_begin(const struct config *cfg, struct store *s, struct requeue *rq)
{
	memset(rq, 0, sizeof *rq);
	if (cfg->offsite.url)
		rq->loaded = offsiteq_load(s, &rq->q) == 1;
}

static void requeue_day(struct requeue *rq, const char *day)
{
	if (rq->loaded)
		(void)offsiteq_add(&rq->q, day);
}

/* Returns 0, or -1 (printed). */
static int requeue_end(struct store *s, struct requeue *rq)
{
	int rc = 0;

	if (rq->loaded && rq->q.n && (offsiteq_add(&rq->q, OFFSITEQ_HEADS) != 0 ||
				      offsiteq_save(s, &rq->q) != 0))
		rc = -1;
	offsiteq_free(&rq->q);
	return rc;
}

/* ---- prune ---- */

/* What prune's callbacks get: the pass, and the offsite queue. */
struct prune_ctx_cmd {
	int offload;
	struct requeue rq;
};

static void prune_changed(void *ctx, const char *day)
{
	requeue_day(&((struct prune_ctx_cmd *)ctx)->rq, day);
}

static void prune_note(void *ctx, enum prune_event ev, const struct manifest_entry *e,
		       const struct hold *hold)
{
	char f[CMD_ESC], r[CMD_ESC];
	int offload = ((const struct prune_ctx_cmd *)ctx)->offload; /* local_keep_days' pass */

	log_escape(e->file, f, sizeof f);
	switch (ev) {
	case PRUNE_WOULD:
		printf("would %s %s (%llu bytes)\n", offload ? "offload" : "prune", f,
		       (unsigned long long)e->size);
		break;
	case PRUNE_REMOVED:
		log_info("%s %s", offload ? "offloaded" : "pruned", f);
		break;
	case PRUNE_GONE:
		log_warn("%s was already missing; recorded as %s", f, offload ? "offloaded" : "pruned");
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
	struct prune_ctx_cmd pc = { 0 };
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
	if (cfg->retention.archive_keep_days < 0 && cfg->retention.local_keep_days < 0) {
		log_error("prune: [retention] archive_keep_days is not set (pruning is off); set "
			  "it to the days of calls to keep");
		return EXIT_USAGE;
	}
	if (cfg->retention.archive_keep_days >= 0 &&
	    cfg->retention.archive_keep_days < cfg->retention.archive_min_days) {
		log_error("prune: [retention] archive_keep_days (%ld) is below the floor "
			  "archive_min_days (%ld); refusing", cfg->retention.archive_keep_days,
			  cfg->retention.archive_min_days);
		return EXIT_USAGE;
	}
	rc = removal_begin(cfg, "prune", "pruning", &r);
	if (rc != EXIT_OK)
		goto out;
	o.now = pbxtime_now(cfg->pbx.timezone);
	o.key = r.key;
	o.pk = r.pk;
	o.note = prune_note;
	o.changed = prune_changed;
	o.note_ctx = &pc;
	requeue_begin(cfg, r.s, &pc.rq);
	/* Pruning (the archive's copies go), then offloading (local copies whose offsite copy
	 * is confirmed go; the offsite copy stays the archive's). */
	int worst = EXIT_OK;
	for (int pass = 0; pass < 2; pass++) {
		long days = pass ? cfg->retention.local_keep_days : cfg->retention.archive_keep_days;
		const char *what = pass ? "offload" : "prune";
		if (days < 0)
			continue;
		o.keep_days = days;
		o.offload = pass;
		pc.offload = pass;
		prune_cutoff(o.now, o.keep_days, rep.cutoff);
		log_info("%s calls before %s (%s = %ld)",
			 o.dry_run ? (pass ? "dry run: would offload" : "dry run: would prune")
				   : (pass ? "offloading" : "pruning"),
			 rep.cutoff, pass ? "local_keep_days" : "archive_keep_days", o.keep_days);
		rc = prune_archive(r.s, r.h, &o, &rep);
		printf("%s%s: %lu %s, %lu held, %llu bytes freed\n", o.dry_run ? "dry run: " : "",
		       what, rep.pruned, pass ? "offloaded" : "pruned", rep.held,
		       (unsigned long long)rep.bytes);
		fflush(stdout);
		if (pass && rep.not_offsite)
			log_info("offload: %lu local copies are kept: their offsite copy is not "
				 "confirmed yet", rep.not_offsite);
		if (rep.bad_days)
			log_warn("%lu manifest days could not be used and were not pruned (see above; "
				 "nexo-archive verify says more)", rep.bad_days);
		rc = rc < 0 ? EXIT_STORAGE : rc > 0 ? EXIT_PARTIAL : EXIT_OK;
		if (rc > worst)
			worst = rc;
		if (rc == EXIT_STORAGE)
			break;
	}
	rc = worst;
	if (requeue_end(r.s, &pc.rq) != 0 && rc == EXIT_OK)
		rc = EXIT_STORAGE;
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
	struct requeue rq;
	requeue_begin(cfg, r.s, &rq);
	c = prune_forget(r.s, r.h, path, reason, r.key, r.pk, &info);
	if (c == FORGET_DONE)
		requeue_day(&rq, info.day);
	if (requeue_end(r.s, &rq) != 0 && c == FORGET_DONE)
		c = FORGET_ERROR;
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
