/* age.c — age v1 with X25519 recipients (C2SP age.md): keys, a streaming writer with its
 * read-back check, and a strict streaming reader. Every primitive comes from libsodium; HKDF is
 * RFC 5869 built on its HMAC-SHA-256. Secrets (file, payload, wrap and header keys, ephemeral
 * and shared secrets, identities, plaintext chunks) only ever sit in sodium_malloc memory,
 * which sodium_free wipes. Never prints and never exits; see age.h for the contract. */
#include "age.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bech32.h"
#include "hash.h"
#include "base/clock.h"
#include "base/log.h"

#define FILE_KEY_LEN 16
#define NONCE_LEN 16
#define CT_CHUNK (AGE_CHUNK_SIZE + AGE_TAG_LEN)
#define B64_32 43 /* unpadded base64 characters of 32 bytes */
#define BODY_COLUMNS 64
#define VERSION_LINE "age-encryption.org/v1"
#define SECRET_HRP "AGE-SECRET-KEY-"
#define SECRET_KEY_LEN BECH32_ENCODED_LEN(15, AGE_KEY_LEN)

struct age_identity {
	unsigned char secret[AGE_KEY_LEN];
	unsigned char public[AGE_KEY_LEN];
};

/* HKDF scratch: the HMAC state and PRK are key material too. */
struct hkdf {
	crypto_auth_hmacsha256_state st;
	unsigned char prk[crypto_auth_hmacsha256_BYTES];
};

/* Every secret a writer or a reader holds, in one sodium_malloc block. */
struct secrets {
	unsigned char file_key[FILE_KEY_LEN];
	unsigned char payload_key[32];
	unsigned char mac_key[32];
	unsigned char wrap_key[32];
	unsigned char eph[32];    /* ephemeral secret */
	unsigned char shared[32]; /* X25519 shared secret */
	struct hkdf hk;
	crypto_auth_hmacsha256_state mac;
	unsigned char buf[CT_CHUNK + 1]; /* one chunk, plus one byte read ahead */
	unsigned char pt[AGE_CHUNK_SIZE]; /* a decrypted chunk */
};

static int sodium_ready(char *err, size_t errlen)
{
	if (sodium_init() < 0) {
		err_set(err, errlen, "libsodium cannot start");
		return -1;
	}
	return 0;
}

static struct secrets *secrets_new(char *err, size_t errlen)
{
	struct secrets *s = sodium_malloc(sizeof *s);

	if (!s)
		err_set(err, errlen, "out of memory (sodium_malloc)");
	return s;
}

/* HKDF-SHA-256 (RFC 5869) with a 32-byte output: one Expand block. An empty salt is HMAC's
 * empty key, which equals the RFC's string of zeros. */
static void hkdf(struct hkdf *t, const unsigned char *salt, size_t saltlen,
		 const unsigned char *ikm, size_t ikmlen, const char *info, unsigned char out[32])
{
	static const unsigned char one = 1;

	crypto_auth_hmacsha256_init(&t->st, saltlen ? salt : &one, saltlen);
	crypto_auth_hmacsha256_update(&t->st, ikm, ikmlen);
	crypto_auth_hmacsha256_final(&t->st, t->prk);
	crypto_auth_hmacsha256_init(&t->st, t->prk, sizeof t->prk);
	crypto_auth_hmacsha256_update(&t->st, (const unsigned char *)info, strlen(info));
	crypto_auth_hmacsha256_update(&t->st, &one, 1);
	crypto_auth_hmacsha256_final(&t->st, out);
	sodium_memzero(t, sizeof *t);
}

static void chunk_nonce(unsigned char nonce[12], uint64_t counter, int last)
{
	memset(nonce, 0, 12);
	for (int i = 0; i < 8; i++)
		nonce[10 - i] = (unsigned char)(counter >> (8 * i));
	nonce[11] = last ? 1 : 0;
}

/* Opens chunk `counter` (clen bytes with its tag) into `pt`. Returns 0, or -1 when the tag
 * does not verify. Never in place: libsodium zeroes the output on failure, and a full chunk
 * may need a second try with the other last-chunk flag. */
static int chunk_open(unsigned char *pt, const unsigned char *buf, size_t clen,
		      uint64_t counter, int last, const unsigned char key[32])
{
	unsigned char nonce[12];

	chunk_nonce(nonce, counter, last);
	return crypto_aead_chacha20poly1305_ietf_decrypt_detached(
		pt, NULL, buf, clen - AGE_TAG_LEN, buf + clen - AGE_TAG_LEN, NULL, 0, nonce, key);
}

/* Unpadded standard base64 of `len` bytes into `out` (sodium_base64_ENCODED_LEN bytes). */
static size_t b64_encode(char *out, size_t outcap, const unsigned char *bin, size_t len)
{
	sodium_bin2base64(out, outcap, bin, len, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	return strlen(out);
}

static int is_b64char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* Decodes `slen` characters of canonical unpadded base64 (at most 64, i.e. 48 bytes) into
 * `out`. Canonical means: only the alphabet, no '=', and re-encoding gives the same text (so
 * unused trailing bits are zero). Returns the byte count, or -1. */
static long b64_decode(const char *s, size_t slen, unsigned char out[48])
{
	char again[sodium_base64_ENCODED_LEN(48, sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
	size_t n = slen * 3 / 4, got = 0;
	const char *end = NULL;

	if (slen > 64 || slen % 4 == 1)
		return -1;
	for (size_t i = 0; i < slen; i++)
		if (!is_b64char((unsigned char)s[i]))
			return -1;
	if (n == 0)
		return 0;
	if (sodium_base642bin(out, n, s, slen, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
	    got != n || end != s + slen)
		return -1;
	if (b64_encode(again, sizeof again, out, n) != slen || memcmp(again, s, slen) != 0)
		return -1;
	return (long)n;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Reads a whole key file (cap AGE_KEY_FILE_MAX) into sodium_malloc memory, NUL-terminated.
 * Returns the buffer (free with sodium_free), or NULL with `err` set. */
static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		err_set(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		err_set(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > AGE_KEY_FILE_MAX) {
		err_set(err, errlen, "%s: %s", path,
		    !S_ISREG(st.st_mode) ? "not a regular file" : "larger than 1 MiB");
		goto fail;
	}
	if (!(buf = sodium_malloc((size_t)st.st_size + 1))) {
		err_set(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0 || (n += (size_t)r) == (size_t)st.st_size)
			break;
	}
	buf[n] = '\0';
	*len = n;
	close(fd);
	return buf;
fail:
	sodium_free(buf);
	close(fd);
	return NULL;
}

/* Calls `fn` on each line of `text` that is neither blank nor a '#' comment, with a trailing
 * CR cut (the line is NUL-terminated in place). Stops at the first non-zero return. */
static int each_line(char *text, size_t len, const char *path,
		     int (*fn)(void *arg, const char *line, const char *where, char *err,
			       size_t errlen),
		     void *arg, char *err, size_t errlen)
{
	char where[600];
	unsigned lineno = 0;
	size_t i = 0;

	while (i < len) {
		char *line = text + i, *lf = memchr(line, '\n', len - i);
		size_t n = lf ? (size_t)(lf - line) : len - i;
		int rc;

		i += n + (lf != NULL);
		lineno++;
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		snprintf(where, sizeof where, "%s:%u", path, lineno);
		if ((rc = fn(arg, line, where, err, errlen)) != 0)
			return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- recipients */

void age_recipients_init(struct age_recipients *r)
{
	memset(r, 0, sizeof *r);
}

void age_recipients_free(struct age_recipients *r)
{
	free(r->keys);
	age_recipients_init(r);
}

size_t age_recipients_count(const struct age_recipients *r)
{
	return r ? r->n : 0;
}

int age_recipients_add(struct age_recipients *r, const char *s, char *err, size_t errlen)
{
	unsigned char key[AGE_KEY_LEN], probe[32], out[32];
	char hrp[16];
	size_t n;
	int rc;

	if (sodium_ready(err, errlen) != 0)
		return -1;
	if (strncmp(s, "AGE-SECRET-KEY-", 15) == 0) {
		err_set(err, errlen, "this is a secret key (an identity), not a recipient");
		return -1;
	}
	rc = bech32_decode(s, strlen(s), hrp, sizeof hrp, key, sizeof key, &n);
	if (rc == BECH32_NO_ROOM || (rc == BECH32_OK && strcmp(hrp, "age") != 0)) {
		err_set(err, errlen, "not an X25519 age recipient (\"age1...\"); other types are "
				 "not supported");
		return -1;
	}
	if (rc != BECH32_OK || n != AGE_KEY_LEN) {
		err_set(err, errlen, "malformed age recipient: %s",
		    rc != BECH32_OK ? bech32_strerror(rc) : "not a 32-byte key");
		return -1;
	}
	/* A low-order point would give every file an all-zero shared secret. */
	randombytes_buf(probe, sizeof probe);
	rc = crypto_scalarmult(out, probe, key);
	sodium_memzero(probe, sizeof probe);
	if (rc != 0) {
		err_set(err, errlen, "invalid age recipient: a low-order X25519 point");
		return -1;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 4;
		void *p = realloc(r->keys, cap * sizeof *r->keys);

		if (!p) {
			err_set(err, errlen, "out of memory");
			return -1;
		}
		r->keys = p;
		r->cap = cap;
	}
	memcpy(r->keys[r->n++], key, AGE_KEY_LEN);
	return 0;
}

static int add_recipient_line(void *arg, const char *line, const char *where, char *err,
			      size_t errlen)
{
	char why[200];

	if (age_recipients_add(arg, line, why, sizeof why) != 0) {
		err_set(err, errlen, "%s: %s", where, why);
		return -1;
	}
	return 0;
}

int age_recipients_load_file(struct age_recipients *r, const char *path, char *err,
			     size_t errlen)
{
	size_t before = r->n, len;
	char *text = slurp(path, &len, err, errlen);
	int rc;

	if (!text)
		return -1;
	rc = each_line(text, len, path, add_recipient_line, r, err, errlen);
	sodium_free(text);
	if (rc == 0 && r->n == before) {
		err_set(err, errlen, "%s: no recipients in the file", path);
		rc = -1;
	}
	if (rc != 0)
		r->n = before;
	return rc;
}

/* ---------------------------------------------------------------- identities */

void age_identities_init(struct age_identities *ids)
{
	memset(ids, 0, sizeof *ids);
}

void age_identities_free(struct age_identities *ids)
{
	sodium_free(ids->keys);
	age_identities_init(ids);
}

size_t age_identities_count(const struct age_identities *ids)
{
	return ids ? ids->n : 0;
}

int age_identities_add(struct age_identities *ids, const char *s, char *err, size_t errlen)
{
	struct age_identity *slot;
	char hrp[32];
	size_t n;
	int rc;

	if (sodium_ready(err, errlen) != 0)
		return -1;
	if (strncmp(s, "age1", 4) == 0) {
		err_set(err, errlen, "this is a recipient (a public key), not an identity");
		return -1;
	}
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? 2 * ids->cap : 4;
		struct age_identity *p = sodium_malloc(cap * sizeof *p);

		if (!p) {
			err_set(err, errlen, "out of memory (sodium_malloc)");
			return -1;
		}
		if (ids->n)
			memcpy(p, ids->keys, ids->n * sizeof *p);
		sodium_free(ids->keys);
		ids->keys = p;
		ids->cap = cap;
	}
	slot = &ids->keys[ids->n];
	rc = bech32_decode(s, strlen(s), hrp, sizeof hrp, slot->secret, sizeof slot->secret, &n);
	if (rc == BECH32_OK && strcmp(hrp, SECRET_HRP) != 0) {
		err_set(err, errlen, "%s", strncmp(s, "AGE-", 4) == 0 || strncmp(s, "age-", 4) == 0
			? "not an X25519 age identity (\"AGE-SECRET-KEY-1...\", uppercase); "
			  "other types are not supported"
			: "not an age identity");
		rc = -1;
	} else if (rc != BECH32_OK || n != AGE_KEY_LEN) {
		err_set(err, errlen, "malformed age identity: %s",
		    rc != BECH32_OK ? bech32_strerror(rc) : "not a 32-byte key");
		rc = -1;
	} else if (crypto_scalarmult_base(slot->public, slot->secret) != 0) {
		err_set(err, errlen, "invalid age identity");
		rc = -1;
	}
	if (rc != 0) {
		sodium_memzero(slot, sizeof *slot);
		return -1;
	}
	ids->n++;
	return 0;
}

static int add_identity_line(void *arg, const char *line, const char *where, char *err,
			     size_t errlen)
{
	char why[200];

	if (age_identities_add(arg, line, why, sizeof why) != 0) {
		err_set(err, errlen, "%s: %s", where, why);
		return -1;
	}
	return 0;
}

int age_identities_load(struct age_identities *ids, const char *path, char *err, size_t errlen)
{
	size_t before = ids->n, len;
	char *text = slurp(path, &len, err, errlen);
	int rc;

	if (!text)
		return -1;
	rc = each_line(text, len, path, add_identity_line, ids, err, errlen);
	sodium_free(text);
	if (rc == 0 && ids->n == before) {
		err_set(err, errlen, "%s: no identities in the file", path);
		rc = -1;
	}
	if (rc != 0) {
		if (ids->n > before)
			sodium_memzero(&ids->keys[before], (ids->n - before) * sizeof *ids->keys);
		ids->n = before;
	}
	return rc;
}

int age_identities_recipient(const struct age_identities *ids, size_t i,
			     char out[AGE_RECIPIENT_SIZE])
{
	if (i >= ids->n)
		return -1;
	return bech32_encode("age", ids->keys[i].public, AGE_KEY_LEN, out, AGE_RECIPIENT_SIZE) ==
			       BECH32_OK
		       ? 0
		       : -1;
}

/* ---------------------------------------------------------------- keygen */

struct keygen {
	unsigned char secret[AGE_KEY_LEN];
	char line[SECRET_KEY_LEN + 1];
	char text[256];
};

/* fsync of the folder holding `path`, so the new name is durable. */
static int sync_parent(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else if ((size_t)(slash - path) < sizeof dir)
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	else
		return -1;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int age_keygen_file(const char *path, char recipient_out[AGE_RECIPIENT_SIZE], char *err,
		    size_t errlen)
{
	unsigned char public[AGE_KEY_LEN];
	char created[40];
	struct keygen *k;
	struct tm tm;
	time_t now = (time_t)clock_unix();
	int to_stdout = !path || strcmp(path, "-") == 0, fd = 1, rc = -1, n;

	if (sodium_ready(err, errlen) != 0)
		return -1;
	if (!(k = sodium_malloc(sizeof *k))) {
		err_set(err, errlen, "out of memory (sodium_malloc)");
		return -1;
	}
	randombytes_buf(k->secret, sizeof k->secret);
	if (crypto_scalarmult_base(public, k->secret) != 0 ||
	    bech32_encode("age", public, sizeof public, recipient_out, AGE_RECIPIENT_SIZE) ||
	    bech32_encode(SECRET_HRP, k->secret, sizeof k->secret, k->line, sizeof k->line) ||
	    !gmtime_r(&now, &tm) || !strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
		err_set(err, errlen, "cannot make a key");
		goto out;
	}
	n = snprintf(k->text, sizeof k->text, "# created: %s\n# public key: %s\n%s\n", created,
		     recipient_out, k->line);
	if (n < 0 || (size_t)n >= sizeof k->text) {
		err_set(err, errlen, "cannot make a key");
		goto out;
	}
	if (!to_stdout) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			err_set(err, errlen, "%s: %s", path,
			    errno == EEXIST ? "already exists; not overwritten" : strerror(errno));
			goto out;
		}
	}
	if (write_all(fd, k->text, (size_t)n) != 0 || (!to_stdout && fsync(fd) != 0)) {
		err_set(err, errlen, "%s: %s", to_stdout ? "stdout" : path, strerror(errno));
		if (!to_stdout) {
			close(fd);
			unlink(path);
		}
		goto out;
	}
	if (!to_stdout) {
		if (close(fd) != 0 || sync_parent(path) != 0) {
			err_set(err, errlen, "%s: %s", path, strerror(errno));
			unlink(path);
			goto out;
		}
	}
	rc = 0;
out:
	sodium_free(k);
	return rc;
}

/* ---------------------------------------------------------------- reading a stream */

/* Where ciphertext comes from: an fd read sequentially or with pread, after `pre` (bytes the
 * header parser read ahead). `raw`, when set, hashes every byte taken. */
struct src {
	int fd;
	int positional;
	off_t off;
	const unsigned char *pre;
	size_t prelen;
	struct sha256 *raw;
	uint64_t total;
};

/* Fills `buf` with up to `len` bytes, short only at end of file. Returns the count, or -1 with
 * errno set. */
static ssize_t src_read(struct src *s, unsigned char *buf, size_t len)
{
	size_t n = 0;

	if (s->prelen > 0) {
		n = len < s->prelen ? len : s->prelen;
		memcpy(buf, s->pre, n);
		s->pre += n;
		s->prelen -= n;
	}
	while (n < len) {
		ssize_t r = s->positional ? pread(s->fd, buf + n, len - n, s->off)
					  : read(s->fd, buf + n, len - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += (size_t)r;
		s->off += r;
	}
	if (s->raw)
		sha256_update(s->raw, buf, n);
	s->total += n;
	return (ssize_t)n;
}

/* The STREAM payload after the nonce: chunks of up to 64 KiB + tag read into s->buf
 * (CT_CHUNK + 1 bytes: one byte is read ahead to know whether a chunk is the last) and
 * decrypted into s->pt. Plaintext goes to `sink` chunk by chunk, each only after its tag verified. Mirrors the
 * reference reader: a full chunk may be the final one, a final chunk's plaintext is released
 * before trailing data is reported, a non-final one's before a missing end is. Returns AGE_OK,
 * AGE_BAD_PAYLOAD or AGE_IO_ERROR with `err` set. */
static int stream_open(struct src *s, struct secrets *k, age_out_fn sink, void *ctx,
		       char *err, size_t errlen)
{
	unsigned char *buf = k->buf;
	size_t have = 0;
	uint64_t i = 0;

	for (;;) {
		ssize_t r = src_read(s, buf + have, CT_CHUNK + 1 - have);
		size_t clen;
		int more, last, ok;

		if (r < 0) {
			err_set(err, errlen, "read: %s", strerror(errno));
			return AGE_IO_ERROR;
		}
		have += (size_t)r;
		more = have == CT_CHUNK + 1;
		clen = more ? CT_CHUNK : have;
		if (clen == 0) {
			err_set(err, errlen, "truncated: no payload chunk after the header");
			return AGE_BAD_PAYLOAD;
		}
		if (clen < AGE_TAG_LEN) {
			err_set(err, errlen, "chunk %llu: truncated (%zu bytes, shorter than a tag)",
			    (unsigned long long)i, clen);
			return AGE_BAD_PAYLOAD;
		}
		if (!more && clen == AGE_TAG_LEN && i > 0) {
			err_set(err, errlen, "chunk %llu: empty last chunk not allowed",
			    (unsigned long long)i);
			return AGE_BAD_PAYLOAD;
		}
		last = !more;
		ok = chunk_open(k->pt, buf, clen, i, last, k->payload_key) == 0;
		if (!ok && clen == CT_CHUNK) {
			last = !last;
			ok = chunk_open(k->pt, buf, clen, i, last, k->payload_key) == 0;
		}
		if (!ok) {
			err_set(err, errlen, "chunk %llu: authentication failed", (unsigned long long)i);
			return AGE_BAD_PAYLOAD;
		}
		if (sink(ctx, k->pt, clen - AGE_TAG_LEN) != 0) {
			err_set(err, errlen, "writing the plaintext failed");
			return AGE_IO_ERROR;
		}
		if (last && more) {
			err_set(err, errlen, "trailing data after the final chunk %llu",
			    (unsigned long long)i);
			return AGE_BAD_PAYLOAD;
		}
		if (!last && !more) {
			err_set(err, errlen, "truncated after chunk %llu (no final chunk)",
			    (unsigned long long)i);
			return AGE_BAD_PAYLOAD;
		}
		if (last)
			return AGE_OK;
		buf[0] = buf[CT_CHUNK];
		have = 1;
		i++;
	}
}

/* ---------------------------------------------------------------- writer */

enum { W_OPEN, W_FINISHED, W_FAILED };

struct age_writer {
	age_out_fn out;
	void *ctx;
	struct secrets *s;
	unsigned char *prefix; /* header, then nonce, as emitted */
	size_t prefix_len;
	size_t mac_at;         /* offset of the "---" line */
	size_t fill;           /* plaintext bytes in s->buf */
	uint64_t counter, bytes_out, plain_bytes;
	int state;
};

static void put(unsigned char *p, size_t *n, const void *src, size_t len)
{
	memcpy(p + *n, src, len);
	*n += len;
}

/* One X25519 stanza for recipient `rkey` wrapping the file key, appended at p + *n. */
static int put_stanza(struct secrets *s, const unsigned char rkey[32], unsigned char *p,
		      size_t *n)
{
	static const unsigned char zero_nonce[12];
	unsigned char share[32], salt[64], body[FILE_KEY_LEN + AGE_TAG_LEN];
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];

	randombytes_buf(s->eph, sizeof s->eph);
	if (crypto_scalarmult_base(share, s->eph) != 0 ||
	    crypto_scalarmult(s->shared, s->eph, rkey) != 0)
		return -1;
	memcpy(salt, share, 32);
	memcpy(salt + 32, rkey, 32);
	hkdf(&s->hk, salt, sizeof salt, s->shared, sizeof s->shared,
	     "age-encryption.org/v1/X25519", s->wrap_key);
	crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL, s->file_key, FILE_KEY_LEN, NULL, 0,
						  NULL, zero_nonce, s->wrap_key);
	sodium_memzero(s->eph, sizeof s->eph);
	sodium_memzero(s->shared, sizeof s->shared);
	sodium_memzero(s->wrap_key, sizeof s->wrap_key);
	put(p, n, "-> X25519 ", 10);
	put(p, n, b64, b64_encode(b64, sizeof b64, share, 32));
	put(p, n, "\n", 1);
	put(p, n, b64, b64_encode(b64, sizeof b64, body, sizeof body));
	put(p, n, "\n", 1);
	return 0;
}

/* HMAC-SHA-256 with `key` over `len` header bytes. */
static void header_mac(struct secrets *s, const unsigned char key[32], const unsigned char *hdr,
		       size_t len, unsigned char mac[32])
{
	crypto_auth_hmacsha256_init(&s->mac, key, 32);
	crypto_auth_hmacsha256_update(&s->mac, hdr, len);
	crypto_auth_hmacsha256_final(&s->mac, mac);
	sodium_memzero(&s->mac, sizeof s->mac);
}

struct age_writer *age_writer_new(const struct age_recipients *r, age_out_fn out, void *ctx,
				  char *err, size_t errlen)
{
	unsigned char mac[32], *nonce;
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
	struct age_writer *w;
	size_t n = 0;

	if (sodium_ready(err, errlen) != 0)
		return NULL;
	if (!r || r->n == 0) {
		err_set(err, errlen, "no age recipients");
		return NULL;
	}
	if (!(w = calloc(1, sizeof *w)) || !(w->s = secrets_new(err, errlen)) ||
	    !(w->prefix = malloc(sizeof VERSION_LINE + r->n * (10 + 2 * (B64_32 + 1)) + 4 +
				 B64_32 + 1 + NONCE_LEN))) {
		err_set(err, errlen, "out of memory");
		goto fail;
	}
	w->out = out;
	w->ctx = ctx;
	randombytes_buf(w->s->file_key, FILE_KEY_LEN);
	put(w->prefix, &n, VERSION_LINE "\n", sizeof VERSION_LINE);
	for (size_t i = 0; i < r->n; i++)
		if (put_stanza(w->s, r->keys[i], w->prefix, &n) != 0) {
			err_set(err, errlen, "recipient %zu is not a usable X25519 key", i + 1);
			goto fail;
		}
	w->mac_at = n;
	put(w->prefix, &n, "---", 3);
	hkdf(&w->s->hk, NULL, 0, w->s->file_key, FILE_KEY_LEN, "header", w->s->mac_key);
	header_mac(w->s, w->s->mac_key, w->prefix, n, mac);
	put(w->prefix, &n, " ", 1);
	put(w->prefix, &n, b64, b64_encode(b64, sizeof b64, mac, sizeof mac));
	put(w->prefix, &n, "\n", 1);
	nonce = w->prefix + n;
	randombytes_buf(nonce, NONCE_LEN);
	n += NONCE_LEN;
	w->prefix_len = n;
	hkdf(&w->s->hk, nonce, NONCE_LEN, w->s->file_key, FILE_KEY_LEN, "payload",
	     w->s->payload_key);
	if (out(ctx, w->prefix, n) != 0) {
		err_set(err, errlen, "writing the age header failed");
		goto fail;
	}
	w->bytes_out = n;
	return w;
fail:
	age_writer_free(w);
	return NULL;
}

/* Encrypts the buffered plaintext in place as chunk `counter` and emits it. */
static int seal_chunk(struct age_writer *w, int last)
{
	unsigned char nonce[12];
	size_t len = w->fill;

	chunk_nonce(nonce, w->counter, last);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(w->s->buf, w->s->buf + len, NULL,
							   w->s->buf, len, NULL, 0, NULL, nonce,
							   w->s->payload_key);
	w->fill = 0;
	if (w->out(w->ctx, w->s->buf, len + AGE_TAG_LEN) != 0) {
		w->state = W_FAILED;
		return -1;
	}
	w->counter++;
	w->bytes_out += len + AGE_TAG_LEN;
	return 0;
}

int age_writer_write(struct age_writer *w, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (!w || w->state != W_OPEN)
		return -1;
	while (len > 0) {
		size_t n;

		if (w->fill == AGE_CHUNK_SIZE && seal_chunk(w, 0) != 0)
			return -1;
		n = AGE_CHUNK_SIZE - w->fill;
		if (n > len)
			n = len;
		memcpy(w->s->buf + w->fill, p, n);
		w->fill += n;
		w->plain_bytes += n;
		p += n;
		len -= n;
	}
	return 0;
}

int age_writer_finish(struct age_writer *w)
{
	if (!w || w->state != W_OPEN)
		return -1;
	if (seal_chunk(w, 1) != 0)
		return -1;
	w->state = W_FINISHED;
	return 0;
}

uint64_t age_writer_bytes_out(const struct age_writer *w)
{
	return w ? w->bytes_out : 0;
}

void age_writer_free(struct age_writer *w)
{
	if (!w)
		return;
	sodium_free(w->s);
	free(w->prefix);
	free(w);
}

static int hash_sink(void *ctx, const void *buf, size_t len)
{
	sha256_update(ctx, buf, len);
	return 0;
}

/* Compares the stored header and nonce with what was emitted. Returns 0 or -1 (err set). */
static int verify_prefix(struct age_writer *w, struct src *s, char *err, size_t errlen)
{
	unsigned char *buf = w->s->buf;
	size_t done = 0;

	while (done < w->prefix_len) {
		size_t want = w->prefix_len - done, i;
		ssize_t r;

		if (want > CT_CHUNK)
			want = CT_CHUNK;
		if ((r = src_read(s, buf, want)) < 0) {
			err_set(err, errlen, "read: %s", strerror(errno));
			return -1;
		}
		for (i = 0; i < (size_t)r && buf[i] == w->prefix[done + i]; i++)
			;
		if (i < (size_t)r) {
			i += done;
			if (i >= w->prefix_len - NONCE_LEN)
				err_set(err, errlen, "payload nonce differs from what was written");
			else if (i >= w->mac_at)
				err_set(err, errlen, "header MAC differs from what was written");
			else
				err_set(err, errlen, "header differs from what was written (first "
						 "difference at byte %zu)", i);
			return -1;
		}
		if ((size_t)r < want) {
			err_set(err, errlen, "truncated inside the header (%zu of %zu bytes)",
			    done + (size_t)r, w->prefix_len);
			return -1;
		}
		done += want;
	}
	return 0;
}

/* Recomputes the header MAC and the payload key from the kept file key. */
static int verify_keys(struct age_writer *w, char *err, size_t errlen)
{
	struct secrets *s = w->s;
	unsigned char mac[32], stored[48];
	int rc;

	hkdf(&s->hk, NULL, 0, s->file_key, FILE_KEY_LEN, "header", s->mac_key);
	header_mac(s, s->mac_key, w->prefix, w->mac_at + 3, mac);
	rc = b64_decode((const char *)w->prefix + w->mac_at + 4, B64_32, stored) == 32 &&
	     sodium_memcmp(mac, stored, 32) == 0;
	if (!rc) {
		err_set(err, errlen, "header MAC does not verify");
		return -1;
	}
	hkdf(&s->hk, w->prefix + w->prefix_len - NONCE_LEN, NONCE_LEN, s->file_key, FILE_KEY_LEN,
	     "payload", s->payload_key);
	return 0;
}

int age_writer_verify(struct age_writer *w, int fd, unsigned char plain_sha256[32],
		      unsigned char stored_sha256[32], char *err, size_t errlen)
{
	struct sha256 *plain = NULL, *raw = NULL;
	struct src s = { .fd = fd, .positional = 1 };
	struct stat st;
	int rc = -1;

	if (!w || w->state != W_FINISHED) {
		err_set(err, errlen, "the age writer is not finished");
		return -1;
	}
	if (!(plain = sha256_new()) || (stored_sha256 && !(raw = sha256_new()))) {
		err_set(err, errlen, "out of memory");
		goto out;
	}
	s.raw = raw;
	if (verify_prefix(w, &s, err, errlen) != 0 || verify_keys(w, err, errlen) != 0 ||
	    stream_open(&s, w->s, hash_sink, plain, err, errlen) != AGE_OK)
		goto sizes;
	if (s.total != w->bytes_out) {
		err_set(err, errlen, "the stored file is %llu bytes, %llu were written",
		    (unsigned long long)s.total, (unsigned long long)w->bytes_out);
		goto out;
	}
	sha256_finish(plain, plain_sha256);
	if (raw)
		sha256_finish(raw, stored_sha256);
	rc = 0;
	goto out;
sizes:
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size != w->bytes_out) {
		size_t l = strlen(err);

		snprintf(err + l, errlen - l, " (file is %llu bytes, %llu were written)",
			 (unsigned long long)st.st_size, (unsigned long long)w->bytes_out);
	}
out:
	sodium_memzero(w->s->pt, sizeof w->s->pt);
	sha256_free(plain);
	sha256_free(raw);
	return rc;
}

/* ---------------------------------------------------------------- reader */

struct x25519_stanza {
	unsigned char share[32];
	unsigned char body[FILE_KEY_LEN + AGE_TAG_LEN];
};

/* The header as read so far; lines are offsets, as `buf` may move when it grows. */
struct hdr {
	int fd, eof;
	unsigned char *buf;
	size_t len, cap, pos;
	unsigned lineno;
	struct x25519_stanza *st;
	size_t nst, capst, nstanzas, nscrypt;
	size_t mac_input;        /* bytes covered by the MAC */
	unsigned char mac[48];
};

/* The next line at buf + *at, *n bytes without its LF. Returns 0 or an age status. */
static int hdr_line(struct hdr *h, size_t *at, size_t *n, char *err, size_t errlen)
{
	for (;;) {
		unsigned char *lf = h->buf ? memchr(h->buf + h->pos, '\n', h->len - h->pos) : NULL;
		ssize_t r;

		if (lf) {
			*at = h->pos;
			*n = (size_t)(lf - (h->buf + h->pos));
			h->pos += *n + 1;
			h->lineno++;
			return 0;
		}
		if (h->eof) {
			if (h->len == 0)
				err_set(err, errlen, "header: empty file");
			else
				err_set(err, errlen, "header: truncated in line %u", h->lineno + 1);
			return AGE_BAD_HEADER;
		}
		if (h->len == AGE_HEADER_MAX) {
			err_set(err, errlen, "header: longer than %d bytes", AGE_HEADER_MAX);
			return AGE_BAD_HEADER;
		}
		if (h->len == h->cap) {
			size_t cap = h->cap ? 2 * h->cap : 4096;
			unsigned char *p;

			if (cap > AGE_HEADER_MAX)
				cap = AGE_HEADER_MAX;
			if (!(p = realloc(h->buf, cap))) {
				err_set(err, errlen, "out of memory");
				return AGE_IO_ERROR;
			}
			h->buf = p;
			h->cap = cap;
		}
		r = read(h->fd, h->buf + h->len, h->cap - h->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(err, errlen, "read: %s", strerror(errno));
			return AGE_IO_ERROR;
		}
		if (r == 0)
			h->eof = 1;
		h->len += (size_t)r;
	}
}

static int hdr_bad(struct hdr *h, char *err, size_t errlen, const char *what)
{
	err_set(err, errlen, "header line %u: %s", h->lineno, what);
	return AGE_BAD_HEADER;
}

/* One stanza whose "-> " line is at buf + at, n bytes: arguments, then body lines until one
 * shorter than 64 columns. X25519 stanzas are checked now and kept; others only parsed. */
static int hdr_stanza(struct hdr *h, size_t at, size_t n, char *err, size_t errlen)
{
	const char *args = (const char *)h->buf + at + 3, *arg1 = NULL;
	size_t alen = n - 3, nargs = 0, arg0len = 0, arg1len = 0, body = 0;
	unsigned char dec[48], share[48];
	int x25519, rc;

	for (size_t i = 0; i <= alen; i++) {
		size_t start = i;

		while (i < alen && args[i] != ' ') {
			if ((unsigned char)args[i] < 0x21 || (unsigned char)args[i] > 0x7e)
				return hdr_bad(h, err, errlen, "invalid character in a stanza argument");
			i++;
		}
		if (i == start)
			return hdr_bad(h, err, errlen, "empty stanza argument");
		if (nargs == 0)
			arg0len = i;
		else if (nargs == 1) {
			arg1 = args + start;
			arg1len = i - start;
		}
		nargs++;
	}
	x25519 = arg0len == 6 && memcmp(args, "X25519", 6) == 0;
	h->nscrypt += arg0len == 6 && memcmp(args, "scrypt", 6) == 0;
	if (x25519 && nargs != 2)
		return hdr_bad(h, err, errlen, "an X25519 stanza takes exactly one argument");
	if (x25519 && (arg1len != B64_32 || b64_decode(arg1, arg1len, share) != 32))
		return hdr_bad(h, err, errlen,
			       "the X25519 share is not canonical base64 of 32 bytes");
	if (x25519 && h->nst == h->capst) {
		size_t cap = h->capst ? 2 * h->capst : 8;
		struct x25519_stanza *p = realloc(h->st, cap * sizeof *p);

		if (!p) {
			err_set(err, errlen, "out of memory");
			return AGE_IO_ERROR;
		}
		h->st = p;
		h->capst = cap;
	}
	for (;;) {
		long got;

		if ((rc = hdr_line(h, &at, &n, err, errlen)) != 0)
			return rc;
		if (n > BODY_COLUMNS)
			return hdr_bad(h, err, errlen, "stanza body line longer than 64 columns");
		if ((got = b64_decode((const char *)h->buf + at, n, dec)) < 0)
			return hdr_bad(h, err, errlen, "stanza body is not canonical base64");
		if (x25519 && body + (size_t)got <= sizeof h->st->body)
			memcpy(h->st[h->nst].body + body, dec, (size_t)got);
		body += (size_t)got;
		if (n < BODY_COLUMNS)
			break;
	}
	/* Checked before any decryption, against partitioning oracles. */
	if (x25519 && body != sizeof h->st->body)
		return hdr_bad(h, err, errlen, "an X25519 stanza body must be 32 bytes");
	if (x25519)
		memcpy(h->st[h->nst++].share, share, 32);
	h->nstanzas++;
	return 0;
}

/* The whole header, strictly per the spec's ABNF. */
static int hdr_parse(struct hdr *h, char *err, size_t errlen)
{
	size_t at, n;
	int rc;

	if ((rc = hdr_line(h, &at, &n, err, errlen)) != 0)
		return rc;
	if (n != strlen(VERSION_LINE) || memcmp(h->buf + at, VERSION_LINE, n) != 0) {
		const char *line = (const char *)h->buf + at;

		if (n > 0 && line[n - 1] == '\r')
			return hdr_bad(h, err, errlen, "the line ends in CR LF (not allowed)");
		if (n >= 19 && memcmp(line, "age-encryption.org/", 19) == 0)
			return hdr_bad(h, err, errlen, "unsupported age version");
		if (n >= 10 && memcmp(line, "-----BEGIN", 10) == 0)
			return hdr_bad(h, err, errlen, "ASCII-armored files are not supported");
		return hdr_bad(h, err, errlen, "not an age file");
	}
	for (;;) {
		const char *line;

		if ((rc = hdr_line(h, &at, &n, err, errlen)) != 0)
			return rc;
		line = (const char *)h->buf + at;
		if (n >= 3 && memcmp(line, "-> ", 3) == 0) {
			if ((rc = hdr_stanza(h, at, n, err, errlen)) != 0)
				return rc;
			continue;
		}
		if (n >= 3 && memcmp(line, "---", 3) == 0)
			break;
		return hdr_bad(h, err, errlen, "expected a stanza (\"-> \") or the MAC (\"--- \")");
	}
	if (h->nstanzas == 0)
		return hdr_bad(h, err, errlen, "no recipient stanza");
	if (n != 4 + B64_32 || h->buf[at + 3] != ' ' ||
	    b64_decode((const char *)h->buf + at + 4, B64_32, h->mac) != 32)
		return hdr_bad(h, err, errlen, "the MAC line is not \"--- \" and canonical "
					       "base64 of 32 bytes");
	h->mac_input = at + 3;
	return 0;
}

/* Finds the file key: each identity against each X25519 stanza, in order, as the reference
 * implementation does. Returns AGE_OK with s->file_key set, or an age status. */
static int unwrap(struct hdr *h, const struct age_identities *ids, struct secrets *s,
		  char *err, size_t errlen)
{
	static const unsigned char zero_nonce[12];
	unsigned char salt[64];

	for (size_t i = 0; ids && i < ids->n; i++) {
		for (size_t j = 0; j < h->nst; j++) {
			const struct x25519_stanza *st = &h->st[j];
			int rc;

			if (crypto_scalarmult(s->shared, ids->keys[i].secret, st->share) != 0 ||
			    sodium_is_zero(s->shared, sizeof s->shared)) {
				sodium_memzero(s->shared, sizeof s->shared);
				err_set(err, errlen, "header: an X25519 share is a low-order point");
				return AGE_BAD_HEADER;
			}
			memcpy(salt, st->share, 32);
			memcpy(salt + 32, ids->keys[i].public, 32);
			hkdf(&s->hk, salt, sizeof salt, s->shared, sizeof s->shared,
			     "age-encryption.org/v1/X25519", s->wrap_key);
			sodium_memzero(s->shared, sizeof s->shared);
			rc = crypto_aead_chacha20poly1305_ietf_decrypt(
				s->file_key, NULL, NULL, st->body, sizeof st->body, NULL, 0,
				zero_nonce, s->wrap_key);
			sodium_memzero(s->wrap_key, sizeof s->wrap_key);
			if (rc == 0)
				return AGE_OK;
		}
	}
	if (h->nscrypt)
		err_set(err, errlen, "no matching identity (the file is passphrase-encrypted: scrypt "
				 "is not supported)");
	else
		err_set(err, errlen, "no matching identity (%zu X25519 stanza%s, %zu identit%s)",
		    h->nst, h->nst == 1 ? "" : "s", ids ? ids->n : 0,
		    ids && ids->n == 1 ? "y" : "ies");
	return AGE_NO_MATCH;
}

int age_decrypt(int in_fd, const struct age_identities *ids, age_out_fn out, void *ctx,
		char *err, size_t errlen)
{
	struct hdr h = { .fd = in_fd };
	struct src src = { .fd = in_fd };
	struct secrets *s = NULL;
	unsigned char mac[32], nonce[NONCE_LEN];
	ssize_t r;
	int rc;

	if (sodium_ready(err, errlen) != 0)
		return AGE_IO_ERROR;
	if (!(s = secrets_new(err, errlen)))
		return AGE_IO_ERROR;
	if ((rc = hdr_parse(&h, err, errlen)) != AGE_OK ||
	    (rc = unwrap(&h, ids, s, err, errlen)) != AGE_OK)
		goto out;
	hkdf(&s->hk, NULL, 0, s->file_key, FILE_KEY_LEN, "header", s->mac_key);
	header_mac(s, s->mac_key, h.buf, h.mac_input, mac);
	if (sodium_memcmp(mac, h.mac, sizeof mac) != 0) {
		err_set(err, errlen, "header MAC does not verify (the header was altered or is "
				 "corrupt)");
		rc = AGE_BAD_HMAC;
		goto out;
	}
	src.pre = h.buf + h.pos;
	src.prelen = h.len - h.pos;
	if ((r = src_read(&src, nonce, sizeof nonce)) < 0) {
		err_set(err, errlen, "read: %s", strerror(errno));
		rc = AGE_IO_ERROR;
		goto out;
	}
	if (r < (ssize_t)sizeof nonce) {
		err_set(err, errlen, "header: the payload nonce is truncated (%zd of 16 bytes)", r);
		rc = AGE_BAD_HEADER;
		goto out;
	}
	hkdf(&s->hk, nonce, sizeof nonce, s->file_key, FILE_KEY_LEN, "payload", s->payload_key);
	rc = stream_open(&src, s, out, ctx, err, errlen);
out:
	sodium_free(s);
	free(h.buf);
	free(h.st);
	return rc;
}
