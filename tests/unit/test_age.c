/* test_age.c — the age module (age.c): round trips at the chunk-edge sizes with 1 and 3
 * recipients and the writer fed in odd pieces; the read-back check (age_writer_verify) passing
 * on the written file and failing, with the right message, on every kind of damage; decryption
 * outcomes (no match, HMAC, header, payload, I/O) and what plaintext a failure releases; key
 * parsing and key files; the C2SP CCTV vectors in ../shared/testdata/age-cctv (skipped when
 * absent); and, when Debian's `age` is installed, our files decrypted by `age -d` and
 * age-keygen's keys used by us. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "crypto/age.h"
#include "crypto/bech32.h"
#include "crypto/hash.h"

#define K64 65536
#define BIG (5 * 1024 * 1024)
#define CTC (K64 + 16)
#define CCTV_DIR "../shared/testdata/age-cctv"

/* ---------------------------------------------------------------- helpers */

struct mem {
	unsigned char *p;
	size_t len, cap;
	long fail_at; /* the out call number that fails, or -1 */
	long calls;
};

static int mem_out(void *ctx, const void *buf, size_t len)
{
	struct mem *m = ctx;

	if (m->fail_at >= 0 && m->calls++ == m->fail_at)
		return -1;
	if (m->len + len > m->cap) {
		size_t cap = m->cap ? m->cap : 4096;

		while (cap < m->len + len)
			cap *= 2;
		m->p = realloc(m->p, cap);
		assert_non_null(m->p);
		m->cap = cap;
	}
	if (len)
		memcpy(m->p + m->len, buf, len);
	m->len += len;
	return 0;
}

static void mem_init(struct mem *m)
{
	memset(m, 0, sizeof *m);
	m->fail_at = -1;
}

static void mem_free(struct mem *m)
{
	free(m->p);
	mem_init(m);
}

/* An fd (memfd) holding `len` bytes, at offset 0. */
static int fd_of(const void *p, size_t len)
{
	int fd = memfd_create("age-test", MFD_CLOEXEC);
	const unsigned char *b = p;
	size_t done = 0;

	assert_true(fd >= 0);
	while (done < len) {
		ssize_t w = write(fd, b + done, len - done);

		assert_true(w > 0);
		done += (size_t)w;
	}
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void sha(const void *p, size_t len, unsigned char out[32])
{
	struct sha256 *h = sha256_new();

	assert_non_null(h);
	sha256_update(h, p, len);
	sha256_finish(h, out);
	sha256_free(h);
}

static unsigned char *plain; /* BIG + 1 deterministic bytes */

/* Three identities, each alone in a set, the same three together, and one outsider. */
static struct age_identities id1[3], id_all, id_other;
static struct age_recipients r1, r3;

static void make_identity(struct age_identities *one, struct age_identities *all,
			  struct age_recipients *r)
{
	unsigned char sk[32];
	char s[100], rc[AGE_RECIPIENT_SIZE], err[200];

	randombytes_buf(sk, sizeof sk);
	assert_int_equal(bech32_encode("AGE-SECRET-KEY-", sk, 32, s, sizeof s), BECH32_OK);
	assert_int_equal(age_identities_add(one, s, err, sizeof err), 0);
	if (all)
		assert_int_equal(age_identities_add(all, s, err, sizeof err), 0);
	sodium_memzero(s, sizeof s);
	assert_int_equal(age_identities_recipient(one, one->n - 1, rc), 0);
	assert_int_equal(strncmp(rc, "age1", 4), 0);
	if (r)
		assert_int_equal(age_recipients_add(r, rc, err, sizeof err), 0);
}

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0 || !(plain = malloc(BIG + 1)))
		return -1;
	randombytes_buf_deterministic(plain, BIG + 1, (const unsigned char *)"0123456789abcdef"
									 "0123456789abcdef");
	age_identities_init(&id_all);
	age_identities_init(&id_other);
	age_recipients_init(&r1);
	age_recipients_init(&r3);
	for (int i = 0; i < 3; i++) {
		age_identities_init(&id1[i]);
		make_identity(&id1[i], &id_all, &r3);
	}
	make_identity(&id_other, NULL, NULL);
	r1.keys = malloc(sizeof *r1.keys);
	memcpy(r1.keys[0], r3.keys[0], AGE_KEY_LEN);
	r1.n = r1.cap = 1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 3; i++)
		age_identities_free(&id1[i]);
	age_identities_free(&id_all);
	age_identities_free(&id_other);
	age_recipients_free(&r1);
	age_recipients_free(&r3);
	free(plain);
	return 0;
}

/* Encrypts plain[0..len) to `m`, fed in pieces cycling through `pieces` (NULL: whole).
 * Returns the finished writer. */
static struct age_writer *encrypt(const struct age_recipients *r, size_t len,
				  const size_t *pieces, size_t npieces, struct mem *m)
{
	char err[256];
	struct age_writer *w = age_writer_new(r, mem_out, m, err, sizeof err);
	size_t done = 0, k = 0;

	assert_non_null(w);
	assert_int_equal(age_writer_bytes_out(w), m->len);
	while (done < len) {
		size_t n = pieces ? pieces[k++ % npieces] : len;

		if (n > len - done)
			n = len - done;
		assert_int_equal(age_writer_write(w, plain + done, n), 0);
		done += n;
	}
	assert_int_equal(age_writer_write(w, plain, 0), 0);
	assert_int_equal(age_writer_finish(w), 0);
	assert_int_equal(age_writer_bytes_out(w), m->len);
	return w;
}

static size_t prefix_len(size_t nrecipients)
{
	return 22 + 98 * nrecipients + 48 + 16;
}

static size_t expected_size(size_t nrecipients, size_t len)
{
	size_t chunks = len == 0 ? 1 : (len + K64 - 1) / K64;

	return prefix_len(nrecipients) + len + 16 * chunks;
}

/* Decrypts `len` bytes at `p` with `ids` into `out`. Returns the age status. */
static int decrypt(const struct age_identities *ids, const void *p, size_t len, struct mem *out,
		   char *err, size_t errlen)
{
	int fd = fd_of(p, len), rc;

	rc = age_decrypt(fd, ids, mem_out, out, err, errlen);
	close(fd);
	return rc;
}

/* ---------------------------------------------------------------- round trips */

static void round_trip(const struct age_recipients *r, size_t len, const size_t *pieces,
		       size_t npieces)
{
	unsigned char ph[32], sh[32], want[32];
	char err[256];
	struct mem m, out;
	struct age_writer *w;
	int fd;

	mem_init(&m);
	w = encrypt(r, len, pieces, npieces, &m);
	assert_int_equal(m.len, expected_size(r->n, len));
	assert_memory_equal(m.p, "age-encryption.org/v1\n-> X25519 ", 32);
	fd = fd_of(m.p, m.len);
	if (age_writer_verify(w, fd, ph, sh, err, sizeof err) != 0)
		fail_msg("verify of %zu bytes: %s", len, err);
	close(fd);
	sha(plain, len, want);
	assert_memory_equal(ph, want, 32);
	sha(m.p, m.len, want);
	assert_memory_equal(sh, want, 32);
	for (size_t i = 0; i < r->n; i++) {
		mem_init(&out);
		if (decrypt(&id1[i], m.p, m.len, &out, err, sizeof err) != AGE_OK)
			fail_msg("decrypt of %zu bytes with identity %zu: %s", len, i, err);
		assert_int_equal(out.len, len);
		if (len)
			assert_memory_equal(out.p, plain, len);
		mem_free(&out);
	}
	mem_init(&out);
	assert_int_equal(decrypt(&id_all, m.p, m.len, &out, err, sizeof err), AGE_OK);
	assert_int_equal(out.len, len);
	mem_free(&out);
	age_writer_free(w);
	mem_free(&m);
}

static const size_t sizes[] = { 0, 1, K64 - 1, K64, K64 + 1, 3 * K64, BIG };

static void test_round_trip_one_recipient(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		round_trip(&r1, sizes[i], NULL, 0);
}

static void test_round_trip_three_recipients(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		round_trip(&r3, sizes[i], NULL, 0);
}

static void test_odd_pieces(void **state)
{
	static const size_t pieces[] = { 1, 7, 4093, K64, K64 - 1, 100000, 3, 2 * K64 + 5 };
	static const size_t ones[] = { 1 };

	(void)state;
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		round_trip(&r1, sizes[i], pieces, sizeof pieces / sizeof pieces[0]);
		round_trip(&r3, sizes[i], pieces + 3, 5);
	}
	round_trip(&r1, 3 * K64 + 1, ones, 1);
}

/* Two files of the same plaintext never share file key, ephemeral shares or nonce. */
static void test_fresh_randomness(void **state)
{
	struct mem a, b;
	struct age_writer *wa, *wb;

	(void)state;
	mem_init(&a);
	mem_init(&b);
	wa = encrypt(&r1, 1000, NULL, 0, &a);
	wb = encrypt(&r1, 1000, NULL, 0, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_not_equal(a.p + 32, b.p + 32, 43);             /* ephemeral share */
	assert_memory_not_equal(a.p + 76, b.p + 76, 43);             /* wrapped file key */
	assert_memory_not_equal(a.p + 168, b.p + 168, 16);           /* nonce */
	assert_memory_not_equal(a.p + 184, b.p + 184, a.len - 184); /* payload */
	age_writer_free(wa);
	age_writer_free(wb);
	mem_free(&a);
	mem_free(&b);
}

/* ---------------------------------------------------------------- read-back check */

static void expect_verify_fail(struct age_writer *w, const unsigned char *p, size_t len,
			       const char *needle)
{
	unsigned char ph[32], sh[32];
	char err[256] = "";
	int fd = fd_of(p, len);

	assert_int_equal(age_writer_verify(w, fd, ph, sh, err, sizeof err), -1);
	close(fd);
	if (!strstr(err, needle))
		fail_msg("verify: expected \"%s\", got \"%s\"", needle, err);
}

static size_t mac_line(const struct mem *m)
{
	const unsigned char *p = memmem(m->p, m->len, "\n--- ", 5);

	assert_non_null(p);
	return (size_t)(p - m->p) + 1;
}

static void test_verify_damage(void **state)
{
	const size_t len = 3 * K64 + 100; /* chunks 0..2 full, 3 short and last */
	unsigned char ph[32], sh[32];
	struct mem m, other, full;
	struct age_writer *w, *wo, *wf;
	size_t pre, mac;
	unsigned char *c;
	char err[256];
	int fd;

	(void)state;
	mem_init(&m);
	mem_init(&other);
	mem_init(&full);
	w = encrypt(&r3, len, NULL, 0, &m);
	pre = prefix_len(3);
	mac = mac_line(&m);
	assert_int_equal(mac + 48 + 16, pre);
	c = malloc(m.len + 100);
	assert_non_null(c);

	/* a byte flipped in a stanza, in the MAC, in the nonce */
	memcpy(c, m.p, m.len);
	c[40] ^= 1;
	expect_verify_fail(w, c, m.len, "header differs from what was written (first difference "
					"at byte 40)");
	memcpy(c, m.p, m.len);
	c[4] ^= 0x20;
	expect_verify_fail(w, c, m.len, "header differs from what was written");
	memcpy(c, m.p, m.len);
	c[mac + 10] ^= 1;
	expect_verify_fail(w, c, m.len, "header MAC differs from what was written");
	memcpy(c, m.p, m.len);
	c[pre - 3] ^= 0x80;
	expect_verify_fail(w, c, m.len, "payload nonce differs from what was written");

	/* a byte flipped in each chunk, in its body and in its tag */
	for (size_t k = 0; k < 4; k++) {
		char needle[64];
		size_t clen = k < 3 ? CTC : 116;

		snprintf(needle, sizeof needle, "chunk %zu: authentication failed", k);
		memcpy(c, m.p, m.len);
		c[pre + k * CTC + 50] ^= 4;
		expect_verify_fail(w, c, m.len, needle);
		memcpy(c, m.p, m.len);
		c[pre + k * CTC + clen - 1] ^= 0x10;
		expect_verify_fail(w, c, m.len, needle);
	}

	/* truncations: mid-chunk, at a chunk boundary, right after the header, inside it */
	expect_verify_fail(w, m.p, pre + 2 * CTC + 1000, "chunk 2: authentication failed (file "
							   "is");
	expect_verify_fail(w, m.p, pre + 2 * CTC, "truncated after chunk 1 (no final chunk)");
	expect_verify_fail(w, m.p, pre + CTC, "truncated after chunk 0");
	expect_verify_fail(w, m.p, m.len - 1, "chunk 3: authentication failed");
	expect_verify_fail(w, m.p, pre, "truncated: no payload chunk after the header");
	expect_verify_fail(w, m.p, pre - 5, "truncated inside the header");
	expect_verify_fail(w, m.p, 0, "truncated inside the header");

	/* chunks 0 and 1 swapped */
	memcpy(c, m.p, m.len);
	memcpy(c + pre, m.p + pre + CTC, CTC);
	memcpy(c + pre + CTC, m.p + pre, CTC);
	expect_verify_fail(w, c, m.len, "chunk 0: authentication failed");

	/* trailing bytes after a short final chunk make it fail; after a full one, "trailing" */
	memcpy(c, m.p, m.len);
	memset(c + m.len, 0, 100);
	expect_verify_fail(w, c, m.len + 1, "chunk 3: authentication failed");
	wf = encrypt(&r1, 2 * K64, NULL, 0, &full);
	c = realloc(c, full.len + 10);
	memcpy(c, full.p, full.len);
	memset(c + full.len, 'x', 10);
	expect_verify_fail(wf, c, full.len + 1, "trailing data after the final chunk 1");
	expect_verify_fail(wf, c, full.len + 10, "(file is");

	/* another writer's file, of the same plaintext to the same recipients */
	wo = encrypt(&r3, len, NULL, 0, &other);
	expect_verify_fail(w, other.p, other.len, "header differs from what was written");

	/* after all that, both still pass on their own files */
	fd = fd_of(m.p, m.len);
	assert_int_equal(age_writer_verify(w, fd, ph, sh, err, sizeof err), 0);
	close(fd);
	fd = fd_of(other.p, other.len);
	assert_int_equal(age_writer_verify(wo, fd, ph, sh, err, sizeof err), 0);
	close(fd);
	fd = fd_of(full.p, full.len);
	assert_int_equal(age_writer_verify(wf, fd, ph, sh, err, sizeof err), 0);
	close(fd);
	/* a bad fd */
	assert_int_equal(age_writer_verify(w, -1, ph, sh, err, sizeof err), -1);
	assert_non_null(strstr(err, "read: "));

	free(c);
	age_writer_free(w);
	age_writer_free(wo);
	age_writer_free(wf);
	mem_free(&m);
	mem_free(&other);
	mem_free(&full);
}

/* ---------------------------------------------------------------- writer misuse and failures */

static void test_writer_failures(void **state)
{
	unsigned char ph[32], sh[32];
	char err[256];
	struct age_recipients none;
	struct age_writer *w;
	struct mem m;

	(void)state;
	age_writer_free(NULL);
	age_recipients_init(&none);
	mem_init(&m);
	assert_null(age_writer_new(&none, mem_out, &m, err, sizeof err));
	assert_string_equal(err, "no age recipients");

	m.fail_at = 0; /* the header */
	assert_null(age_writer_new(&r1, mem_out, &m, err, sizeof err));
	assert_string_equal(err, "writing the age header failed");

	mem_init(&m);
	m.fail_at = 2; /* header, chunk 0, chunk 1 fails */
	w = age_writer_new(&r1, mem_out, &m, err, sizeof err);
	assert_non_null(w);
	assert_int_equal(age_writer_verify(w, 0, ph, sh, err, sizeof err), -1);
	assert_string_equal(err, "the age writer is not finished");
	assert_int_equal(age_writer_write(w, plain, 2 * K64), 0); /* chunk 1 is still buffered */
	assert_int_equal(age_writer_write(w, plain, 1), -1);
	assert_int_equal(age_writer_write(w, plain, 1), -1); /* stays failed */
	assert_int_equal(age_writer_finish(w), -1);
	assert_int_equal(age_writer_bytes_out(w), prefix_len(1) + CTC);
	age_writer_free(w);
	mem_free(&m);

	w = encrypt(&r1, 10, NULL, 0, &m);
	assert_int_equal(age_writer_write(w, plain, 1), -1); /* finished */
	assert_int_equal(age_writer_finish(w), -1);
	age_writer_free(w);
	mem_free(&m);
}

/* ---------------------------------------------------------------- decryption outcomes */

static int fail_out(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return -1;
}

static void test_decrypt_outcomes(void **state)
{
	struct mem m, out;
	struct age_writer *w;
	size_t pre, mac;
	char err[256];
	unsigned char *c;
	int rc, fd;

	(void)state;
	mem_init(&m);
	w = encrypt(&r1, 3 * K64 + 5, NULL, 0, &m);
	age_writer_free(w);
	pre = prefix_len(1);
	mac = mac_line(&m);
	c = malloc(m.len);
	assert_non_null(c);

	/* wrong identity: nothing released */
	mem_init(&out);
	assert_int_equal(decrypt(&id_other, m.p, m.len, &out, err, sizeof err), AGE_NO_MATCH);
	assert_non_null(strstr(err, "no matching identity"));
	assert_int_equal(out.len, 0);
	assert_int_equal(decrypt(NULL, m.p, m.len, &out, err, sizeof err), AGE_NO_MATCH);

	/* the MAC changed but still canonical base64 */
	memcpy(c, m.p, m.len);
	c[mac + 4] = c[mac + 4] == 'A' ? 'B' : 'A';
	assert_int_equal(decrypt(&id1[0], c, m.len, &out, err, sizeof err), AGE_BAD_HMAC);
	assert_non_null(strstr(err, "header MAC"));
	/* the MAC's last character carries unused bits: changing them is non-canonical */
	memcpy(c, m.p, m.len);
	c[mac + 46] ^= 1;
	rc = decrypt(&id1[0], c, m.len, &out, err, sizeof err);
	assert_true(rc == AGE_BAD_HEADER || rc == AGE_BAD_HMAC);
	/* the wrapped file key changed: the stanza no longer opens */
	memcpy(c, m.p, m.len);
	c[76] = c[76] == 'A' ? 'B' : 'A';
	assert_int_equal(decrypt(&id1[0], c, m.len, &out, err, sizeof err), AGE_NO_MATCH);
	/* the version line */
	memcpy(c, m.p, m.len);
	c[20] = '2';
	assert_int_equal(decrypt(&id1[0], c, m.len, &out, err, sizeof err), AGE_BAD_HEADER);
	assert_string_equal(err, "header line 1: unsupported age version");
	assert_int_equal(decrypt(&id1[0], c, 0, &out, err, sizeof err), AGE_BAD_HEADER);
	assert_string_equal(err, "header: empty file");
	assert_int_equal(decrypt(&id1[0], m.p, pre - 1, &out, err, sizeof err), AGE_BAD_HEADER);
	assert_non_null(strstr(err, "nonce"));
	assert_int_equal(out.len, 0);

	/* payload: chunk 1 damaged releases exactly chunk 0 */
	memcpy(c, m.p, m.len);
	c[pre + CTC + 9] ^= 1;
	assert_int_equal(decrypt(&id1[0], c, m.len, &out, err, sizeof err), AGE_BAD_PAYLOAD);
	assert_string_equal(err, "chunk 1: authentication failed");
	assert_int_equal(out.len, K64);
	assert_memory_equal(out.p, plain, K64);
	mem_free(&out);
	/* cut at a chunk boundary: two chunks released, then "truncated" */
	assert_int_equal(decrypt(&id1[0], m.p, pre + 2 * CTC, &out, err, sizeof err),
			 AGE_BAD_PAYLOAD);
	assert_string_equal(err, "truncated after chunk 1 (no final chunk)");
	assert_int_equal(out.len, 2 * K64);
	mem_free(&out);
	/* an empty last chunk is refused even with a valid tag: cut the last real chunk to
	 * nothing is not possible without the key, so check the length rule alone */
	assert_int_equal(decrypt(&id1[0], m.p, pre + 3 * CTC + 16, &out, err, sizeof err),
			 AGE_BAD_PAYLOAD);
	assert_string_equal(err, "chunk 3: empty last chunk not allowed");
	mem_free(&out);
	assert_int_equal(decrypt(&id1[0], m.p, pre + 3 * CTC + 10, &out, err, sizeof err),
			 AGE_BAD_PAYLOAD);
	assert_non_null(strstr(err, "chunk 3: truncated"));
	mem_free(&out);

	/* I/O: a bad fd, and an output that fails */
	assert_int_equal(age_decrypt(-1, &id1[0], mem_out, &out, err, sizeof err), AGE_IO_ERROR);
	assert_non_null(strstr(err, "read: "));
	fd = fd_of(m.p, m.len);
	rc = age_decrypt(fd, &id1[0], fail_out, NULL, err, sizeof err);
	close(fd);
	assert_int_equal(rc, AGE_IO_ERROR);
	assert_string_equal(err, "writing the plaintext failed");

	free(c);
	mem_free(&m);
}

/* The header cap, and hand-made headers the CCTV set does not spell out. */
static void test_header_limits(void **state)
{
	static const char *const bad[] = {
		"age-encryption.org/v1\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
		"age-encryption.org/v1\n-> X25519\n\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
		"age-encryption.org/v1\n-> a  b\n\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
		"age-encryption.org/v1\n-> a\n\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"-----BEGIN AGE ENCRYPTED FILE-----\n",
		"\x89PNG\n",
	};
	const size_t big = AGE_HEADER_MAX + 10;
	unsigned char *p = malloc(big);
	struct mem out;
	char err[256];
	size_t n;

	(void)state;
	mem_init(&out);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(decrypt(&id_all, bad[i], strlen(bad[i]), &out, err, sizeof err),
				 AGE_BAD_HEADER);
	assert_non_null(p);
	memset(p, 'a', big);
	assert_int_equal(decrypt(&id_all, p, big, &out, err, sizeof err), AGE_BAD_HEADER);
	assert_non_null(strstr(err, "longer than"));
	/* many unknown stanzas, each one line and an empty body, past the cap */
	memcpy(p, "age-encryption.org/v1\n", 22);
	for (n = 22; n + 6 < big; n += 6)
		memcpy(p + n, "-> a\n\n", 6);
	assert_int_equal(decrypt(&id_all, p, n, &out, err, sizeof err), AGE_BAD_HEADER);
	assert_non_null(strstr(err, "longer than"));
	/* under the cap: all parsed, then no match */
	assert_int_equal(decrypt(&id_all, p, 22 + 6 * 1000, &out, err, sizeof err),
			 AGE_BAD_HEADER); /* no MAC line yet: truncated */
	memcpy(p + 22 + 6000, "--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", 48);
	assert_int_equal(decrypt(&id_all, p, 22 + 6000 + 48, &out, err, sizeof err),
			 AGE_NO_MATCH);
	assert_int_equal(out.len, 0);
	free(p);
}

/* ---------------------------------------------------------------- keys */

static char tmpdir[64];

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_spec_example_key(void **state)
{
	struct age_identities ids;
	char rc[AGE_RECIPIENT_SIZE], err[256];

	(void)state;
	age_identities_init(&ids);
	assert_int_equal(age_identities_add(&ids, "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZ"
						  "GFPYYSJZGFPYYSJZGFPQ4EGAEX",
					    err, sizeof err),
			 0);
	assert_int_equal(age_identities_recipient(&ids, 0, rc), 0);
	assert_string_equal(rc, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj");
	assert_int_equal(age_identities_recipient(&ids, 1, rc), -1);
	age_identities_free(&ids);
	age_identities_free(&ids);
}

static void test_recipients_parse(void **state)
{
	static const char *const bad[] = {
		"AGE1ZVKYG2LQZRAA2LNJVQEJ32NKUU0UES2S82HZRYE869XEEXVN73EQUNUJWJ", /* uppercase */
		"age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwk", /* checksum */
		"age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj ",
		" age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj",
		"a12uel5l", /* wrong HRP */
		"age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq",
		"ssh-ed25519 AAAA",
		"",
	};
	struct age_recipients r;
	char path[600], err[600], s[100];
	unsigned char zero[32] = { 0 };

	(void)state;
	age_recipients_init(&r);
	assert_int_equal(age_recipients_add(&r, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexv"
						"n73equnujwj",
					    err, sizeof err),
			 0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (age_recipients_add(&r, bad[i], err, sizeof err) != -1)
			fail_msg("accepted bad recipient %zu", i);
	assert_int_equal(age_recipients_add(&r, "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZ"
						"GFPYYSJZGFPYYSJZGFPQ4EGAEX",
					    err, sizeof err),
			 -1);
	assert_non_null(strstr(err, "secret key"));
	assert_null(strstr(err, "GFPYY")); /* never quoted */
	/* a low-order point (zero) */
	assert_int_equal(bech32_encode("age", zero, 32, s, sizeof s), BECH32_OK);
	assert_int_equal(age_recipients_add(&r, s, err, sizeof err), -1);
	assert_non_null(strstr(err, "low-order"));
	assert_int_equal(age_recipients_count(&r), 1);

	snprintf(path, sizeof path, "%s/recipients", tmpdir);
	put_file(path, "# team keys\n\nage1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
		       "\r\n#x\nage1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj");
	assert_int_equal(age_recipients_load_file(&r, path, err, sizeof err), 0);
	assert_int_equal(age_recipients_count(&r), 3);
	put_file(path, "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj\n\n"
		       "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwk\n");
	assert_int_equal(age_recipients_load_file(&r, path, err, sizeof err), -1);
	snprintf(s, sizeof s, "/recipients:3: ");
	assert_non_null(strstr(err, s));
	assert_non_null(strstr(err, "checksum"));
	assert_int_equal(age_recipients_count(&r), 3); /* rolled back */
	put_file(path, "# nothing\n\n");
	assert_int_equal(age_recipients_load_file(&r, path, err, sizeof err), -1);
	assert_non_null(strstr(err, "no recipients"));
	snprintf(path, sizeof path, "%s/missing", tmpdir);
	assert_int_equal(age_recipients_load_file(&r, path, err, sizeof err), -1);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(age_recipients_load_file(&r, tmpdir, err, sizeof err), -1);
	age_recipients_free(&r);
	assert_int_equal(age_recipients_count(&r), 0);
	age_recipients_free(&r);
}

static void test_identities_parse(void **state)
{
	static const char *const bad[] = {
		"age-secret-key-1gfpyysjzgfpyysjzgfpyysjzgfpyysjzgfpyysjzgfpyysjzgfpq4egaex",
		"AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEY",
		"AGE-SECRET-KEY-PQ-1HZLGZUPT4ETPKDEV8HSGFDCYZ4E522W0A7PU2LHT8EH9W6YLNC3SW78XKG",
		"age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj",
		"AGE-PLUGIN-YUBIKEY-1QQQQQQ",
		"",
	};
	struct age_identities ids;
	char path[600], err[600];

	(void)state;
	age_identities_init(&ids);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (age_identities_add(&ids, bad[i], err, sizeof err) != -1)
			fail_msg("accepted bad identity %zu", i);
		assert_null(strstr(err, "GFPYY"));
	}
	assert_int_equal(age_identities_count(&ids), 0);
	snprintf(path, sizeof path, "%s/identity", tmpdir);
	put_file(path, "# created: 2026-01-01T00:00:00Z\n"
		       "# public key: age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj\n"
		       "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX\n");
	assert_int_equal(age_identities_load(&ids, path, err, sizeof err), 0);
	assert_int_equal(age_identities_load(&ids, path, err, sizeof err), 0);
	assert_int_equal(age_identities_count(&ids), 2);
	put_file(path, "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX\n"
		       "# a comment\n"
		       "age-secret-key-1gfpyysjzgfpyysjzgfpyysjzgfpyysjzgfpyysjzgfpyysjzgfpq4egaex\n");
	assert_int_equal(age_identities_load(&ids, path, err, sizeof err), -1);
	assert_non_null(strstr(err, "/identity:3: "));
	assert_null(strstr(err, "gfpyy"));
	assert_int_equal(age_identities_count(&ids), 2); /* rolled back */
	put_file(path, "\n# empty\n");
	assert_int_equal(age_identities_load(&ids, path, err, sizeof err), -1);
	assert_non_null(strstr(err, "no identities"));
	age_identities_free(&ids);
}

static void test_keygen_file(void **state)
{
	char path[600], link_path[600], target[600], rc[AGE_RECIPIENT_SIZE], rc2[AGE_RECIPIENT_SIZE];
	char err[600], text[400], line[3][200];
	struct age_identities ids;
	struct stat st;
	FILE *f;

	(void)state;
	snprintf(path, sizeof path, "%s/key.txt", tmpdir);
	assert_int_equal(age_keygen_file(path, rc, err, sizeof err), 0);
	assert_int_equal(strlen(rc), AGE_RECIPIENT_LEN);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	f = fopen(path, "r");
	assert_non_null(f);
	for (int i = 0; i < 3; i++)
		assert_non_null(fgets(line[i], sizeof line[i], f));
	assert_null(fgets(text, sizeof text, f));
	fclose(f);
	assert_int_equal(strlen(line[0]), strlen("# created: 2006-01-02T15:04:05Z\n"));
	assert_int_equal(strncmp(line[0], "# created: 20", 13), 0);
	assert_int_equal(line[0][21], 'T');
	assert_string_equal(line[0] + 30, "Z\n");
	snprintf(text, sizeof text, "# public key: %s\n", rc);
	assert_string_equal(line[1], text);
	assert_int_equal(strncmp(line[2], "AGE-SECRET-KEY-1", 16), 0);
	assert_int_equal(strlen(line[2]), 75);
	age_identities_init(&ids);
	assert_int_equal(age_identities_load(&ids, path, err, sizeof err), 0);
	assert_int_equal(age_identities_recipient(&ids, 0, rc2), 0);
	assert_string_equal(rc, rc2);
	age_identities_free(&ids);

	/* never overwrite, never follow a link */
	assert_int_equal(age_keygen_file(path, rc2, err, sizeof err), -1);
	assert_non_null(strstr(err, "already exists"));
	snprintf(link_path, sizeof link_path, "%s/link.txt", tmpdir);
	snprintf(target, sizeof target, "%s/target.txt", tmpdir);
	assert_int_equal(symlink(target, link_path), 0);
	assert_int_equal(age_keygen_file(link_path, rc2, err, sizeof err), -1);
	assert_int_equal(access(target, F_OK), -1);
	snprintf(path, sizeof path, "%s/no/such/dir/key.txt", tmpdir);
	assert_int_equal(age_keygen_file(path, rc2, err, sizeof err), -1);
}

/* ---------------------------------------------------------------- interop with age(1) */

static int have_age(void)
{
	return system("command -v age >/dev/null 2>&1 && command -v age-keygen >/dev/null 2>&1") ==
	       0;
}

static void write_path(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int file_equals(const char *path, const void *p, size_t len)
{
	struct stat st;
	unsigned char *b;
	FILE *f = fopen(path, "rb");
	int same;

	if (!f || fstat(fileno(f), &st) != 0 || (size_t)st.st_size != len) {
		if (f)
			fclose(f);
		return 0;
	}
	b = malloc(len + 1);
	assert_non_null(b);
	same = fread(b, 1, len, f) == len && memcmp(b, p, len) == 0;
	fclose(f);
	free(b);
	return same;
}

/* Our files (sizes at the chunk edges, 1 and 3 recipients from age-keygen) open with `age -d`,
 * and the files `age -r` makes open with ours, also through a pipe. */
static void test_age_cli(void **state)
{
	char key[3][128], cmd[4096], path[600], out[600], err[256];
	struct age_recipients rs, rone;
	struct age_identities ids;
	struct mem m;

	(void)state;
	if (!have_age()) {
		printf("# age(1) is not installed: interop with it not tested\n");
		skip();
	}
	age_recipients_init(&rs);
	age_recipients_init(&rone);
	for (int i = 0; i < 3; i++) {
		snprintf(key[i], sizeof key[i], "%s/agekey%d", tmpdir, i);
		snprintf(cmd, sizeof cmd, "age-keygen -o %s 2>/dev/null && age-keygen -y %s > %s.pub",
			 key[i], key[i], key[i]);
		assert_int_equal(system(cmd), 0);
		snprintf(path, sizeof path, "%s.pub", key[i]);
		assert_int_equal(age_recipients_load_file(&rs, path, err, sizeof err), 0);
		if (i == 0)
			assert_int_equal(age_recipients_load_file(&rone, path, err, sizeof err), 0);
	}
	snprintf(out, sizeof out, "%s/plain.out", tmpdir);
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		struct age_recipients *r = i % 2 ? &rs : &rone;
		struct age_writer *w;

		mem_init(&m);
		w = encrypt(r, sizes[i], NULL, 0, &m);
		age_writer_free(w);
		snprintf(path, sizeof path, "%s/ours.age", tmpdir);
		write_path(path, m.p, m.len);
		for (size_t k = 0; k < r->n; k++) {
			unlink(out);
			/* not -o: age creates that file only at its first byte of output */
			snprintf(cmd, sizeof cmd, "age -d -i %s %s > %s", key[k], path, out);
			if (system(cmd) != 0 || !file_equals(out, plain, sizes[i]))
				fail_msg("age -d failed on our %zu-byte file (identity %zu)", sizes[i],
					 k);
		}
		mem_free(&m);

		/* and the other way round: age -r ... -r ..., decrypted by us from a pipe */
		snprintf(path, sizeof path, "%s/plain.in", tmpdir);
		write_path(path, plain, sizes[i]);
		snprintf(cmd, sizeof cmd, "age -r $(cat %s.pub) -r $(cat %s.pub) -o %s/theirs.age %s",
			 key[0], key[2], tmpdir, path);
		assert_int_equal(system(cmd), 0);
		for (int k = 0; k < 3; k += 2) {
			FILE *pipe;

			age_identities_init(&ids);
			assert_int_equal(age_identities_load(&ids, key[k], err, sizeof err), 0);
			snprintf(cmd, sizeof cmd, "cat %s/theirs.age", tmpdir);
			pipe = popen(cmd, "r");
			assert_non_null(pipe);
			mem_init(&m);
			if (age_decrypt(fileno(pipe), &ids, mem_out, &m, err, sizeof err) != AGE_OK)
				fail_msg("our decrypt of age's %zu-byte file: %s", sizes[i], err);
			pclose(pipe);
			assert_int_equal(m.len, sizes[i]);
			if (sizes[i])
				assert_memory_equal(m.p, plain, sizes[i]);
			mem_free(&m);
			age_identities_free(&ids);
		}
		/* identity 1 is not a recipient of that file */
		age_identities_init(&ids);
		assert_int_equal(age_identities_load(&ids, key[1], err, sizeof err), 0);
		snprintf(path, sizeof path, "%s/theirs.age", tmpdir);
		mem_init(&m);
		{
			int fd = open(path, O_RDONLY);

			assert_int_equal(age_decrypt(fd, &ids, mem_out, &m, err, sizeof err),
					 AGE_NO_MATCH);
			close(fd);
		}
		mem_free(&m);
		age_identities_free(&ids);
	}
	age_recipients_free(&rs);
	age_recipients_free(&rone);
}

/* ---------------------------------------------------------------- CCTV vectors */

struct hash_out {
	struct sha256 *h;
	uint64_t n;
};

static int hash_out(void *ctx, const void *buf, size_t len)
{
	struct hash_out *o = ctx;

	sha256_update(o->h, buf, len);
	o->n += len;
	return 0;
}

static unsigned char *inflate_all(const unsigned char *in, size_t inlen, size_t *outlen)
{
	size_t cap = 1 << 20;
	unsigned char *out = malloc(cap);
	z_stream z;
	int rc;

	assert_non_null(out);
	memset(&z, 0, sizeof z);
	assert_int_equal(inflateInit(&z), Z_OK);
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)inlen;
	do {
		if (z.total_out == cap) {
			cap *= 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		z.next_out = out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
		assert_true(rc == Z_OK || rc == Z_STREAM_END);
	} while (rc != Z_STREAM_END);
	*outlen = z.total_out;
	inflateEnd(&z);
	return out;
}

static int expect_code(const char *v)
{
	static const struct {
		const char *name;
		int code;
	} map[] = { { "success", AGE_OK },          { "no match", AGE_NO_MATCH },
		    { "HMAC failure", AGE_BAD_HMAC },  { "header failure", AGE_BAD_HEADER },
		    { "payload failure", AGE_BAD_PAYLOAD } };

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(v, map[i].name) == 0)
			return map[i].code;
	return -1;
}

/* Runs one vector. Returns 1 ran, 0 skipped (`why` says which kind), -1 failed (`why`). */
static int run_vector(const char *name, unsigned char *text, size_t len, char *why,
		      size_t whylen)
{
	unsigned char *body, *file, got[32], want[32];
	char *line = (char *)text, *eol, err[256];
	int expect = -2, zlib = 0, has_payload = 0, rc, fd, skip = 0;
	struct age_identities ids;
	struct hash_out o;
	size_t flen;

	age_identities_init(&ids);
	for (;; line = eol + 1) {
		eol = memchr(line, '\n', len - (size_t)(line - (char *)text));
		assert_non_null(eol);
		*eol = '\0';
		if (line == eol)
			break;
		if (!strncmp(line, "expect: ", 8)) {
			expect = expect_code(line + 8);
			if (!strcmp(line + 8, "armor failure"))
				skip = 'a';
		} else if (!strncmp(line, "payload: ", 9)) {
			has_payload = 1;
			for (int i = 0; i < 32; i++)
				assert_int_equal(sscanf(line + 9 + 2 * i, "%2hhx", &want[i]), 1);
		} else if (!strncmp(line, "identity: ", 10)) {
			if (strncmp(line + 10, "AGE-SECRET-KEY-1", 16) != 0)
				skip = skip ? skip : 'p';
			else if (age_identities_add(&ids, line + 10, err, sizeof err) != 0)
				fail_msg("%s: identity: %s", name, err);
		} else if (!strncmp(line, "passphrase: ", 12)) {
			skip = skip ? skip : 's';
		} else if (!strcmp(line, "armored: yes") || !strncmp(line, "armored", 7)) {
			skip = 'a';
		} else if (!strcmp(line, "compressed: zlib")) {
			zlib = 1;
		}
	}
	if (skip) { /* (a vector without identity, like "empty", runs with none) */
		age_identities_free(&ids);
		snprintf(why, whylen, "%c", skip);
		return 0;
	}
	assert_true(expect >= 0);
	body = (unsigned char *)eol + 1;
	flen = len - (size_t)(body - text);
	file = zlib ? inflate_all(body, flen, &flen) : body;
	fd = fd_of(file, flen);
	o.h = sha256_new();
	o.n = 0;
	err[0] = '\0';
	rc = age_decrypt(fd, &ids, hash_out, &o, err, sizeof err);
	close(fd);
	sha256_finish(o.h, got);
	sha256_free(o.h);
	if (zlib)
		free(file);
	age_identities_free(&ids);
	if (rc != expect) {
		snprintf(why, whylen, "%s: expected %d, got %d (%s)", name, expect, rc, err);
		return -1;
	}
	if (has_payload && memcmp(got, want, 32) != 0) {
		snprintf(why, whylen, "%s: released plaintext (%llu bytes) does not hash to payload "
				      "(%s)", name, (unsigned long long)o.n, err);
		return -1;
	}
	return 1;
}

static void test_cctv(void **state)
{
	int ran = 0, failed = 0, skipped[128] = { 0 }, nskipped = 0;
	struct dirent *e;
	DIR *d = opendir(CCTV_DIR);

	(void)state;
	if (!d) {
		printf("# %s not found: CCTV vectors not run\n", CCTV_DIR);
		skip();
	}
	while ((e = readdir(d))) {
		char path[600], why[1024];
		unsigned char *text;
		struct stat st;
		FILE *f;
		int rc;

		if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", CCTV_DIR, e->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		assert_int_equal(fstat(fileno(f), &st), 0);
		text = malloc((size_t)st.st_size + 1);
		assert_non_null(text);
		assert_int_equal(fread(text, 1, (size_t)st.st_size, f), (size_t)st.st_size);
		fclose(f);
		rc = run_vector(e->d_name, text, (size_t)st.st_size, why, sizeof why);
		free(text);
		if (rc == 1) {
			ran++;
		} else if (rc == 0) {
			skipped[(unsigned char)why[0]]++;
			nskipped++;
		} else {
			printf("# CCTV FAIL %s\n", why);
			failed++;
		}
	}
	closedir(d);
	printf("# CCTV: %d vectors run, %d skipped (armor %d, scrypt %d, post-quantum %d), "
	       "%d failed\n",
	       ran, nskipped, skipped['a'], skipped['s'], skipped['p'], failed);
	assert_int_equal(failed, 0);
	assert_true(ran > 50);
}

/* ---------------------------------------------------------------- main */

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_age.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[700];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_one_recipient),
		cmocka_unit_test(test_round_trip_three_recipients),
		cmocka_unit_test(test_odd_pieces),
		cmocka_unit_test(test_fresh_randomness),
		cmocka_unit_test(test_verify_damage),
		cmocka_unit_test(test_writer_failures),
		cmocka_unit_test(test_decrypt_outcomes),
		cmocka_unit_test(test_header_limits),
		cmocka_unit_test(test_spec_example_key),
		cmocka_unit_test_setup_teardown(test_recipients_parse, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_identities_parse, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_keygen_file, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_age_cli, make_tmpdir, remove_tmpdir),
		cmocka_unit_test(test_cctv),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
