/* fuzz_unpack.c — unpack_stream (src/archive/unpack.h) over a hostile download answer.
 *
 * Input: byte 0 holds flags, bytes 1-4 the piece sizes (fuzz_common.h), the rest is the
 * answer (a tar, a gzipped tar, a bare WAV or garbage).
 *   flags bits 0-1  how many of the four requested paths below are asked for (1-4; the 4th
 *                   shares its base name with the 1st, so base-name matching is ambiguous)
 *           bit 2   the transfer breaks at the end (the reader returns -1 instead of 0)
 *           bits 3-4  a sink callback that fails: 0 none, 1 begin, 2 data, 3 end
 *           bits 5-7  ... on its (1 + value)th call
 *
 * The oracle is a second, independent pass over the same bytes with libarchive (all at
 * once, the same formats and filters), which gives the entries in order. From them the
 * harness derives the callbacks unpack must make: a regular file (not a link) whose name
 * unpack_match_name() maps to idx < n, seen for the first time → begin(idx, size), its
 * bytes, end(idx, complete); a second one for that idx → conflict(idx); a link, device or
 * a name unpack_match_name() refuses → refused(name); folders → nothing. Invariants:
 *   - the callbacks unpack makes are a prefix of that list (all of it when it returns
 *     UNPACK_OK), so no entry is ever delivered under a name unpack_match_name refuses,
 *     nor twice, and idx is always < n;
 *   - begin/data/end are nested: data and end only for the idx begun, no begin inside one;
 *   - an entry's bytes (length and hash) are the ones libarchive reads, whatever the piece
 *     sizes, and `complete` says whether all the stated bytes came;
 *   - a bare WAV ("RIFF...") goes whole to idx 0 when one path was asked for, else BROKEN;
 *   - after a callback returned -1 no other one is made and the result is not UNPACK_OK;
 *   - a transfer that breaks is never UNPACK_OK; UNPACK_BROKEN comes with a message;
 *   - no leak, no read outside a piece (each piece is its own exact-size heap copy). */
#include <archive.h>
#include <archive_entry.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "fuzz_common.h"
#include "archive/unpack.h"
#include "base/log.h"

#define NREQ 4
static const char *const requested[NREQ] = {
	"20210329/20210329-001004-1617005404-CallBack-44-202-820(102).wav",
	"20210330/20210330-080000-1617091200-Internal-202-203.wav",
	"20210329/20210329-000719-1617005239-Outbound-44-202-0049301234567.wav",
	"20210331/20210329-001004-1617005404-CallBack-44-202-820(102).wav",
};

#define MAX_EXPECT 4096

/* One callback unpack must make: 'b'egin, 'e'nd, 'r'efused, 'c'onflict. */
struct expect {
	char kind;
	size_t idx;
	int64_t size;     /* begin */
	int complete;     /* end */
	uint64_t len;     /* end: bytes of the entry */
	uint64_t hash;    /* end: FNV-1a of them */
	char *name;       /* refused (NULL when libarchive gave none) */
};

struct run {
	/* the reader */
	const uint8_t *payload;
	size_t size, pos;
	struct pieces pieces;
	unsigned char *piece;
	int break_at_end;
	/* the expected callbacks */
	struct expect ex[MAX_EXPECT];
	size_t nex, at;
	int oracle_complete;  /* the oracle read the archive to its end without an error */
	int bare;             /* the answer is a bare WAV */
	size_t n;
	/* the sink */
	long open;            /* idx begun and not ended, -1 none */
	uint64_t len, hash;
	int fail_kind;        /* 1 begin, 2 data, 3 end */
	unsigned fail_call;
	unsigned calls[4];
	int failed;           /* a callback returned -1 */
};

static uint64_t fnv(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211u;
	return h;
}

#define FNV_START 14695981039346656037u

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	log_set_level(LOG_ERROR);
	return 0;
}

/* ---- the oracle ---- */

static struct expect *expect(struct run *r, char kind, size_t idx)
{
	struct expect *e;

	FUZZ_CHECK(r->nex < MAX_EXPECT, "too many entries for the oracle");
	e = &r->ex[r->nex++];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->idx = idx;
	return e;
}

static void refused(struct run *r, const char *name)
{
	struct expect *e = expect(r, 'r', 0);

	if (name) {
		e->name = strdup(name);
		FUZZ_CHECK(e->name != NULL, "out of memory");
	}
}

struct whole {
	const void *buf;
	size_t len;
	int done;
};

static la_ssize_t whole_read(struct archive *a, void *user, const void **buf)
{
	struct whole *w = user;

	(void)a;
	if (w->done)
		return 0;
	w->done = 1;
	*buf = w->buf;
	return (la_ssize_t)w->len;
}

/* Mirrors the rules of unpack.h on libarchive's view of the whole answer. */
static void oracle(struct run *r)
{
	struct archive *a = archive_read_new();
	struct whole w = { r->payload, r->size, 0 };
	struct archive_entry *e;
	unsigned char seen[NREQ] = { 0 };

	FUZZ_CHECK(a != NULL, "out of memory");
	archive_read_support_format_tar(a);
	archive_read_support_filter_none(a);
	archive_read_support_filter_gzip(a);
	if (archive_read_open(a, &w, NULL, whole_read, NULL) != ARCHIVE_OK)
		goto out;
	for (;;) {
		int rc = archive_read_next_header(a, &e);
		const char *name, *why;
		long idx;
		struct expect *b, *end;
		int64_t size;

		if (rc == ARCHIVE_EOF) {
			r->oracle_complete = 1;
			break;
		}
		if (rc < ARCHIVE_WARN)
			break;
		name = archive_entry_pathname(e);
		if (archive_entry_filetype(e) == AE_IFDIR)
			continue;
		if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) ||
		    archive_entry_symlink(e)) {
			refused(r, name);
			continue;
		}
		idx = unpack_match_name(name, requested, r->n, &why);
		if (idx < 0) {
			FUZZ_CHECK(why != NULL, "unpack_match_name refused without a reason");
			refused(r, name);
			continue;
		}
		FUZZ_CHECK((size_t)idx < r->n, "unpack_match_name gave %ld for %zu paths", idx,
			   r->n);
		if (seen[idx]) {
			expect(r, 'c', (size_t)idx);
			continue;
		}
		seen[idx] = 1;
		size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
		b = expect(r, 'b', (size_t)idx);
		b->size = size;
		end = expect(r, 'e', (size_t)idx);
		end->hash = FNV_START;
		for (;;) {
			const void *buf;
			size_t len;
			la_int64_t off;
			int d = archive_read_data_block(a, &buf, &len, &off);

			if (d == ARCHIVE_EOF) {
				end->complete = size < 0 || (int64_t)end->len == size;
				break;
			}
			if (d < ARCHIVE_WARN)
				goto out; /* unpack reports the archive broken after this end */
			if ((uint64_t)off != end->len) {
				refused(r, name); /* sparse */
				break;
			}
			end->len += len;
			end->hash = fnv(end->hash, buf, len);
		}
	}
out:
	archive_read_free(a);
}

/* ---- the reader: the answer in pieces ---- */

static ssize_t read_piece(void *ctx, const void **buf)
{
	struct run *r = ctx;
	size_t n;

	free(r->piece);
	r->piece = NULL;
	if (r->pos == r->size)
		return r->break_at_end ? -1 : 0;
	n = pieces_next(&r->pieces);
	if (n > r->size - r->pos)
		n = r->size - r->pos;
	r->piece = malloc(n);
	FUZZ_CHECK(r->piece != NULL, "out of memory");
	memcpy(r->piece, r->payload + r->pos, n);
	r->pos += n;
	*buf = r->piece;
	return (ssize_t)n;
}

/* ---- the sink ---- */

static struct expect *next_expected(struct run *r, char kind)
{
	struct expect *e;

	FUZZ_CHECK(!r->failed, "callback '%c' after a callback returned -1", kind);
	FUZZ_CHECK(r->at < r->nex, "callback '%c' beyond the %zu the oracle expects", kind,
		   r->nex);
	e = &r->ex[r->at++];
	FUZZ_CHECK(e->kind == kind, "callback %zu is '%c', the oracle expects '%c' (idx %zu)",
		   r->at - 1, kind, e->kind, e->idx);
	return e;
}

static int maybe_fail(struct run *r, int kind)
{
	if (r->fail_kind == kind && ++r->calls[kind] == r->fail_call) {
		r->failed = 1;
		return -1;
	}
	return 0;
}

static int on_begin(void *ctx, size_t idx, int64_t size)
{
	struct run *r = ctx;

	FUZZ_CHECK(idx < r->n, "begin(%zu) with %zu paths requested", idx, r->n);
	FUZZ_CHECK(r->open < 0, "begin(%zu) inside entry %ld", idx, r->open);
	if (r->bare) {
		FUZZ_CHECK(!r->failed, "begin after a callback returned -1");
		FUZZ_CHECK(idx == 0 && size == -1, "bare WAV begun as (%zu, %lld)", idx,
			   (long long)size);
	} else {
		struct expect *e = next_expected(r, 'b');
		FUZZ_CHECK(e->idx == idx, "begin(%zu), the oracle expects begin(%zu)", idx, e->idx);
		FUZZ_CHECK(e->size == size, "begin(%zu) with size %lld, the header says %lld", idx,
			   (long long)size, (long long)e->size);
	}
	r->open = (long)idx;
	r->len = 0;
	r->hash = FNV_START;
	return maybe_fail(r, 1);
}

static int on_data(void *ctx, size_t idx, const void *buf, size_t len)
{
	struct run *r = ctx;

	FUZZ_CHECK(!r->failed, "data after a callback returned -1");
	FUZZ_CHECK(r->open >= 0 && (size_t)r->open == idx, "data(%zu) while entry %ld is open",
		   idx, r->open);
	FUZZ_CHECK(len > 0 || buf != NULL, "data(%zu) of 0 bytes from NULL", idx);
	r->len += len;
	r->hash = fnv(r->hash, buf, len); /* ASan checks buf[0..len) is readable */
	return maybe_fail(r, 2);
}

static int on_end(void *ctx, size_t idx, int complete)
{
	struct run *r = ctx;

	FUZZ_CHECK(r->open >= 0 && (size_t)r->open == idx, "end(%zu) while entry %ld is open",
		   idx, r->open);
	FUZZ_CHECK(complete == 0 || complete == 1, "end(%zu, %d)", idx, complete);
	if (r->bare) {
		FUZZ_CHECK(!r->failed, "end after a callback returned -1");
		FUZZ_CHECK(r->len == r->size && r->hash == fnv(FNV_START, r->payload, r->size),
			   "bare WAV: %llu bytes delivered of %zu, or other bytes",
			   (unsigned long long)r->len, r->size);
		FUZZ_CHECK(complete == !r->break_at_end, "bare WAV end(complete=%d)", complete);
	} else {
		struct expect *e = next_expected(r, 'e');
		FUZZ_CHECK(e->idx == idx, "end(%zu), the oracle expects end(%zu)", idx, e->idx);
		if (!r->break_at_end)
			FUZZ_CHECK(complete == e->complete, "end(%zu, complete=%d), the oracle says %d",
				   idx, complete, e->complete);
		if (complete) {
			FUZZ_CHECK(e->complete, "end(%zu) says complete, the oracle does not", idx);
			FUZZ_CHECK(r->len == e->len && r->hash == e->hash,
				   "entry %zu: %llu bytes delivered, libarchive reads %llu (or "
				   "other bytes)",
				   idx, (unsigned long long)r->len, (unsigned long long)e->len);
		} else {
			/* Incomplete: the stream broke or the entry was short; what came is a
			 * prefix of what libarchive reads. */
			FUZZ_CHECK(r->len <= e->len, "entry %zu: %llu bytes delivered, more than %llu",
				   idx, (unsigned long long)r->len, (unsigned long long)e->len);
		}
	}
	r->open = -1;
	return maybe_fail(r, 3);
}

static void on_refused(void *ctx, const char *name, const char *why)
{
	struct run *r = ctx;
	struct expect *e;

	FUZZ_CHECK(why != NULL && why[0] != '\0', "refused without a reason");
	FUZZ_CHECK(r->open < 0, "refused(...) inside entry %ld", r->open);
	e = next_expected(r, 'r');
	FUZZ_CHECK((name == NULL) == (e->name == NULL) && (!name || strcmp(name, e->name) == 0),
		   "refused a name the oracle does not expect");
}

static void on_conflict(void *ctx, size_t idx)
{
	struct run *r = ctx;
	struct expect *e;

	FUZZ_CHECK(idx < r->n, "conflict(%zu) with %zu paths requested", idx, r->n);
	FUZZ_CHECK(r->open < 0, "conflict(%zu) inside entry %ld", idx, r->open);
	e = next_expected(r, 'c');
	FUZZ_CHECK(e->idx == idx, "conflict(%zu), the oracle expects conflict(%zu)", idx, e->idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct unpack_sink sink = { on_begin, on_data, on_end, on_refused,
						 on_conflict };
	struct run *r;
	char err[256];
	int rc;

	if (size < 5)
		return -1; /* not even the control bytes: nothing to learn */
	r = calloc(1, sizeof *r);
	FUZZ_CHECK(r != NULL, "out of memory");
	r->n = 1 + (data[0] & 3);
	r->break_at_end = (data[0] >> 2) & 1;
	r->fail_kind = (data[0] >> 3) & 3;
	r->fail_call = 1 + (data[0] >> 5);
	pieces_init(&r->pieces, data + 1, 4, 0);
	r->payload = data + 5;
	r->size = size - 5;
	r->open = -1;
	r->bare = r->size >= 4 && memcmp(r->payload, "RIFF", 4) == 0;
	if (r->size == 0)
		r->oracle_complete = 1; /* an empty answer: none of the files, UNPACK_OK */
	else if (!r->bare)
		oracle(r);

	memset(err, 0, sizeof err);
	rc = unpack_stream(read_piece, r, requested, r->n, UNPACK_GZIP, &sink, r, err, sizeof err);
	FUZZ_CHECK(rc == UNPACK_OK || rc == UNPACK_BROKEN || rc == UNPACK_ABORTED, "result %d", rc);
	FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL, "err not NUL-terminated");
	if (rc == UNPACK_BROKEN)
		FUZZ_CHECK(err[0] != '\0', "UNPACK_BROKEN without a message");
	if (r->failed)
		FUZZ_CHECK(rc != UNPACK_OK, "a callback returned -1 and the result is UNPACK_OK");
	else
		FUZZ_CHECK(rc != UNPACK_ABORTED, "UNPACK_ABORTED but no callback returned -1");
	if (rc != UNPACK_ABORTED)
		FUZZ_CHECK(r->open < 0, "result %d with entry %ld still open", rc, r->open);
	if (r->break_at_end)
		FUZZ_CHECK(rc != UNPACK_OK, "the transfer broke and the result is UNPACK_OK");
	if (r->bare) {
		if (r->n != 1)
			FUZZ_CHECK(rc == UNPACK_BROKEN, "bare WAV for %zu paths gave %d", r->n, rc);
	} else if (rc == UNPACK_OK) {
		FUZZ_CHECK(r->oracle_complete, "UNPACK_OK where libarchive sees a broken archive");
		FUZZ_CHECK(r->at == r->nex, "UNPACK_OK after %zu of the %zu callbacks expected",
			   r->at, r->nex);
	}
	free(r->piece);
	for (size_t i = 0; i < r->nex; i++)
		free(r->ex[i].name);
	free(r);
	return 0;
}
