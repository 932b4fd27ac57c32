/* fetch.h — recordings → durable, verified files and manifest lines, over the run's own PBX
 * session: each batch one 20036 download streamed through unpack into the sealing pipeline,
 * then recorded. (lanes.h spreads batches over several sessions; it calls this.) */
#ifndef NEXO_FETCH_H
#define NEXO_FETCH_H

#include <stddef.h>

struct run;
struct recording;

/* Downloads and archives `n` recordings (none already in the manifest), in batches cut by
 * batch.h. Tallies into r->t. Returns the number of recordings that did not land (missing,
 * failed, left), or -1 when the run must stop (r->fatal set). When a stop is asked for
 * (stop.h) it ends a download between two files (a signal: inside one, abandoning it) and
 * asks for nothing more; what it did not reach is tallied as left (r->t.left), not failed. */
long fetch_recordings(struct run *r, struct recording *const *recs, size_t n);

/* One batch of fetch_recordings(): one 20036 request (split, retried as needed). Returns the
 * recordings not landed, or -1 when the run must stop. */
long fetch_one_batch(struct run *r, struct recording *const *recs, size_t n);

#endif
