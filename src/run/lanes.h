/* lanes.h — [sync] parallel = N: a window's batches spread over N download lanes, each with its
 * own PBX session, archive handle and sealing threads (see lanes.c). */
#ifndef NEXO_LANES_H
#define NEXO_LANES_H

#include <stddef.h>

struct run;
struct recording;

/* fetch_recordings() over the run's lanes when [sync] parallel > 1 and there is more than one
 * batch (opened at the first such call and kept for the run), else over the run's own session.
 * The manifest and the attempt counts are shared under r->shared. Same return as
 * fetch_recordings(). */
long lanes_fetch(struct run *r, struct recording *const *recs, size_t n);

/* Closes the lanes (their sessions, handles and threads); a run without lanes is a no-op. */
void lanes_free(struct run *r);

#endif
