/* job.c — one run or backfill from start to summary: open the archive, take the lock, log in,
 * walk the windows (list → skip what the manifest holds → fetch), move the checkpoint past
 * windows that fully landed, then retention, then the summary line and the exit code. */
#include "job.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "age.h"
#include "attempts.h"
#include "hash.h"
#include "log.h"
#include "manifest.h"
#include "mansig.h"
#include "minisign.h"
#include "pbx.h"
#include "recpath.h"
#include "run.h"
#include "seal.h"
#include "sealq.h"
#include "state.h"
#include "store.h"

#define FIRST_RUN_START "2000-01-01 00:00"

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

int run_stop_requested(void)
{
	return stop_signal != 0;
}

/* SIGTERM (systemd's stop, a timeout) and SIGINT end the run at the next safe point instead of
 * mid-write; a second one kills at once (the next run repairs whatever that leaves). */
static void catch_stop_signals(void)
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

/* Lists and archives one window. Returns 1 when everything listed landed, 0 when something is
 * left for the next run, -1 when the run must stop (r->fatal). */
static int do_window(struct run *r, pbx_minute start, pbx_minute end)
{
	struct listing l;
	struct recording **plan = NULL;
	size_t nplan = 0;
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
		if (found) {
			if (e->unavailable) {
				r->t.unavailable++;
				log_warn("%s is listed but was never delivered (recorded unavailable)",
					 log_escape(rec->pbx_path, esc, sizeof esc));
			} else {
				r->t.already++;
			}
			continue;
		}
		plan[nplan++] = rec;
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
	    t->unavailable)
		return EXIT_PARTIAL;
	return EXIT_OK;
}

/* [encryption] recipients → r->recipients. Returns 0, or -1 (printed: a config error). */
static int load_recipients(struct run *r, struct age_recipients *rs)
{
	const struct config *cfg = r->cfg;
	char err[512];

	age_recipients_init(rs);
	if (cfg->encryption.recipients) {
		char *list = strdup(cfg->encryption.recipients), *save = NULL;
		for (char *tok = list ? strtok_r(list, " \t", &save) : NULL; tok;
		     tok = strtok_r(NULL, " \t", &save)) {
			if (age_recipients_add(rs, tok, err, sizeof err) != 0) {
				log_error("%s: [encryption] recipients: %s", cfg->path, err);
				free(list);
				return -1;
			}
		}
		free(list);
	} else if (cfg->encryption.recipients_file &&
		   age_recipients_load_file(rs, cfg->encryption.recipients_file, err,
					    sizeof err) != 0) {
		log_error("%s: [encryption] recipients_file: %s", cfg->path, err);
		return -1;
	}
	if (age_recipients_count(rs) > 0)
		r->recipients = rs;
	return 0;
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
		rc = do_window(r, a, b);
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
	struct pbx_options po = { cfg->pbx.url, cfg->pbx.username, cfg->pbx.password_md5,
				  cfg->pbx.ca_file, cfg->pbx.pinned_pubkey, cfg->pbx.insecure,
				  cfg->pbx.timeout, cfg->pbx.connect_timeout, cfg->pbx.retries };
	struct run r;
	struct age_recipients recipients;
	struct minisign_secret *sign_key = NULL;
	struct timespec t0, t1;
	pbx_minute now, start, end, cp, first_end = -1;
	unsigned temps = 0;
	char err[512], when[PBXTIME_MINUTE_LEN + 1];
	long holder;
	int lockfd = -1, rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	catch_stop_signals();
	memset(&r, 0, sizeof r);
	r.cfg = cfg;
	r.dry_run = opt->dry_run;
	/* Keys first: a bad one is a config error, found before any work. */
	if (load_recipients(&r, &recipients) != 0) {
		age_recipients_free(&recipients);
		return EXIT_USAGE;
	}
	if (cfg->signing.secret_key_file &&
	    !(sign_key = minisign_secret_load(cfg->signing.secret_key_file, err, sizeof err))) {
		log_error("%s: [signing] secret_key_file: %s", cfg->path, err);
		age_recipients_free(&recipients);
		return EXIT_USAGE;
	}
	r.store = store_open(cfg->archive.dir, err, sizeof err);
	if (!r.store) {
		log_error("%s", err);
		minisign_secret_free(sign_key);
		age_recipients_free(&recipients);
		return EXIT_STORAGE;
	}
	lockfd = state_lock(r.store, &holder);
	if (lockfd < 0) {
		if (lockfd == -2)
			log_error("another nexo-archive run (pid %ld) is working on %s; exiting",
				  holder, cfg->archive.dir);
		store_close(r.store);
		minisign_secret_free(sign_key);
		age_recipients_free(&recipients);
		return lockfd == -2 ? EXIT_LOCKED : EXIT_STORAGE;
	}
	temps = store_clean_temps(r.store);
	if (temps)
		log_info("removed %u temp files left by an interrupted run", temps);
	r.man = manifest_open(r.store, err, sizeof err);
	r.hash = sha256_new();
	if (r.man)
		r.sealer = sealer_new(r.store, r.recipients, err, sizeof err);
	if (r.sealer)
		r.sealq = sealq_new(err, sizeof err);
	if (!r.man || !r.hash || !r.sealer || !r.sealq) {
		log_error("%s", err);
		rc = EXIT_STORAGE;
		goto out;
	}
	r.attempts = attempts_load(r.store);
	if (!r.attempts || (!opt->dry_run && manifest_repair_tails(r.man) < 0)) {
		rc = EXIT_STORAGE;
		goto out;
	}
	if (strncmp(cfg->pbx.url, "http://", 7) == 0)
		log_warn("%s is plain http: the password hash and the session travel in clear; "
			 "use https if the PBX offers it", cfg->pbx.url);
	r.pbx = pbx_new(&po, err, sizeof err);
	if (!r.pbx) {
		log_error("%s", err);
		rc = EXIT_STORAGE;
		goto out;
	}
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
			 (int)stop_signal);
		r.archive_error = 1;
	} else if (!opt->backfill && cfg->retention.delete_from_pbx && !r.fatal) {
		long skew = 0;
		if (r.archive_error || r.storage_error) {
			log_warn("no deletions this run: the archive phase had errors (see above)");
		} else if (pbx_clock_skew(r.pbx, &skew) &&
			   (skew > cfg->pbx.max_clock_skew || -skew > cfg->pbx.max_clock_skew)) {
			/* "Older than N days" means nothing when the two clocks disagree. */
			log_warn("no deletions this run: the PBX's clock is %ld s %s ours (more than "
				 "[pbx] max_clock_skew = %ld s)", skew < 0 ? -skew : skew,
				 skew < 0 ? "behind" : "ahead of", cfg->pbx.max_clock_skew);
			r.t.skew_blocked = 1;
		} else {
			retention_apply(&r, now);
		}
	}
	/* Whatever the run appended is signed, even after errors: a signature covers what is on
	 * disk, and an unsigned day would be a finding for verify. */
	if (sign_key && mansig_sign_changed(r.store, r.man, sign_key) != 0)
		r.storage_error = 1;
	if (!r.dry_run && attempts_save(r.attempts, r.store) != 0)
		r.storage_error = 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	summary(&r, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		opt->dry_run);
	rc = exit_code(&r);
out:
	pbx_free(r.pbx);
	attempts_free(r.attempts);
	sealq_free(r.sealq);
	sealer_free(r.sealer);
	sha256_free(r.hash);
	manifest_close(r.man);
	if (lockfd >= 0)
		close(lockfd);
	store_close(r.store);
	minisign_secret_free(sign_key);
	age_recipients_free(&recipients);
	return rc;
}
