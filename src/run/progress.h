/* progress.h — how far a run has come, at what rate, and what it has left: the rate cap and a
 * backfill's rest for the live line on a TTY (live.h draws it), and the report's lines about
 * the rate cap, the time budget and a backfill's rest. Reads the run's tallies and span (run.h); changes nothing but the screen. */
#ifndef NEXO_PROGRESS_H
#define NEXO_PROGRESS_H

#include <stdint.h>

struct run;
struct span;

/* What a walk has left, about. */
struct progress_left {
	double recordings;  /* planned and not fetched, plus the span not listed yet at the
			     * density of recordings to fetch that its listed part showed */
	double bytes;       /* their expected bytes, the same way */
	double seconds;     /* at `rate`; -1 when no rate is known */
	int guessed;        /* the span's unlisted rest is in it (extrapolated), or 0 */
	int unknown_rest;   /* the span has an unlisted rest, but nothing listed to judge it by */
};

/* Pure arithmetic: the unlisted part of `sp` ([reached, to]) holds recordings to fetch at the
 * density its listed part (from `from`, or from the day of the first call seen when that is
 * later, to `reached`) held `planned` of them (sp->planned_bytes); `left` of those planned
 * (`left_bytes`) were not fetched. `rate` in bytes per second, <= 0 unknown. */
void progress_estimate(const struct span *sp, unsigned long planned, unsigned long left,
		       uint64_t left_bytes, double rate, struct progress_left *out);

/* The run's rate so far: archived bytes per second since it started (`now`, CLOCK_MONOTONIC
 * seconds); the cap ([pbx] max_rate) while nothing has come yet; 0 when neither is known. */
double progress_rate(const struct run *r, double now);

/* CLOCK_MONOTONIC now, in seconds. */
double progress_now(void);

/* Gives the live progress line (live.h) the rate cap and, for a backfill, how much of its
 * span is listed and when it will be done at the rate so far. */
void progress_tail(const struct run *r);

/* The report's lines on stdout after the summary line: the cap in force and the rate the
 * downloads reached; for a backfill that stopped short (its span not all listed, or some of
 * it left), what is left of its span and when it would be done at this rate. */
void progress_report(const struct run *r);

/* The warning of a run stopped at its time budget: the recordings (and bytes) left for the
 * next run, and the part of the span not listed yet. */
void progress_budget_stop(const struct run *r);

#endif
