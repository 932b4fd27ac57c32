/* prune.h — taking recordings out of the archive: by age ([retention] archive_keep_days) and
 * on request (forget: erasure of one recording).
 *
 * Both follow one order, so that a crash at any point leaves a state verify reports and the
 * next prune or forget completes: first the file is removed (store_remove fsyncs its folder),
 * then a "pruned" or "forgotten" line is appended to its day's manifest and committed (fsync),
 * then the changed days are re-signed when a secret key is given. A day whose present signature
 * does not verify (when the public key is given too) is never touched: re-signing it would
 * bless whatever was done to it. A file already missing is
 * not an error: its mark is simply recorded. Recordings a legal hold covers are never removed.
 * The "archived" line and its call data stay: the hash chain forbids rewriting a line, so a
 * mark is a tombstone that says when, why and which file went.
 *
 * The caller holds the run lock (state_lock) for the whole call, so no run appends to the
 * manifest meanwhile. Days are loaded one at a time (a manifest handle per day), so memory
 * stays that of one day. Nothing here prints findings; per-recording events go to the caller's
 * callback, errors are printed where they happen. */
#ifndef NEXO_PRUNE_H
#define NEXO_PRUNE_H

#include <stddef.h>
#include <stdint.h>
#include "base/pbxtime.h"

struct store;
struct holds;
struct hold;
struct manifest_entry;
struct minisign_secret;
struct minisign_public;

enum prune_event {
	PRUNE_WOULD,   /* dry run: would be removed */
	PRUNE_REMOVED, /* removed and marked */
	PRUNE_GONE,    /* was already missing: only the mark was recorded */
	PRUNE_HELD,    /* kept: `hold` covers it */
};

/* One recording's fate; `e` and `hold` are valid only during the call. */
typedef void (*prune_note_fn)(void *ctx, enum prune_event ev, const struct manifest_entry *e,
			      const struct hold *hold);

struct prune_options {
	long keep_days;                      /* >= 0: days of calls to keep before today */
	pbx_minute now;                      /* the PBX's clock (pbxtime_now) */
	int dry_run;                         /* decide and report; change nothing */
	const struct minisign_secret *key;   /* re-sign changed days; NULL: no signing */
	const struct minisign_public *pk;    /* with `key`: a day whose current signature does
					      * not verify is left alone (never re-signed) */
	int offload;                         /* [retention] local_keep_days: only files whose
					      * offsite copy is confirmed, marked "offloaded"
					      * (the offsite copy stays the archive's) */
	prune_note_fn note;                  /* NULL: no per-recording report */
	void (*changed)(void *ctx, const char *day); /* a day whose marks were committed (the
					      * offsite queue takes it); NULL: none */
	void *note_ctx;
};

struct prune_report {
	char cutoff[11];           /* days before this ("YYYY-MM-DD") were due */
	unsigned long pruned;      /* removed (or, dry run, would be), including already gone */
	unsigned long gone;        /* ... of which were already missing */
	unsigned long held;        /* kept by a hold */
	unsigned long not_offsite; /* offload: kept, no confirmed offsite copy yet */
	unsigned long bad_days;    /* days whose manifest could not be used (printed; untouched) */
	uint64_t bytes;            /* freed (dry run: the manifest's sizes) */
	int storage_error;         /* a removal, a manifest commit or a signature failed */
};

/* The first day that is kept: today on `now`'s clock minus `keep_days` days, "YYYY-MM-DD". */
void prune_cutoff(pbx_minute now, long keep_days, char out[11]);

/* Removes every archived file whose manifest day is before the cutoff and that no hold in `h`
 * covers, as described above. Returns 0 when every due recording was handled; 1 when some
 * day could not be used (rep->bad_days: unreadable, broken chain, or a signature that does
 * not verify); -1 on a storage error (rep->storage_error; printed;
 * it stops at the first one, after committing the marks of what was already removed). */
int prune_archive(struct store *s, const struct holds *h, const struct prune_options *o,
		  struct prune_report *rep);

enum forget_result {
	FORGET_DONE = 0,     /* removed (or already missing) and marked "forgotten" */
	FORGET_ALREADY = 1,  /* it was marked forgotten before: nothing changed */
	FORGET_HELD = 2,     /* a hold covers it (out->hold): nothing changed */
	FORGET_UNKNOWN = 3,  /* no manifest entry has that file or pbx_path */
	FORGET_ERROR = -1,   /* a manifest day is unusable, or storage failed (printed) */
};

struct forget_info {
	char day[11];              /* the entry's manifest day */
	char file[288];            /* its archived file */
	char pbx_path[256];
	int pbx_deleted;           /* the PBX's copy is known to be gone */
	int was_pruned;            /* the file had already been pruned */
	int file_was_missing;      /* nothing was there to remove */
	char hold_id[16];          /* FORGET_HELD: the hold's id and reason */
	char hold_reason[1024];
};

/* Erases the recording whose manifest `file` or `pbx_path` is `path` (its day is taken from a
 * "YYYY/MM/DD/" or "YYYYMMDD" in the path; failing that every day is searched): refuses when
 * a hold covers it, else removes its file and appends a "forgotten" line with `reason`, then
 * re-signs the day when `key` is given (refusing, with `pk` too, a day whose signature does
 * not verify: FORGET_ERROR). A PBX path archived in several versions has each of them erased.
 * Returns an enum forget_result; `out` says what was found (the last version erased). */
int prune_forget(struct store *s, const struct holds *h, const char *path, const char *reason,
		 const struct minisign_secret *key, const struct minisign_public *pk,
		 struct forget_info *out);

#endif
