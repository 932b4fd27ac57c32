/* fetch.c — recordings → durable, verified files and manifest lines. Each batch is one 20036
 * download streamed through unpack.c into the sink below, which writes, hashes and validates
 * every entry in the same pass, commits the files it can vouch for, and only then records them
 * in the manifest (fsynced). A batch that is too long for the PBX's URL limit is split. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "job.h"
#include "log.h"
#include "manifest.h"
#include "pbx.h"
#include "recpath.h"
#include "run.h"
#include "store.h"
#include "unpack.h"
#include "wav.h"

enum slot_state { SLOT_WAITING, SLOT_WRITING, SLOT_DONE, SLOT_FAILED, SLOT_CONFLICT };

struct slot {
	enum slot_state state;
	struct recpath where;
	uint64_t bytes;
	int64_t declared;           /* size the tar header states; -1 unknown */
	char sha256[SHA256_HEX_LEN + 1];
	double seconds;
};

struct batch {
	struct run *r;
	struct recording *const *recs;
	const char **paths;
	size_t n;
	struct slot *slots;
	struct store_file *file;    /* the entry being written */
	struct wav_check wav;
	size_t received;
};

static int sink_begin(void *ctx, size_t idx, int64_t size)
{
	struct batch *b = ctx;
	struct slot *s = &b->slots[idx];
	char err[512];

	s->declared = size;
	s->bytes = 0;
	b->file = store_begin(b->r->store, s->where.dir, s->where.name, err, sizeof err);
	if (!b->file) {
		log_error("%s", err);
		b->r->storage_error = 1;
		return -1;
	}
	s->state = SLOT_WRITING;
	wav_check_init(&b->wav);
	sha256_start(b->r->hash);
	return 0;
}

static int sink_data(void *ctx, size_t idx, const void *buf, size_t len)
{
	struct batch *b = ctx;
	struct slot *s = &b->slots[idx];
	char err[512];

	if (run_stop_requested()) {
		store_abandon(b->file);
		b->file = NULL;
		s->state = SLOT_FAILED;
		return -1;
	}
	if (store_write(b->file, buf, len, err, sizeof err) != 0) {
		log_error("%s", err);
		b->r->storage_error = 1;
		store_abandon(b->file);
		b->file = NULL;
		s->state = SLOT_FAILED;
		return -1;
	}
	sha256_update(b->r->hash, buf, len);
	wav_check_feed(&b->wav, buf, len);
	s->bytes += len;
	return 0;
}

/* Judges a fully received entry. Returns NULL when it can be kept, else why not. */
static const char *judge(struct batch *b, size_t idx, char *why, size_t whylen)
{
	struct slot *s = &b->slots[idx];
	const struct recording *rec = b->recs[idx];
	struct wav_info info;
	char werr[128];

	if (s->bytes == 0) {
		snprintf(why, whylen, "empty file");
		return why;
	}
	if (rec->size >= 0 && (uint64_t)rec->size != s->bytes) {
		snprintf(why, whylen, "%llu bytes arrived, the listing says %lld",
			 (unsigned long long)s->bytes, rec->size);
		return why;
	}
	if (wav_check_finish(&b->wav, &info, werr, sizeof werr) != 0) {
		snprintf(why, whylen, "not a valid WAV: %s", werr);
		return why;
	}
	s->seconds = info.seconds;
	return NULL;
}

static int sink_end(void *ctx, size_t idx, int complete)
{
	struct batch *b = ctx;
	struct slot *s = &b->slots[idx];
	unsigned char digest[SHA256_LEN];
	char why[256], err[512], esc[512];

	if (!b->file)
		return 0;
	sha256_finish(b->r->hash, digest);
	if (!complete) {
		store_abandon(b->file);
		b->file = NULL;
		s->state = SLOT_FAILED;
		log_warn("%s: the download broke off inside it; it will be fetched again",
			 log_escape(b->paths[idx], esc, sizeof esc));
		return 0;
	}
	if (judge(b, idx, why, sizeof why)) {
		store_abandon(b->file);
		b->file = NULL;
		s->state = SLOT_FAILED;
		log_warn("%s: %s; discarded, it will be fetched again",
			 log_escape(b->paths[idx], esc, sizeof esc), why);
		return 0;
	}
	sha256_to_hex(digest, s->sha256);
	if (store_commit(b->file, err, sizeof err) != 0) {
		b->file = NULL;
		s->state = SLOT_FAILED;
		log_error("%s", err);
		b->r->storage_error = 1;
		return -1;
	}
	b->file = NULL;
	s->state = SLOT_DONE;
	b->received++;
	b->r->t.bytes += s->bytes;
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
	b->slots[idx].state = SLOT_CONFLICT;
}

static const struct unpack_sink sink = {
	sink_begin, sink_data, sink_end, sink_refused, sink_conflict,
};

/* Records what landed; tallies the rest. `cut` says the answer ended early (broken transfer,
 * storage error, stop signal): what it did not bring is then not known to be missing. Returns
 * the number that did not land, or -1. */
static long settle(struct batch *b, int cut)
{
	unsigned long not_reached = 0;
	struct run *r = b->r;
	char err[512], esc[512], file[REC_PATH_MAX + 16];
	long not_landed = 0;

	for (size_t i = 0; i < b->n; i++) {
		struct slot *s = &b->slots[i];
		if (s->state == SLOT_CONFLICT) {
			/* The first copy may already be in place; it was never recorded. */
			if (store_remove(r->store, s->where.dir, s->where.name, err, sizeof err))
				log_warn("%s", err);
			continue;
		}
		if (s->state != SLOT_DONE)
			continue;
		snprintf(file, sizeof file, "%s/%s", s->where.dir, s->where.name);
		if (manifest_add_archived(r->man, s->where.day, b->recs[i], file, s->bytes,
					  s->sha256, s->seconds) != 0)
			return -1;
	}
	if (manifest_commit(r->man, err, sizeof err) != 0) {
		log_error("%s", err);
		r->storage_error = 1;
		return -1;
	}
	for (size_t i = 0; i < b->n; i++) {
		switch (b->slots[i].state) {
		case SLOT_DONE:
			r->t.archived++;
			break;
		case SLOT_WAITING:
			if (cut) {
				r->t.failed++;
				not_reached++;
				not_landed++;
				break;
			}
			r->t.missing++;
			not_landed++;
			log_warn("%s: listed but not in the PBX's answer; it will be asked for again",
				 log_escape(b->paths[i], esc, sizeof esc));
			break;
		default:
			r->t.failed++;
			not_landed++;
		}
	}
	if (not_reached)
		log_warn("%lu recordings of this batch were not reached before the download ended; "
			 "they will be fetched again", not_reached);
	log_progress("archived %lu of %lu recordings, %.1f MB", r->t.archived, r->planned_total,
		     (double)r->t.bytes / 1e6);
	return not_landed;
}

/* Downloads recs[0..n) as one request (split on 414). Returns recordings not landed, or -1. */
static long fetch_batch(struct run *r, struct recording *const *recs, size_t n, int retry)
{
	struct batch b;
	struct pbx_stream *st = NULL;
	char err[512];
	long rc;
	int pr, ur, closed;

	memset(&b, 0, sizeof b);
	b.r = r;
	b.recs = recs;
	b.n = n;
	b.paths = calloc(n, sizeof *b.paths);
	b.slots = calloc(n, sizeof *b.slots);
	if (!b.paths || !b.slots) {
		free(b.paths);
		free(b.slots);
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
		a = fetch_batch(r, recs, half, retry);
		if (a < 0)
			return -1;
		c = fetch_batch(r, recs + half, n - half, retry);
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
		r->t.failed += n;
		free(b.paths);
		free(b.slots);
		return r->fatal ? -1 : (long)n;
	}
	ur = unpack_stream(pbx_stream_read, st, b.paths, n, &sink, &b, err, sizeof err);
	if (b.file) { /* aborted mid-entry */
		store_abandon(b.file);
		b.file = NULL;
	}
	closed = pbx_stream_close(st);
	if (ur == UNPACK_BROKEN) {
		log_warn("download of %zu recordings: %s", n, err);
		r->archive_error = 1;
	} else if (ur == UNPACK_OK && closed != 0) {
		log_warn("download of %zu recordings did not end cleanly", n);
		r->archive_error = 1;
	}
	if (ur == UNPACK_ABORTED)
		r->archive_error = 1;
	if (b.received > 0)
		pbx_download_key_confirm(r->pbx);
	if (ur == UNPACK_OK && b.received == 0 && retry && pbx_download_key_switch(r->pbx)) {
		free(b.paths);
		free(b.slots);
		rc = fetch_batch(r, recs, n, 0);
		pbx_download_key_revert(r->pbx);
		return rc;
	}
	rc = settle(&b, ur != UNPACK_OK || closed != 0);
	free(b.paths);
	free(b.slots);
	if (rc < 0 || r->storage_error) {
		r->fatal = EXIT_STORAGE;
		return -1;
	}
	return rc;
}

size_t run_batch_len(struct run *r, const char *(*path_at)(const void *items, size_t i),
		     const void *items, size_t start, size_t n)
{
	size_t prefix = pbx_download_url_len(r->pbx, NULL, 0), len = prefix, end = start;

	while (end < n && end - start < (size_t)r->cfg->sync.batch_files) {
		const char *one = path_at(items, end);
		size_t add = pbx_download_url_len(r->pbx, &one, 1) - prefix + (end > start);
		if (end > start && len + add > r->cfg->sync.batch_url_bytes)
			break;
		len += add;
		end++;
	}
	return end - start;
}

static const char *rec_path_at(const void *items, size_t i)
{
	return ((struct recording *const *)items)[i]->pbx_path;
}

long fetch_recordings(struct run *r, struct recording *const *recs, size_t n)
{
	long not_landed = 0;

	for (size_t start = 0; start < n && !run_stop_requested();) {
		size_t len = run_batch_len(r, rec_path_at, recs, start, n);
		long rc = fetch_batch(r, recs + start, len, 1);
		if (rc < 0)
			return -1;
		not_landed += rc;
		start += len;
	}
	return not_landed;
}
