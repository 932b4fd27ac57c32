/* stop.h — "should I stop?": the one flag that every stage polls, raised by SIGTERM/SIGINT or
 * by the run's time budget.
 *
 * It sits at the bottom so that a worker (a download lane, the sealing thread, retention,
 * the CDR side, watch) asks it directly instead of calling back into the job that started it.
 * Both reasons mean the same at a safe point (start nothing new, record what landed, delete
 * nothing); they differ inside a file: a signal abandons the file being written (whoever sent
 * it wants the process gone), a time budget finishes it first (a file half received would be
 * fetched whole again by the next run). Owns the two signal handlers and the deadline; never
 * exits and never prints. */
#ifndef NEXO_STOP_H
#define NEXO_STOP_H

#include <stdint.h>

enum stop_reason {
	STOP_NONE = 0,
	STOP_SIGNAL,  /* SIGTERM or SIGINT */
	STOP_BUDGET,  /* the time budget (--max-duration, --stop-at, [sync] max_duration) */
};

/* Installs the handlers: a first SIGTERM/SIGINT asks for a stop, a second one kills (the next
 * run repairs whatever that leaves). Without SA_RESTART, so a wait (poll, AMI) returns to
 * check the flag. */
void stop_catch_signals(void);

/* The time budget: a stop is asked for `seconds` from now (CLOCK_MONOTONIC: a wall clock set
 * back or forward does not move it). Call before the threads that poll start. */
void stop_set_budget(int64_t seconds);

/* Whether a stop was asked for, for either reason: the caller stops at its next safe point
 * (between files; inside a file see stop_abandon_file()), records what landed, and deletes
 * nothing. Safe from any thread. Returns 1 or 0. */
int stop_requested(void);

/* Whether the file being written must be abandoned now rather than finished: only a signal
 * asks that. Returns 1 or 0. */
int stop_abandon_file(void);

/* Why a stop was asked for: the first reason that came (a budget that ran out before a
 * signal stays the reason). STOP_NONE when none. */
enum stop_reason stop_reason(void);

/* The signal that asked for the stop, or 0. */
int stop_signal(void);

#endif
