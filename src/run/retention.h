/* retention.h — freeing the PBX, and only of what is safe to free (see retention.c). */
#ifndef NEXO_RETENTION_H
#define NEXO_RETENTION_H

#include "base/pbxtime.h"

struct run;

/* Deletes from the PBX what [retention] allows at `now` (PBX minutes): archived, older than
 * pbx_keep_days, read back intact right before the delete, at most max_delete, each deletion
 * confirmed by a re-list. Returns 0, or -1 when it stopped early (printed). */
int retention_apply(struct run *r, pbx_minute now);

/* A delete an interrupted run sent (.state/deleting) is settled: each of its recordings that a
 * re-list no longer shows gets its "pbx_deleted" line. Returns 0, or -1 (printed: the note
 * stays for the next run). */
int retention_confirm_inflight(struct run *r);

#endif
