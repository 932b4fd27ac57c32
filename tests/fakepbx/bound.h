/*
 * bound.h — the date filter of 20053 and the CDR CGIs: startdate/enddate.
 *
 * A bound is sent as "YYYY-MM-DD HH:MM" (also "YYYY-MM-DD", ":SS", a 'T'
 * for the blank) and compared with a call's "YYYY-MM-DD HH:MM:SS" as
 * --start-bound / --end-bound read it. The answer's json_obj_filter echoes
 * the minute form, whatever the reading.
 */
#ifndef FAKEPBX_BOUND_H
#define FAKEPBX_BOUND_H

#include <stdbool.h>

#include "fakepbx.h"

struct bound_q {
	char start[17], end[17]; /* the echo: "YYYY-MM-DD HH:MM", "" = open */
	char lo[20], hi[20];     /* compared: "YYYY-MM-DD HH:MM:SS", "" = open */
	bool lo_strict;          /* calldate > lo (else >=) */
	bool hi_strict;          /* calldate < hi (else <=) */
};

/*
 * Read the startdate and enddate parameters (NULL = absent) as cfg says;
 * both empty means the PBX's today, 00:00 .. 23:59 (read like any bound).
 * Returns 0, or the name of the bad parameter ("startdate"/"enddate").
 */
const char *bound_parse(const struct fpx_config *cfg, const char *start, const char *end,
			struct bound_q *q);

/* True when calldate ("YYYY-MM-DD HH:MM:SS") lies within q. */
bool bound_in(const struct bound_q *q, const char *calldate);

/* The days of q's bounds as "YYYYMMDD" ("" = open), for skipping folders. */
void bound_days(const struct bound_q *q, char lo[9], char hi[9]);

#endif
