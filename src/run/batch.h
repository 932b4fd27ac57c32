/* batch.h — how many recordings one request may name: the cut of a list into the batches of
 * 20036 downloads and 20054 deletes. Embedded web servers cap the URL, so a batch is bounded by
 * [sync] batch_files and by [sync] batch_url_bytes of the request's URL (paths percent-encoded
 * as the PBX handle would send them). Pure arithmetic over the run's config and PBX handle. */
#ifndef NEXO_BATCH_H
#define NEXO_BATCH_H

#include <stddef.h>

struct run;

/* How many items from `start` form the next batch: at least one (a single path longer than
 * the URL budget still goes alone; a 414 then splits nothing and fails that one), at most
 * n - start. `path_at` gives item i's PBX path. */
size_t batch_len(struct run *r, const char *(*path_at)(const void *items, size_t i),
		 const void *items, size_t start, size_t n);

/* `path_at` for an array of `struct recording *`. */
const char *batch_recording_path(const void *recs, size_t i);

#endif
