/* window.h — the arithmetic of listing windows, and listing a window whole.
 *
 * A window [start, end] means the calls that started in those minutes, 00 to 59 seconds of
 * each. The PBX filters by minute bounds ("YYYY-MM-DD HH:MM") and the guide does not say how a
 * bound is compared with a call's seconds: `enddate` may be read through HH:MM:59, as HH:MM:00
 * inclusive, or as HH:MM:00 exclusive, and `startdate` as inclusive or not (docs/pbx-api.md).
 * So a window is asked for with a minute of padding at each end and the answer's rows are then
 * kept from the window's start on: consecutive windows leave no gap under any reading. A row
 * shown after the window's end is kept too: the guide's 20053 filters on the call's start
 * ("regardless of the call answer") while its rows show the recording's own time, which is the
 * answer, later by the ringing or a queue's wait; the next window, asked for from its own start,
 * does not list a call that started before it (sync.c handles such a row once). Filters that
 * delete (9004) are never widened: they use the narrowest reading (cdrsync.c).
 *
 * Answers may be capped. When the PBX sends fewer rows than its totalcount, the window is
 * split in halves until every row is seen. When it sends no totalcount (or one equal to what it
 * sent), an answer as large as the largest one seen yet (and of WINDOW_CAP_MIN_ROWS rows at
 * least) may be a cap: the window is split to check. A single minute that stays capped is
 * asked for without padding; there a count equal to the rows sent is believed only from a PBX
 * that was seen counting beyond the rows it sent. A minute only suspected (a busy minute in a
 * run, or a watch's last hours, that saw no larger answer) is checked against wider windows
 * before it: one answer of more rows proves the PBX sends more at once. If the minute cannot be
 * trusted whole, it is reported by name (an error) and the window stays incomplete.
 *
 * The walk: windows of [sync] window from a start; a window without recordings makes the next
 * one twice as wide (so years without calls cost a few listings), the first with recordings
 * snaps back. Every stage that lists (the run's walk, backfill, reconcile, retention and its
 * re-lists, watch) uses this module. */
#ifndef NEXO_WINDOW_H
#define NEXO_WINDOW_H

#include "base/pbxtime.h"

struct run;
struct listing;

/* Minutes a request reaches past each end of its window. */
#define WINDOW_PAD 1

/* Minutes a call may have started before its recording (a queue's wait, ringing), for a PBX
 * that filters its listing on the call's start: a re-list that must still show a recording
 * shown at minute m asks from m - WINDOW_EARLIER, and so does a retention window for the rows
 * it shows (the CDR join's hour, cdrsync.c). */
#define WINDOW_EARLIER 60

/* An answer without a count (or with one equal to the rows it sent) is suspected of being
 * capped from this many rows on, when it is the largest of the run: no PBX caps below. */
#define WINDOW_CAP_MIN_ROWS 5

/* Single minutes a run lets stay unlisted (capped, or more than it holds; each reported)
 * before it stops listing: no PBX has that many calls in a minute, and each costs requests. */
#define WINDOW_UNLISTABLE_MAX 3

/* The minute bounds to ask the PBX for to see every call of [start, end] under each reading. */
void window_request(pbx_minute start, pbx_minute end, pbx_minute *from, pbx_minute *to);

/* Whether a row's `calldate` ("YYYY-MM-DD HH:MM[:SS]") lies in [start, end]; a calldate that
 * does not parse counts as inside (nothing is dropped for it). Returns 1 or 0. */
int window_holds(pbx_minute start, pbx_minute end, const char *calldate);

/* Lists [start, end] into `out` (appended; the rows shown from `start` on: those of the window,
 * and those its answers held that are shown after it). Returns 0 when every row
 * was seen; 1 when a minute's answer stayed capped (the rows that came are in `out`, but the
 * listing is incomplete: no deletion may be decided from it; also when a single minute answered
 * more than a run holds); 2 when the window holds more rows than one listing may
 * (LISTING_MAX_ROWS): nothing of it is in `out`, ask for a narrower window
 * (window_walk_narrow); -1 on failure (printed; r->archive_error set, r->fatal set when the
 * run must end). */
int window_list(struct run *r, pbx_minute start, pbx_minute end, struct listing *out);

/* One padded request for [start, end], not split, for its count: *count the PBX's totalcount
 * (-1 when it sends none), *rows the rows it sent shown from `start` on (LISTING_MAX_ROWS when the
 * answer was too large to hold, count then -1). Returns 0, or -1 on failure (printed;
 * r->fatal set when the run must end). */
int window_count(struct run *r, pbx_minute start, pbx_minute end, long long *count,
		 long *rows);

/* A walk over [start, end], window by window. */
struct window_walk {
	pbx_minute next, end; /* the next window's start; the last minute to walk */
	pbx_minute window;    /* [sync] window, the narrowest span */
	pbx_minute span;      /* the next window's span */
};

/* Starts a walk of [start, end] in windows of `window` minutes. */
void window_walk_start(struct window_walk *w, pbx_minute start, pbx_minute end,
		       pbx_minute window);

/* The next window into [*a, *b]. Returns 1, or 0 when the walk is done. */
int window_walk_next(struct window_walk *w, pbx_minute *a, pbx_minute *b);

/* What the window just given held: none doubles the next span (unbounded: a year of nothing
 * costs a dozen listings); some snaps it back to `window`. */
void window_walk_saw(struct window_walk *w, int had_recordings);

/* The window [a, ...] just given held too many rows (window_list returned 2): the walk goes
 * back to `a` with half the span, and stays that narrow. Returns 1, or 0 when the span is one
 * minute already (then the walk goes on after it; the minute stays unlisted). */
int window_walk_narrow(struct window_walk *w, pbx_minute a);

#endif
