/* test_unpack.c — a download answer → entries (unpack.c). Tars are built in memory with
 * libarchive's writer and fed through unpack_stream by a reader that hands them out in pieces
 * (7 bytes at a time, one byte at a time, and all at once), each piece in a scratch buffer that
 * is scribbled over on the next call. A recording sink logs every callback and the bytes per
 * idx, and checks the protocol (data only inside begin/end of the same idx). Every hostile
 * answer has a case: traversal and absolute names, links and devices, unrequested and ambiguous
 * names, duplicates, truncation, garbage, a broken transfer, and a failing sink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "archive/unpack.h"

#define P1 "20210329/20210329-001004-1617005404-CallBack-44-202-820(102).wav"
#define B1 "20210329-001004-1617005404-CallBack-44-202-820(102).wav"
#define P2 "20210330/20210330-080000-1617091200-Internal-202-203.wav"
#define B2 "20210330-080000-1617091200-Internal-202-203.wav"

#define MAX_IDX 4
#define MAX_EVENTS 128
#define ALL ((size_t)-1)

/* ---- the recording sink ---- */

struct event {
	char kind; /* 'b'egin, 'e'nd, 'r'efused, 'c'onflict ('d'ata is counted, not logged) */
	size_t idx;
	int64_t size;
	int complete;
	char name[512];
	char why[128];
};

struct rec_sink {
	struct event ev[MAX_EVENTS];
	size_t nev;
	unsigned char *bytes[MAX_IDX];
	size_t len[MAX_IDX];
	long open;             /* idx between begin and end, -1 none */
	size_t ndata;
	size_t fail_data_at;   /* data call number (1-based) that returns -1; 0 never */
	int fail_begin;
	int fail_end;
};

static void sink_init(struct rec_sink *s)
{
	memset(s, 0, sizeof *s);
	s->open = -1;
}

static void sink_free(struct rec_sink *s)
{
	for (int i = 0; i < MAX_IDX; i++)
		free(s->bytes[i]);
	memset(s, 0, sizeof *s);
}

static struct event *log_event(struct rec_sink *s, char kind, size_t idx)
{
	struct event *e;

	assert_true(s->nev < MAX_EVENTS);
	e = &s->ev[s->nev++];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->idx = idx;
	return e;
}

static int on_begin(void *ctx, size_t idx, int64_t size)
{
	struct rec_sink *s = ctx;

	assert_true(idx < MAX_IDX);
	assert_int_equal(s->open, -1); /* one entry at a time */
	log_event(s, 'b', idx)->size = size;
	s->open = (long)idx;
	return s->fail_begin ? -1 : 0;
}

static int on_data(void *ctx, size_t idx, const void *buf, size_t len)
{
	struct rec_sink *s = ctx;
	unsigned char *p;

	assert_int_equal(s->open, (long)idx);
	assert_true(len > 0);
	s->ndata++;
	if (s->fail_data_at && s->ndata == s->fail_data_at)
		return -1;
	p = realloc(s->bytes[idx], s->len[idx] + len);
	assert_non_null(p);
	memcpy(p + s->len[idx], buf, len);
	s->bytes[idx] = p;
	s->len[idx] += len;
	return 0;
}

static int on_end(void *ctx, size_t idx, int complete)
{
	struct rec_sink *s = ctx;

	assert_int_equal(s->open, (long)idx);
	log_event(s, 'e', idx)->complete = complete;
	s->open = -1;
	return s->fail_end ? -1 : 0;
}

static void on_refused(void *ctx, const char *name, const char *why)
{
	struct rec_sink *s = ctx;
	struct event *e = log_event(s, 'r', 0);

	assert_int_equal(s->open, -1);
	snprintf(e->name, sizeof e->name, "%s", name ? name : "(null)");
	snprintf(e->why, sizeof e->why, "%s", why ? why : "");
	assert_non_null(why);
}

static void on_conflict(void *ctx, size_t idx)
{
	struct rec_sink *s = ctx;

	assert_int_equal(s->open, -1);
	log_event(s, 'c', idx);
}

static const struct unpack_sink recording_sink = {
	on_begin, on_data, on_end, on_refused, on_conflict,
};

/* The events as a compact string, e.g. "b0 e0:1 r c0", for messages and exact checks. */
static const char *trace(const struct rec_sink *s)
{
	static char out[1024];
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < s->nev && o < sizeof out - 16; i++) {
		const struct event *e = &s->ev[i];
		int w;

		if (e->kind == 'e')
			w = snprintf(out + o, sizeof out - o, "%se%zu:%d", o ? " " : "", e->idx,
				     e->complete);
		else if (e->kind == 'r')
			w = snprintf(out + o, sizeof out - o, "%sr", o ? " " : "");
		else
			w = snprintf(out + o, sizeof out - o, "%s%c%zu", o ? " " : "", e->kind,
				     e->idx);
		o += (size_t)w;
	}
	return out;
}

static void expect_trace(const struct rec_sink *s, const char *want)
{
	if (strcmp(trace(s), want) != 0)
		fail_msg("sink saw \"%s\", want \"%s\"", trace(s), want);
}

static void expect_bytes(const struct rec_sink *s, size_t idx, const void *want, size_t len)
{
	assert_int_equal(s->len[idx], len);
	assert_memory_equal(s->bytes[idx], want, len);
}

/* The refusal of `name` was reported. */
static void expect_refused(const struct rec_sink *s, const char *name)
{
	for (size_t i = 0; i < s->nev; i++)
		if (s->ev[i].kind == 'r' && strcmp(s->ev[i].name, name) == 0)
			return;
	fail_msg("no refusal of \"%s\" (sink saw \"%s\")", name, trace(s));
}

/* ---- the reader ---- */

struct reader {
	const unsigned char *buf;
	size_t len, pos, chunk;
	size_t fail_at;        /* -1 once pos reaches this; ALL: never */
	unsigned char *scratch;
};

static ssize_t rd(void *ctx, const void **out)
{
	struct reader *r = ctx;
	size_t n;

	if (r->pos >= r->fail_at)
		return -1;
	if (r->pos >= r->len)
		return 0;
	n = r->len - r->pos;
	if (n > r->chunk)
		n = r->chunk;
	if (r->fail_at != ALL && n > r->fail_at - r->pos)
		n = r->fail_at - r->pos;
	/* the previous piece is no longer valid: scribble over it */
	memset(r->scratch, 0xA5, r->chunk < r->len ? r->chunk : r->len);
	memcpy(r->scratch, r->buf + r->pos, n);
	r->pos += n;
	*out = r->scratch;
	return (ssize_t)n;
}

/* Runs unpack_stream over buf[0..len) in pieces of `chunk`, failing at `fail_at`. */
static int run_fail(const void *buf, size_t len, size_t chunk, size_t fail_at,
		    const char *const *req, size_t n, struct rec_sink *s, char *err, size_t errlen)
{
	struct reader r;
	int rc;

	memset(&r, 0, sizeof r);
	r.buf = buf;
	r.len = len;
	r.chunk = chunk == ALL || chunk > len ? (len ? len : 1) : chunk;
	r.fail_at = fail_at;
	r.scratch = malloc(r.chunk);
	assert_non_null(r.scratch);
	err[0] = '\0';
	rc = unpack_stream(rd, &r, req, n, UNPACK_GZIP, &recording_sink, s, err, errlen);
	free(r.scratch);
	if (rc != UNPACK_ABORTED)
		assert_int_equal(s->open, -1); /* every begun entry was ended */
	if (rc == UNPACK_BROKEN && !err[0])
		fail_msg("UNPACK_BROKEN without a message");
	return rc;
}

static int run(const void *buf, size_t len, size_t chunk, const char *const *req, size_t n,
	       struct rec_sink *s, char *err, size_t errlen)
{
	return run_fail(buf, len, chunk, ALL, req, n, s, err, errlen);
}

/* Checks a result, naming the piece size when it is wrong. */
static void expect_rc(int rc, int want, size_t chunk, const char *err)
{
	if (rc != want)
		fail_msg("unpack_stream in pieces of %zu: rc %d, want %d (%s)", chunk, rc, want,
			 err);
}

/* Runs and checks the result, naming the piece size when it is wrong. */
static void expect_run_fail(const void *buf, size_t len, size_t chunk, size_t fail_at,
			    const char *const *req, size_t n, struct rec_sink *s, int want)
{
	char err[256];

	expect_rc(run_fail(buf, len, chunk, fail_at, req, n, s, err, sizeof err), want, chunk, err);
}

static void expect_run(const void *buf, size_t len, size_t chunk, const char *const *req,
		       size_t n, struct rec_sink *s, int want)
{
	expect_run_fail(buf, len, chunk, ALL, req, n, s, want);
}

static const size_t chunks[] = { 7, ALL, 1, 512, 10000 };
#define NCHUNKS (sizeof chunks / sizeof chunks[0])
/* A bare WAV in tiny pieces has its own case (bare_wav_in_tiny_pieces). */
static const size_t bare_chunks[] = { 7, ALL, 4, 512, 10000 };
#define NBARE (sizeof bare_chunks / sizeof bare_chunks[0])

/* ---- building tars ---- */

struct tar {
	unsigned char buf[1 << 18];
	size_t used;
	struct archive *a;
	size_t ends[16]; /* offset after entry k (only meaningful when unblocked) */
	size_t n;
};

static struct tar *tar_new(int unblocked)
{
	struct tar *t = calloc(1, sizeof *t);

	assert_non_null(t);
	t->a = archive_write_new();
	assert_non_null(t->a);
	assert_int_equal(archive_write_set_format_pax_restricted(t->a), ARCHIVE_OK);
	if (unblocked)
		assert_int_equal(archive_write_set_bytes_per_block(t->a, 0), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(t->a, t->buf, sizeof t->buf, &t->used),
			 ARCHIVE_OK);
	return t;
}

static void tar_entry(struct tar *t, const char *name, unsigned type, const char *link,
		      int hardlink, const void *data, size_t len)
{
	struct archive_entry *e = archive_entry_new();

	assert_non_null(e);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_mtime(e, 1617005404, 0);
	if (type == AE_IFCHR) {
		archive_entry_set_rdevmajor(e, 1);
		archive_entry_set_rdevminor(e, 3);
	}
	if (link && hardlink)
		archive_entry_set_hardlink(e, link);
	else if (link)
		archive_entry_set_symlink(e, link);
	archive_entry_set_size(e, type == AE_IFREG && !link ? (la_int64_t)len : 0);
	assert_true(archive_write_header(t->a, e) >= ARCHIVE_WARN);
	if (type == AE_IFREG && !link && len)
		assert_int_equal(archive_write_data(t->a, data, len), (la_ssize_t)len);
	assert_int_equal(archive_write_finish_entry(t->a), ARCHIVE_OK);
	archive_entry_free(e);
	assert_true(t->n < 16);
	t->ends[t->n++] = t->used;
}

static void tar_file(struct tar *t, const char *name, const void *data, size_t len)
{
	tar_entry(t, name, AE_IFREG, NULL, 0, data, len);
}

static void tar_close(struct tar *t)
{
	assert_int_equal(archive_write_close(t->a), ARCHIVE_OK);
	archive_write_free(t->a);
	t->a = NULL;
}

/* A fake recording: "RIFF" and a pattern that differs per seed. */
static void fill_wav(unsigned char *b, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (unsigned char)(i * 31 + seed * 7 + (i >> 8));
	if (len >= 12) {
		memcpy(b, "RIFF", 4);
		memcpy(b + 8, "WAVE", 4);
	}
}

static unsigned char wav_a[3000], wav_b[1000], wav_c[700];

static int group_setup(void **state)
{
	(void)state;
	fill_wav(wav_a, sizeof wav_a, 1);
	fill_wav(wav_b, sizeof wav_b, 2);
	fill_wav(wav_c, sizeof wav_c, 3);
	return 0;
}

/* Builds a tar holding wav_a as `name_a` and wav_b as `name_b` (in that order, or the other way
 * round with `b_first`) and checks that a request for P1, P2 gets wav_a as idx 0 and wav_b as
 * idx 1, in every piece size. */
static void expect_two_delivered_order(const char *name_a, const char *name_b, int b_first)
{
	static const char *const req[] = { P1, P2 };
	struct tar *t = tar_new(0);
	char err[256];

	if (b_first)
		tar_file(t, name_b, wav_b, sizeof wav_b);
	tar_file(t, name_a, wav_a, sizeof wav_a);
	if (!b_first)
		tar_file(t, name_b, wav_b, sizeof wav_b);
	tar_close(t);
	for (size_t c = 0; c < NCHUNKS; c++) {
		struct rec_sink s;

		sink_init(&s);
		if (run(t->buf, t->used, chunks[c], req, 2, &s, err, sizeof err) != UNPACK_OK)
			fail_msg("%s + %s in pieces of %zu: %s", name_a, name_b, chunks[c], err);
		expect_trace(&s, b_first ? "b1 e1:1 b0 e0:1" : "b0 e0:1 b1 e1:1");
		assert_int_equal(s.ev[b_first ? 2 : 0].size, sizeof wav_a);
		assert_int_equal(s.ev[b_first ? 0 : 2].size, sizeof wav_b);
		expect_bytes(&s, 0, wav_a, sizeof wav_a);
		expect_bytes(&s, 1, wav_b, sizeof wav_b);
		sink_free(&s);
	}
	free(t);
}

static void expect_two_delivered(const char *name_a, const char *name_b)
{
	expect_two_delivered_order(name_a, name_b, 0);
}

/* ---- cases ---- */

static void exact_names(void **state)
{
	(void)state;
	expect_two_delivered(P1, P2);
	/* idx follows the request, not the order in the tar */
	expect_two_delivered_order(P1, P2, 1);
}

static void names_without_day_folder(void **state)
{
	(void)state;
	expect_two_delivered(B1, B2);
}

static void dot_slash_prefix(void **state)
{
	(void)state;
	expect_two_delivered("./" P1, "./" B2);
	expect_two_delivered("././" P1, "./" P2);
}

static void folder_prefix(void **state)
{
	(void)state;
	expect_two_delivered("media/monitor/" P1, "var/spool/asterisk/monitor/" P2);
	/* long enough to need a pax or ustar-prefix header */
	expect_two_delivered("var/spool/asterisk/monitor/a/rather/deep/folder/tree/that/takes/the/"
			     "name/past/one/hundred/bytes/" P1,
			     B2);
}

static void unrequested_refused(void **state)
{
	static const char *const req[] = { P1 };
	struct tar *t = tar_new(0);

	(void)state;

	tar_file(t, "20210329/20210329-999999-1-Inbound-1-2-3.wav", wav_c, sizeof wav_c);
	tar_file(t, P2, wav_b, sizeof wav_b);
	tar_file(t, P1, wav_a, sizeof wav_a);
	tar_file(t, "notes.txt", wav_c, 10);
	tar_close(t);
	for (size_t c = 0; c < NCHUNKS; c++) {
		struct rec_sink s;

		sink_init(&s);
		expect_run(t->buf, t->used, chunks[c], req, 1, &s, UNPACK_OK);
		expect_trace(&s, "r r b0 e0:1 r");
		expect_refused(&s, "20210329/20210329-999999-1-Inbound-1-2-3.wav");
		expect_refused(&s, P2);
		expect_refused(&s, "notes.txt");
		expect_bytes(&s, 0, wav_a, sizeof wav_a);
		sink_free(&s);
	}
	free(t);
}

static void traversal_refused(void **state)
{
	/* "x.wav" is requested too, so a name whose base is x.wav would match if not refused */
	static const char *const req[] = { P1, "20210329/x.wav" };
	static const char *const evil[] = {
		"../x.wav", "/tmp/x.wav", "20210329/../x.wav", "../" P1, "/" P1,
		"./../x.wav", "a/../../x.wav", "20210329/x.wav/../x.wav", "//x.wav",
	};
	struct tar *t = tar_new(0);

	(void)state;

	for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++)
		tar_file(t, evil[i], wav_c, sizeof wav_c);
	tar_file(t, P1, wav_a, sizeof wav_a);
	tar_close(t);
	for (size_t c = 0; c < NCHUNKS; c++) {
		struct rec_sink s;

		sink_init(&s);
		expect_run(t->buf, t->used, chunks[c], req, 2, &s, UNPACK_OK);
		expect_trace(&s, "r r r r r r r r r b0 e0:1");
		for (size_t i = 0; i < sizeof evil / sizeof evil[0]; i++)
			expect_refused(&s, evil[i]);
		expect_bytes(&s, 0, wav_a, sizeof wav_a);
		assert_int_equal(s.len[1], 0);
		sink_free(&s);
	}
	free(t);
}

static void links_and_devices_refused(void **state)
{
	static const char *const req[] = { P1, P2 };
	struct tar *t = tar_new(0);

	(void)state;

	tar_entry(t, P1, AE_IFLNK, "/etc/passwd", 0, NULL, 0);
	tar_entry(t, P2, AE_IFREG, P1, 1, NULL, 0);       /* hard link */
	tar_entry(t, "./" P1, AE_IFCHR, NULL, 0, NULL, 0); /* character device */
	tar_entry(t, B2, AE_IFIFO, NULL, 0, NULL, 0);
	tar_entry(t, B1, AE_IFBLK, NULL, 0, NULL, 0);
	tar_file(t, P1, wav_a, sizeof wav_a);
	tar_file(t, P2, wav_b, sizeof wav_b);
	tar_close(t);
	for (size_t c = 0; c < NCHUNKS; c++) {
		struct rec_sink s;

		sink_init(&s);
		expect_run(t->buf, t->used, chunks[c], req, 2, &s, UNPACK_OK);
		/* refused, not taken as the first copy: the real files that follow are delivered
		 * and are no conflict */
		expect_trace(&s, "r r r r r b0 e0:1 b1 e1:1");
		expect_refused(&s, P1);
		expect_refused(&s, P2);
		expect_refused(&s, "./" P1);
		expect_refused(&s, B2);
		expect_refused(&s, B1);
		expect_bytes(&s, 0, wav_a, sizeof wav_a);
		expect_bytes(&s, 1, wav_b, sizeof wav_b);
		sink_free(&s);
	}
	free(t);
}

static void directories_skipped(void **state)
{
	static const char *const req[] = { P1 };
	struct tar *t = tar_new(0);

	(void)state;

	tar_entry(t, "20210329/", AE_IFDIR, NULL, 0, NULL, 0);
	tar_entry(t, "media/monitor", AE_IFDIR, NULL, 0, NULL, 0);
	tar_entry(t, P1 "/", AE_IFDIR, NULL, 0, NULL, 0);
	tar_file(t, P1, wav_a, sizeof wav_a);
	tar_close(t);
	for (size_t c = 0; c < NCHUNKS; c++) {
		struct rec_sink s;

		sink_init(&s);
		expect_run(t->buf, t->used, chunks[c], req, 1, &s, UNPACK_OK);
		expect_trace(&s, "b0 e0:1");
		expect_bytes(&s, 0, wav_a, sizeof wav_a);
		sink_free(&s);
	}
	free(t);
}

static void duplicate_is_conflict(void **state)
{
	static const char *const req[] = { P1, P2 };
	struct tar *t = tar_new(0);

	(void)state;

	tar_file(t, P1, wav_a, sizeof wav_a);
	tar_file(t, P2, wav_b, sizeof wav_b);
	tar_file(t, B1, wav_c, sizeof wav_c); /* the same recording again, by its base name */
	tar_close(t);
	for (size_t c = 0; c < NCHUNKS; c++) {
		struct rec_sink s;

		sink_init(&s);
		expect_run(t->buf, t->used, chunks[c], req, 2, &s, UNPACK_OK);
		expect_trace(&s, "b0 e0:1 b1 e1:1 c0");
		expect_bytes(&s, 0, wav_a, sizeof wav_a); /* the second copy is not delivered */
		sink_free(&s);
	}
	free(t);
}

/* A tar of P1 (wav_a) and P2 (wav_b), unblocked so entry offsets are known. */
static struct tar *two_entry_tar(void)
{
	struct tar *t = tar_new(1);

	tar_file(t, P1, wav_a, sizeof wav_a);
	tar_file(t, P2, wav_b, sizeof wav_b);
	tar_close(t);
	/* header + 3000 bytes padded to 3072; header + 1000 padded to 1024; two zero blocks */
	assert_int_equal(t->ends[0], 512 + 3072);
	assert_int_equal(t->ends[1], 512 + 3072 + 512 + 1024);
	assert_int_equal(t->used, t->ends[1] + 1024);
	return t;
}

static void truncated_mid_entry(void **state)
{
	static const char *const req[] = { P1, P2 };
	struct tar *t = two_entry_tar();

	(void)state;
	for (size_t c = 0; c < NCHUNKS; c++) {
		struct rec_sink s;

		/* inside the first entry's data */
		sink_init(&s);
		expect_run(t->buf, 512 + 1000, chunks[c], req, 2, &s, UNPACK_BROKEN);
		expect_trace(&s, "b0 e0:0");
		assert_true(s.len[0] <= 1000);
		sink_free(&s);

		/* one byte short of the first entry's data */
		sink_init(&s);
		expect_run(t->buf, 512 + 2999, chunks[c], req, 2, &s, UNPACK_BROKEN);
		expect_trace(&s, "b0 e0:0");
		sink_free(&s);

		/* inside the second entry's data: the first is whole */
		sink_init(&s);
		expect_run(t->buf, t->ends[0] + 512 + 10, chunks[c], req, 2, &s, UNPACK_BROKEN);
		expect_trace(&s, "b0 e0:1 b1 e1:0");
		expect_bytes(&s, 0, wav_a, sizeof wav_a);
		sink_free(&s);

		/* inside the second entry's header */
		sink_init(&s);
		expect_run(t->buf, t->ends[0] + 100, chunks[c], req, 2, &s, UNPACK_BROKEN);
		expect_trace(&s, "b0 e0:1");
		sink_free(&s);

		/* inside the first header */
		sink_init(&s);
		expect_run(t->buf, 300, chunks[c], req, 2, &s, UNPACK_BROKEN);
		expect_trace(&s, "");
		sink_free(&s);
	}
	free(t);
}

/* Cut exactly after the first entry (no second entry, no end-of-archive blocks): the first
 * entry is whole and delivered complete, the second was never begun (so it is fetched again). */
static void cut_at_entry_boundary(void **state)
{
	static const char *const req[] = { P1, P2 };
	struct tar *t = two_entry_tar();
	char err[256];

	(void)state;
	for (size_t c = 0; c < NCHUNKS; c++) {
		struct rec_sink s;
		int rc;

		sink_init(&s);
		rc = run(t->buf, t->ends[0], chunks[c], req, 2, &s, err, sizeof err);
		expect_trace(&s, "b0 e0:1");
		expect_bytes(&s, 0, wav_a, sizeof wav_a);
		assert_int_equal(s.len[1], 0);
		if (rc != UNPACK_OK)
			fail_msg("a tar cut at an entry boundary: rc %d (%s)", rc, err);
		sink_free(&s);

		/* both entries, then the end: the end-of-archive blocks missing */
		sink_init(&s);
		rc = run(t->buf, t->ends[1], chunks[c], req, 2, &s, err, sizeof err);
		assert_int_equal(rc, UNPACK_OK);
		expect_trace(&s, "b0 e0:1 b1 e1:1");
		sink_free(&s);
	}
	free(t);
}

static void empty_stream(void **state)
{
	static const char *const req[] = { P1, P2 };
	struct rec_sink s;
	char err[256];

	(void)state;
	sink_init(&s);
	assert_int_equal(run("", 0, ALL, req, 2, &s, err, sizeof err), UNPACK_OK);
	expect_trace(&s, "");
	sink_free(&s);

	/* a transfer that fails before any byte is broken, not empty */
	sink_init(&s);
	assert_int_equal(run_fail(wav_a, sizeof wav_a, 7, 0, req, 2, &s, err, sizeof err),
			 UNPACK_BROKEN);
	expect_trace(&s, "");
	sink_free(&s);
}

static void bare_wav_one_file(void **state)
{
	static const char *const req[] = { P1 };

	(void)state;
	for (size_t c = 0; c < NBARE; c++) {
		struct rec_sink s;

		sink_init(&s);
		expect_run(wav_a, sizeof wav_a, bare_chunks[c], req, 1, &s, UNPACK_OK);
		expect_trace(&s, "b0 e0:1");
		assert_int_equal(s.ev[0].size, -1);
		expect_bytes(&s, 0, wav_a, sizeof wav_a);
		sink_free(&s);
	}
}

/* The answer is told apart by its first bytes, not by the size of the first piece the reader
 * happens to hand out: a bare WAV handed over 1, 2 or 3 bytes at a time is still a WAV. */
static void bare_wav_in_tiny_pieces(void **state)
{
	static const char *const req[] = { P1 };
	static const size_t tiny[] = { 1, 2, 3 };

	(void)state;
	for (size_t c = 0; c < sizeof tiny / sizeof tiny[0]; c++) {
		struct rec_sink s;

		sink_init(&s);
		expect_run(wav_a, sizeof wav_a, tiny[c], req, 1, &s, UNPACK_OK);
		expect_trace(&s, "b0 e0:1");
		expect_bytes(&s, 0, wav_a, sizeof wav_a);
		sink_free(&s);
	}
}

static void bare_wav_broken_transfer(void **state)
{
	static const char *const req[] = { P1 };

	(void)state;
	for (size_t c = 0; c < NBARE; c++) {
		struct rec_sink s;

		sink_init(&s);
		expect_run_fail(wav_a, sizeof wav_a, bare_chunks[c], 1500, req, 1, &s,
				UNPACK_BROKEN);
		expect_trace(&s, "b0 e0:0");
		sink_free(&s);
	}
}

static void bare_wav_for_two_files(void **state)
{
	static const char *const req[] = { P1, P2 };

	(void)state;
	for (size_t c = 0; c < NBARE; c++) {
		struct rec_sink s;

		sink_init(&s);
		expect_run(wav_a, sizeof wav_a, bare_chunks[c], req, 2, &s, UNPACK_BROKEN);
		expect_trace(&s, "");
		sink_free(&s);
	}
}

static void garbage_is_broken(void **state)
{
	static const char *const req[] = { P1 };
	static const char html[] =
		"<!DOCTYPE html>\n<html><head><title>Login</title></head>\n"
		"<body><form action=\"/login\" method=\"post\"><input name=\"username\">"
		"<input name=\"password\" type=\"password\"></form></body></html>\n";
	static const char json[] = "{\"status\":-6,\"error\":\"session expired\"}";
	char big[4096];

	(void)state;
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = html[i % (sizeof html - 1)];
	for (size_t c = 0; c < NCHUNKS; c++) {
		struct rec_sink s;

		sink_init(&s);
		expect_run(html, sizeof html - 1, chunks[c], req, 1, &s, UNPACK_BROKEN);
		expect_trace(&s, "");
		sink_free(&s);

		sink_init(&s);
		expect_run(big, sizeof big, chunks[c], req, 1, &s, UNPACK_BROKEN);
		expect_trace(&s, "");
		sink_free(&s);

		sink_init(&s);
		expect_run(json, sizeof json - 1, chunks[c], req, 1, &s, UNPACK_BROKEN);
		expect_trace(&s, "");
		sink_free(&s);
	}
}

static void reader_fails_mid_stream(void **state)
{
	static const char *const req[] = { P1, P2 };
	struct tar *t = tar_new(0);
	size_t len;

	(void)state;
	tar_file(t, P1, wav_a, sizeof wav_a);
	tar_file(t, P2, wav_b, sizeof wav_b);
	tar_close(t);
	/* entries and end blocks take 6144 bytes; a writer pads them to a 10240-byte record */
	assert_int_equal(t->used, 6144);
	len = 10240; /* t->buf is zero past t->used */
	for (size_t c = 0; c < NCHUNKS; c++) {
		struct rec_sink s;

		/* inside the first entry */
		sink_init(&s);
		expect_run_fail(t->buf, len, chunks[c], 2000, req, 2, &s, UNPACK_BROKEN);
		expect_trace(&s, "b0 e0:0");
		sink_free(&s);

		/* in the second header */
		sink_init(&s);
		expect_run_fail(t->buf, len, chunks[c], 3584 + 200, req, 2, &s, UNPACK_BROKEN);
		expect_trace(&s, "b0 e0:1");
		sink_free(&s);

		/* after the end-of-archive blocks, in the record padding: still broken */
		sink_init(&s);
		expect_run_fail(t->buf, len, chunks[c], 9000, req, 2, &s, UNPACK_BROKEN);
		expect_trace(&s, "b0 e0:1 b1 e1:1");
		sink_free(&s);

		/* and the whole stream with its padding is fine */
		sink_init(&s);
		expect_run(t->buf, len, chunks[c], req, 2, &s, UNPACK_OK);
		expect_trace(&s, "b0 e0:1 b1 e1:1");
		sink_free(&s);
	}
	free(t);
}

static void trailing_junk_capped(void **state)
{
	static const char *const req[] = { P1 };
	struct tar *t = tar_new(1);
	unsigned char *big;
	size_t len;
	struct rec_sink s;
	char err[256];

	(void)state;
	tar_file(t, P1, wav_a, sizeof wav_a);
	tar_close(t);
	len = t->used + (3u << 20);
	big = calloc(1, len);
	assert_non_null(big);
	memcpy(big, t->buf, t->used);
	sink_init(&s);
	assert_int_equal(run(big, len, 65536, req, 1, &s, err, sizeof err), UNPACK_BROKEN);
	expect_trace(&s, "b0 e0:1");
	sink_free(&s);
	free(big);
	free(t);
}

static void sink_aborts(void **state)
{
	static const char *const req[] = { P1, P2 };
	struct tar *t = tar_new(0);

	(void)state;
	tar_file(t, P1, wav_a, sizeof wav_a);
	tar_file(t, P2, wav_b, sizeof wav_b);
	tar_close(t);
	for (size_t c = 0; c < NCHUNKS; c++) {
		struct rec_sink s;

		/* data() fails on its first call: nothing more is handed out */
		sink_init(&s);
		s.fail_data_at = 1;
		expect_run(t->buf, t->used, chunks[c], req, 2, &s, UNPACK_ABORTED);
		assert_int_equal(s.ndata, 1);
		sink_free(&s);

		/* begin() refuses */
		sink_init(&s);
		s.fail_begin = 1;
		expect_run(t->buf, t->used, chunks[c], req, 2, &s, UNPACK_ABORTED);
		assert_int_equal(s.ndata, 0);
		expect_trace(&s, "b0");
		sink_free(&s);

		/* end() fails */
		sink_init(&s);
		s.fail_end = 1;
		expect_run(t->buf, t->used, chunks[c], req, 2, &s, UNPACK_ABORTED);
		expect_trace(&s, "b0 e0:1");
		sink_free(&s);

		/* data() fails for a bare WAV too */
		sink_init(&s);
		s.fail_data_at = 1;
		expect_run(wav_a, sizeof wav_a, bare_chunks[c], req, 1, &s, UNPACK_ABORTED);
		sink_free(&s);
	}
	free(t);
}

static void match_name_directly(void **state)
{
	static const char *const req[] = { P1, P2, "20210331/x.wav" };
	const char *why;

	(void)state;
	why = NULL;
	assert_int_equal(unpack_match_name(P1, req, 3, &why), 0);
	assert_int_equal(unpack_match_name(P2, req, 3, &why), 1);
	assert_int_equal(unpack_match_name("./" P2, req, 3, &why), 1);
	assert_int_equal(unpack_match_name("././" P1, req, 3, &why), 0);
	assert_int_equal(unpack_match_name("media/monitor/" P1, req, 3, &why), 0);
	assert_int_equal(unpack_match_name(B1, req, 3, &why), 0);
	assert_int_equal(unpack_match_name("x.wav", req, 3, &why), 2);
	assert_int_equal(unpack_match_name("media/x.wav", req, 3, &why), 2);

	static const char *const refused[] = {
		"", "/" P1, "/tmp/x.wav", "../x.wav", "../" P1, "20210329/../" B1, "a/../x.wav",
		"x.wav/..", "..", "y.wav", "20210329/y.wav", P1 "x", "x" B1, "X.WAV",
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		why = NULL;
		if (unpack_match_name(refused[i], req, 3, &why) != -1)
			fail_msg("unpack_match_name accepted \"%s\"", refused[i]);
		assert_non_null(why);
		assert_true(strlen(why) > 0);
	}
	why = NULL;
	assert_int_equal(unpack_match_name(NULL, req, 3, &why), -1);
	assert_non_null(why);

	/* a name longer than any cap is refused, not matched by its tail */
	{
		char longname[5000];
		memset(longname, 'a', sizeof longname);
		memcpy(longname + sizeof longname - 1 - strlen(P1) - 1, "/" P1, strlen(P1) + 2);
		why = NULL;
		assert_int_equal(unpack_match_name(longname, req, 3, &why), -1);
		assert_non_null(why);
	}
}

/* The same base name in two requested folders: a bare base name is ambiguous and refused,
 * while the full paths still match their own index. */
static void ambiguous_base_name(void **state)
{
	static const char *const req[] = { "20210329/x.wav", "20210330/x.wav" };
	const char *why = NULL;
	struct tar *t;

	(void)state;
	assert_int_equal(unpack_match_name("x.wav", req, 2, &why), -1);
	assert_non_null(why);
	assert_int_equal(unpack_match_name("./x.wav", req, 2, &why), -1);
	assert_int_equal(unpack_match_name("other/x.wav", req, 2, &why), -1);
	assert_int_equal(unpack_match_name("20210329/x.wav", req, 2, &why), 0);
	assert_int_equal(unpack_match_name("20210330/x.wav", req, 2, &why), 1);
	assert_int_equal(unpack_match_name("media/20210330/x.wav", req, 2, &why), 1);

	t = tar_new(0);
	tar_file(t, "x.wav", wav_c, sizeof wav_c);
	tar_file(t, "20210330/x.wav", wav_b, sizeof wav_b);
	tar_close(t);
	for (size_t c = 0; c < NCHUNKS; c++) {
		struct rec_sink s;

		sink_init(&s);
		expect_run(t->buf, t->used, chunks[c], req, 2, &s, UNPACK_OK);
		expect_trace(&s, "r b1 e1:1");
		expect_refused(&s, "x.wav");
		expect_bytes(&s, 1, wav_b, sizeof wav_b);
		sink_free(&s);
	}
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_names),
		cmocka_unit_test(names_without_day_folder),
		cmocka_unit_test(dot_slash_prefix),
		cmocka_unit_test(folder_prefix),
		cmocka_unit_test(unrequested_refused),
		cmocka_unit_test(traversal_refused),
		cmocka_unit_test(links_and_devices_refused),
		cmocka_unit_test(directories_skipped),
		cmocka_unit_test(duplicate_is_conflict),
		cmocka_unit_test(truncated_mid_entry),
		cmocka_unit_test(cut_at_entry_boundary),
		cmocka_unit_test(empty_stream),
		cmocka_unit_test(bare_wav_one_file),
		cmocka_unit_test(bare_wav_in_tiny_pieces),
		cmocka_unit_test(bare_wav_broken_transfer),
		cmocka_unit_test(bare_wav_for_two_files),
		cmocka_unit_test(garbage_is_broken),
		cmocka_unit_test(reader_fails_mid_stream),
		cmocka_unit_test(trailing_junk_capped),
		cmocka_unit_test(sink_aborts),
		cmocka_unit_test(match_name_directly),
		cmocka_unit_test(ambiguous_base_name),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
