/* window.h — listing the PBX's recordings over a span of minutes, whole: the one place that
 * turns "[start, end]" into 20053 requests, for the run's walk, retention's candidates and
 * re-lists, and watch. A capped answer (fewer rows than its totalcount) is split in two and
 * each half listed again, down to single minutes. */
#ifndef NEXO_WINDOW_H
#define NEXO_WINDOW_H

#include "base/pbxtime.h"

struct run;
struct listing;

/* Lists [start, end] (minutes, inclusive) into `out` (appended). Returns 0 when every row was
 * seen; 1 when a one-minute answer still held fewer rows than its count (the rows that came
 * are in `out`, but the listing is incomplete: no deletion may be decided from it); -1 on
 * failure (printed; r->archive_error set, r->fatal set when the run must end). */
int window_list(struct run *r, pbx_minute start, pbx_minute end, struct listing *out);

#endif
