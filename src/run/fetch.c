/* fetch.c — recordings → durable, verified files and manifest lines. Each batch is one 20036
 * download streamed through unpack.c into the sink (fetch_sink.c), which writes, hashes and
 * validates every entry in the same pass, commits the files it can vouch for, and only then
 * records them in the manifest (fsynced; fetch_settle.c). A batch that is too long for the
 * PBX's URL limit is split. */
#include "fetch_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "batch.h"
#include "run.h"
#include "archive/recpath.h"
#include "archive/seal.h"
#include "archive/sealq.h"
#include "archive/store.h"
#include "archive/unpack.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "base/stop.h"
#include "pbx/pbx.h"

/* How a batch may still be tried when its download breaks: once more as it is, then in two
 * halves, then not again this run. */
enum try { TRY_FIRST, TRY_AGAIN, TRY_LAST };

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
	sealq_start(r->sealq, &fetch_seal_work, &b);
	ur = unpack_stream(pbx_stream_read, st, b.paths, n,
			   pbx_stream_compressed(st) ? UNPACK_GZIP : 0, &fetch_queue_sink, &b, err,
			   sizeof err);
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
	rc = fetch_settle(&b, cut, rest, &nrest);
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
