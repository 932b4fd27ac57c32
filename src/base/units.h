/* units.h — the numbers an operator types to keep a run gentle: a download rate, a duration,
 * a time of day; and the same numbers written back for people.
 *
 * Pure text and arithmetic (the local time zone is read for a time of day, nothing else): the
 * config, the command line and the run report all read and write them here, so "4M" means
 * the same everywhere. Never prints. */
#ifndef NEXO_UNITS_H
#define NEXO_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* The slowest rate that may be set: audio is ~16 KB per second of call, and a cap below this
 * would only make a transfer look dead. */
#define UNITS_RATE_MIN 16384
#define UNITS_RATE_MAX (1LL << 40)

/* Bytes per second: "2097152", "500K", "4M", "1.5G" (a decimal with at most 6 fraction
 * digits; K, M, G are 1024, 1024^2, 1024^3, either case, as curl's --limit-rate and rclone's
 * --bwlimit read them). "0" or "off" is no limit (*out = 0). Returns 0, or -1 when malformed,
 * below UNITS_RATE_MIN or above UNITS_RATE_MAX (*out untouched). */
int units_parse_rate(const char *text, int64_t *out);

/* Seconds: "90s", "45m", "2h", "1d", or a sum largest unit first, each at most once
 * ("1h30m", "2h15m30s"); "0" or "off" is none (*out = 0). A bare number is refused (seconds
 * or minutes?). Up to 366 days. Returns 0, or -1 when malformed (*out untouched). */
int units_parse_duration(const char *text, int64_t *out);

/* A time of day "HH:MM" (also "H:MM"), 00:00 to 23:59, as minutes after midnight. Returns 0,
 * or -1 when malformed (*out untouched). */
int units_parse_clock(const char *text, int *out);

/* Seconds from Unix time `now` until the host's local clock next shows `minute_of_day`:00,
 * strictly after `now` (tomorrow when today's has come): "--stop-at 06:00" started at 22:00
 * means 8 hours, and across a DST change the clock's 06:00, not 8 wall hours. A time the
 * day skips (spring forward) is the first minute after the gap. Always > 0. */
int64_t units_until_clock(int64_t now, int minute_of_day);

/* "812 B", "1.5 KiB", "20.0 MiB", "3.21 GiB" (binary units, like the rates). */
void units_format_bytes(uint64_t bytes, char *out, size_t outlen);

/* "4 s", "12 min", "2 h 05 min", "3 d 04 h" (rounded down to the unit shown last). */
void units_format_duration(int64_t seconds, char *out, size_t outlen);

#endif
