/* compare.h — the PBX's copies of recordings compared with what the archive holds, before
 * retention deletes them: downloaded (20036, batched like a fetch) and hashed, nothing stored.
 * A PBX may name tar entries by base name alone, so recordings of one base name are compared
 * in separate rounds. */
#ifndef NEXO_COMPARE_H
#define NEXO_COMPARE_H

#include <stddef.h>

struct run;
struct recording;

/* Downloads `n` recordings only to hash them, storing nothing: same[i] = 1 when recording
 * i's bytes hash to want[i] (hex SHA-256), 0 when they differ, -1 when the answer did not
 * bring it whole (missing, broken, two entries of its name). Returns 0, or -1 when the run
 * must stop (r->fatal set). */
int compare_copies(struct run *r, struct recording *const *recs, const char *const *want,
		   size_t n, int *same);

#endif
