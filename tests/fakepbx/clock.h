/*
 * clock.h — the PBX's "now": the one place fakepbx asks what time it is.
 *
 * Three settings, given once before any thread starts: a clock file that
 * replaces the real clock (--clock-file, re-read on every call), an offset
 * of the PBX's clock (--clock-offset: its unix time and every local time it
 * produces are wrong), and an offset of its zone (--zone-offset: its unix
 * time is right, its local times are not). Thread-safe.
 */
#ifndef FAKEPBX_CLOCK_H
#define FAKEPBX_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Configure the clock; file may be NULL (the real clock). */
void clock_setup(const char *file, int64_t clock_offset, int64_t zone_offset);

/* The true now in seconds (the clock file's value, else the real clock),
 * not shifted by either offset. */
double clock_true_now(void);

/* The PBX's unix time now: the true now, whole seconds, + --clock-offset. */
int64_t clock_unix(void);

/* --zone-offset (seconds added before turning a PBX unix time into local). */
int64_t clock_zone(void);

/* The PBX's local broken-down time of its unix time t (t + --zone-offset,
 * in the process's time zone). */
void clock_local(int64_t t, struct tm *out);

/* The PBX's local time now: clock_local(clock_unix()). */
void clock_local_now(struct tm *out);

/* True when the Date header must come from this clock (a clock file or a
 * clock offset), not from libmicrohttpd's real clock. */
bool clock_owns_date(void);

#endif
