/* job.c — one run or backfill from start to summary: open the archive, take the lock, log in,
 * walk the windows (list → skip what the manifest holds → fetch), move the checkpoint past
 * windows that fully landed, then retention, then the summary line and the exit code. */
#include "job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdrsync.h"
#include "retention.h"
#include "run.h"
#include "runctx.h"
#include "sync.h"
#include "archive/state.h"
#include "base/log.h"
#include "base/stop.h"
#include "pbx/pbx.h"

#define FIRST_RUN_START "2000-01-01 00:00"
#define LOCK_WAIT_FOR_WATCH 1800 /* seconds: a watch holds the lock only for a batch (a
				  * catch-up after a long outage may take minutes) */

static void summary(const struct run *r, double seconds, int dry_run)
{
	const struct tally *t = &r->t;

	log_progress_done();
	printf("%slisted %lu, archived %lu, already had %lu, missing %lu, failed %lu, deleted %lu, "
	       "bytes %llu, seconds %.1f\n",
	       dry_run ? "dry run: " : "", t->listed, dry_run ? 0 : t->archived, t->already,
	       t->missing, t->failed, t->deleted, (unsigned long long)t->bytes, seconds);
	if (t->refused)
		printf("refused %lu unexpected tar entries (see warnings)\n", t->refused);
	if (t->skipped_names)
		printf("skipped %lu listed recordings with unusable paths (see warnings)\n",
		       t->skipped_names);
	if (t->blocked)
		printf("BLOCKED %lu deletions: archived copies no longer match the manifest\n",
		       t->blocked);
	if (t->invalid)
		printf("%lu recordings failed their checks %d runs in a row and were archived as they "
		       "are, flagged invalid (their PBX copies are kept)\n", t->invalid,
		       r->cfg->sync.invalid_retries);
	if (t->unavailable)
		printf("%lu listed recordings are unavailable: never delivered by the PBX\n",
		       t->unavailable);
	if (t->short_audio)
		printf("%lu recordings hold much less audio than their listed duration (flagged)\n",
		       t->short_audio);
	if (t->growing)
		printf("%lu recordings are still being recorded or changing on the PBX; the next "
		       "run fetches them again\n", t->growing);
	if (t->kept)
		printf("%lu recordings due for deletion stay on the PBX this run: changed since "
		       "they were archived (archived again first), or their call may still go on\n",
		       t->kept);
	if (t->deferred)
		printf("%lu more recordings are due for deletion; over max_delete, left for the next "
		       "run\n", t->deferred);
	if (t->unconfirmed)
		printf("%lu deletions were not confirmed by a re-list; they stay for the next run\n",
		       t->unconfirmed);
	if (t->cdr_missing)
		printf("%lu recordings were archived without their CDR (joined later if it "
		       "appears within the lookback)\n", t->cdr_missing);
	if (t->cdr_late)
		printf("%lu recordings archived earlier were joined to their CDR\n", t->cdr_late);
	if (t->cdr_sealed || t->cdr_deleted)
		printf("CDR archive: %lu days sealed, %lu CDRs deleted from the PBX\n",
		       t->cdr_sealed, t->cdr_deleted);
	if (t->cdr_errors)
		printf("%lu CDR requests failed (see warnings)\n", t->cdr_errors);
	if (t->cdr_stuck)
		printf("%lu days of the CDR archive stay open: the PBX's answers were not whole "
		       "(see warnings)\n", t->cdr_stuck);
	fflush(stdout);
}

static int exit_code(const struct run *r)
{
	const struct tally *t = &r->t;

	if (r->fatal)
		return r->fatal;
	if (r->storage_error)
		return EXIT_STORAGE;
	if (r->archive_error || t->missing || t->failed || t->blocked || t->unconfirmed ||
	    t->skipped_names || t->deferred || t->skew_blocked || t->invalid ||
	    t->unavailable || (r->cfg->cdr.archive && (t->cdr_errors || t->cdr_stuck)))
		return EXIT_PARTIAL;
	return EXIT_OK;
}

/* Whether this run may delete from the PBX (recordings or CDRs); says why not. */
static int may_delete_now(struct run *r)
{
	const struct config *cfg = r->cfg;
	long skew = 0;

	if (r->archive_error || r->storage_error) {
		log_warn("no deletions this run: the archive phase had errors (see above)");
		return 0;
	}
	if (pbx_clock_skew(r->pbx, &skew) &&
	    (skew > cfg->pbx.max_clock_skew || -skew > cfg->pbx.max_clock_skew)) {
		/* "Older than N days" means nothing when the two clocks disagree. */
		log_warn("no deletions this run: the PBX's clock is %ld s %s ours (more than "
			 "[pbx] max_clock_skew = %ld s)", skew < 0 ? -skew : skew,
			 skew < 0 ? "behind" : "ahead of", cfg->pbx.max_clock_skew);
		r->t.skew_blocked = 1;
		return 0;
	}
	return 1;
}

/* Walks [start, end] window by window; moves the checkpoint when asked. A window with nothing
 * in it makes the next one twice as wide (up to 64 windows), so an old `since` or a quiet PBX
 * costs a few listings, not one per day; the first window with recordings snaps back to
 * [sync] window. The checkpoint is written when it passes recordings and once at the end,
 * not after every empty window (each write is two fsyncs). */
static void walk(struct run *r, pbx_minute start, pbx_minute end, pbx_minute first_window_end,
		 int move_checkpoint)
{
	const pbx_minute window = r->cfg->sync.window;
	pbx_minute a = start, span = window, checkpoint = -1;
	int all_landed = 1;

	move_checkpoint = move_checkpoint && !r->dry_run;
	while (a <= end && !r->fatal && !stop_requested()) {
		pbx_minute b = a == start && first_window_end >= a ? first_window_end : a + span - 1;
		unsigned long listed = r->t.listed;
		int rc;

		if (b > end)
			b = end;
		rc = sync_window(r, a, b);
		if (rc < 0 || stop_requested())
			break;
		if (rc == 0)
			all_landed = 0;
		/* Only past windows whose recordings all landed, and all windows before them. */
		if (all_landed)
			checkpoint = b + 1;
		if (r->t.listed != listed) {
			span = window;
			if (checkpoint >= 0 && move_checkpoint) {
				if (state_write_checkpoint(r->store, checkpoint) != 0) {
					r->storage_error = 1;
					return;
				}
				checkpoint = -1;
			}
		} else if (span < 64 * window) {
			span *= 2;
		}
		a = b + 1;
	}
	if (checkpoint >= 0 && move_checkpoint && state_write_checkpoint(r->store, checkpoint) != 0)
		r->storage_error = 1;
}

int job_run(const struct config *cfg, const struct job_options *opt)
{
	struct run r;
	struct timespec t0, t1;
	pbx_minute now, start, end, cp, first_end = -1;
	char when[PBXTIME_MINUTE_LEN + 1];
	long holder;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	stop_catch_signals();
	rc = run_setup(&r, cfg, opt->dry_run);
	if (rc == 0) {
		rc = run_lock(&r, "run", LOCK_WAIT_FOR_WATCH, &holder);
		if (rc == EXIT_LOCKED)
			log_error("another nexo-archive run (pid %ld) is working on %s; exiting",
				  holder, cfg->archive.dir);
	}
	if (rc != 0)
		goto out;
	now = pbxtime_now(cfg->pbx.timezone);
	if (opt->backfill) {
		start = opt->from;
		end = opt->to;
	} else {
		rc = state_read_checkpoint(r.store, &cp);
		if (rc < 0) {
			rc = EXIT_STORAGE;
			goto out;
		}
		end = now;
		if (rc == 1) {
			start = cp - cfg->sync.lookback;
		} else if (cfg->sync.since >= 0) {
			start = cfg->sync.since;
		} else {
			/* First run, no [sync] since: everything the PBX holds, in one wide window
			 * (split as needed), then ordinary windows over the lookback. */
			pbxtime_parse(FIRST_RUN_START, &start);
			first_end = now - cfg->sync.lookback - 1;
			log_info("first run and no [sync] since: listing everything the PBX holds");
		}
		if (start > end)
			start = end;
	}
	rc = pbx_login(r.pbx);
	if (rc != PBX_OK) {
		rc = rc == PBX_REFUSED ? EXIT_LOGIN : rc == PBX_UNREACHABLE ? EXIT_UNREACHABLE
									    : EXIT_PARTIAL;
		goto out;
	}
	pbxtime_format(start, when);
	log_debug("listing from %s", when);
	walk(&r, start, end, first_end, !opt->backfill);
	if (stop_requested()) {
		log_warn("stopped by signal %d; what landed is recorded, nothing is deleted this run",
			 stop_signal());
		r.archive_error = 1;
	} else if (!r.fatal) {
		int deleting = !opt->backfill &&
			       (cfg->retention.delete_from_pbx || cfg->cdr.delete_from_pbx);
		int may_delete = deleting && may_delete_now(&r);
		cdrsync_archive(&r, now, may_delete && cfg->cdr.delete_from_pbx);
		if (may_delete && cfg->retention.delete_from_pbx)
			retention_apply(&r, now);
		if (stop_requested()) {
			log_warn("stopped by signal %d during the deletions; what was deleted is "
				 "recorded", stop_signal());
			r.archive_error = 1;
		}
	}
	run_unlock(&r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	summary(&r, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		opt->dry_run);
	rc = exit_code(&r);
out:
	run_teardown(&r);
	return rc;
}
