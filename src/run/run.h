/* run.h — what the stages of one run share: the open archive, the PBX session, the tallies.
 * Internal to job.c, fetch.c and retention.c; main.c sees only job.h. */
#ifndef NEXO_RUN_H
#define NEXO_RUN_H

#include <pthread.h>
#include <stdint.h>
#include "age.h"
#include "config.h"
#include "listing.h"

struct store;
struct manifest;
struct pbx;
struct sha256;
struct sealer;
struct sealq;
struct age_recipients;
struct attempts;
struct cdrsync;
struct minisign_secret;
struct lane_set;

struct tally {
	unsigned long listed, archived, already, missing, failed, refused, deleted;
	unsigned long unconfirmed, blocked, skipped_names;
	unsigned long deferred;  /* due for deletion but over [retention] max_delete */
	int skew_blocked;        /* deletions skipped: the PBX clock is too far off */
	unsigned long invalid;   /* archived as they were, flagged, after invalid_retries runs */
	unsigned long unavailable; /* listed but never delivered; recorded, not asked for */
	unsigned long short_audio; /* audio much shorter than the listed duration */
	unsigned long cdr_missing; /* archived without a CDR (yet) */
	unsigned long cdr_late;    /* archived earlier, joined to their CDR this run */
	unsigned long cdr_errors;  /* CDR requests that failed */
	unsigned long cdr_sealed;  /* days whose CDR archive was sealed */
	unsigned long cdr_deleted; /* CDRs deleted from the PBX */
	unsigned long cdr_stuck;   /* days whose CDR archive could not be refreshed whole */
	uint64_t bytes;
};

struct run {
	const struct config *cfg;
	struct store *store;
	struct manifest *man;
	struct pbx *pbx;
	struct sha256 *hash;         /* retention's read-backs */
	struct sealer *sealer;       /* fetch's per-entry pipeline (run by sealq's worker) */
	struct sealq *sealq;
	struct age_recipients *recipients; /* [encryption], or NULL */
	struct attempts *attempts;   /* failure counts across runs */
	struct cdrsync *cdr;         /* [cdr]: joins and the CDR archive */
	struct age_recipients recipient_list; /* what `recipients` points at, when set */
	struct minisign_secret *sign_key;     /* [signing], or NULL */
	int lockfd;                  /* the archive lock while held, else -1 */
	struct tally t;
	unsigned long planned_total; /* for the progress line */
	int archive_error;  /* storage, transport or session trouble: no deletion this run */
	int storage_error;  /* the archive could not be written: exit code says so */
	int fatal;          /* an exit code that ends the run now (login refused, ...), or 0 */
	int dry_run;
	int watching;       /* `watch`: failures are retried, never counted towards giving up */
	pthread_mutex_t *shared; /* lanes.c: held while the manifest or attempts are touched;
				  * NULL with one lane */
	struct lane_set *lanes;  /* lanes.c: the download lanes, once a window used them */
};

static inline void run_shared_lock(struct run *r)
{
	if (r->shared)
		pthread_mutex_lock(r->shared);
}

static inline void run_shared_unlock(struct run *r)
{
	if (r->shared)
		pthread_mutex_unlock(r->shared);
}

/* runctx.c. Prepares `r` for `cfg`: keys (a bad one is a config error), the archive, the
 * sealing pipeline, a PBX handle (no traffic yet). Returns 0 or an exit code (printed);
 * run_teardown() in either case. */
int run_setup(struct run *r, const struct config *cfg, int dry_run);

/* Takes the archive lock as `role` (waiting up to `wait_s` s for a `watch` holder), removes
 * temps a crash left, opens the manifest (cutting torn tails) and the attempt counts. Returns
 * 0, EXIT_LOCKED (holder's pid in *holder) or EXIT_STORAGE (printed). */
int run_lock(struct run *r, const char *role, int wait_s, long *holder);

/* Signs the manifest days changed while locked, saves the attempt counts, closes the manifest
 * and releases the lock. Returns 0, or -1 (printed; r->storage_error set). */
int run_unlock(struct run *r);

/* Unlocks if needed and frees everything run_setup() made. */
void run_teardown(struct run *r);

/* job.c. Lists and archives one window [start, end]: CDRs joined, what the manifest holds
 * skipped, the rest fetched. Returns 1 when everything listed landed, 0 when something is
 * left for a later run, -1 when the run must stop (r->fatal). */
int run_window(struct run *r, pbx_minute start, pbx_minute end);

/* Whether SIGTERM or SIGINT arrived: the run stops at the next safe point (between files, or by
 * abandoning the file being written), records what landed, and deletes nothing. */
int run_stop_requested(void);

/* Installs the handlers behind run_stop_requested(): a first SIGTERM/SIGINT asks for a stop,
 * a second kills. Without SA_RESTART, so a wait (poll, AMI) returns to check it. */
void run_catch_signals(void);

/* Lists [start, end] (minutes, inclusive) into `out`, splitting a window in two wherever the
 * PBX answered fewer rows than its totalcount. Returns 0 when every row was seen; 1 when a
 * one-minute answer still held fewer rows than its count (the rows that came are in `out`,
 * but the listing is incomplete: no deletion may be decided from it); -1 on failure (printed;
 * r->fatal may be set). */
int run_list_range(struct run *r, pbx_minute start, pbx_minute end, struct listing *out);

/* How many items from `start` form the next batch: at least one, at most [sync] batch_files,
 * and within [sync] batch_url_bytes of 20036/20054 URL. `path_at` gives item i's PBX path. */
size_t run_batch_len(struct run *r, const char *(*path_at)(const void *items, size_t i),
		     const void *items, size_t start, size_t n);

/* Downloads and archives `n` recordings (none already in the manifest), in batches bounded by
 * [sync] batch_files and batch_url_bytes. Tallies into r->t. Returns the number of recordings
 * that did not land (missing, failed), or -1 when the run must stop (r->fatal set). */
long fetch_recordings(struct run *r, struct recording *const *recs, size_t n);

/* One batch of fetch_recordings(): one 20036 request (split, retried as needed). Returns the
 * recordings not landed, or -1 when the run must stop. */
long fetch_one_batch(struct run *r, struct recording *const *recs, size_t n);

/* lanes.c: fetch_recordings() with [sync] parallel > 1: the batches spread over that many
 * lanes, each with its own PBX session, archive handle and sealing threads; the manifest and
 * the attempt counts shared under r->shared. Same return as fetch_recordings(). */
long fetch_in_lanes(struct run *r, struct recording *const *recs, size_t n);

/* Closes the lanes (their sessions, handles and threads). For run_teardown(). */
void lanes_free(struct run *r);

/* Deletes from the PBX what retention allows (see retention.c). Returns 0, or -1 when it stopped
 * early (printed). */
int retention_apply(struct run *r, pbx_minute now);

#endif
