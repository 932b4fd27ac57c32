/* age_primitives.c — the pieces both age sides use: libsodium's start, the secrets block,
 * HKDF, the STREAM chunk nonce and chunk opening, canonical base64, the header MAC, and the
 * payload reader that age_decrypt and the writer's read-back check share. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "age_internal.h"
#include "base/log.h"

int age_sodium_ready(char *err, size_t errlen)
{
	if (sodium_init() < 0) {
		err_set(err, errlen, "libsodium cannot start");
		return -1;
	}
	return 0;
}

struct secrets *age_secrets_new(char *err, size_t errlen)
{
	struct secrets *s = sodium_malloc(sizeof *s);

	if (!s)
		err_set(err, errlen, "out of memory (sodium_malloc)");
	return s;
}

/* HKDF-SHA-256 (RFC 5869) with a 32-byte output: one Expand block. An empty salt is HMAC's
 * empty key, which equals the RFC's string of zeros. */
void age_hkdf(struct hkdf *t, const unsigned char *salt, size_t saltlen,
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

void age_chunk_nonce(unsigned char nonce[12], uint64_t counter, int last)
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

	age_chunk_nonce(nonce, counter, last);
	return crypto_aead_chacha20poly1305_ietf_decrypt_detached(
		pt, NULL, buf, clen - AGE_TAG_LEN, buf + clen - AGE_TAG_LEN, NULL, 0, nonce, key);
}

/* Unpadded standard base64 of `len` bytes into `out` (sodium_base64_ENCODED_LEN bytes). */
size_t age_b64_encode(char *out, size_t outcap, const unsigned char *bin, size_t len)
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
long age_b64_decode(const char *s, size_t slen, unsigned char out[48])
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
	if (age_b64_encode(again, sizeof again, out, n) != slen || memcmp(again, s, slen) != 0)
		return -1;
	return (long)n;
}

/* HMAC-SHA-256 with `key` over `len` header bytes. */
void age_header_mac(struct secrets *s, const unsigned char key[32], const unsigned char *hdr,
		       size_t len, unsigned char mac[32])
{
	crypto_auth_hmacsha256_init(&s->mac, key, 32);
	crypto_auth_hmacsha256_update(&s->mac, hdr, len);
	crypto_auth_hmacsha256_final(&s->mac, mac);
	sodium_memzero(&s->mac, sizeof s->mac);
}

/* ---------------------------------------------------------------- reading a stream */


/* Fills `buf` with up to `len` bytes, short only at end of file. Returns the count, or -1 with
 * errno set. */
ssize_t age_src_read(struct src *s, unsigned char *buf, size_t len)
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
int age_stream_open(struct src *s, struct secrets *k, age_out_fn sink, void *ctx,
		       char *err, size_t errlen)
{
	unsigned char *buf = k->buf;
	size_t have = 0;
	uint64_t i = 0;

	for (;;) {
		ssize_t r = age_src_read(s, buf + have, CT_CHUNK + 1 - have);
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
