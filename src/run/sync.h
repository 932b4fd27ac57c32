/* sync.h — one listing window, archived: list it (window.h), join the CDRs, skip what the
 * manifest holds, fetch the rest oldest first. The step that `run`, `backfill` and `watch`
 * repeat. A row the listing shows after the window's end (window.h) is handled by the window
 * that listed it, and not again by the window right after it. */
#ifndef NEXO_SYNC_H
#define NEXO_SYNC_H

#include "base/pbxtime.h"

struct run;

/* Lists and archives the window [start, end] (minutes, inclusive). Returns 1 when everything
 * listed landed, 0 when something is left for a later run, 2 when the window holds more rows
 * than one listing may (nothing done: ask for a narrower one, window_walk_narrow), -1 when the
 * run must stop (r->fatal). */
int sync_window(struct run *r, pbx_minute start, pbx_minute end);

/* Frees what sync_window keeps between windows (r->ahead). */
void sync_ahead_free(struct run *r);

#endif
