/* unpack.c — one pass over a download answer with libarchive, matching entries to the
 * requested paths and refusing everything else. Writes nothing: bytes go to the sink. */
#include "unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recpath.h"
#include "base/log.h"

#define MAX_ENTRY_NAME 1024
/* A day of 8 kHz 16-bit stereo is 2.8 GB; no recording is larger than this. */
#define MAX_ENTRY_BYTES (8ULL << 30)
#define MAX_TRAILER (1u << 20)

#define SNIFF_LEN 4 /* "RIFF" */

/* Hands out the stream, starting with what was read to sniff the format: the bytes of tiny
 * first pieces (copied, fewer than SNIFF_LEN) and the piece that completed the sniff. */
struct feed {
	unpack_read_fn read;
	void *ctx;
	unsigned char head[SNIFF_LEN];
	size_t head_len;
	int head_pending;
	const void *first;
	ssize_t first_len;
	int failed;
};

/* Reads until SNIFF_LEN bytes are known or the stream ends. Returns 0, or -1 on a transfer
 * error. f->head / f->first then hold what was read. */
static int feed_sniff(struct feed *f)
{
	while (f->head_len < SNIFF_LEN) {
		const void *buf;
		ssize_t n = f->read(f->ctx, &buf);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		if (f->head_len + (size_t)n >= SNIFF_LEN || f->head_len > 0) {
			if (f->head_len + (size_t)n < SNIFF_LEN) {
				memcpy(f->head + f->head_len, buf, (size_t)n);
				f->head_len += (size_t)n;
				continue;
			}
			f->first = buf;
			f->first_len = n;
			break;
		}
		memcpy(f->head, buf, (size_t)n);
		f->head_len = (size_t)n;
	}
	f->head_pending = f->head_len > 0;
	return 0;
}

/* Whether the stream starts with the `len` bytes of `magic` (len <= SNIFF_LEN), across head
 * and first. */
static int feed_starts_with(const struct feed *f, const char *magic, size_t len)
{
	unsigned char b[SNIFF_LEN];
	size_t n = f->head_len;

	memcpy(b, f->head, n);
	if (n < SNIFF_LEN && f->first) {
		size_t more = SNIFF_LEN - n;
		if ((size_t)f->first_len < more)
			return 0;
		memcpy(b + n, f->first, more);
		n = SNIFF_LEN;
	}
	return n == SNIFF_LEN && memcmp(b, magic, len) == 0;
}

/* The next piece: the sniffed bytes first, then the stream. */
static ssize_t feed_next(struct feed *f, const void **buf)
{
	ssize_t n;

	if (f->head_pending) {
		f->head_pending = 0;
		*buf = f->head;
		return (ssize_t)f->head_len;
	}
	if (f->first) {
		*buf = f->first;
		n = f->first_len;
		f->first = NULL;
		return n;
	}
	n = f->read(f->ctx, buf);
	if (n < 0)
		f->failed = 1;
	return n;
}

static la_ssize_t feed_read(struct archive *a, void *user, const void **buf)
{
	struct feed *f = user;
	ssize_t n = feed_next(f, buf);

	if (n < 0) {
		archive_set_error(a, EIO, "the transfer broke off");
		return -1;
	}
	return n;
}

static int is_dotdot(const char *s, size_t n)
{
	return n == 2 && s[0] == '.' && s[1] == '.';
}

long unpack_match_name(const char *name, const char *const *requested, size_t n,
		       const char **why)
{
	const char *base;
	long found = -1;
	size_t len;

	if (!name || !*name) {
		*why = "empty name";
		return -1;
	}
	if (strlen(name) > MAX_ENTRY_NAME) {
		*why = "name too long";
		return -1;
	}
	if (name[0] == '/') {
		*why = "absolute name";
		return -1;
	}
	for (const char *p = name; *p;) {
		size_t c = strcspn(p, "/");
		if (is_dotdot(p, c)) {
			*why = "'..' in the name";
			return -1;
		}
		p += c;
		if (*p == '/')
			p++;
	}
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	len = strlen(name);
	for (size_t i = 0; i < n; i++) {
		size_t rl = strlen(requested[i]);
		if (strcmp(name, requested[i]) == 0 ||
		    (len > rl && name[len - rl - 1] == '/' && strcmp(name + len - rl, requested[i]) == 0))
			return (long)i;
	}
	/* Some PBXs drop the day folder: match by base name, if that is unambiguous. */
	base = recpath_basename(name);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(base, recpath_basename(requested[i])) != 0)
			continue;
		if (found >= 0) {
			*why = "base name matches more than one requested file";
			return -1;
		}
		found = (long)i;
	}
	if (found < 0)
		*why = "not a requested file";
	return found;
}

static void refuse(const struct unpack_sink *sink, void *ctx, const char *name, const char *why)
{
	if (sink->refused)
		sink->refused(ctx, name, why);
}

/* Reads what is left of the stream and drops it (a bare WAV the sink left). */
static int drain_quietly(struct feed *f)
{
	const void *buf;
	ssize_t n;

	while ((n = feed_next(f, &buf)) > 0)
		;
	return UNPACK_OK;
}

/* A one-file request answered with the bare WAV. */
static int unpack_bare(struct feed *f, const struct unpack_sink *sink, void *ctx, size_t n,
		       char *err, size_t errlen)
{
	const void *buf;
	uint64_t total = 0;
	ssize_t got;

	if (n != 1) {
		snprintf(err, errlen, "the PBX answered a bare WAV to a request for %zu files", n);
		return UNPACK_BROKEN;
	}
	switch (sink->begin(ctx, 0, -1)) {
	case 0:
		break;
	case 1:
		return drain_quietly(f);
	default:
		return UNPACK_ABORTED;
	}
	while ((got = feed_next(f, &buf)) > 0) {
		total += (uint64_t)got;
		if (total > MAX_ENTRY_BYTES) {
			sink->end(ctx, 0, 0);
			snprintf(err, errlen, "the bare WAV passes the %llu-byte cap",
				 (unsigned long long)MAX_ENTRY_BYTES);
			return UNPACK_BROKEN;
		}
		if (sink->data(ctx, 0, buf, (size_t)got) != 0)
			return UNPACK_ABORTED;
	}
	if (sink->end(ctx, 0, got == 0) != 0)
		return UNPACK_ABORTED;
	if (got < 0) {
		snprintf(err, errlen, "the transfer broke off inside the WAV");
		return UNPACK_BROKEN;
	}
	return UNPACK_OK;
}

/* Streams one accepted entry to the sink. Returns 0 (entry done, complete or not: *complete
 * says), UNPACK_ABORTED, or UNPACK_BROKEN with err set (the archive cannot go on). */
static int copy_entry(struct archive *a, const struct unpack_sink *sink, void *ctx,
		      const char *name, size_t idx, int64_t size, int *complete, char *err,
		      size_t errlen)
{
	int64_t written = 0;

	*complete = 0;
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(a, &buf, &len, &off);

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			snprintf(err, errlen, "archive broke inside an entry: %s",
				 archive_error_string(a) ? archive_error_string(a) : "unknown");
			return sink->end(ctx, idx, 0) != 0 ? UNPACK_ABORTED : UNPACK_BROKEN;
		}
		if (off != written) {
			/* A sparse entry: holes would have to be invented. Not a PBX recording. */
			if (sink->end(ctx, idx, 0) != 0)
				return UNPACK_ABORTED;
			refuse(sink, ctx, name, "sparse entry");
			return 0;
		}
		if (len && sink->data(ctx, idx, buf, len) != 0)
			return UNPACK_ABORTED;
		written += (int64_t)len;
	}
	*complete = size < 0 || written == size;
	return sink->end(ctx, idx, *complete) == 0 ? 0 : UNPACK_ABORTED;
}

/* libarchive stops at the end-of-archive blocks; the rest of the body (record padding) is read
 * too, so that a transfer that breaks after the last entry is still noticed. */
static int drain(struct feed *f, char *err, size_t errlen)
{
	size_t total = 0;
	const void *buf;
	ssize_t n;

	if (f->failed) {
		snprintf(err, errlen, "the transfer broke off");
		return UNPACK_BROKEN;
	}
	while ((n = feed_next(f, &buf)) > 0) {
		total += (size_t)n;
		if (total > MAX_TRAILER) {
			snprintf(err, errlen, "more than %u bytes follow the archive's end", MAX_TRAILER);
			return UNPACK_BROKEN;
		}
	}
	if (n < 0) {
		snprintf(err, errlen, "the transfer broke off after the archive's end");
		return UNPACK_BROKEN;
	}
	return UNPACK_OK;
}

static int unpack_tar(struct feed *f, const char *const *requested, size_t n, unsigned flags,
		      const struct unpack_sink *sink, void *ctx, char *err, size_t errlen)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	unsigned char *seen = calloc(n ? n : 1, 1);
	int rc = UNPACK_OK;

	if (!a || !seen) {
		snprintf(err, errlen, "out of memory");
		free(seen);
		if (a)
			archive_read_free(a);
		return UNPACK_BROKEN;
	}
	archive_read_support_format_tar(a);
	archive_read_support_filter_none(a);
	if (flags & UNPACK_GZIP)
		archive_read_support_filter_gzip(a);
	if (archive_read_open(a, f, NULL, feed_read, NULL) != ARCHIVE_OK) {
		snprintf(err, errlen, "not a tar archive: %s",
			 archive_error_string(a) ? archive_error_string(a) : "unknown format");
		rc = UNPACK_BROKEN;
		goto out;
	}
	for (;;) {
		int r = archive_read_next_header(a, &e);
		const char *name, *why = NULL;
		long idx;
		int64_t size;
		int complete;

		if (r == ARCHIVE_EOF) {
			rc = drain(f, err, errlen);
			break;
		}
		if (r < ARCHIVE_WARN) {
			snprintf(err, errlen, "%s", f->failed ? "the transfer broke off"
				 : archive_error_string(a) ? archive_error_string(a) : "bad archive");
			rc = UNPACK_BROKEN;
			break;
		}
		name = archive_entry_pathname(e);
		if (archive_entry_filetype(e) == AE_IFDIR)
			continue; /* "20210329/" folders are harmless; nothing is made of them */
		if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) ||
		    archive_entry_symlink(e)) {
			refuse(sink, ctx, name, "not a regular file (link, device or other)");
			continue;
		}
		idx = unpack_match_name(name, requested, n, &why);
		if (idx < 0) {
			refuse(sink, ctx, name, why);
			continue;
		}
		if (seen[idx]) {
			if (sink->conflict)
				sink->conflict(ctx, (size_t)idx);
			continue;
		}
		seen[idx] = 1;
		size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
		if (size > (int64_t)MAX_ENTRY_BYTES) {
			refuse(sink, ctx, name, "larger than the 8 GiB cap on one recording");
			continue;
		}
		switch (sink->begin(ctx, (size_t)idx, size)) {
		case 0:
			break;
		case 1:
			continue; /* left by the sink: libarchive skips its data */
		default:
			rc = UNPACK_ABORTED;
			goto out;
		}
		rc = copy_entry(a, sink, ctx, name, (size_t)idx, size, &complete, err, errlen);
		if (rc != 0)
			break;
	}
out:
	free(seen);
	archive_read_free(a);
	return rc;
}

int unpack_stream(unpack_read_fn read, void *read_ctx, const char *const *requested, size_t n,
		  unsigned flags, const struct unpack_sink *sink, void *sink_ctx, char *err,
		  size_t errlen)
{
	struct feed f;

	memset(&f, 0, sizeof f);
	f.read = read;
	f.ctx = read_ctx;
	if (feed_sniff(&f) != 0) {
		snprintf(err, errlen, "the transfer broke off before any data");
		return UNPACK_BROKEN;
	}
	if (f.head_len == 0 && !f.first)
		return UNPACK_OK; /* an empty answer: none of the files */
	if (feed_starts_with(&f, "RIFF", 4))
		return unpack_bare(&f, sink, sink_ctx, n, err, errlen);
	if (!(flags & UNPACK_GZIP) && feed_starts_with(&f, "\x1f\x8b", 2)) {
		snprintf(err, errlen, "the answer is gzip-compressed without saying so "
			 "(Content-Encoding): refused, as it could inflate to any size");
		return UNPACK_BROKEN;
	}
	return unpack_tar(&f, requested, n, flags, sink, sink_ctx, err, errlen);
}
