/* lanes.c — [sync] parallel = N: a window's batches spread over N download lanes.
 *
 * A big backfill from a PBX that serves one tar slowly gains from several 20036 requests at
 * once. Each lane is a copy of the run with its own PBX session (logged in on its own), its
 * own archive handle (temps named apart) and its own sealing and read-back threads; it takes
 * the next batch from a shared list until none is left. What lanes share — the manifest and
 * the attempt counts — is touched only under r->shared (fetch.c's settle()), so each batch's
 * lines are appended and fsynced whole, exactly as with one lane: the per-file guarantees do
 * not change. Tallies are per lane and added up at the end. */
#include "lanes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "fetch.h"
#include "run.h"
#include "archive/seal.h"
#include "archive/sealq.h"
#include "archive/store.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "base/stop.h"
#include "crypto/hash.h"
#include "pbx/pbx.h"

struct batches {
	pthread_mutex_t lock;          /* guards `next` and `stop` */
	struct recording *const *recs;
	size_t (*span)[2];             /* start, length */
	size_t n, next;
	int stop;                      /* a lane must stop the run (its r->fatal is set) */
};

struct lane {
	struct run run;
	struct batches *all;
	pthread_t thread;
	long not_landed;
	int ready, started;
};

/* The lane's own handles on the run's archive and PBX; shares the rest. Returns 0 or -1
 * (printed). */
static int lane_open(struct lane *l, struct run *r, unsigned id, pthread_mutex_t *shared)
{
	const struct config *cfg = r->cfg;
	struct pbx_options po = { cfg->pbx.url, cfg->pbx.username, cfg->pbx.password_md5,
				  cfg->pbx.ca_file, cfg->pbx.pinned_pubkey, cfg->pbx.insecure,
				  cfg->pbx.timeout, cfg->pbx.connect_timeout, cfg->pbx.retries };
	struct run *lr = &l->run;
	char err[512];

	*lr = *r;
	memset(&lr->t, 0, sizeof lr->t);
	lr->archive_error = lr->storage_error = lr->fatal = 0;
	lr->shared = shared;
	lr->pbx = NULL;
	lr->sealer = NULL;
	lr->sealq = NULL;
	lr->hash = sha256_new();
	lr->store = store_open(cfg->archive.dir, STORE_WRITE, err, sizeof err);
	if (lr->store) {
		store_set_lane(lr->store, id);
		lr->sealer = sealer_new(lr->store, r->recipients, err, sizeof err);
	}
	if (lr->sealer)
		lr->sealq = sealq_new(err, sizeof err);
	if (lr->sealq)
		lr->pbx = pbx_new(&po, err, sizeof err);
	if (!lr->pbx || !lr->hash) {
		log_error("download lane %u: %s", id, lr->hash ? err : "out of memory");
		return -1;
	}
	pbx_learn_from(lr->pbx, r->pbx);
	if (pbx_login(lr->pbx) != PBX_OK) {
		log_warn("download lane %u could not log in to the PBX; the others go on", id);
		return -1;
	}
	return 0;
}

static void lane_close(struct lane *l)
{
	pbx_free(l->run.pbx);
	sealq_free(l->run.sealq);
	sealer_free(l->run.sealer);
	store_close(l->run.store);
	sha256_free(l->run.hash);
}

static void *lane_main(void *arg)
{
	struct lane *l = arg;
	struct batches *all = l->all;

	for (;;) {
		size_t i;

		/* A batch is taken only while no stop was asked for: those not taken are left for
		 * the next run by lanes_fetch(), not lost from the tallies. */
		pthread_mutex_lock(&all->lock);
		i = all->stop || stop_requested() ? all->n : all->next;
		if (i < all->n)
			all->next++;
		pthread_mutex_unlock(&all->lock);
		if (i >= all->n)
			break;
		long rc = fetch_one_batch(&l->run, all->recs + all->span[i][0], all->span[i][1]);
		if (rc < 0) {
			pthread_mutex_lock(&all->lock);
			all->stop = 1;
			pthread_mutex_unlock(&all->lock);
			break;
		}
		l->not_landed += rc;
	}
	return NULL;
}

/* What fetch does to a tally, added into the run's. */
static void add_tally(struct tally *to, const struct tally *t)
{
	to->archived += t->archived;
	to->missing += t->missing;
	to->failed += t->failed;
	to->refused += t->refused;
	to->invalid += t->invalid;
	to->unavailable += t->unavailable;
	to->short_audio += t->short_audio;
	to->growing += t->growing;
	to->oversized += t->oversized;
	to->already += t->already; /* fetched again, the same bytes */
	to->cdr_missing += t->cdr_missing;
	to->left += t->left;
	to->left_bytes += t->left_bytes;
	to->bytes += t->bytes;
}

/* The run's lanes, opened at its first parallel window and kept to its end: a backfill of a
 * year is 365 windows, not 365 times N logins. */
struct lane_set {
	pthread_mutex_t shared;    /* the run's r->shared while lanes run */
	struct lane *lane;
	int n, ready;
};

static struct lane_set *lanes_open(struct run *r)
{
	static unsigned lane_ids; /* every lane of the process names its temps apart */
	struct lane_set *ls = calloc(1, sizeof *ls);
	int want = r->cfg->sync.parallel;

	if (!ls || !(ls->lane = calloc((size_t)want, sizeof *ls->lane))) {
		free(ls);
		log_error("out of memory");
		return NULL;
	}
	pthread_mutex_init(&ls->shared, NULL);
	ls->n = want;
	for (int i = 0; i < want; i++) {
		ls->lane[i].ready = lane_open(&ls->lane[i], r, ++lane_ids, &ls->shared) == 0;
		ls->ready += ls->lane[i].ready;
	}
	log_debug("%d download lanes ready", ls->ready);
	return ls;
}

void lanes_free(struct run *r)
{
	struct lane_set *ls = r->lanes;

	if (!ls)
		return;
	for (int i = 0; i < ls->n; i++)
		lane_close(&ls->lane[i]);
	pthread_mutex_destroy(&ls->shared);
	free(ls->lane);
	free(ls);
	r->lanes = NULL;
}

long lanes_fetch(struct run *r, struct recording *const *recs, size_t n)
{
	struct batches all = { .recs = recs };
	struct lane_set *ls;
	long not_landed = 0;
	int stop = 0, active = 0;

	if (r->cfg->sync.parallel < 2 || n <= (size_t)r->cfg->sync.batch_files)
		return fetch_recordings(r, recs, n);
	if (!r->lanes && !(r->lanes = lanes_open(r))) {
		r->fatal = EXIT_STORAGE;
		return -1;
	}
	ls = r->lanes;
	all.span = calloc(n, sizeof *all.span);
	if (!all.span) {
		log_error("out of memory");
		r->fatal = EXIT_STORAGE;
		return -1;
	}
	for (size_t start = 0; start < n; all.n++) {
		size_t len = batch_len(r, batch_recording_path, recs, start, n);
		all.span[all.n][0] = start;
		all.span[all.n][1] = len;
		start += len;
	}
	pthread_mutex_init(&all.lock, NULL);
	for (int i = 0; i < ls->n && (size_t)i < all.n; i++)
		active += ls->lane[i].ready;
	log_debug("%zu batches over %d download lanes", all.n, active);
	if (active > 0 && r->cfg->pbx.max_rate > 0)
		log_debug("each lane downloads at up to %lld bytes/s ([pbx] max_rate / %d)",
			  (long long)(r->cfg->pbx.max_rate / active), active);
	for (int i = 0; i < ls->n; i++) {
		struct lane *l = &ls->lane[i];
		struct run *lr = &l->run;

		l->started = 0;
		if (!l->ready || (size_t)i >= all.n)
			continue;
		/* What the run may have reopened since (a watch locks per batch), and fresh
		 * tallies: they are added to the run's after this window. */
		lr->man = r->man;
		lr->attempts = r->attempts;
		lr->planned_total = r->planned_total;
		memset(&lr->t, 0, sizeof lr->t);
		lr->archive_error = lr->storage_error = lr->fatal = 0;
		l->not_landed = 0;
		l->all = &all;
		/* [pbx] max_rate is for all downloads at once: each lane that runs gets its share
		 * (the run's own session, which never downloads beside them, keeps the whole). */
		pbx_set_max_rate(lr->pbx, r->cfg->pbx.max_rate / active);
		if (pthread_create(&l->thread, NULL, lane_main, l) == 0)
			l->started = 1;
	}
	for (int i = 0; i < ls->n; i++) {
		struct lane *l = &ls->lane[i];
		struct run *lr = &l->run;

		if (!l->started)
			continue;
		pthread_join(l->thread, NULL);
		add_tally(&r->t, &lr->t);
		r->archive_error |= lr->archive_error;
		r->storage_error |= lr->storage_error;
		if (!r->fatal)
			r->fatal = lr->fatal;
		not_landed += l->not_landed;
	}
	stop = all.stop;
	pthread_mutex_destroy(&all.lock);
	/* No lane could start (no session, no thread): the run's own session does it all. After
	 * a stop, this tallies the batches no lane took as left. */
	if (!stop && all.next < all.n && !r->fatal) {
		size_t start = all.span[all.next][0];
		long rc = fetch_recordings(r, recs + start, n - start);
		if (rc < 0)
			stop = 1;
		else
			not_landed += rc;
	}
	free(all.span);
	return stop || r->fatal ? -1 : not_landed;
}
