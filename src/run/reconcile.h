/* reconcile.h — the PBX's whole history (or a span of it) against the manifest.
 *
 * The nightly walk lists from the checkpoint back by [sync] lookback; a recording that appears
 * later than that (a remounted disk, a call longer than the lookback, a PBX whose clock was
 * reset, anything a bug skipped) is never listed again. Reconcile lists all of it, month by
 * month, and archives what the manifest lacks or no longer matches, exactly as a window of the
 * walk would (sync.h). It stays cheap on a PBX that keeps years: where the PBX counts a
 * month's recordings (totalcount) and the count equals what the manifest says the PBX still
 * holds of that month, the month is not listed whole. `nexo-archive reconcile` runs it over
 * a span; a nightly run every [sync] reconcile_days days over the history before its walk. */
#ifndef NEXO_RECONCILE_H
#define NEXO_RECONCILE_H

#include "base/pbxtime.h"

struct run;

/* Reconciles [from, to]. Returns the recordings found (archived, or tried and left for the
 * next run, that the manifest lacked or that changed), or -1 when the run must stop
 * (r->fatal). */
long reconcile(struct run *r, pbx_minute from, pbx_minute to);

#endif
