/* cdrsync_internal.h — what cdrsync.c (the join and the witness, window by window) and
 * cdrsync_archive.c (the CDR archive after the walk) share: the run's CDR state and the 9006
 * query. Not a public header: nothing outside run/cdrsync*.c includes it. */
#ifndef NEXO_CDRSYNC_INTERNAL_H
#define NEXO_CDRSYNC_INTERNAL_H

#include <stddef.h>

#include "cdrsync.h"
#include "pbx/cdr.h"

/* A day whose CDR archive is not done with: seen by this run, or remembered. */
struct day_item {
	char day[11];
	char sealed;               /* sealed, waiting for delete_from_pbx */
};

struct cdrsync {
	struct cdr_list window;    /* the current window's CDRs */
	size_t largest;            /* the most rows one 9006 answer brought this run */
	struct day_item *days;
	size_t ndays, capdays;
	int off;                   /* 9006 refused this run: stop asking */
};

/* Remembers `day` ("YYYY-MM-DD...": its first 10 characters) as not done with, `sealed` or
 * open; a day already there is left as it is, and past MAX_DAYS days the rest wait for the next
 * run. Returns 0, or -1 out of memory. */
int cdrsync_note_day(struct cdrsync *c, const char *day, int sealed);

/* 9006 for [a, b] into `out` (emptied first). Returns a pbx_result. */
int cdrsync_query(struct run *r, const char *a, const char *b, struct cdr_list *out);

#endif
