/* fetch.c — recordings → durable, verified files and manifest lines. Each batch is one 20036
 * download streamed through unpack.c into the sink below, which writes, hashes and validates
 * every entry in the same pass, commits the files it can vouch for, and only then records them
 * in the manifest (fsynced). A batch that is too long for the PBX's URL limit is split. */
#include "fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "batch.h"
#include "live.h"
#include "progress.h"
#include "run.h"
#include "archive/attempts.h"
#include "archive/manifest.h"
#include "archive/recpath.h"
#include "archive/seal.h"
#include "archive/sealq.h"
#include "archive/store.h"
#include "archive/unpack.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "base/stop.h"
#include "crypto/hash.h"
#include "pbx/pbx.h"

enum slot_state {
	SLOT_WAITING,   /* not (yet) in the answer */
	SLOT_WRITING,
	SLOT_DONE,      /* sealed */
	SLOT_BROKEN,    /* the download broke off inside it */
	SLOT_FAILED,    /* arrived, failed a check or could not be stored */
	SLOT_GROWING,   /* arrived still being recorded, or changed since the last run: not a
			 * failure; fetched again until it stops changing */
	SLOT_CONFLICT,  /* two entries of its name */
	SLOT_GIVEN_UP,  /* missing too many runs in a row: recorded unavailable */
	SLOT_SAME,      /* fetched again for a changed listing: the bytes are those archived */
	SLOT_OVERSIZED, /* larger than its listing allows (entry_limit): left, not stored */
};

/* What the main side learns of an entry while the worker may still hold its slot: applied to
 * the slot once the worker is done with the batch. */
enum { MARK_CONFLICT = 1, MARK_OVERSIZED = 2 };

/* Growth a recording may show between its listing and its download (a call still recorded):
 * 16 MiB is over 8 minutes of 16 kHz audio. */
#define GROWTH_SLACK (16ull << 20)
/* The most bytes per second a PBX recording holds (48 kHz 16-bit stereo), and the growth
 * allowed past a listed duration: a bound where the listing states no size. */
#define MAX_BYTES_PER_SECOND 192000ull
#define DURATION_SLACK_S 600ull

/* How a batch may still be tried when its download breaks: once more as it is, then in two
 * halves, then not again this run. */
enum try { TRY_FIRST, TRY_AGAIN, TRY_LAST };

struct slot {
	enum slot_state state;
	struct recpath where;
	int64_t declared;           /* size the tar header states; -1 unknown */
	struct sealed sealed;
	unsigned char wire[SHA256_LEN]; /* the audio's hash, set before its end is queued */
	char invalid[160];          /* why it was kept despite failing its checks */
};

struct batch {
	struct run *r;
	struct recording *const *recs;
	const char **paths;
	size_t n;
	struct slot *slots;
	int writing;                /* an entry is open in the sealer (worker side) */
	size_t received;            /* sealed (worker side; read after sealq_drain) */
	size_t arrived;             /* entries the answer brought, good or not (main side) */
	unsigned char *mark;        /* per entry: MARK_* (main side) */
	struct sha256 *wire;        /* hashes the entry in progress (main side) */
	uint64_t entry_bytes;       /* of the entry in progress (main side) */
	uint64_t entry_limit;       /* ... and what it may hold */
	int entry_left;             /* ... it passed that: dropped, its end already queued */
};

static void storage_failure(struct batch *b, const char *why)
{
	log_error("%s", why);
	b->r->storage_error = 1;
}

static int sink_begin(void *ctx, size_t idx, int64_t size)
{
	struct batch *b = ctx;
	struct slot *s = &b->slots[idx];
	char why[512];

	s->declared = size;
	if (sealer_begin(b->r->sealer, &s->where, b->paths[idx], b->recs[idx]->version, why,
			 sizeof why) != SEAL_OK) {
		storage_failure(b, why);
		return -1;
	}
	b->writing = 1;
	s->state = SLOT_WRITING;
	return 0;
}

static int sink_data(void *ctx, size_t idx, const void *buf, size_t len)
{
	struct batch *b = ctx;
	struct slot *s = &b->slots[idx];
	char why[512];

	/* A signal abandons the file; a time budget lets it finish (queue_begin stops after). */
	if (stop_abandon_file() ||
	    sealer_write(b->r->sealer, buf, len, why, sizeof why) != SEAL_OK) {
		int stopped = stop_abandon_file();
		if (!stopped)
			storage_failure(b, why);
		sealer_abandon(b->r->sealer);
		b->writing = 0;
		/* Cut off by the signal: not the file's failure (settle counts it "not started"). */
		s->state = stopped ? SLOT_BROKEN : SLOT_FAILED;
		return -1;
	}
	return 0;
}

static int sink_end(void *ctx, size_t idx, int complete)
{
	struct batch *b = ctx;
	struct slot *s = &b->slots[idx];
	char why[512], esc[512];
	int rc;

	if (!b->writing)
		return 0;
	b->writing = 0;
	if (!complete) {
		sealer_abandon(b->r->sealer);
		s->state = SLOT_BROKEN;
		log_warn("%s: the download broke off inside it",
			 log_escape(b->paths[idx], esc, sizeof esc));
		return 0;
	}
	rc = sealer_finish(b->r->sealer, b->recs[idx]->size, s->wire, &s->sealed, why, sizeof why);
	if (rc == SEAL_REJECTED) {
		const struct recording *rec = b->recs[idx];
		int retries = b->r->cfg->sync.invalid_retries, runs = 0;
		char seen[96];

		/* A watch tries again within seconds: only runs count towards giving up. */
		snprintf(seen, sizeof seen, "%llu bytes; listed %lld bytes, %ld s",
			 (unsigned long long)s->sealed.audio_bytes, rec->size, rec->duration);
		if (!b->r->watching) {
			run_shared_lock(b->r);
			runs = attempts_note(b->r->attempts, b->paths[idx], "invalid", why, seen);
			run_shared_unlock(b->r);
		}
		/* Still being recorded (a header MixMonitor has not finished), or different from
		 * what the last run saw: the call goes on. Not a failure; fetched again until it
		 * stops changing. One that stays the same for invalid_retries runs is not growing:
		 * it is kept as it is, flagged, like any other that keeps failing. */
		if (runs == 0 || (s->sealed.unfinished && runs < retries)) {
			sealer_abandon(b->r->sealer);
			s->state = SLOT_GROWING;
			log_info("%s: %s; not archived yet, it will be fetched again",
				 log_escape(b->paths[idx], esc, sizeof esc),
				 runs ? why : "changed since the last run");
			return 0;
		}
		if (runs < retries) {
			sealer_abandon(b->r->sealer);
			s->state = SLOT_FAILED;
			log_warn("%s: %s; discarded, it will be fetched again",
				 log_escape(b->paths[idx], esc, sizeof esc), why);
			return 0;
		}
		/* The same failure for invalid_retries runs: not a file still being written.
		 * Better kept, flagged, than lost; retention will never delete its PBX copy. */
		log_warn("%s: %s, for the %d. run in a row; archived as it is, flagged invalid",
			 log_escape(b->paths[idx], esc, sizeof esc), why, runs);
		snprintf(s->invalid, sizeof s->invalid, "%.159s", why);
		rc = sealer_keep(b->r->sealer, &s->sealed, why, sizeof why);
	}
	if (rc != SEAL_OK) {
		s->state = SLOT_FAILED;
		storage_failure(b, why);
		return -1;
	}
	s->state = SLOT_DONE;
	b->received++;
	b->r->t.bytes += s->sealed.audio_bytes;
	live_landed(s->sealed.audio_bytes);
	return 0;
}

static void sink_refused(void *ctx, const char *name, const char *why)
{
	struct batch *b = ctx;
	char esc[512];

	b->r->t.refused++;
	log_warn("refused a tar entry '%s': %s", log_escape(name, esc, sizeof esc), why);
}

static void sink_conflict(void *ctx, size_t idx)
{
	struct batch *b = ctx;
	char esc[512];

	log_warn("%s: the answer holds two entries of this name; keeping neither",
		 log_escape(b->paths[idx], esc, sizeof esc));
	b->mark[idx] |= MARK_CONFLICT; /* applied once the worker is done with the batch */
}

/* The sealing, run by the sealq worker in the order the entries arrive. */
static const struct unpack_sink seal_work = {
	sink_begin, sink_data, sink_end, NULL, NULL,
};

/* What unpack calls on the main thread: hash the audio as it arrives (the bytes are in cache
 * now, and this thread has time while the worker encrypts and writes), hand it to the worker. */
/* The most bytes recording `rec` may arrive as: its listed size and some growth; else its
 * listed duration at the richest WAV a PBX makes, and some growth; never more than [sync]
 * max_recording_bytes. What a hostile answer could otherwise make the archive keep (a gzip'd
 * entry inflating to any size, a tar header of any size). */
static uint64_t entry_limit(const struct run *r, const struct recording *rec)
{
	uint64_t cap = r->cfg->sync.max_recording_bytes, lim = cap;

	if (rec->size >= 0)
		lim = (uint64_t)rec->size + GROWTH_SLACK;
	else if (rec->duration >= 0)
		lim = ((uint64_t)rec->duration + DURATION_SLACK_S) * MAX_BYTES_PER_SECOND;
	return lim < cap ? lim : cap;
}

static void left_oversized(struct batch *b, size_t idx, const char *how)
{
	const struct recording *rec = b->recs[idx];
	char esc[512];

	b->mark[idx] |= MARK_OVERSIZED;
	log_warn("%s: %s, more than its listing allows (%llu bytes: listed %lld bytes, %ld s); "
		 "not stored, asked for again next run", log_escape(b->paths[idx], esc, sizeof esc),
		 how, (unsigned long long)b->entry_limit, rec->size, rec->duration);
}

/* Room on the archive's file system for an entry that says it holds `size` bytes. */
static int room_for(struct batch *b, size_t idx, int64_t size)
{
	const uint64_t margin = 1u << 20; /* its folder, its manifest line */
	struct statvfs fs;
	char esc[512];

	if (size <= 0 || fstatvfs(store_root_fd(b->r->store), &fs) != 0 ||
	    (uint64_t)fs.f_bavail * fs.f_frsize >= (uint64_t)size + margin)
		return 1;
	log_error("not enough free space in %s for %s: its tar entry holds %lld bytes, %llu MB "
		  "are free", store_root_path(b->r->store),
		  log_escape(b->paths[idx], esc, sizeof esc), (long long)size,
		  (unsigned long long)(((uint64_t)fs.f_bavail * fs.f_frsize) >> 20));
	b->r->storage_error = 1;
	b->r->fatal = EXIT_STORAGE;
	return 0;
}

static int queue_begin(void *ctx, size_t idx, int64_t size)
{
	struct batch *b = ctx;

	/* A stop ends the transfer here, between files: the one before is whole, and what
	 * follows is left for the next run (never half a file). */
	if (stop_requested())
		return -1;
	b->arrived++;
	b->entry_bytes = 0;
	b->entry_left = 0;
	b->entry_limit = entry_limit(b->r, b->recs[idx]);
	if (size >= 0 && (uint64_t)size > b->entry_limit) {
		char how[64];
		snprintf(how, sizeof how, "its tar entry holds %lld bytes", (long long)size);
		left_oversized(b, idx, how);
		return 1;
	}
	if (!room_for(b, idx, size))
		return -1;
	sha256_start(b->wire);
	return sealq_begin(b->r->sealq, idx, size);
}

static int queue_data(void *ctx, size_t idx, const void *buf, size_t len)
{
	struct batch *b = ctx;

	if (b->entry_left)
		return 0;
	b->entry_bytes += len;
	if (b->entry_bytes > b->entry_limit) {
		/* No stated size (a bare WAV): cut where it passes the bound. */
		b->entry_left = 1;
		left_oversized(b, idx, "it arrives with more bytes");
		return sealq_end(b->r->sealq, idx, 0);
	}
	sha256_update(b->wire, buf, len);
	return sealq_data(b->r->sealq, idx, buf, len);
}

static int queue_end(void *ctx, size_t idx, int complete)
{
	struct batch *b = ctx;

	if (b->entry_left)
		return 0;
	if (complete)
		sha256_finish(b->wire, b->slots[idx].wire);
	return sealq_end(b->r->sealq, idx, complete);
}

static const struct unpack_sink sink = {
	queue_begin, queue_data, queue_end, sink_refused, sink_conflict,
};

/* A new version whose bytes are those of the version before (the PBX's listing changed, the
 * audio did not): its file goes, and a "relisted" line records the listing instead, so it is
 * not fetched again. A stored file whose name is not the recording's own (another path or
 * version holds that) is said. Returns 1 when it was the same, 0 when not, -1 on error. */
static int same_as_before(struct run *r, struct slot *s, const struct recording *rec)
{
	const struct manifest_entry *e = NULL;
	char err[512], esc[512];

	if (rec->version > 1 && manifest_lookup(r->man, s->where.day, rec->pbx_path, &e) == 1 &&
	    !e->unavailable && !e->pbx_deleted && strcmp(e->sha256, s->sealed.sha256) == 0) {
		if (store_remove(r->store, s->where.dir, recpath_basename(s->sealed.file), err,
				 sizeof err) != 0)
			log_warn("%s", err);
		log_info("%s: its listing changed, its bytes did not; recorded as relisted",
			 log_escape(rec->pbx_path, esc, sizeof esc));
		return manifest_add_relisted(r->man, s->where.day, e, rec) == 0 ? 1 : -1;
	}
	char own[RECPATH_FILE_MAX];
	snprintf(own, sizeof own, "%s%s", s->where.name, s->sealed.encrypted ? ".age" : "");
	if (rec->version <= 1 && strcmp(recpath_basename(s->sealed.file), own) != 0)
		log_warn("%s is stored as %s: the archive keeps another recording of the same name, "
			 "or the PBX listed it under an unusual path",
			 log_escape(rec->pbx_path, esc, sizeof esc), s->sealed.file);
	return 0;
}

/* Records what landed; tallies the rest. `cut` says the answer ended early (broken transfer,
 * storage error, stop signal): what it did not bring is then not known to be missing. With
 * `rest`, those are put there (*nrest of them) to be tried again instead of being tallied.
 * Returns the number tallied as not landed, or -1. */
static long settle_locked(struct batch *b, int cut, struct recording **rest, size_t *nrest)
{
	struct run *r = b->r;
	char err[512], esc[512];
	unsigned long not_reached = 0;
	long not_landed = 0;

	for (size_t i = 0; i < b->n; i++) {
		struct slot *s = &b->slots[i];
		if (s->state == SLOT_CONFLICT) {
			/* The first copy may already be in place; it was never recorded. */
			const char *base = recpath_basename(s->sealed.file);
			if (s->sealed.file[0] &&
			    store_remove(r->store, s->where.dir, base, err, sizeof err))
				log_warn("%s", err);
			continue;
		}
		if (s->state == SLOT_WAITING && !cut) {
			/* Missing from the answer: asked for again, up to invalid_retries runs
			 * (counted again from the start when its listing changed). */
			char seen[64];
			snprintf(seen, sizeof seen, "listed %lld bytes, %ld s", b->recs[i]->size,
				 b->recs[i]->duration);
			int runs = r->watching ? 0
				   : attempts_note(r->attempts, b->paths[i], "missing",
						   "not in the PBX's answer", seen);
			if (runs >= r->cfg->sync.invalid_retries) {
				log_warn("%s: missing from the PBX's answer %d runs in a row; recorded "
					 "as unavailable and no longer asked for",
					 log_escape(b->paths[i], esc, sizeof esc), runs);
				if (manifest_add_unavailable(r->man, s->where.day, b->recs[i], runs))
					return -1;
				attempts_clear(r->attempts, b->paths[i]);
				s->state = SLOT_GIVEN_UP;
			}
			continue;
		}
		if (s->state != SLOT_DONE)
			continue;
		const struct recording *rec = b->recs[i];
		switch (same_as_before(r, s, rec)) {
		case 1:
			s->state = SLOT_SAME;
			continue;
		case -1:
			return -1;
		}
		int short_audio = rec->duration >= 0 && s->sealed.seconds >= 0 &&
				  s->sealed.seconds * 2 < (double)rec->duration &&
				  (double)rec->duration - s->sealed.seconds >= 10;
		struct manifest_file f = {
			s->sealed.file, s->sealed.size, s->sealed.sha256,
			s->sealed.encrypted ? s->sealed.stored_sha256 : NULL,
			s->sealed.encrypted ? "age" : NULL, s->sealed.seconds,
			s->sealed.invalid ? s->invalid : NULL, short_audio,
		};
		if (short_audio) {
			r->t.short_audio++;
			log_warn("%s: %.0f s of audio, the listing says %ld s; flagged short_audio",
				 log_escape(b->paths[i], esc, sizeof esc), s->sealed.seconds,
				 rec->duration);
		}
		if (manifest_add_archived(r->man, s->where.day, rec, &f) != 0)
			return -1;
		r->t.cdr_missing += rec->cdr_looked_up && !rec->cdr;
		attempts_clear(r->attempts, b->paths[i]);
	}
	if (manifest_commit(r->man, err, sizeof err) != 0) {
		log_error("%s", err);
		r->storage_error = 1;
		return -1;
	}
	if (nrest)
		*nrest = 0;
	for (size_t i = 0; i < b->n; i++) {
		enum slot_state st = b->slots[i].state;

		if (st == SLOT_DONE) {
			r->t.archived++;
			r->t.invalid += b->slots[i].sealed.invalid;
		} else if (st == SLOT_SAME) {
			r->t.already++;
		} else if (st == SLOT_GROWING) {
			r->t.growing++;
			not_landed++;
		} else if (st == SLOT_GIVEN_UP) {
			r->t.unavailable++;
		} else if (st == SLOT_OVERSIZED) {
			r->t.oversized++;
			not_landed++;
		} else if ((st == SLOT_WAITING && cut) || st == SLOT_BROKEN) {
			if (rest) {
				rest[(*nrest)++] = b->recs[i];
				continue;
			}
			not_landed++;
			if ((st == SLOT_WAITING && stop_requested()) ||
			    (st == SLOT_BROKEN && stop_abandon_file())) {
				/* Never reached, or abandoned by the signal: not a failure of
				 * the PBX's ("not started" in the summary). */
				r->t.left++;
				r->t.left_bytes += recording_expected_bytes(b->recs[i], 0);
				continue;
			}
			r->t.failed++;
			not_reached++;
		} else if (st == SLOT_WAITING) {
			r->t.missing++;
			not_landed++;
			log_warn("%s: listed but not in the PBX's answer; it will be asked for again",
				 log_escape(b->paths[i], esc, sizeof esc));
		} else {
			r->t.failed++;
			not_landed++;
		}
	}
	if (not_reached)
		log_warn("%lu recordings of this batch were not brought by the download; they "
			 "will be fetched again", not_reached);
	if (!r->shared) /* lanes each count their own: the summary adds them up */
		progress_tail(r);
	return not_landed;
}

/* settle() with the manifest and the attempt counts to itself (other lanes share them). */
static long settle(struct batch *b, int cut, struct recording **rest, size_t *nrest)
{
	struct run *r = b->r;
	long rc;

	/* Encrypted files are read back in the background: their verdicts first. */
	if (sealer_drain(r->sealer) > 0) {
		for (size_t i = 0; i < b->n; i++) {
			struct slot *s = &b->slots[i];
			if (!s->sealed.failed ||
			    (s->state != SLOT_DONE && s->state != SLOT_CONFLICT))
				continue;
			log_error("%s", s->sealed.why);
			if (s->state == SLOT_DONE) {
				s->state = SLOT_FAILED;
				b->received--;
			}
			r->storage_error = 1;
			r->archive_error = 1;
		}
	}
	run_shared_lock(b->r);
	rc = settle_locked(b, cut, rest, nrest);
	run_shared_unlock(b->r);
	return rc;
}

/* Room for a batch: the sizes the listing states, else the listed durations at 8 kHz 16-bit
 * (the PBX's usual format; a listed duration includes ringing, so this errs high), plus a
 * margin. Returns 0, or -1 (printed) when the archive's file system has less free. */
static int preflight(struct run *r, struct recording *const *recs, size_t n)
{
	const uint64_t margin = 8u << 20; /* manifest lines, folders, a misjudged size */
	uint64_t need = margin;
	struct statvfs fs;

	for (size_t i = 0; i < n; i++)
		need += recording_expected_bytes(recs[i], 1u << 20) + (recs[i]->size < 0 ? 4096 : 0);
	if (fstatvfs(store_root_fd(r->store), &fs) != 0)
		return 0; /* cannot tell; the writes themselves will say */
	if ((uint64_t)fs.f_bavail * fs.f_frsize >= need)
		return 0;
	log_error("not enough free space in %s for the next %zu recordings: about %llu MB "
		  "needed, %llu MB free", store_root_path(r->store), n,
		  (unsigned long long)(need >> 20),
		  (unsigned long long)(((uint64_t)fs.f_bavail * fs.f_frsize) >> 20));
	return -1;
}

static long fetch_batch(struct run *r, struct recording *const *recs, size_t n, enum try try,
			int may_switch_key);

/* Recordings a stop keeps from being asked for: left for the next run, not failed. Returns
 * `n` (none landed). */
static long leave_for_next_run(struct run *r, struct recording *const *recs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		r->t.left++;
		r->t.left_bytes += recording_expected_bytes(recs[i], 0);
	}
	return (long)n;
}

/* What a broken download did not bring: once more, then in halves, then left for later. */
static long fetch_again(struct run *r, struct recording **rest, size_t n, enum try try)
{
	long a, c;

	if (try == TRY_FIRST) {
		log_info("asking again for the %zu recordings the broken download did not bring",
			 n);
		return fetch_batch(r, rest, n, TRY_AGAIN, 0);
	}
	if (n == 1)
		return fetch_batch(r, rest, n, TRY_LAST, 0);
	log_info("asking for the %zu recordings in two halves", n);
	a = fetch_batch(r, rest, n / 2, TRY_LAST, 0);
	if (a < 0)
		return -1;
	c = fetch_batch(r, rest + n / 2, n - n / 2, TRY_LAST, 0);
	return c < 0 ? -1 : a + c;
}

/* Downloads recs[0..n) as one request (split on 414; retried, then split, when the download
 * breaks). Returns recordings not landed, or -1 when the run must stop (r->fatal set). */
static long fetch_batch(struct run *r, struct recording *const *recs, size_t n, enum try try,
			int may_switch_key)
{
	struct batch b;
	struct pbx_stream *st = NULL;
	struct recording **rest = NULL;
	size_t nrest = 0;
	char err[512];
	long rc;
	int pr, ur, closed, cut;

	if (stop_requested())
		return leave_for_next_run(r, recs, n);
	if (preflight(r, recs, n) != 0) {
		r->storage_error = 1;
		r->archive_error = 1;
		r->fatal = EXIT_STORAGE;
		return -1;
	}
	memset(&b, 0, sizeof b);
	b.r = r;
	b.recs = recs;
	b.n = n;
	b.wire = r->hash;
	b.paths = calloc(n, sizeof *b.paths);
	b.slots = calloc(n, sizeof *b.slots);
	b.mark = calloc(n, 1);
	if (!b.paths || !b.slots || !b.mark) {
		free(b.paths);
		free(b.slots);
		free(b.mark);
		log_error("out of memory");
		r->fatal = EXIT_STORAGE;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		b.paths[i] = recs[i]->pbx_path;
		recpath_parse(recs[i]->pbx_path, &b.slots[i].where, err, sizeof err); /* checked */
	}
	pr = pbx_download_open(r->pbx, b.paths, n, &st);
	if (pr == PBX_URL_TOO_LONG && n > 1) {
		size_t half = n / 2;
		long a, c;
		log_info("the PBX refused a %zu-file request as too long; splitting it", n);
		free(b.paths);
		free(b.slots);
		free(b.mark);
		a = fetch_batch(r, recs, half, try, may_switch_key);
		if (a < 0)
			return -1;
		c = fetch_batch(r, recs + half, n - half, try, may_switch_key);
		return c < 0 ? -1 : a + c;
	}
	if (pr != PBX_OK) {
		if (pr == PBX_URL_TOO_LONG)
			log_error("the PBX refuses even a one-file request as too long: %s",
				  recs[0]->pbx_path);
		if (pr == PBX_REFUSED)
			r->fatal = EXIT_LOGIN;
		else if (pr == PBX_UNREACHABLE)
			r->fatal = EXIT_UNREACHABLE;
		r->archive_error = 1;
		if (stop_requested() && !r->fatal)
			(void)leave_for_next_run(r, recs, n); /* the signal cut the request */
		else
			r->t.failed += n;
		free(b.paths);
		free(b.slots);
		free(b.mark);
		return r->fatal ? -1 : (long)n;
	}
	sealq_start(r->sealq, &seal_work, &b);
	ur = unpack_stream(pbx_stream_read, st, b.paths, n,
			   pbx_stream_compressed(st) ? UNPACK_GZIP : 0, &sink, &b, err, sizeof err);
	/* The worker is idle from here on. When it failed (storage, a stop signal), it skipped
	 * the rest of the batch: what it skipped arrived, it is not "missing". */
	int worker_failed = sealq_drain(r->sealq) != 0;
	if (b.writing) { /* aborted mid-entry */
		sealer_abandon(r->sealer);
		b.writing = 0;
	}
	for (size_t i = 0; i < n; i++)
		if (b.mark[i] & MARK_CONFLICT)
			b.slots[i].state = SLOT_CONFLICT;
		else if (b.mark[i] & MARK_OVERSIZED)
			b.slots[i].state = SLOT_OVERSIZED;
	closed = pbx_stream_close(st);
	if (ur == UNPACK_BROKEN) {
		log_warn("download of %zu recordings: %s", n, err);
		r->archive_error = 1;
	} else if (ur == UNPACK_OK && closed != 0) {
		log_warn("download of %zu recordings did not end cleanly", n);
		r->archive_error = 1;
	}
	if (ur == UNPACK_ABORTED || worker_failed)
		r->archive_error = 1;
	/* The key is right when the PBX sent any requested file, whatever its checks said. */
	if (b.arrived > 0)
		pbx_download_key_confirm(r->pbx);
	if (ur == UNPACK_OK && b.arrived == 0 && may_switch_key && !worker_failed &&
	    pbx_download_key_switch(r->pbx)) {
		free(b.paths);
		free(b.slots);
		free(b.mark);
		rc = fetch_batch(r, recs, n, try, 0);
		pbx_download_key_revert(r->pbx);
		return rc;
	}
	cut = ur != UNPACK_OK || closed != 0 || worker_failed;
	if (cut && ur != UNPACK_ABORTED && try != TRY_LAST && !stop_requested())
		rest = calloc(n, sizeof *rest);
	rc = settle(&b, cut, rest, &nrest);
	free(b.paths);
	free(b.slots);
	free(b.mark);
	if (rc < 0 || r->storage_error) {
		free(rest);
		r->fatal = EXIT_STORAGE;
		return -1;
	}
	if (rest && nrest) {
		long again = fetch_again(r, rest, nrest, try);
		rc = again < 0 ? -1 : rc + again;
	}
	free(rest);
	return rc;
}

long fetch_one_batch(struct run *r, struct recording *const *recs, size_t n)
{
	return fetch_batch(r, recs, n, TRY_FIRST, 1);
}

long fetch_recordings(struct run *r, struct recording *const *recs, size_t n)
{
	long not_landed = 0;

	for (size_t start = 0; start < n;) {
		if (stop_requested())
			return not_landed + leave_for_next_run(r, recs + start, n - start);
		size_t len = batch_len(r, batch_recording_path, recs, start, n);
		long rc = fetch_batch(r, recs + start, len, TRY_FIRST, 1);
		if (rc < 0)
			return -1;
		not_landed += rc;
		start += len;
	}
	return not_landed;
}
