/* pbxtime.h — the PBX's clock, as naive minutes.
 *
 * The PBX speaks its own local time with no zone ("YYYY-MM-DD HH:MM" in requests,
 * "YYYY-MM-DD HH:MM:SS" in answers). We do all arithmetic on naive times (minutes since
 * 1970-01-01 00:00 as if UTC), so a DST change never shifts a window; only "now" needs the
 * PBX's zone, taken from [pbx] timezone (default: the host's). */
#ifndef NEXO_PBXTIME_H
#define NEXO_PBXTIME_H

#include <stdint.h>

typedef int64_t pbx_minute; /* naive minutes since the epoch */

#define PBXTIME_MINUTE_LEN 16 /* "YYYY-MM-DD HH:MM" */

/* Parses "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS" (seconds dropped). Returns 0, or -1
 * when the text is not such a date (range-checked: month 1-12, day valid for the month...). */
int pbxtime_parse(const char *text, pbx_minute *out);

/* Formats as "YYYY-MM-DD HH:MM" into out (17 bytes). */
void pbxtime_format(pbx_minute m, char out[PBXTIME_MINUTE_LEN + 1]);

/* "Now" on the PBX's wall clock: the host's time in zone `tz` (NULL or "" = host's zone). */
pbx_minute pbxtime_now(const char *tz);

/* Whether `tz` names a zone this host knows: "UTC", or a TZif file under $TZDIR or
 * /usr/share/zoneinfo ("Europe/Berlin"). A misspelt zone would silently mean UTC to the C
 * library. Returns 1 known, 0 not, -1 the host has no zone database to tell. */
int pbxtime_zone_known(const char *tz);

/* Parses a span: "90s" is refused (minute resolution); "30m", "6h", "1d", "2w", or a bare
 * number of minutes. Returns 0, or -1 when malformed, zero-length is allowed. */
int pbxtime_parse_span(const char *text, pbx_minute *out);

/* This host's clock now in UTC, ISO 8601 ("2026-11-26T02:30:12Z"): the time stamps of
 * manifest lines and holds (20 characters and a NUL). */
#define PBXTIME_UTC_LEN 20
void pbxtime_utc_stamp(char out[PBXTIME_UTC_LEN + 1]);

/* Parses such a stamp back into seconds since the epoch. Returns 0, or -1 when malformed. */
int pbxtime_utc_parse(const char *text, int64_t *out);

#endif
