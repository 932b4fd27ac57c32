/* clock.h — "now" on this host's wall clock, the one place the program reads it.
 *
 * In the real program clock_unix() is time(NULL). In the test build (-DNEXO_FAILPOINTS, like
 * failpoint.h) the environment variable NEXO_TEST_CLOCK_FILE may name a file holding the time
 * as decimal unix seconds (optionally fractional; blanks and a newline around are fine), read
 * on every call: the simulator (tests/sim) moves a run through nights in seconds, and fakepbx
 * follows the same file (--clock-file). A missing or unreadable file means the real clock.
 * Timers and timeouts keep CLOCK_MONOTONIC: only the date moves. */
#ifndef NEXO_CLOCK_H
#define NEXO_CLOCK_H

#include <stdint.h>

/* Seconds since the epoch. */
int64_t clock_unix(void);

#endif
