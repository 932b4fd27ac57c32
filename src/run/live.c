/* live.c — see live.h. One board per process (there is one terminal), guarded by a lock; the
 * drawing thread reads it, the stages write it. The thread blocks every signal: SIGINT and
 * SIGTERM must reach the main thread, whose waits they cut short. */
#include "live.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/meter.h"
#include "base/units.h"

#define TICK_NS 500000000L /* two redraws a second: "at least once a second" with margin */
#define RATE_SAMPLES 9     /* the rate over the last 4 s (8 ticks) */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int running, stopping;
	double started;
	struct live_view v;
	double sample_t[RATE_SAMPLES];
	uint64_t sample_b[RATE_SAMPLES];
	unsigned samples;
} board = { .lock = PTHREAD_MUTEX_INITIALIZER };

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *phase_name(enum live_phase p)
{
	switch (p) {
	case LIVE_LOGIN:
		return "logging in to the PBX";
	case LIVE_LISTING:
		return "listing";
	case LIVE_DOWNLOADING:
		return "downloading";
	case LIVE_OFFSITE:
		return "uploading offsite";
	case LIVE_CDR:
		return "archiving CDRs";
	case LIVE_DELETING:
		return "deleting from the PBX";
	case LIVE_WAITING:
		return "waiting for calls";
	case LIVE_STARTING:
		break;
	}
	return "starting";
}

/* "0:42", "1:02:03". */
static void clock_text(double seconds, char *out, size_t outlen)
{
	long s = seconds > 0 ? (long)seconds : 0;

	if (s >= 3600)
		snprintf(out, outlen, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, outlen, "%ld:%02ld", s / 60, s % 60);
}

void live_format(const struct live_view *v, char *out, size_t outlen)
{
	char what[64], counts[96] = "", bytes[80] = "", left[48] = "", el[24];
	char a[PBXTIME_MINUTE_LEN + 1], b[PBXTIME_MINUTE_LEN + 1], n[24], r[24];

	if (v->phase == LIVE_LISTING && v->list_to >= v->list_from) {
		pbxtime_format(v->list_from, a);
		pbxtime_format(v->list_to, b);
		/* The end's date only when it differs: "listing 2026-12-06 00:00 .. 23:59". */
		snprintf(what, sizeof what, "listing %s .. %s", a,
			 strncmp(a, b, 10) == 0 ? b + 11 : b);
	} else {
		snprintf(what, sizeof what, "%s", phase_name(v->phase));
	}
	if (v->listed || v->planned)
		snprintf(counts, sizeof counts, " | %lu/%lu archived, %lu listed", v->landed,
			 v->planned, v->listed);
	if (v->received) {
		units_format_bytes(v->received, n, sizeof n);
		if (v->rate > 0) {
			units_format_bytes((uint64_t)v->rate, r, sizeof r);
			snprintf(bytes, sizeof bytes, " | %s received at %s/s", n, r);
		} else {
			snprintf(bytes, sizeof bytes, " | %s received", n);
		}
	}
	if (v->phase == LIVE_DOWNLOADING && v->rate > 0 && v->planned_bytes > v->landed_bytes) {
		units_format_duration((int64_t)((double)(v->planned_bytes - v->landed_bytes) / v->rate),
				      n, sizeof n);
		snprintf(left, sizeof left, " | about %s left", n);
	}
	clock_text(v->elapsed, el, sizeof el);
	snprintf(out, outlen, "%s%s%s%s%s | %s", what, counts, bytes, left, v->tail, el);
}

/* The rate over the last samples; called under the lock, once per tick. */
static double sample_rate(double now, uint64_t received)
{
	unsigned i = board.samples % RATE_SAMPLES, oldest;

	board.sample_t[i] = now;
	board.sample_b[i] = received;
	board.samples++;
	oldest = board.samples > RATE_SAMPLES ? board.samples % RATE_SAMPLES : 0;
	if (board.samples < 2 || now - board.sample_t[oldest] <= 0)
		return 0;
	return (double)(received - board.sample_b[oldest]) / (now - board.sample_t[oldest]);
}

static void *draw_loop(void *unused)
{
	char line[512];
	struct timespec until;

	(void)unused;
	pthread_mutex_lock(&board.lock);
	while (!board.stopping) {
		double now = mono_now();
		board.v.received = meter_received();
		board.v.rate = sample_rate(now, board.v.received);
		board.v.elapsed = now - board.started;
		live_format(&board.v, line, sizeof line);
		pthread_mutex_unlock(&board.lock);
		log_progress("%s", line);
		pthread_mutex_lock(&board.lock);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += TICK_NS;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!board.stopping &&
		       pthread_cond_timedwait(&board.wake, &board.lock, &until) == 0)
			; /* woken early but not stopping: wait out the tick */
	}
	pthread_mutex_unlock(&board.lock);
	return NULL;
}

void live_start(void)
{
	pthread_condattr_t attr;
	sigset_t all, old;

	if (!log_enabled(LOG_INFO) || !isatty(STDERR_FILENO))
		return;
	pthread_mutex_lock(&board.lock);
	if (board.running) {
		pthread_mutex_unlock(&board.lock);
		return;
	}
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&board.wake, &attr);
	pthread_condattr_destroy(&attr);
	board.started = mono_now();
	board.stopping = 0;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	board.running = pthread_create(&board.thread, NULL, draw_loop, NULL) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!board.running)
		pthread_cond_destroy(&board.wake);
	pthread_mutex_unlock(&board.lock);
}

void live_stop(void)
{
	pthread_mutex_lock(&board.lock);
	if (!board.running) {
		pthread_mutex_unlock(&board.lock);
		return;
	}
	board.stopping = 1;
	pthread_cond_signal(&board.wake);
	pthread_mutex_unlock(&board.lock);
	pthread_join(board.thread, NULL);
	pthread_cond_destroy(&board.wake);
	board.running = 0;
	log_progress_done();
}

void live_phase(enum live_phase phase)
{
	pthread_mutex_lock(&board.lock);
	board.v.phase = phase;
	pthread_mutex_unlock(&board.lock);
}

void live_listing(pbx_minute from, pbx_minute to)
{
	pthread_mutex_lock(&board.lock);
	board.v.phase = LIVE_LISTING;
	board.v.list_from = from;
	board.v.list_to = to;
	pthread_mutex_unlock(&board.lock);
}

void live_listed(unsigned long n)
{
	pthread_mutex_lock(&board.lock);
	board.v.listed += n;
	pthread_mutex_unlock(&board.lock);
}

void live_planned(unsigned long n, uint64_t bytes)
{
	pthread_mutex_lock(&board.lock);
	board.v.planned += n;
	board.v.planned_bytes += bytes;
	pthread_mutex_unlock(&board.lock);
}

void live_landed(uint64_t bytes)
{
	pthread_mutex_lock(&board.lock);
	board.v.landed++;
	board.v.landed_bytes += bytes;
	pthread_mutex_unlock(&board.lock);
}

void live_tail(const char *text)
{
	pthread_mutex_lock(&board.lock);
	snprintf(board.v.tail, sizeof board.v.tail, "%s", text);
	pthread_mutex_unlock(&board.lock);
}
