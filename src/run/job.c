/* job.c — one run or backfill from start to summary: open the archive, take the lock, log in,
 * walk the windows (list → skip what the manifest holds → fetch), move the checkpoint past
 * windows that fully landed, then retention, then the summary line and the exit code. */
#include "job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <time.h>

#include "cdrsync.h"
#include "live.h"
#include "notify.h"
#include "progress.h"
#include "report.h"
#include "offsite.h"
#include "retention.h"
#include "run.h"
#include "runctx.h"
#include "reconcile.h"
#include "sync.h"
#include "window.h"
#include "archive/state.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/stop.h"
#include "base/units.h"
#include "pbx/pbx.h"

#define LOCK_WAIT_FOR_WATCH 1800 /* seconds: a watch holds the lock only for a batch (a
				  * catch-up after a long outage may take minutes) */

static void summary(const struct run *r, double seconds, int dry_run)
{
	const struct tally *t = &r->t;

	log_progress_done();
	/* A signal's stop is no failure of the PBX's: what it cut off is "not started". */
	printf("%s%slisted %lu, archived %lu, already had %lu, missing %lu, failed %lu, deleted %lu, "
	       "bytes %llu, seconds %.1f",
	       stop_reason() == STOP_SIGNAL ? "stopped: " : "", dry_run ? "dry run: " : "", t->listed, dry_run ? 0 : t->archived, t->already,
	       t->missing, t->failed, t->deleted,
	       (unsigned long long)(dry_run ? t->would_bytes : t->bytes), seconds);
	if (stop_reason() == STOP_SIGNAL)
		printf(", not started %lu", t->left);
	putchar('\n');
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
	if (t->capped_minutes)
		printf("%lu minutes could not be listed whole: the PBX caps its answers below the "
		       "calls that started in them (see errors)\n", t->capped_minutes);
	if (t->oversized)
		printf("%lu recordings arrived larger than their listing allows and were not stored "
		       "(see warnings; asked for again next run)\n", t->oversized);
	if (t->cdr_witnessed)
		printf("%lu recordings named by the CDR were missing from the PBX's listing (fetched "
		       "by name; see warnings)\n", t->cdr_witnessed);
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
	if (t->left)
		printf("%lu recordings (%llu bytes) were not fetched: the run was stopped before "
		       "them; the next run fetches them\n", t->left,
		       (unsigned long long)t->left_bytes);
	progress_report(r);
	if (dry_run) {
		if (t->would_fetch && t->would_unsized == t->would_fetch)
			printf("dry run: would fetch %lu recordings, bytes unknown (the PBX's listing "
			       "states no sizes)", t->would_fetch);
		else
			printf("dry run: would fetch %lu recordings, %llu bytes by the listing's sizes",
			       t->would_fetch, (unsigned long long)t->would_bytes);
		if (t->would_unsized && t->would_unsized < t->would_fetch)
			printf(" (and %lu listed without a size)", t->would_unsized);
		printf("; would delete %lu from the PBX (each read back first)\n", t->would_delete);
	}
	if (r->cfg->offsite.url && !dry_run)
		printf("offsite: %lu uploaded, %lu found there already, %lu failed%s\n",
		       t->offsite_uploaded, t->offsite_already, t->offsite_failed,
		       t->offsite_down ? "; the bucket could not be reached (see errors)" : "");
	if (t->offsite_waiting)
		printf("%lu recordings (or CDR days) due for deletion stay on the PBX: their offsite "
		       "copy is not confirmed yet ([offsite] required_for_delete)\n",
		       t->offsite_waiting);
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
	    t->capped_minutes || t->oversized ||
	    t->skipped_names || t->deferred || t->skew_blocked || t->invalid || t->left ||
	    t->unavailable || t->offsite_failed || t->offsite_down || t->offsite_waiting ||
	    (r->cfg->cdr.archive && (t->cdr_errors || t->cdr_stuck)))
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
		r->no_delete = "the archive phase had errors";
		return 0;
	}
	if (pbx_clock_skew(r->pbx, &skew) &&
	    (skew > cfg->pbx.max_clock_skew || -skew > cfg->pbx.max_clock_skew)) {
		/* "Older than N days" means nothing when the two clocks disagree. */
		log_warn("no deletions this run: the PBX's clock is %ld s %s ours (more than "
			 "[pbx] max_clock_skew = %ld s)", skew < 0 ? -skew : skew,
			 skew < 0 ? "behind" : "ahead of", cfg->pbx.max_clock_skew);
		r->t.skew_blocked = 1;
		r->no_delete = "the PBX's clock is too far off ([pbx] max_clock_skew)";
		return 0;
	}
	return 1;
}

/* Walks [start, end] window by window (window.h); moves the checkpoint when asked. The
 * checkpoint passes only windows whose recordings all landed, and never the newest call the
 * PBX has shown: the PBX's clock or zone may be off from ours, and the next run must list
 * from where the PBX's own times are. It is written when it passes recordings and once at the
 * end, not after every empty window (each write is two fsyncs), and never moves back.
 * Returns the first minute from which not everything listed landed: `start` when the first
 * window did not, end + 1 when all did (a backfill resumes there). */
static pbx_minute walk(struct run *r, pbx_minute start, pbx_minute end,
		       pbx_minute old_checkpoint, int move_checkpoint)
{
	struct window_walk w;
	pbx_minute a, b, landed = -1, written = old_checkpoint;
	int all_landed = 1;

	move_checkpoint = move_checkpoint && !r->dry_run;
	r->span.from = r->span.reached = start;
	r->span.to = end;
	window_walk_start(&w, start, end, r->cfg->sync.window);
	while (!r->fatal && !stop_requested() && window_walk_next(&w, &a, &b)) {
		unsigned long listed = r->t.listed;
		int rc = sync_window(r, a, b);

		r->span.reached = b + 1;
		/* A stop inside the window left some of it unfetched (tallied as left): the
		 * window does not count as landed. */
		if (rc < 0 || stop_requested())
			break;
		if (rc == 2 && window_walk_narrow(&w, a))
			continue;
		if (rc == 2)
			rc = 0; /* one minute more than a run holds: reported, left behind */
		if (rc == 0)
			all_landed = 0;
		if (all_landed)
			landed = b + 1;
		window_walk_saw(&w, r->t.listed != listed);
		pbx_minute cp = landed < r->newest_seen + 1 ? landed : r->newest_seen + 1;
		if (move_checkpoint && r->t.listed != listed && cp > written) {
			if (state_write_checkpoint(r->store, cp) != 0) {
				r->storage_error = 1;
				return landed < 0 ? start : landed;
			}
			written = cp;
		}
	}
	pbx_minute cp = landed < r->newest_seen + 1 ? landed : r->newest_seen + 1;
	if (move_checkpoint && cp > written && state_write_checkpoint(r->store, cp) != 0)
		r->storage_error = 1;
	return landed < 0 ? start : landed;
}

/* The same backfill as one that stopped short: where it stopped (.state/backfill), else
 * `from`. */
static pbx_minute backfill_resume(struct run *r, pbx_minute from, pbx_minute to)
{
	pbx_minute f, t, at;
	char a[PBXTIME_MINUTE_LEN + 1], b[PBXTIME_MINUTE_LEN + 1], c[PBXTIME_MINUTE_LEN + 1];

	if (state_read_backfill(r->store, &f, &t, &at) != 1 || f != from || t != to ||
	    at <= from || at > to)
		return from;
	pbxtime_format(from, a);
	pbxtime_format(to, b);
	pbxtime_format(at, c);
	log_info("resuming the backfill of %s .. %s at %s, where the last one stopped short "
		 "(.state/backfill; remove it to list the whole span again)", a, b, c);
	return at;
}

/* After a backfill's walk from `walked_from`: the resume point noted while the span is not
 * done, cleared once it is. A failure to write it only costs the next one a longer listing. */
static void backfill_note(struct run *r, pbx_minute from, pbx_minute to, pbx_minute walked_from,
			  pbx_minute landed)
{
	if (r->dry_run)
		return;
	if (landed > to)
		(void)state_clear_backfill(r->store);
	else if (landed > walked_from)
		(void)state_write_backfill(r->store, from, to, landed);
}

/* The time budget: [sync] max_duration (or --max-duration) and --stop-at, whichever ends
 * first, counted from now (the run's start: a wait for the lock is part of it). */
static void start_budget(const struct config *cfg, const struct job_options *opt)
{
	int64_t secs = cfg->sync.max_duration;
	char d[32];

	if (opt->stop_at >= 0) {
		int64_t until = units_until_clock(clock_unix(), opt->stop_at);
		if (secs <= 0 || until < secs)
			secs = until;
	}
	if (secs <= 0)
		return;
	stop_set_budget(secs);
	units_format_duration(secs, d, sizeof d);
	log_info("time budget: %s; then the run finishes the file it is writing and stops", d);
}

/* Calls stamped after the walk's end: a PBX and host whose clocks were stepped back after
 * those calls were recorded (a bad NTP source) put the walk's end before them. One listing
 * of the next ten years finds them (an empty answer, on a sane PBX); the checkpoint does not
 * follow them, so the calls the stepped-back clock stamps next are still ahead of it. */
static void list_beyond(struct run *r, pbx_minute end)
{
	const pbx_minute far = end + 3653 * 1440;

	if (sync_window(r, end + 1, far) == 2)
		walk(r, end + 1, far, -1, 0); /* too many at once: in windows */
}

/* Every [sync] reconcile_days days, the history before the walk's start: what appeared
 * there after the walk had passed (reconcile.h). */
static void reconcile_if_due(struct run *r, pbx_minute now, pbx_minute walk_start)
{
	pbx_minute last;
	int rc;

	if (r->cfg->sync.reconcile_days <= 0 || r->fatal || stop_requested())
		return;
	if (walk_start <= 0) {
		/* The walk itself listed the whole history: that was a reconcile. */
		if (!r->dry_run && state_write_reconciled(r->store, now) != 0)
			r->storage_error = 1;
		return;
	}
	rc = state_read_reconciled(r->store, &last);
	if (rc < 0) {
		r->storage_error = 1;
		return;
	}
	if (rc == 1 && last <= now && now - last < r->cfg->sync.reconcile_days * 1440)
		return;
	long found = reconcile(r, 0, walk_start - 1);
	if (found > 0)
		log_warn("reconcile: %ld recordings before this run's windows were missing from the "
			 "archive (or changed); they were archived or are tried again", found);
	if (found >= 0 && !r->fatal && !stop_requested() && !r->dry_run &&
	    state_write_reconciled(r->store, now) != 0)
		r->storage_error = 1;
}

/* The PBX's clock as its answers' Date header tells it, set against ours: said once when far
 * off. Returns "now" in PBX minutes by the PBX's own clock, or `host_now` when unknown. */
static pbx_minute pbx_clock_now(struct run *r, pbx_minute host_now)
{
	long skew = 0;

	if (!pbx_clock_skew(r->pbx, &skew))
		return host_now;
	/* To the nearest minute: a Date header has whole seconds, taken a moment before ours. */
	long minutes = (skew < 0 ? -skew + 30 : skew + 30) / 60;

	if (skew > r->cfg->pbx.max_clock_skew || -skew > r->cfg->pbx.max_clock_skew)
		log_warn("the PBX's clock is %ld min %s ours: listing follows the PBX's own times; "
			 "deletions wait until the clocks agree", minutes,
			 skew < 0 ? "behind" : "ahead of");
	return host_now + (skew < 0 ? -minutes : minutes);
}

/* A partial run (exit 1) is normal for a night, but not forever: the nightly runs count how
 * many in a row ended so (.state/partials, under the lock), a clean run sets it back to 0, and
 * other exits leave it. Returns the count after this run (0 unless it is partial). */
static long count_partials(struct run *r)
{
	int rc = exit_code(r);
	long n = 0;

	if (rc != EXIT_OK && rc != EXIT_PARTIAL)
		return 0;
	if (rc == EXIT_PARTIAL && state_read_partials(r->store, &n) != 0) {
		r->storage_error = 1;
		return 0;
	}
	n = rc == EXIT_PARTIAL ? n + 1 : 0;
	if (state_write_partials(r->store, n) != 0)
		r->storage_error = 1;
	return n;
}

static double since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The end of every job, whatever its outcome: the report (saved in .state/ when this process
 * held the lock: never over another run's), the summary line or --json, and the monitoring.
 * `days` is taken. `summarize`: the run got as far as its summary line. Returns the exit
 * code: `rc`, or EXIT_STORAGE when the report could not be written (a success or partial run
 * only: a worse code stays). */
static int finish(struct run *r, const struct job_options *opt, int rc, int held,
		   int64_t started, double seconds, long partials, struct json_object *days,
		   int summarize)
{
	struct report_info info = { opt->backfill ? "backfill" : opt->reconcile ? "reconcile" : "run",
				    started, clock_unix(), seconds, rc, opt->dry_run, partials, 0 };
	/* Read without the lock too (the file is only ever replaced whole): a run that could not
	 * take it still writes the metrics file, which must carry the totals, the last success
	 * and the archive figures on, not restart them from zero. */
	struct json_object *prev = r->store ? report_load(r->store, NULL, 0) : NULL;
	struct json_object *rep = report_build(r, &info, days, prev), *lj;
	char path[4096];

	live_stop(); /* the summary that follows stays */

	if (rep && held && !opt->dry_run)
		report_add_archive(rep, r->store, r->cfg);
	else if (rep && prev && !held)
		report_carry_archive(rep, prev);
	json_object_put(prev);
	if (rep && held && report_save(r->store, rep) != 0) {
		held = 0;
		if (rc == EXIT_OK || rc == EXIT_PARTIAL) {
			rc = EXIT_STORAGE;
			json_object_object_add(rep, "exit_code", json_object_new_int(rc));
			if (json_object_object_get_ex(rep, "last_job", &lj) && lj)
				json_object_object_add(lj, "exit_code", json_object_new_int(rc));
			json_object_object_add(rep, "exit_meaning",
					       json_object_new_string(report_exit_meaning(rc)));
			json_object_object_add(rep, "status", json_object_new_string("failed"));
			json_object_object_add(rep, "last_success", NULL);
		}
	}
	if (opt->json && rep) {
		log_progress_done();
		puts(json_object_to_json_string_ext(rep, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
		fflush(stdout);
	} else if (summarize && (rc != EXIT_OK || log_enabled(LOG_INFO))) {
		/* -q on a healthy run prints nothing at all. */
		summary(r, seconds, opt->dry_run);
	}
	snprintf(path, sizeof path, "%s/.state/" REPORT_FILE, r->cfg->archive.dir);
	if (!opt->dry_run)
		notify_end(r->cfg, rep, held ? path : NULL);
	json_object_put(rep);
	return rc;
}

/* The PBX's recordings and CDRs that retention allows, deleted (when this run may). */
static void delete_due(struct run *r, const struct job_options *opt, pbx_minute now)
{
	const struct config *cfg = r->cfg;
	int deleting = !opt->backfill && !opt->reconcile &&
		       (cfg->retention.delete_from_pbx || cfg->cdr.delete_from_pbx);
	int may_delete = deleting && may_delete_now(r);

	live_phase(LIVE_CDR);
	cdrsync_archive(r, now, may_delete && cfg->cdr.delete_from_pbx);
	live_phase(LIVE_DELETING);
	if (may_delete && cfg->retention.delete_from_pbx)
		retention_apply(r, now);
	if (stop_requested()) {
		if (stop_reason() == STOP_BUDGET)
			log_warn("stopped at its time budget during the deletions; what was deleted is "
				 "recorded, the rest waits for the next run");
		else
			log_warn("stopped by signal %d during the deletions; what was deleted is "
				 "recorded", stop_signal());
		r->archive_error = 1;
	}
}

int job_run(const struct config *cfg, const struct job_options *opt)
{
	struct run r;
	struct timespec t0;
	int64_t started = clock_unix();
	int finished = 0;
	pbx_minute now, start, end, cp;
	char when[PBXTIME_MINUTE_LEN + 1];
	long holder;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	stop_catch_signals();
	if (!opt->dry_run)
		notify_start(cfg);
	rc = run_setup(&r, cfg, opt->dry_run);
	if (rc == 0) {
		start_budget(cfg, opt);
		rc = run_lock(&r, "run", LOCK_WAIT_FOR_WATCH, &holder);
		if (rc == EXIT_LOCKED)
			log_error("another nexo-archive run (pid %ld) is working on %s; exiting",
				  holder, cfg->archive.dir);
	}
	if (rc != 0)
		goto out;
	now = pbxtime_now(cfg->pbx.timezone);
	cp = -1;
	if (!opt->backfill && (rc = state_read_checkpoint(r.store, &cp)) < 0) {
		rc = EXIT_STORAGE;
		goto out;
	}
	live_start();
	live_phase(LIVE_LOGIN);
	rc = pbx_login(r.pbx);
	if (rc != PBX_OK) {
		rc = rc == PBX_REFUSED ? EXIT_LOGIN : rc == PBX_UNREACHABLE ? EXIT_UNREACHABLE
									    : EXIT_PARTIAL;
		goto out;
	}
	/* To the PBX's own now, whoever's clock is right, and a day past it: a PBX whose zone or
	 * clock runs ahead stamps calls "tomorrow". Never short of the checkpoint: a host clock
	 * stepped back does not shrink the walk. */
	pbx_minute pbx_now = pbx_clock_now(&r, now);
	end = (now > pbx_now ? now : pbx_now) + 1440;
	/* What this run lists counts as listed whole only where calls have ended: by either
	 * clock, less the lookback a later run gives late recordings. */
	r.listed_until = (now < pbx_now ? now : pbx_now) - cfg->sync.lookback;
	if (cp >= 0 && end < cp + 1440)
		end = cp + 1440;
	/* A delete an interrupted run sent is settled before the manifest is relied on. */
	if (retention_confirm_inflight(&r) != 0)
		r.archive_error = 1;
	if (opt->backfill || opt->reconcile) {
		start = opt->from;
		end = opt->to >= 0 ? opt->to : end;
	} else {
		if (cp >= 0) {
			start = cp - cfg->sync.lookback;
		} else if (cfg->sync.since >= 0) {
			start = cfg->sync.since;
		} else {
			/* First run, no [sync] since: everything the PBX holds, from 1970 (a PBX
			 * whose clock was once reset keeps such recordings), in windows that widen
			 * while they are empty. */
			start = 0;
			log_info("first run and no [sync] since: listing everything the PBX holds");
		}
	}
	pbxtime_format(start, when);
	log_debug("listing from %s", when);
	if (opt->reconcile) {
		long found = reconcile(&r, start, end);
		if (found >= 0)
			log_print("reconcile: %ld recordings the archive lacked (or that changed) were "
				  "found\n", found);
		/* The whole history: the nightly reconcile is not due again for a while. */
		if (found >= 0 && opt->from <= 0 && opt->to < 0 && !r.fatal && !stop_requested() &&
		    !r.dry_run && state_write_reconciled(r.store, now) != 0)
			r.storage_error = 1;
	} else if (opt->backfill) {
		pbx_minute from = backfill_resume(&r, start, end);
		r.span.estimate = 1;
		backfill_note(&r, start, end, from, walk(&r, from, end, cp, 0));
	} else {
		walk(&r, start, end, cp, 1);
		if (!r.fatal && !stop_requested())
			list_beyond(&r, end);
		reconcile_if_due(&r, now, start);
	}
	if (r.newest_seen > now + 10)
		log_warn("the PBX's newest recording starts %lld min after now in [pbx] timezone: "
			 "is the PBX's clock or zone (or ours) set right?",
			 (long long)(r.newest_seen - now));
	if (stop_requested()) {
		if (stop_reason() == STOP_BUDGET)
			progress_budget_stop(&r);
		else
			log_warn("stopped by signal %d; what landed is recorded, nothing is deleted "
				 "this run", stop_signal());
		r.archive_error = 1;
		r.no_delete = stop_reason() == STOP_BUDGET ? "stopped at its time budget"
							   : "stopped by a signal";
	} else if (!r.fatal) {
		if (opt->backfill || opt->reconcile)
			r.no_delete = opt->backfill ? "a backfill never deletes"
						    : "a reconcile never deletes";
		/* Uploads come after sealing and before deletions, which may wait for them. */
		live_phase(LIVE_OFFSITE);
		if (offsite_upload_files(&r) != 0)
			r.archive_error = 1;
		if (stop_requested()) {
			if (stop_reason() == STOP_BUDGET)
				log_warn("stopped at its time budget during the offsite uploads; what "
					 "was confirmed is recorded, nothing is deleted this run");
			else
				log_warn("stopped by signal %d during the offsite uploads; what was "
					 "confirmed is recorded, nothing is deleted this run",
					 stop_signal());
			r.archive_error = 1;
		} else if (!r.fatal) {
			delete_due(&r, opt, now);
			/* The CDR files the deletions' pass just sealed go up in the same run. */
			if (cfg->cdr.archive && !r.fatal && !stop_requested() &&
			    offsite_upload_files(&r) != 0)
				r.archive_error = 1;
		}
	}
	if (r.fatal)
		r.no_delete = "the run ended early (see errors)";
	if (opt->dry_run)
		r.no_delete = "a dry run deletes nothing";
	int nightly = !opt->backfill && !opt->reconcile && !opt->dry_run;
	long partials = nightly ? count_partials(&r) : -1;
	struct json_object *days = opt->dry_run ? NULL : report_days(r.man, started);
	int held = r.lockfd >= 0;
	run_unlock(&r);
	rc = exit_code(&r);
	if (rc == EXIT_PARTIAL && cfg->sync.partial_alarm > 0 && partials >= cfg->sync.partial_alarm) {
		log_error("%ld partial runs in a row ([sync] partial_alarm = %d): what keeps them "
			  "partial does not clear by itself; see the warnings above (exit %d)",
			  partials, cfg->sync.partial_alarm, EXIT_PARTIAL_ALARM);
		rc = EXIT_PARTIAL_ALARM;
	}
	rc = finish(&r, opt, rc, held, started, since(&t0), partials, days, 1);
	finished = 1;
out:
	if (!finished)
		rc = finish(&r, opt, rc, r.lockfd >= 0, started, since(&t0), -1, NULL, 0);
	run_teardown(&r);
	return rc;
}
