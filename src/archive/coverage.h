/* coverage.h — what the archive holds, day by day: the numbers of `nexo-archive report`
 * (the coverage calendar) and of the run report's archive-wide metrics.
 *
 * Reads only the archive, takes no lock (a run may be appending: a torn last line is skipped
 * as the manifest reader does), and stays cheap on a large archive: each day's counts are
 * cached in .state/coverage.json with what they were counted from — the day file's size and
 * mtime, the line count and last-line hash the signed head lists for it, the holds file's
 * hash, the CDR file's size and mtime — and a day is counted again only when one of those
 * changed. The cache is rebuildable: a missing, foreign or damaged one is ignored whole, and
 * an entry is never trusted past a change of any of its keys. Never prints except the
 * manifest's and the CDR reader's own warnings (a torn line, an unreadable day). */
#ifndef NEXO_COVERAGE_H
#define NEXO_COVERAGE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct holds;
struct json_object;
struct manifest_entry;
struct minisign_public;

#define COVERAGE_FILE "coverage.json" /* in .state/ */
#define COVERAGE_FORMAT "nexo-archive-coverage/1"
#define COVERAGE_MAX (64u << 20)

/* What a day's manifest says, per recording (a PBX path; its versions counted once). */
struct coverage_counts {
	unsigned long recordings;  /* paths the manifest knows (archived or unavailable) */
	unsigned long archived;    /* paths with an archived version, whatever happened since */
	unsigned long invalid;     /* ... whose latest archived version failed its checks */
	unsigned long unavailable; /* paths listed but never delivered (no archived version) */
	unsigned long pbx_deleted; /* paths whose latest archived version the PBX deleted */
	unsigned long forgotten;   /* paths with a forgotten (erased) version */
	unsigned long pruned;      /* paths whose latest version was pruned */
	unsigned long offloaded;   /* ... offloaded (only the offsite copy remains) */
	unsigned long held;        /* paths whose latest archived version a hold in force covers */
	unsigned long files;       /* stored files present locally (every version) */
	uint64_t bytes;            /* their bytes */
};

/* Counts `n` entries of one day (every version, as manifest_each_entry gives them; any
 * order) into `out` (zeroed first), with `h` the holds (NULL: none). Pure. Returns 0, or -1
 * out of memory. */
int coverage_count(const struct manifest_entry *const *e, size_t n, const struct holds *h,
		   struct coverage_counts *out);

/* Where a day stands against the newest head. */
enum coverage_chain {
	COVERAGE_CHAIN_OK,       /* its file ends where the head says */
	COVERAGE_CHAIN_AHEAD,    /* it holds the head's line and lines after it (a run since) */
	COVERAGE_CHAIN_UNLISTED, /* the head does not list it (no head yet, or a newer day) */
	COVERAGE_CHAIN_BROKEN,   /* it does not hold the head's line: cut, rewritten, removed */
	COVERAGE_CHAIN_NONE,     /* no manifest file (a day of pending recordings or CDRs only) */
};
const char *coverage_chain_name(enum coverage_chain c);

struct coverage_day {
	char day[11];
	struct coverage_counts c;
	unsigned long only_on_pbx;  /* pending.h: failed, missing, not started */
	unsigned long in_progress;  /* pending.h: growing */
	unsigned long vanished;     /* pending.h: listed once, gone, never archived */
	long cdr_recordings;        /* distinct recordings the day's archived CDRs name; -1 none */
	long cdr_rows;              /* rows of cdr/DAY.jsonl; -1 none */
	int cdr_sealed;             /* a cdr_archived line: the CDR files are final */
	int cdr_mismatch;           /* the CDR names another number of recordings than the
				     * archive and the pending list know of the day */
	enum coverage_chain chain;
	int listed;                 /* the PBX was listed through the day: every minute in the
				     * pending list's spans, or the checkpoint less the lookback
				     * past its end. 0: the day (or part of it) is not listed
				     * yet, or not proven (the PBX showed no call far enough
				     * past it); its counts may be short. Totals: every day so. */
};

/* The newest head, as coverage_build found it. */
struct coverage_head {
	int state;                  /* head_load's result: 0 loaded, 1 none, 2 untrusted, -1 */
	char why[256];
	unsigned long long seq;
	char time[32];
	int is_signed;
};

struct coverage {
	char from[11], to[11];       /* the range the days cover ("" when the archive is empty) */
	struct coverage_day *days;   /* one per calendar day from..to, in order */
	size_t n;
	struct coverage_day total;   /* over the range (chain: the worst) */
	struct coverage_day all;     /* over the whole archive */
	unsigned long days_with_data;
	unsigned long days_open;     /* whole archive: days with recordings only on the PBX or in
				      * progress, not listed through (`listed`), or (with
				      * cdr_archive) a CDR not sealed yet */
	char listed_through[17];     /* the checkpoint less the lookback, "YYYY-MM-DD HH:MM" (PBX
				      * time): days before it are listed through; "" none */
	char oldest_pending[20];     /* call start of the oldest recording only on the PBX or in
				      * progress, "YYYY-MM-DD HH:MM:SS" (PBX time); "" none */
	unsigned long chain_days[COVERAGE_CHAIN_NONE + 1]; /* whole archive, by chain state */
	struct coverage_head head;
	unsigned long recounted;     /* days read this time (the rest came from the cache) */
	int cache_state;             /* 0 used, 1 none, 2 ignored (damaged or foreign) */
};

struct coverage_opts {
	const char *from, *to;       /* "YYYY-MM-DD", NULL: the default range (coverage_range) */
	int cdr_archive;             /* [cdr] archive: an unsealed CDR day is open */
	long lookback;               /* [sync] lookback, minutes: the next run lists again from
				      * the checkpoint less this, so only days before that are
				      * listed through by the checkpoint */
	const struct minisign_public *const *pk; /* the head's keys (head_load) */
	size_t npk;
};

/* The default range of the calendar: with `first` and `last` the days with data, the last
 * three calendar months up to `last` (from the 1st of the month two before), not before
 * `first`. Pure; writes "YYYY-MM-DD" into from/to. */
void coverage_range(const char *first, const char *last, char from[11], char to[11]);

/* Whether `d` is a calendar day "YYYY-MM-DD": 1 or 0. */
int coverage_valid_day(const char *d);

/* Moves calendar day `d` ("YYYY-MM-DD", valid) to the next one. */
void coverage_next_day(char d[11]);

/* Monday 0 .. Sunday 6 of calendar day `d` ("YYYY-MM-DD"); 0 when it does not scan. */
int coverage_weekday(const char *d);

/* Builds `out` from the archive `s` (read only but for the cache, which is written when days
 * were counted again and the store is writable). Returns 0, or -1 with `err` set (the
 * manifest folder or the pending list cannot be read, a bad range, out of memory). */
int coverage_build(struct store *s, const struct coverage_opts *o, struct coverage *out,
		   char *err, size_t errlen);
void coverage_free(struct coverage *c); /* frees what `c` holds; a zeroed one is a no-op */

/* One day's numbers as a JSON object, with the keys the HTML's data attributes use
 * (docs/report.schema.json). NULL out of memory. */
struct json_object *coverage_day_json(const struct coverage_day *d);

/* The cache's rule, pure for tests: whether cached day `entry` (an object of the cache file)
 * may stand for a day file of `size` bytes and mtime `mtime_ns`, whose head entry is
 * (`head_lines`, `head_last`) (0, "" when the head does not list it). (A change of the holds
 * file, the other key, drops the whole cache.) Returns 1 or 0. */
int coverage_cache_fits(struct json_object *entry, long long size, long long mtime_ns,
			unsigned long head_lines, const char *head_last);

#endif
