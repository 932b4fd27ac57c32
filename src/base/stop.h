/* stop.h — "should I stop?": the one flag that SIGTERM and SIGINT raise and every stage polls.
 *
 * It sits at the bottom so that a worker (a download lane, the sealing thread, retention,
 * the CDR side, watch) asks it directly instead of calling back into the job that started it.
 * Owns the two signal handlers; never exits and never prints. */
#ifndef NEXO_STOP_H
#define NEXO_STOP_H

/* Installs the handlers: a first SIGTERM/SIGINT asks for a stop, a second one kills (the next
 * run repairs whatever that leaves). Without SA_RESTART, so a wait (poll, AMI) returns to
 * check the flag. */
void stop_catch_signals(void);

/* Whether a stop was asked for: the caller stops at its next safe point (between files, or by
 * abandoning the file being written), records what landed, and deletes nothing. Safe from any
 * thread. Returns 1 or 0. */
int stop_requested(void);

/* The signal that asked for the stop, or 0. */
int stop_signal(void);

#endif
