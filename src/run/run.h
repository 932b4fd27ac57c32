/* run.h — what the stages of one run share: the open archive, the PBX session, the tallies.
 * A type, no code: runctx.h opens and closes it, and each stage of src/run/ takes it as its
 * first argument. Nothing outside src/run/ sees it (commands see job.h and watch.h). */
#ifndef NEXO_RUN_H
#define NEXO_RUN_H

#include <pthread.h>
#include <stdint.h>
#include "archive/head.h"
#include "base/config.h"
#include "crypto/age.h"
#include "pbx/listing.h"
#include "pbx/pbx.h"

struct store;
struct manifest;
struct pbx;
struct sha256;
struct sealer;
struct sealq;
struct age_recipients;
struct attempts;
struct pending;
struct cdrsync;
struct minisign_public;
struct minisign_secret;
struct lane_set;
struct leftovers;
struct offsite;

struct tally {
	unsigned long listed, archived, already, missing, failed, refused, deleted;
	unsigned long unconfirmed, blocked, skipped_names;
	unsigned long capped_minutes; /* minutes the PBX would not list whole (window.c) */
	unsigned long oversized;     /* recordings that arrived larger than their listing allows
				      * (fetch.c): not stored */
	unsigned long deferred;  /* due for deletion but over [retention] max_delete */
	int skew_blocked;        /* deletions skipped: the PBX clock is too far off */
	unsigned long invalid;   /* archived as they were, flagged, after invalid_retries runs */
	unsigned long unavailable; /* listed but never delivered; recorded, not asked for */
	unsigned long short_audio; /* audio much shorter than the listed duration */
	unsigned long growing;     /* still being recorded or changing: fetched again later */
	unsigned long kept;        /* due for deletion, kept on the PBX: their listing or bytes
				    * differ from the archived copy, or their call may go on */
	unsigned long cdr_missing; /* archived without a CDR (yet) */
	unsigned long cdr_late;    /* archived earlier, joined to their CDR this run */
	unsigned long cdr_witnessed; /* named by a CDR, left out of the listing: fetched by name */
	unsigned long cdr_errors;  /* CDR requests that failed */
	unsigned long cdr_sealed;  /* days whose CDR archive was sealed */
	unsigned long cdr_deleted; /* CDRs deleted from the PBX */
	unsigned long cdr_stuck;   /* days whose CDR archive could not be refreshed whole */
	unsigned long left;        /* planned, not fetched: a stop came first (stop.h) */
	uint64_t left_bytes;       /* their expected bytes (recording_expected_bytes) */
	unsigned long offsite_uploaded; /* files put in the bucket and confirmed (offsite.c) */
	unsigned long offsite_already;  /* found there already (a HEAD matched): recorded */
	unsigned long offsite_failed;   /* files or manifests not confirmed this run */
	unsigned long offsite_waiting;  /* due for PBX deletion, kept: no confirmed offsite copy */
	int offsite_down;          /* the bucket could not be reached (or refused our clock) */
	uint64_t bytes;
	/* A dry run's plan: recordings it would fetch, their bytes by the listing's sizes (those
	 * listed without one are counted apart), and deletions it would make. */
	unsigned long would_fetch, would_unsized, would_delete;
	uint64_t would_bytes;
};

/* The span a run walks, for the report: how far it got, what it saw there. */
struct span {
	pbx_minute from, to;       /* the span asked for; to < from: none (watch) */
	pbx_minute reached;        /* the first minute not listed yet */
	pbx_minute oldest_seen;    /* sync.c: the earliest call start listed; -1 none */
	uint64_t planned_bytes;    /* sync.c: expected bytes of what the windows planned */
	int estimate;              /* a backfill: its rest is worth an estimate (progress.h) */
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
	struct pending *pending;     /* listed, not archived (pending.h); NULL in a dry run */
	struct leftovers *leftovers; /* the days this locked stretch writes into (leftover.h) */
	struct cdrsync *cdr;         /* [cdr]: joins and the CDR archive */
	struct offsite *offsite;     /* [offsite]: the bucket and its queue (offsite.h), or NULL */
	struct age_recipients recipient_list; /* what `recipients` points at, when set */
	struct minisign_secret *sign_key;     /* [signing], or NULL */
	struct minisign_public *sign_pub[1 + CONFIG_MAX_PREVIOUS_KEYS]; /* its public half, then
					 * [signing] previous_public_key_file: the append guard's
					 * check */
	size_t nsign_pub;
	struct head head;            /* the newest head while locked (head.h); seq 0: none */
	int head_refused;            /* it could not be trusted: no new head this run */
	size_t largest_answer;       /* window.c: the most rows one listing brought this run */
	int end_reads_through;       /* window.c: an answer showed the PBX reads an end minute
				      * through HH:MM:59 */
	int unlistable_minutes;      /* window.c: single minutes not listed whole (capped, or
				      * more than a run holds) */
	int counts_beyond_rows;      /* window.c: an answer counted more rows than it sent: this
				      * PBX's totalcount is a true count */
	size_t cap_unproved;         /* window.c: an answer this large was not proved uncapped by
				      * wider windows (probe_cap); not asked again for as few */
	pbx_minute newest_seen;      /* sync.c: the latest call start the PBX listed; -1 none */
	char **ahead;                /* sync.c: the paths the last window handled that are shown
				      * after its end (window.h); the window right after it does
				      * not handle them again */
	size_t nahead;
	pbx_minute ahead_end;        /* sync.c: that window's end */
	pbx_minute listed_until;     /* job.c, watch.c: a window listed whole is kept as listed
				      * (the pending list's spans, the report's "listed") only up
				      * to here, by our clocks: the PBX's now less [sync] lookback
				      * when the run started (runctx.c also bounds it by the PBX's
				      * own newest time). -1: none */
	int lockfd;                  /* the archive lock while held, else -1 */
	struct pbx_learned learned;  /* .state/pbx as run_lock() read it */
	struct tally t;
	unsigned long planned_total; /* for the progress line */
	struct span span;            /* job.c, reconcile.c, sync.c: the walk's progress */
	double started;              /* CLOCK_MONOTONIC seconds at the start, for rates */
	const char *no_delete; /* job.c: why this run deletes nothing (the report), or NULL */
	char plain_http_note[SHA256_HEX_LEN + 1]; /* runctx.c: the config's hash, to note in
				  * .state/plain-http when unlocking (the warning was said); "" none */
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

#endif
