/* pending.h — what the PBX listed that the archive does not hold: .state/pending.json.
 *
 * The manifest says what was archived; nothing in it says what the PBX listed and the run did
 * not get. This file does, for the coverage report (coverage.h) and the metrics: one entry per
 * PBX path a run planned to fetch and did not land (failed, missing from the answer, still
 * growing, not started before a stop), with its day and call start. An entry goes when the
 * manifest holds the path (archived, or recorded unavailable) or the PBX lists it as already
 * held. One the run listed before and no longer finds in a window it listed whole becomes
 * "vanished": the PBX dropped it without it ever being archived; it stays so until the path is
 * archived after all. Rebuildable in the sense that matters: lost, it is filled again by the
 * next runs (except vanished ones, which nothing else remembers). Only the run lock's holder
 * writes it; readers take it as it is. Never prints except where said. */
#ifndef NEXO_PENDING_H
#define NEXO_PENDING_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct pending;

#define PENDING_FILE "pending.json" /* in .state/ */
#define PENDING_FORMAT "nexo-archive-pending/1"
#define PENDING_MAX (16u << 20)     /* a larger file is not ours: ignored, started again */

/* Why a listed recording is not archived (its "state" in the file). */
enum pending_state {
	PENDING_FAILED,      /* the download or its checks failed; fetched again next run */
	PENDING_MISSING,     /* missing from the PBX's answer; asked for again */
	PENDING_GROWING,     /* still being recorded or changing: "in progress" */
	PENDING_NOT_STARTED, /* planned, a stop came first */
	PENDING_VANISHED,    /* listed once, then no longer listed, never archived */
	PENDING_NSTATES
};

/* The word of `st` in the file and the report ("failed", "missing", "growing",
 * "not_started", "vanished"). */
const char *pending_state_name(enum pending_state st);

/* One entry, as pending_each() shows it. */
struct pending_entry {
	const char *pbx_path;
	const char *day;        /* "YYYY-MM-DD": the manifest day it would go to */
	const char *calldate;   /* as listed, "YYYY-MM-DD HH:MM:SS" */
	enum pending_state state;
	const char *first_listed; /* UTC ISO 8601: the first run that listed it */
	const char *last_listed;  /* the last run that did */
};

/* An empty set. NULL when out of memory. */
struct pending *pending_new(void);

/* Reads .state/pending.json. A missing file is an empty set; one that cannot be read or
 * parsed is an empty set too, with *damaged set to 1 (the caller warns or says so). Returns
 * NULL only when out of memory. */
struct pending *pending_load(struct store *s, int *damaged);

/* Parses the file's content (`len` bytes) into a new set; NULL when it is not such a file or
 * out of memory. The pure half of pending_load, for tests. */
struct pending *pending_parse(const char *buf, size_t len);

void pending_free(struct pending *p); /* NULL is a no-op */

/* This run listed `pbx_path` (of manifest day `day`, call start `calldate`) and did not land
 * it, for reason `st` (not PENDING_VANISHED). `now` is the UTC stamp of the run. Returns 0, or
 * -1 out of memory. */
int pending_note(struct pending *p, const char *pbx_path, const char *day, const char *calldate,
		 enum pending_state st, const char *now);

/* `pbx_path` is held by the archive now (or the PBX lists it as archived): its entry goes. */
void pending_remove(struct pending *p, const char *pbx_path);

/* This run listed `pbx_path` and could not tell what to do with it (its manifest day could not
 * be read): its entry, if any, stays as it is and is not settled as vanished. */
void pending_seen(struct pending *p, const char *pbx_path);

/* This run listed the minutes [from, to] (naive PBX minutes, pbxtime.h) whole. Returns 0, or
 * -1 out of memory. */
int pending_covered(struct pending *p, int64_t from, int64_t to);

/* Whether [from, to] (naive PBX minutes) lies within what this run or earlier ones (the
 * file's "listed": merged spans) listed whole. Returns 1 or 0. */
int pending_listed(const struct pending *p, int64_t from, int64_t to);

/* This run's spans listed whole end at `until` at the latest (a minute; -1: none of them
 * counts): the minutes after the PBX's own newest time, less the lookback, may still get
 * recordings (calls that had not ended, a PBX clock or zone off from ours). Call after
 * pending_settle() (which judges with the whole windows) and before pending_save(). */
void pending_clip_run(struct pending *p, int64_t until);

/* The end of a run: every entry this run did not note, remove or see whose call start lies in
 * a span listed whole is either held by the archive now (`held(ctx, day, path)` returns 1: it
 * goes) or vanished (0); -1 (the day cannot be read) leaves it as it is. Returns how many
 * became vanished. */
size_t pending_settle(struct pending *p, int (*held)(void *ctx, const char *day,
						     const char *pbx_path), void *ctx);

/* Calls `fn` for every entry, in path order. Returns 0 or the first nonzero `fn` result. */
int pending_each(const struct pending *p,
		 int (*fn)(void *ctx, const struct pending_entry *e), void *ctx);

/* How many entries there are. */
size_t pending_count(const struct pending *p);

/* The file's content (JSON, one object, a final newline), malloc'd; NULL out of memory. */
char *pending_format(const struct pending *p, size_t *len);

/* Writes .state/pending.json atomically when anything changed since it was loaded. Returns 0,
 * or -1 (printed). */
int pending_save(struct pending *p, struct store *s);

#endif
