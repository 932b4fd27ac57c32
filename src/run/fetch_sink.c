/* fetch_sink.c — one answer's entries → sealed files (fetch_internal.h): on the main thread
 * each entry is hashed as it arrives and held to what its listing allows and to the free
 * space; the sealq worker writes, checks and commits it. Records nothing in the manifest
 * (fetch_settle.c does). */
#include "fetch_internal.h"

#include <stdio.h>
#include <sys/statvfs.h>

#include "live.h"
#include "run.h"
#include "archive/attempts.h"
#include "archive/seal.h"
#include "archive/sealq.h"
#include "archive/store.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "base/stop.h"

/* Growth a recording may show between its listing and its download (a call still recorded):
 * 16 MiB is over 8 minutes of 16 kHz audio. */
#define GROWTH_SLACK (16ull << 20)
/* The most bytes per second a PBX recording holds (48 kHz 16-bit stereo), and the growth
 * allowed past a listed duration: a bound where the listing states no size. */
#define MAX_BYTES_PER_SECOND 192000ull
#define DURATION_SLACK_S 600ull

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
			run_shared_lock(b->r); /* the pending list's "in progress" (sync.c) */
			attempts_mark_growing(b->r->attempts, b->paths[idx]);
			run_shared_unlock(b->r);
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
const struct unpack_sink fetch_seal_work = {
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

const struct unpack_sink fetch_queue_sink = {
	queue_begin, queue_data, queue_end, sink_refused, sink_conflict,
};
