/* fuzz_ami.c — the AMI framing parser and the recording events (src/pbx/ami.h) on hostile servers.
 *
 * Input: byte 0 is a flag byte: bits 0-1 give the number of piece bytes that follow (1 to 4,
 * fuzz_common.h), bit 2 allows 0-byte feeds, bit 3 also ends a piece right after every CR (so
 * that each "\r\n" is split between two feeds). The rest is what the server sends. It is
 * parsed with expect_banner on and then off, each time three ways: fed in one piece (fed
 * again from where `used` stops), fed in those pieces, and fed one byte at a time (up to
 * 512 bytes). run.sh fuzzes up to 16 KiB (speed); the 64 KiB-message seed is replayed whole.
 * Each piece is its own exact-size heap copy, freed after its feed.
 * Invariants: no crash or leak; ami_parser_feed gives one of the enum's values, `used` never
 * exceeds the piece, is the whole piece on AMI_PARSE_MORE, is not 0 on AMI_PARSE_MESSAGE, and
 * the parser never stalls (0 bytes used twice in a row); a feed calls neither malloc nor free
 * (ASan's malloc hooks, on this thread; the parser's memory is fixed at creation); the banner comes at most once,
 * only with expect_banner, NUL-terminated within AMI_BANNER_MAX, without LF; a message has
 * fields or is damaged, at most AMI_FIELDS_MAX fields; keys and values are NUL-terminated, hold
 * no LF (no CR either unless the input has a CR not followed by LF: a lone CR is data), a key
 * no ':' and no trailing blank, a value no leading blank, a line within AMI_LINE_MAX and all
 * lines within AMI_MESSAGE_MAX; `damaged` is NULL or a non-empty reason; ami_get finds the
 * first field of a key in any case; the three ways give the same banners and messages (keys,
 * values, damaged). ami_recording_event gives -1, 0 or 1, 0 for other events, -1 for a
 * damaged recording event, empty strings unless 1; on 1 pbx_path is "YYYYMMDD/<key>.wav", the
 * key is recname_key() of the name, not empty, without '/', "..", '\\' or a control
 * character, and both fit exactly-sized buffers but not one byte less. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"
#include "pbx/ami.h"
#include "pbx/recname.h"

#define BYTEWISE_MAX 512 /* beyond, the piece bytes (0x01: 1-byte pieces) do it */

/* ASan's (in both builds); weak so that a build without it still links. The hooks see every
 * thread's malloc and free: only those of this thread inside ami_parser_feed are counted
 * (libFuzzer's own threads allocate now and then). */
int __sanitizer_install_malloc_and_free_hooks(void (*m)(const volatile void *, size_t),
					      void (*f)(const volatile void *))
	__attribute__((weak));
static __thread int in_feed;
static __thread size_t feed_allocs;

static void malloc_hook(const volatile void *ptr, size_t size)
{
	(void)ptr;
	(void)size;
	if (in_feed)
		feed_allocs++;
}

static void free_hook(const volatile void *ptr)
{
	(void)ptr;
	if (in_feed)
		feed_allocs++;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	if (__sanitizer_install_malloc_and_free_hooks)
		__sanitizer_install_malloc_and_free_hooks(malloc_hook, free_hook);
	return 0;
}

/* What a parse gave, flattened: "B<banner>\0", "M<n>\0<key>\0<value>\0...<damaged or ->\0". */
struct trace {
	char *buf;
	size_t len, cap;
	size_t nmsg;
};

static void put(struct trace *t, const char *s, size_t n)
{
	if (t->len + n > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		char *b;

		while (cap < t->len + n)
			cap *= 2;
		b = realloc(t->buf, cap);
		FUZZ_CHECK(b != NULL, "out of memory");
		t->buf = b;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
}

static void puts0(struct trace *t, const char *s)
{
	put(t, s, strlen(s) + 1);
}

static int has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static void check_recording(const struct ami_message *m, size_t n)
{
	static char path[1024], key[1024], path2[1024], key2[1024], want[1024];
	const char *event = ami_get(m, "Event"), *name = NULL;
	int is_rec = 0, rc, rc2;
	size_t plen, klen;

	if (event && strcasecmp(event, "AutoMixMonitorEnd") == 0) {
		is_rec = 1;
		name = ami_get(m, "File Name");
	} else if (event && strcasecmp(event, "Cdr") == 0) {
		is_rec = 1;
		name = ami_get(m, "Recording File Name");
	}
	memset(path, 'x', sizeof path);
	memset(key, 'x', sizeof key);
	rc = ami_recording_event(m, path, sizeof path, key, sizeof key);
	FUZZ_CHECK(rc == -1 || rc == 0 || rc == 1, "message %zu: ami_recording_event gave %d", n,
		   rc);
	FUZZ_CHECK(memchr(path, '\0', sizeof path) && memchr(key, '\0', sizeof key),
		   "message %zu: pbx_path or key not NUL-terminated (rc %d)", n, rc);
	if (!is_rec)
		FUZZ_CHECK(rc == 0, "message %zu: not a recording event, yet %d", n, rc);
	if (is_rec && m->damaged)
		FUZZ_CHECK(rc == -1, "message %zu: damaged (%s) recording event gave %d", n,
			   m->damaged, rc);
	if (rc != 1) {
		FUZZ_CHECK(path[0] == '\0' && key[0] == '\0',
			   "message %zu: rc %d with pbx_path \"%s\", key \"%s\"", n, rc, path, key);
		return;
	}
	FUZZ_CHECK(is_rec && name != NULL && m->damaged == NULL, "message %zu: 1 without a name",
		   n);
	plen = strlen(path);
	klen = strlen(key);
	FUZZ_CHECK(klen > 0, "message %zu: empty key", n);
	FUZZ_CHECK(!strchr(key, '/') && !strstr(key, "..") && !strchr(key, '\\') && !has_ctl(key),
		   "message %zu: key \"%s\" is unsafe", n, key);
	FUZZ_CHECK(plen == 9 + klen + 4 && path[8] == '/' && memcmp(path + 9, key, klen) == 0 &&
			   memcmp(path + 9 + klen, ".wav", 4) == 0,
		   "message %zu: pbx_path \"%s\" is not YYYYMMDD/%s.wav", n, path, key);
	for (int i = 0; i < 8; i++)
		FUZZ_CHECK(path[i] >= '0' && path[i] <= '9', "message %zu: pbx_path \"%s\" has no day",
			   n, path);
	/* (A key may end in '.': "20210422/a..wav" is one file name, not a "..".) */
	FUZZ_CHECK(strchr(path + 9, '/') == NULL, "message %zu: pbx_path \"%s\" is unsafe", n,
		   path);
	FUZZ_CHECK(recname_key(name, want, sizeof want) == 0 && strcmp(want, key) == 0,
		   "message %zu: key \"%s\", recname_key says \"%s\"", n, key, want);
	/* Exactly-sized buffers fit; one byte less does not, and leaves both empty. */
	rc2 = ami_recording_event(m, path2, plen + 1, key2, klen + 1);
	FUZZ_CHECK(rc2 == 1 && strcmp(path2, path) == 0 && strcmp(key2, key) == 0,
		   "message %zu: exact buffers gave %d", n, rc2);
	memset(key2, 'x', klen + 1);
	rc2 = ami_recording_event(m, path2, plen, key2, klen + 1);
	FUZZ_CHECK(rc2 == -1 && path2[0] == '\0' && key2[0] == '\0',
		   "message %zu: pbx_path buffer one byte short gave %d", n, rc2);
	memset(path2, 'x', plen + 1);
	rc2 = ami_recording_event(m, path2, plen + 1, key2, klen);
	FUZZ_CHECK(rc2 == -1 && path2[0] == '\0' && key2[0] == '\0',
		   "message %zu: key buffer one byte short gave %d", n, rc2);
}

static void check_message(const struct ami_message *m, size_t n, int lone_cr, struct trace *t)
{
	size_t total = 0;
	char num[32];

	FUZZ_CHECK(m->nfields <= AMI_FIELDS_MAX, "message %zu: %zu fields", n, m->nfields);
	FUZZ_CHECK(m->nfields > 0 || m->damaged != NULL, "message %zu: empty and not damaged", n);
	if (m->damaged)
		FUZZ_CHECK(m->damaged[0] != '\0', "message %zu: damaged with no reason", n);
	snprintf(num, sizeof num, "M%zu", m->nfields);
	puts0(t, num);
	for (size_t i = 0; i < m->nfields; i++) {
		const char *k = m->fields[i].key, *v = m->fields[i].value;
		size_t kl, vl;

		FUZZ_CHECK(k != NULL && v != NULL, "message %zu field %zu: NULL", n, i);
		kl = strnlen(k, AMI_LINE_MAX + 1);
		vl = strnlen(v, AMI_LINE_MAX + 1);
		FUZZ_CHECK(kl + vl + 1 <= AMI_LINE_MAX, "message %zu field %zu: %zu + %zu bytes", n, i,
			   kl, vl);
		total += kl + vl + 2;
		FUZZ_CHECK(!strchr(k, '\n') && !strchr(v, '\n'), "message %zu field %zu: LF inside",
			   n, i);
		if (!lone_cr)
			FUZZ_CHECK(!strchr(k, '\r') && !strchr(v, '\r'),
				   "message %zu field %zu: CR inside, no lone CR in the input", n, i);
		FUZZ_CHECK(!strchr(k, ':'), "message %zu field %zu: ':' in key \"%s\"", n, i, k);
		FUZZ_CHECK(kl == 0 || (k[kl - 1] != ' ' && k[kl - 1] != '\t'),
			   "message %zu field %zu: key \"%s\" ends in a blank", n, i, k);
		FUZZ_CHECK(v[0] != ' ' && v[0] != '\t', "message %zu field %zu: value starts blank",
			   n, i);
		for (size_t j = 0; j <= i; j++)
			if (strcasecmp(m->fields[j].key, k) == 0) {
				FUZZ_CHECK(ami_get(m, k) == m->fields[j].value,
					   "message %zu: ami_get(\"%s\") is not field %zu", n, k, j);
				break;
			}
		puts0(t, k);
		puts0(t, v);
	}
	FUZZ_CHECK(total <= AMI_MESSAGE_MAX, "message %zu: %zu bytes of fields", n, total);
	puts0(t, m->damaged ? m->damaged : "-");
	check_recording(m, n);
}

struct run {
	struct ami_parser *p;
	int banner_wanted, banners, stalled, lone_cr;
	struct trace t;
};

/* Feeds one piece (its own heap copy) until all of it is used. */
static void feed(struct run *r, const uint8_t *data, size_t n)
{
	char *copy = malloc(n ? n : 1);
	size_t off = 0;

	FUZZ_CHECK(copy != NULL, "out of memory");
	memcpy(copy, data, n);
	do {
		size_t used = (size_t)-1;
		enum ami_parse res;

		feed_allocs = 0;
		in_feed = 1;
		res = ami_parser_feed(r->p, copy + off, n - off, &used);
		in_feed = 0;
		FUZZ_CHECK(feed_allocs == 0, "a feed called malloc or free %zu times", feed_allocs);
		FUZZ_CHECK(used <= n - off, "used %zu of a %zu-byte piece", used, n - off);
		FUZZ_CHECK(res == AMI_PARSE_MORE || res == AMI_PARSE_MESSAGE || res == AMI_PARSE_BANNER,
			   "feed gave %d", (int)res);
		if (res == AMI_PARSE_MORE) {
			FUZZ_CHECK(used == n - off, "AMI_PARSE_MORE but used %zu of %zu", used, n - off);
		} else if (res == AMI_PARSE_MESSAGE) {
			FUZZ_CHECK(used > 0, "a message from 0 bytes");
			check_message(ami_parser_message(r->p), r->t.nmsg++, r->lone_cr, &r->t);
		} else {
			const char *b = ami_parser_banner(r->p);

			FUZZ_CHECK(r->banner_wanted && r->banners == 0, "banner %d (expected: %d)",
				   r->banners + 1, r->banner_wanted);
			r->banners++;
			FUZZ_CHECK(b != NULL, "AMI_PARSE_BANNER but no banner");
			FUZZ_CHECK(strnlen(b, AMI_BANNER_MAX + 1) <= AMI_BANNER_MAX,
				   "banner longer than %d", AMI_BANNER_MAX);
			FUZZ_CHECK(!strchr(b, '\n'), "LF in the banner");
			if (!r->lone_cr)
				FUZZ_CHECK(!strchr(b, '\r'), "CR in the banner, no lone CR in the input");
			put(&r->t, "B", 1);
			puts0(&r->t, b);
		}
		if (used == 0 && off < n) {
			FUZZ_CHECK(!r->stalled, "0 bytes used twice in a row (result %d)", (int)res);
			r->stalled = 1;
		} else if (used > 0) {
			r->stalled = 0;
		}
		off += used;
	} while (off < n);
	free(copy);
}

static void run_start(struct run *r, int banner, int lone_cr)
{
	memset(r, 0, sizeof *r);
	r->p = ami_parser_new(banner);
	FUZZ_CHECK(r->p != NULL, "ami_parser_new(%d) gave NULL", banner);
	r->banner_wanted = banner;
	r->lone_cr = lone_cr;
	if (!banner)
		FUZZ_CHECK(ami_parser_banner(r->p) == NULL, "a banner without expect_banner");
}

static void run_end(struct run *r)
{
	if (r->banners == 0)
		FUZZ_CHECK(ami_parser_banner(r->p) == NULL, "a banner never handed out");
	ami_parser_free(r->p);
	free(r->t.buf);
}

static void same(const struct run *a, const struct run *b, const char *how, int banner)
{
	size_t i = 0;

	if (a->t.len == b->t.len && (a->t.len == 0 || memcmp(a->t.buf, b->t.buf, a->t.len) == 0))
		return;
	while (i < a->t.len && i < b->t.len && a->t.buf[i] == b->t.buf[i])
		i++;
	FUZZ_CHECK(0, "expect_banner %d: whole gave %zu messages (%zu bytes), %s %zu (%zu bytes); "
		   "they differ at byte %zu", banner, a->t.nmsg, a->t.len, how, b->t.nmsg, b->t.len, i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *payload;
	struct pieces pc;
	size_t nctl, n;
	int flags, cut_cr, lone_cr = 0;

	if (size < 1)
		return 0;
	flags = data[0];
	nctl = 1 + (flags & 3);
	if (size < 1 + nctl)
		return 0;
	cut_cr = (flags & 8) != 0;
	payload = data + 1 + nctl;
	n = size - 1 - nctl;
	for (size_t i = 0; i < n; i++)
		if (payload[i] == '\r' && (i + 1 == n || payload[i + 1] != '\n'))
			lone_cr = 1;

	for (int banner = 1; banner >= 0; banner--) {
		struct run whole, chunks, bytes;
		size_t off = 0;

		run_start(&whole, banner, lone_cr);
		feed(&whole, payload, n);

		run_start(&chunks, banner, lone_cr);
		pieces_init(&pc, data + 1, nctl, (flags & 4) != 0);
		while (off < n) {
			size_t want = pieces_next(&pc);

			if (want > n - off)
				want = n - off;
			if (cut_cr) {
				const uint8_t *cr = memchr(payload + off, '\r', want);

				if (cr)
					want = (size_t)(cr - (payload + off)) + 1;
			}
			feed(&chunks, payload + off, want);
			off += want;
		}
		same(&whole, &chunks, "pieces", banner);

		if (n <= BYTEWISE_MAX) {
			run_start(&bytes, banner, lone_cr);
			for (size_t i = 0; i < n; i++)
				feed(&bytes, payload + i, 1);
			same(&whole, &bytes, "bytewise", banner);
			run_end(&bytes);
		}
		run_end(&chunks);
		run_end(&whole);
	}
	return 0;
}
