/* cdrsync.h — the run's CDR side ([cdr] in the config, docs/manifest.md "CDRs").
 *
 * Join: each listing window also lists 9006 for the same minutes (from an hour before: a
 * call starts before its recording does), and every recording of the window is joined to its
 * CDR (cdr_join: by file name, else by time + src + dst). A recording archived without one
 * gets a "cdr" line when its CDR shows up in a later run within the lookback.
 *
 * Archive ([cdr] archive): every day whose CDRs a window listed is fetched whole — 9006 kept
 * as ARCHIVE/cdr/DAY.jsonl, 9005 as ARCHIVE/cdr/DAY.csv, byte for byte — and rewritten
 * atomically by each run until it is sealed, but only with whole answers (9006's rows equal
 * its totalcount and 9005's rows) that lose no row the archive holds. The first run after
 * the day ended by max(1 day, lookback) whose refresh was whole seals it: a "cdr_archived"
 * line with both files' hashes, read back from disk, goes into the day's manifest (signed
 * with the rest). With [cdr] delete_from_pbx the PBX's CDRs of a sealed day are then deleted
 * with 9004 — which deletes by filter, so only whole sealed days whose files still match
 * their hashes, only when a fresh 9006 holds nothing the sealed file lacks and the day's
 * count is known whole, and only in a run whose archive phase was clean; a 9006 afterwards
 * must come back empty for the "cdr_deleted" line. Days not done with are remembered in
 * ARCHIVE/.state/cdr-days (rebuilt from the cdr/ folder when missing). */
#ifndef NEXO_CDRSYNC_H
#define NEXO_CDRSYNC_H

#include "base/pbxtime.h"

struct run;
struct cdr_list;
struct listing;
struct recording;

struct cdrsync;

/* Returns the run's CDR state, or NULL when out of memory (printed). With [cdr] join off,
 * a state that does nothing. */
struct cdrsync *cdrsync_new(void);
void cdrsync_free(struct cdrsync *c); /* NULL is a no-op */

/* The CDRs of the window [start, end] (minutes, inclusive), valid until the next call; NULL
 * when [cdr] join is off or 9006 failed (warned: the window's recordings are archived with
 * "cdr": null and joined in a later run). Notes the days seen for cdrsync_archive(). */
const struct cdr_list *cdrsync_window(struct run *r, pbx_minute start, pbx_minute end);

/* Sets rec->cdr, cdr_join and cdr_looked_up from `cdrs` (NULL: looked up, none found). */
void cdrsync_join(const struct cdr_list *cdrs, struct recording *rec);

/* The witness: the recordings that `cdrs` names, that start within [start, end] (by the time in
 * their name, else their CDR's), that listing `l` does not hold under any folder and that the
 * manifest does not know at all (a known one may have been deleted from the PBX on purpose).
 * They are written to out[] (room for cdrs->count) as a listing row would be, from the CDR:
 * the listing path that the name gives, the call data, no duration or size, joined to the CDR.
 * Returns how many, or -1 when the manifest cannot be read (printed). */
long cdrsync_unlisted(struct run *r, const struct cdr_list *cdrs, pbx_minute start,
		      pbx_minute end, const struct listing *l, struct recording *out);

/* The CDR archive's work after the walk (see above); `now` in PBX minutes, `may_delete`
 * whether this run may delete from the PBX at all. Returns 0, or -1 when something was left
 * for the next run (printed; r->archive_error or r->storage_error set). */
int cdrsync_archive(struct run *r, pbx_minute now, int may_delete);

#endif
