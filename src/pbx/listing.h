/* listing.h — a 20053 answer (JSON bytes) → recordings. Pure: no I/O.
 *
 * The guide shows the rows as numbered objects and does not name the array that holds them;
 * real PBXs differ. So the parser finds the rows wherever they are: a top-level array of
 * objects, an array of objects carrying "path" under any key, or an object whose values are
 * such objects under keys "0", "1", .... Values may be strings or numbers. `json_obj_filter`
 * gives `totalcount` (string or number) when present. Depth and UTF-8 are validated (json-c's
 * strict mode, and strict RFC 3629 UTF-8 over the whole answer); the caller caps the byte count
 * (pbx.c). */
#ifndef NEXO_LISTING_H
#define NEXO_LISTING_H

#include <stddef.h>
#include "recording.h"

/* Rows one listing holds at most (gathered over the answers of a split window too): a row
 * costs ~620 bytes, so 40,000 rows are ~25 MB, which keeps a run's peak near 50 MiB whatever a
 * PBX answers. A window with more is asked for in narrower parts (window.h). */
#define LISTING_MAX_ROWS 40000

struct listing {
	struct recording *rows;
	size_t n;
	size_t cap;
	long long totalcount; /* from json_obj_filter; -1 when absent */
	size_t skipped;       /* rows refused (no usable path, no usable date) */
};

enum listing_result {
	LISTING_OK = 0,
	LISTING_ERROR_OBJECT = 1, /* an object with no rows and no json_obj_filter: the PBX said
				   * "no" (typically a dead session) rather than "nothing" */
	LISTING_BAD = -1,          /* not JSON, or JSON of no shape we can read */
	LISTING_TOO_MANY = 2,      /* the rows would pass LISTING_MAX_ROWS (none were added) */
};

void listing_init(struct listing *l);
void listing_free(struct listing *l);   /* and re-init; listing_free of an init'ed one is a no-op */

/* Parses `len` bytes. Appends rows to `out` (so split windows can be gathered into one list);
 * updates out->totalcount with this answer's value. Returns an enum listing_result; on
 * LISTING_BAD and LISTING_ERROR_OBJECT `err` says why (for ERROR_OBJECT: the object's text,
 * escaped and cut to fit). Rows that cannot be used are counted in `skipped` and described
 * via log_warn (escaped). A row needs `path`; `calldate` is derived from the file name
 * ("YYYYMMDD-HHMMSS-...") when absent; other fields default to "" / -1. */
int listing_parse(const char *buf, size_t len, struct listing *out, char *err, size_t errlen);

/* Adds one row (used by the parser and by tests). Returns 0, -1 when out of memory, -2 when
 * the listing holds LISTING_MAX_ROWS already. */
int listing_push(struct listing *l, const struct recording *r);

#endif
