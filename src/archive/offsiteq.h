/* offsiteq.h — the offsite queue, .state/offsite: the manifest days (and "heads") whose files
 * or manifest are not yet all confirmed in the bucket. A set of names, kept sorted; written
 * whole and atomically. Absent means "never uploaded": every day is due. Rebuildable: the
 * manifest's "offsite" lines are the truth, and uploads HEAD first, so a day listed again costs
 * requests, never a second copy. */
#ifndef NEXO_OFFSITEQ_H
#define NEXO_OFFSITEQ_H

#include <stddef.h>

struct store;

#define OFFSITEQ_HEADS "heads" /* the heads and their history are due */

struct offsiteq {
	char (*names)[16];     /* "YYYY-MM-DD" or OFFSITEQ_HEADS, sorted, unique */
	size_t n, cap;
};

/* Reads .state/offsite into `q` (empty first). Returns 1 read, 0 absent (q empty), -1 error
 * (printed: unreadable or not a regular file). */
int offsiteq_load(struct store *s, struct offsiteq *q);

/* Writes `q` as .state/offsite (temp + fsync + rename). Returns 0, or -1 (printed). */
int offsiteq_save(struct store *s, const struct offsiteq *q);

/* Adds `name` (no-op when present). Returns 0, or -1 (out of memory; printed). */
int offsiteq_add(struct offsiteq *q, const char *name);

/* Removes `name` (no-op when absent). */
void offsiteq_remove(struct offsiteq *q, const char *name);

void offsiteq_free(struct offsiteq *q); /* empties it */

#endif
