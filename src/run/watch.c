/* watch.c — see watch.h. */
#include "watch.h"

#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "live.h"
#include "notify.h"
#include "progress.h"
#include "report.h"
#include "run.h"
#include "runctx.h"
#include "sync.h"
#include "base/clock.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "base/stop.h"
#include "pbx/ami.h"
#include "pbx/pbx.h"
#include "pbx/recname.h"

#define PING_AFTER_MS 30000    /* a quiet connection is pinged after this, dropped after 2x */
#define LOCKED_RETRY_MS 5000   /* a run holds the archive: try the batch again after this */
#define RETRY_FIRST_MS 5000    /* a batch that left something: again after this, doubling */
#define RETRY_TRIES 6          /* ... this many times (5 s to 160 s: 5 min), then the nightly
				* run has it */
#define CONNECT_TIMEOUT_MS 10000
#define BEFORE_EVENT 2         /* minutes listed before an announced recording's start */

struct watch {
	struct run r;
	char host[256];
	pbx_minute synced;         /* everything starting before this was listed */
	pbx_minute pending_from;   /* the earliest recording waiting for a batch; -1: none */
	long long due_ms;          /* when the pending batch runs */
	int tries;                 /* failed attempts at the pending window */
	int said_locked;           /* "the run holds the archive" was said for this wait */
	unsigned long batches, archived;
};

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Sleeps up to `ms`, less when a stop signal arrives. */
static void nap(long long ms)
{
	long long end = now_ms() + ms;

	while (!stop_requested() && now_ms() < end)
		poll(NULL, 0, (int)(end - now_ms() < 200 ? end - now_ms() : 200));
}

/* [ami] host, else the host of [pbx] url ("https://[::1]:4430" → "::1"). */
static void ami_host(const struct config *cfg, char *out, size_t len)
{
	const char *h = cfg->ami.host, *end;

	if (h) {
		snprintf(out, len, "%s", h);
		return;
	}
	h = strstr(cfg->pbx.url, "://") + 3;
	if (*h == '[') {
		h++;
		end = strchr(h, ']');
	} else {
		end = h + strcspn(h, ":/");
	}
	snprintf(out, len, "%.*s", end ? (int)(end - h) : (int)strlen(h), h);
}

/* The start minute of a recording from its key ("YYYYMMDD-HHMMSS-..."), or -1. */
static pbx_minute key_minute(const char *key)
{
	char text[PBXTIME_MINUTE_LEN + 1];
	pbx_minute m;

	if (strlen(key) < 15 || key[8] != '-')
		return -1;
	snprintf(text, sizeof text, "%.4s-%.2s-%.2s %.2s:%.2s", key, key + 4, key + 6, key + 9,
		 key + 11);
	return pbxtime_parse(text, &m) == 0 ? m : -1;
}

/* Asks for a batch covering recordings from `from` on. */
static void want(struct watch *w, pbx_minute from, long long delay_ms)
{
	long long at = now_ms() + delay_ms;

	if (w->pending_from < 0 || from < w->pending_from)
		w->pending_from = from;
	/* A new recording does not wait out the back-off of an earlier one. */
	if (w->due_ms == 0 || at < w->due_ms) {
		w->due_ms = at;
		w->tries = 0;
	}
}

/* The batch's report (the archive's .state/last-run.json, and the metrics file), `days` (taken)
 * what report_days() said under the lock: command "watch", its counts and warnings its own. A
 * batch is not a nightly run: the last success and the partial runs
 * in a row are the last run's, carried on, and no ping is sent (a check waiting for the
 * nightly run's ping must not be fed by the watch). */
static void batch_report(struct run *r, struct json_object *days, int64_t started, double seconds,
			 int code, unsigned long warnings_before)
{
	struct json_object *prev = report_load(r->store, NULL, 0), *rep;
	struct report_info info = { "watch", started, clock_unix(), seconds, code, 0,
				    report_int(prev, "partial_runs_in_a_row", 0), warnings_before };

	rep = report_build(r, &info, days, prev);
	json_object_put(prev);
	if (!rep) {
		log_error("out of memory");
		return;
	}
	report_add_archive(rep, r->store, r->cfg); /* the metrics' archive figures too */
	if (report_save(r->store, rep) != 0)
		r->storage_error = 1;
	notify_batch(r->cfg, rep);
	json_object_put(rep);
}

/* Archives the pending window under the lock. Returns 0 done or retried later, or an exit
 * code that ends the watch. */
static int batch(struct watch *w)
{
	struct run *r = &w->r;
	pbx_minute now = pbxtime_now(r->cfg->pbx.timezone), from = w->pending_from;
	int64_t started = clock_unix();
	double t0 = progress_now();
	unsigned long warnings_before = log_warning_count();
	char a[PBXTIME_MINUTE_LEN + 1];
	long holder;
	int rc;

	rc = run_lock(r, "watch", 0, &holder);
	if (rc == EXIT_LOCKED) {
		if (!w->said_locked++)
			log_info("the nightly run (pid %ld) holds the archive; the batch waits for it",
				 holder);
		w->due_ms = now_ms() + LOCKED_RETRY_MS;
		return 0;
	}
	w->said_locked = 0;
	if (rc != 0) {
		run_unlock(r);
		return rc;
	}
	/* The PBX's times decide: a recording announced "later" than our now (its clock or zone
	 * runs ahead) is listed all the same. */
	pbx_minute to = from > now ? from : now;
	pbxtime_format(from, a);
	log_debug("watch: listing from %s", a);
	r->archive_error = 0;
	memset(&r->t, 0, sizeof r->t); /* each batch's report counts its own */
	r->listed_until = now - r->cfg->sync.lookback; /* as a run's (run.h) */
	rc = sync_window(r, from, to);
	live_phase(LIVE_WAITING);
	/* Reported after the unlock, as a run is: it saves the pending list the report counts. */
	/* An unreachable PBX is waited for (the window is tried again); any other fatal end is
	 * reported, as the watch then ends with it. */
	int reported = r->fatal != EXIT_UNREACHABLE;
	int code = r->fatal ? r->fatal
		   : r->storage_error ? EXIT_STORAGE : rc == 1 ? EXIT_OK : EXIT_PARTIAL;
	struct json_object *days = reported ? report_days(r->man, started) : NULL;
	run_unlock(r);
	if (reported)
		batch_report(r, days, started, progress_now() - t0, code, warnings_before);
	if (r->fatal == EXIT_UNREACHABLE) {
		r->fatal = 0; /* a PBX restarting: the window is tried again */
		rc = 0;
	}
	if (r->fatal)
		return r->fatal;
	w->batches++;
	w->archived += r->t.archived;
	if (r->t.archived)
		log_info("archived %lu recording%s (%lu since the watch began)", r->t.archived,
			 r->t.archived == 1 ? "" : "s", w->archived);
	if (rc == 1 || ++w->tries > RETRY_TRIES) {
		if (rc != 1)
			log_warn("the window from %s still has recordings that did not land after %d "
				 "tries; left for the nightly run", a, RETRY_TRIES);
		w->pending_from = -1;
		w->due_ms = 0;
		w->tries = 0;
		if (rc == 1 && now > w->synced)
			w->synced = now;
	} else {
		/* Something did not land (the PBX still writing it, a broken transfer, the PBX
		 * unreachable): the same window again, later; the manifest skips what did. */
		long long delay = (long long)RETRY_FIRST_MS << (w->tries - 1);
		if (r->t.failed + r->t.missing)
			log_warn("%lu recordings did not land; trying again in %lld s",
				 r->t.failed + r->t.missing, delay / 1000);
		else
			log_warn("the window could not be listed whole; trying again in %lld s",
				 delay / 1000);
		w->due_ms = now_ms() + delay;
	}
	return r->storage_error ? EXIT_STORAGE : 0;
}

/* One AMI session: from login to a lost connection (returns 0), a stop signal (0), or an
 * exit code that ends the watch. */
static int session(struct watch *w, struct ami *conn)
{
	const struct config *cfg = w->r.cfg;
	const struct ami_message *msg;
	char err[512], path[512], key[256], esc[512];
	int rc;

	/* Whatever was announced while nobody listened: one catch-up window. */
	want(w, w->synced - cfg->sync.lookback, 0);
	while (!stop_requested()) {
		long long wait = PING_AFTER_MS;
		if (w->due_ms)
			wait = w->due_ms - now_ms() < 0 ? 0 : w->due_ms - now_ms();
		int n = ami_next_message(conn, (int)(wait < PING_AFTER_MS ? wait : PING_AFTER_MS),
					 &msg, err, sizeof err);
		if (n < 0) {
			log_warn("AMI connection lost: %s; reconnecting", err);
			return 0;
		}
		if (n == 1) {
			rc = ami_recording_event(msg, path, sizeof path, key, sizeof key);
			if (rc < 0) {
				log_warn("AMI announced a recording with a name we refuse ('%s'); "
					 "ignored", log_escape(ami_get(msg, "File Name") ?
					 ami_get(msg, "File Name") : "", esc, sizeof esc));
			} else if (rc == 1) {
				pbx_minute m = key_minute(key);
				log_debug("AMI: %s closed", log_escape(path, esc, sizeof esc));
				want(w, m >= 0 ? m - BEFORE_EVENT
					       : pbxtime_now(cfg->pbx.timezone) - cfg->sync.lookback,
				     cfg->ami.coalesce_ms);
			}
		}
		if (ami_idle_ms(conn) > 2 * PING_AFTER_MS) {
			log_warn("AMI: no answer from the PBX for %d s; reconnecting",
				 2 * PING_AFTER_MS / 1000);
			return 0;
		}
		if (ami_idle_ms(conn) > PING_AFTER_MS && ami_ping(conn, err, sizeof err) != 0) {
			log_warn("AMI connection lost: %s; reconnecting", err);
			return 0;
		}
		if (w->due_ms && now_ms() >= w->due_ms && (rc = batch(w)) != 0)
			return rc;
	}
	return 0;
}

int cmd_watch(const struct config *cfg, int argc, char **argv)
{
	struct watch w;
	long long backoff_ms = 1000;
	char err[512];
	int rc;

	(void)argv;
	if (argc != 1) {
		log_error("watch takes no arguments");
		return EXIT_USAGE;
	}
	if (!cfg->ami.username || !cfg->ami.secret) {
		log_error("%s: watch needs [ami] username and secret (or secret_file): the AMI "
			  "account of the PBX's 'System Tools > AMI Settings'", cfg->path);
		return EXIT_USAGE;
	}
	memset(&w, 0, sizeof w);
	stop_catch_signals();
	ami_host(cfg, w.host, sizeof w.host);
	rc = run_setup(&w.r, cfg, 0);
	w.r.watching = 1;
	live_start();
	live_phase(LIVE_LOGIN);
	/* The PBX's web login first: a wrong password is said at once. An unreachable PBX (still
	 * booting) is waited for. */
	while (rc == 0 && !stop_requested()) {
		rc = pbx_login(w.r.pbx);
		if (rc == PBX_OK || rc == PBX_REFUSED) {
			rc = rc == PBX_OK ? 0 : EXIT_LOGIN;
			break;
		}
		rc = 0;
		log_warn("the PBX's web API does not answer; trying again in %lld s",
			 backoff_ms / 1000);
		nap(backoff_ms);
		backoff_ms = backoff_ms * 2 > cfg->ami.reconnect_max * 1000
				     ? cfg->ami.reconnect_max * 1000 : backoff_ms * 2;
	}
	backoff_ms = 1000;
	live_phase(LIVE_WAITING);
	w.synced = pbxtime_now(cfg->pbx.timezone);
	w.pending_from = -1;
	while (rc == 0 && !stop_requested()) {
		struct ami *conn = ami_connect(w.host, cfg->ami.port, CONNECT_TIMEOUT_MS, err,
					       sizeof err);
		if (conn) {
			enum ami_login lr = ami_login(conn, cfg->ami.username, cfg->ami.secret,
						      CONNECT_TIMEOUT_MS, err, sizeof err);
			if (lr == AMI_LOGIN_REFUSED) {
				log_error("%s; check [ami] username and secret (and that AMI is "
					  "enabled for this host on the PBX)", err);
				ami_close(conn);
				rc = EXIT_LOGIN;
				break;
			}
			if (lr == AMI_LOGIN_OK) {
				log_info("AMI: logged in to %s:%d; watching for recordings", w.host,
					 cfg->ami.port);
				backoff_ms = 1000;
				rc = session(&w, conn);
				ami_close(conn);
				continue;
			}
			ami_close(conn);
		}
		if (stop_requested())
			break;
		log_warn("AMI: %s; trying again in %lld s", err, backoff_ms / 1000);
		nap(backoff_ms);
		backoff_ms = backoff_ms * 2 > cfg->ami.reconnect_max * 1000
				     ? cfg->ami.reconnect_max * 1000 : backoff_ms * 2;
	}
	if (rc == 0 && w.pending_from >= 0 && !w.r.fatal)
		log_info("stopping; %s", "recordings announced but not archived yet are left for "
					 "the next run");
	live_stop();
	printf("watch: %lu batches, archived %lu\n", w.batches, w.archived);
	run_teardown(&w.r);
	return rc;
}
