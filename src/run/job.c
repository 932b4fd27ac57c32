/* job.c — one run or backfill from start to summary: open the archive, take the lock, log in,
 * walk the windows (list → skip what the manifest holds → fetch), move the checkpoint past
 * windows that fully landed, then retention, then the summary line and the exit code. */
#include "job.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cdrsync.h"
#include "log.h"
#include "manifest.h"
#include "pbx.h"
#include "recpath.h"
#include "run.h"
#include "state.h"

#define FIRST_RUN_START "2000-01-01 00:00"
#define LOCK_WAIT_FOR_WATCH 1800 /* seconds: a watch holds the lock only for a batch (a
				  * catch-up after a long outage may take minutes) */

/* Set by the handler, read by every thread (lanes, sealing workers): a lock-free atomic is
 * what both a signal handler and other threads may touch. */
static _Atomic int stop_signal;

static void on_stop_signal(int sig)
{
	atomic_store_explicit(&stop_signal, sig, memory_order_relaxed);
}

int run_stop_requested(void)
{
	return atomic_load_explicit(&stop_signal, memory_order_relaxed) != 0;
}

/* SIGTERM (systemd's stop, a timeout) and SIGINT end the run at the next safe point instead of
 * mid-write; a second one kills at once (the next run repairs whatever that leaves). */
void run_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

int run_list_range(struct run *r, pbx_minute start, pbx_minute end, struct listing *out)
{
	char a[PBXTIME_MINUTE_LEN + 1], b[PBXTIME_MINUTE_LEN + 1];
	size_t before = out->n;
	int rc;

	pbxtime_format(start, a);
	pbxtime_format(end, b);
	rc = pbx_list(r->pbx, a, b, out);
	if (rc != PBX_OK) {
		if (rc == PBX_REFUSED)
			r->fatal = EXIT_LOGIN;
		else if (rc == PBX_UNREACHABLE)
			r->fatal = EXIT_UNREACHABLE;
		r->archive_error = 1;
		return -1;
	}
	if (out->totalcount < 0 || (unsigned long long)out->totalcount <= out->n - before)
		return 0;
	/* A capped answer: fewer rows than the PBX says match. Split until every row is seen. */
	if (start >= end) {
		/* Nothing left to split: keep what came (it is archived), but the window is not
		 * complete, and a listing that decides deletions cannot be trusted. */
		log_warn("the PBX counts %lld recordings in the minute %s but returns only %zu; "
			 "the rest cannot be listed", out->totalcount, a, out->n - before);
		return 1;
	}
	log_debug("%s to %s: %zu of %lld rows; splitting", a, b, out->n - before,
		  out->totalcount);
	out->n = before;
	pbx_minute mid = start + (end - start) / 2;
	int first = run_list_range(r, start, mid, out);
	if (first < 0)
		return -1;
	int second = run_list_range(r, mid + 1, end, out);
	return second < 0 ? -1 : first | second;
}

static int by_path(const void *x, const void *y)
{
	return strcmp((*(struct recording *const *)x)->pbx_path,
		      (*(struct recording *const *)y)->pbx_path);
}

/* Oldest first, so a run cut short has archived the oldest (first to be deleted) recordings. */
static int by_calldate(const void *x, const void *y)
{
	const struct recording *a = *(struct recording *const *)x, *b = *(struct recording *const *)y;
	int c = strcmp(a->calldate, b->calldate);
	return c ? c : strcmp(a->pbx_path, b->pbx_path);
}

int run_window(struct run *r, pbx_minute start, pbx_minute end)
{
	struct listing l;
	struct recording **plan = NULL;
	const struct cdr_list *cdrs = NULL;
	size_t nplan = 0, late = 0;
	int complete = 1;
	char esc[512], err[256];

	listing_init(&l);
	switch (run_list_range(r, start, end, &l)) {
	case 0:
		break;
	case 1:
		complete = 0; /* some rows could not be listed: archive the others */
		break;
	default:
		listing_free(&l);
		return r->fatal ? -1 : 0;
	}
	/* With the CDR archive on, also windows without recordings: a day of missed calls. */
	if (r->cfg->cdr.join && (l.n || r->cfg->cdr.archive))
		cdrs = cdrsync_window(r, start, end);
	/* Rows without a usable path can never be fetched: reported every run (exit 1), but
	 * they do not pin the checkpoint. */
	r->t.skipped_names += l.skipped;
	plan = calloc(l.n ? l.n : 1, sizeof *plan);
	if (!plan) {
		listing_free(&l);
		log_error("out of memory");
		r->fatal = EXIT_STORAGE;
		return -1;
	}
	for (size_t i = 0; i < l.n; i++)
		plan[i] = &l.rows[i];
	qsort(plan, l.n, sizeof *plan, by_path);
	for (size_t i = 0; i < l.n; i++) {
		struct recording *rec = plan[i];
		const struct manifest_entry *e;
		struct recpath where;
		int found;

		if (i > 0 && strcmp(rec->pbx_path, plan[i - 1]->pbx_path) == 0)
			continue; /* listed twice */
		r->t.listed++;
		if (recpath_parse(rec->pbx_path, &where, err, sizeof err) != 0) {
			r->t.skipped_names++;
			log_warn("skipping a listed recording with an unusable path '%s': %s",
				 log_escape(rec->pbx_path, esc, sizeof esc), err);
			continue;
		}
		found = manifest_lookup(r->man, where.day, rec->pbx_path, &e);
		if (found < 0) {
			r->t.failed++;
			r->archive_error = 1;
			complete = 0;
			continue;
		}
		if (r->cfg->cdr.join)
			cdrsync_join(cdrs, rec);
		if (found) {
			if (e->unavailable) {
				r->t.unavailable++;
				log_warn("%s is listed but was never delivered (recorded unavailable)",
					 log_escape(rec->pbx_path, esc, sizeof esc));
			} else {
				r->t.already++;
				/* Archived before its CDR was known: join it now. */
				if (e->cdr_missing && rec->cdr && !r->dry_run &&
				    manifest_add_cdr(r->man, where.day, rec->pbx_path, rec->cdr,
						     rec->cdr_join) == 0)
					late++;
			}
			continue;
		}
		plan[nplan++] = rec;
	}
	if (late) {
		if (manifest_commit(r->man, err, sizeof err) != 0) {
			log_error("%s", err);
			r->storage_error = 1;
			complete = 0;
		} else {
			r->t.cdr_late += late;
		}
	}
	qsort(plan, nplan, sizeof *plan, by_calldate);
	r->planned_total += nplan;
	if (r->dry_run) {
		for (size_t i = 0; i < nplan; i++)
			log_info("would download %s", log_escape(plan[i]->pbx_path, esc, sizeof esc));
	} else if (nplan) {
		long left = fetch_recordings(r, plan, nplan);
		if (left < 0) {
			free(plan);
			listing_free(&l);
			return -1;
		}
		if (left > 0)
			complete = 0;
	}
	free(plan);
	listing_free(&l);
	return complete;
}

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
	while (a <= end && !r->fatal && !run_stop_requested()) {
		pbx_minute b = a == start && first_window_end >= a ? first_window_end : a + span - 1;
		unsigned long listed = r->t.listed;
		int rc;

		if (b > end)
			b = end;
		rc = run_window(r, a, b);
		if (rc < 0 || run_stop_requested())
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
	run_catch_signals();
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
	if (run_stop_requested()) {
		log_warn("stopped by signal %d; what landed is recorded, nothing is deleted this run",
			 atomic_load(&stop_signal));
		r.archive_error = 1;
	} else if (!r.fatal) {
		int deleting = !opt->backfill &&
			       (cfg->retention.delete_from_pbx || cfg->cdr.delete_from_pbx);
		int may_delete = deleting && may_delete_now(&r);
		cdrsync_archive(&r, now, may_delete && cfg->cdr.delete_from_pbx);
		if (may_delete && cfg->retention.delete_from_pbx)
			retention_apply(&r, now);
		if (run_stop_requested()) {
			log_warn("stopped by signal %d during the deletions; what was deleted is "
				 "recorded", atomic_load(&stop_signal));
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
