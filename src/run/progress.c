/* progress.c — the progress line and the report's rate, budget and backfill lines
 * (progress.h). */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "live.h"
#include "run.h"
#include "base/log.h"
#include "base/units.h"

void progress_estimate(const struct span *sp, unsigned long planned, unsigned long left,
		       uint64_t left_bytes, double rate, struct progress_left *out)
{
	/* A backfill that starts years before the PBX's first call would otherwise count
	 * those empty years as the density of the rest; from that call's day on, not its
	 * minute: a day's calls spread over the day. */
	pbx_minute first_day = sp->oldest_seen - sp->oldest_seen % 1440;
	pbx_minute base = sp->oldest_seen >= 0 && first_day > sp->from ? first_day : sp->from;
	double walked = (double)(sp->reached - base), rest = (double)(sp->to + 1 - sp->reached);

	memset(out, 0, sizeof *out);
	out->recordings = (double)left;
	out->bytes = (double)left_bytes;
	if (sp->to >= sp->from && rest > 0) {
		if (walked > 0) {
			out->recordings += (double)planned / walked * rest;
			out->bytes += (double)sp->planned_bytes / walked * rest;
			out->guessed = 1;
		} else {
			out->unknown_rest = 1;
		}
	}
	out->seconds = rate > 0 ? out->bytes / rate : -1;
}

double progress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Archived bytes per second since the run started; 0 before anything came. */
static double measured(const struct run *r, double now)
{
	double elapsed = now - r->started;

	return r->t.bytes > 0 && elapsed > 0 ? (double)r->t.bytes / elapsed : 0;
}

double progress_rate(const struct run *r, double now)
{
	double m = measured(r, now);

	return m > 0 ? m : (double)r->cfg->pbx.max_rate;
}

static void rate_text(double bytes_per_second, char *out, size_t outlen)
{
	char b[24];

	units_format_bytes((uint64_t)bytes_per_second, b, sizeof b);
	snprintf(out, outlen, "%s/s", b);
}

/* "8% listed, about 2 h 50 min left" for a backfill's span; "" otherwise. */
static void span_text(const struct run *r, double now, char *out, size_t outlen)
{
	const struct span *sp = &r->span;
	struct progress_left left;
	char eta[32];
	double whole = (double)(sp->to + 1 - sp->from);

	out[0] = '\0';
	if (!sp->estimate || sp->to < sp->from)
		return;
	progress_estimate(sp, r->planned_total,
			  r->planned_total > r->t.archived ? r->planned_total - r->t.archived : 0,
			  sp->planned_bytes > r->t.bytes ? sp->planned_bytes - r->t.bytes : 0,
			  progress_rate(r, now), &left);
	if (left.seconds >= 0 && !left.unknown_rest) {
		units_format_duration((int64_t)left.seconds, eta, sizeof eta);
		snprintf(out, outlen, "; span %.0f%% listed, about %s left",
			 100.0 * (double)(sp->reached - sp->from) / whole, eta);
	} else {
		snprintf(out, outlen, "; span %.0f%% listed",
			 100.0 * (double)(sp->reached - sp->from) / whole);
	}
}

void progress_tail(const struct run *r)
{
	char cap[32], tail[160] = "", span[96];

	if (r->cfg->pbx.max_rate > 0) {
		rate_text((double)r->cfg->pbx.max_rate, cap, sizeof cap);
		snprintf(tail, sizeof tail, " (cap %s)", cap);
	}
	span_text(r, progress_now(), span, sizeof span);
	/* span_text's "; span 8% listed, ..." reads as its own part of the line. */
	if (span[0])
		snprintf(tail + strlen(tail), sizeof tail - strlen(tail), " |%s", span + 1);
	live_tail(tail);
}

void progress_report(const struct run *r)
{
	const struct span *sp = &r->span;
	double now = progress_now();
	char rate[32], cap[32], when[PBXTIME_MINUTE_LEN + 1], to[PBXTIME_MINUTE_LEN + 1];
	char bytes[32], eta[96] = "";
	struct progress_left left;

	if (r->cfg->pbx.max_rate > 0) {
		rate_text((double)r->cfg->pbx.max_rate, cap, sizeof cap);
		rate_text(measured(r, now), rate, sizeof rate);
		printf("rate limit: downloads capped at %s ([pbx] max_rate%s)", cap,
		       r->cfg->sync.parallel > 1 ? ", shared by the lanes" : "");
		if (r->t.bytes)
			printf("; they came at %s on average", rate);
		putchar('\n');
	}
	if (!sp->estimate || sp->to < sp->from || (sp->reached > sp->to && r->t.left == 0))
		return;
	progress_estimate(sp, r->planned_total, r->t.left, r->t.left_bytes,
			  progress_rate(r, now), &left);
	units_format_bytes((uint64_t)left.bytes, bytes, sizeof bytes);
	pbxtime_format(sp->reached, when);
	pbxtime_format(sp->to, to);
	if (left.unknown_rest) {
		snprintf(eta, sizeof eta, "; the rest cannot be judged yet (nothing listed)");
	} else if (left.seconds >= 0) {
		char d[32];
		units_format_duration((int64_t)left.seconds, d, sizeof d);
		rate_text(progress_rate(r, now), rate, sizeof rate);
		snprintf(eta, sizeof eta, ", about %s at %s", d, rate);
	}
	if (sp->reached > sp->to)
		printf("backfill: its span is listed; left: %.0f recordings (%s)%s\n",
		       left.recordings, bytes, eta);
	else
		printf("backfill: listed up to %s of its span to %s; left: %s%.0f recordings (%s)%s\n",
		       when, to, left.guessed ? "about " : "", left.recordings, bytes, eta);
}

void progress_budget_stop(const struct run *r)
{
	const struct span *sp = &r->span;
	char tail[96] = "", from[PBXTIME_MINUTE_LEN + 1], to[PBXTIME_MINUTE_LEN + 1];

	if (sp->to >= sp->from && sp->reached <= sp->to) {
		pbxtime_format(sp->reached, from);
		pbxtime_format(sp->to, to);
		snprintf(tail, sizeof tail, ", and %s .. %s is not listed yet", from, to);
	}
	log_warn("stopped at its time budget: %lu recordings (%llu bytes) left for the next "
		 "run%s; what landed is recorded, nothing is deleted this run", r->t.left,
		 (unsigned long long)r->t.left_bytes, tail);
}
