/* age.c — age v1 encryption to X25519 recipients (C2SP age.md): a streaming writer and its
 * read-back check of the stored file. Keys are in age_keys.c, the reader in age_decrypt.c,
 * what both sides share in age_primitives.c. Every primitive comes from libsodium; secrets
 * only ever sit in sodium_malloc memory, which sodium_free wipes. Never prints and never
 * exits; see age.h for the contract. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "age_internal.h"
#include "base/log.h"

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
	age_hkdf(&s->hk, salt, sizeof salt, s->shared, sizeof s->shared,
	     "age-encryption.org/v1/X25519", s->wrap_key);
	crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL, s->file_key, FILE_KEY_LEN, NULL, 0,
						  NULL, zero_nonce, s->wrap_key);
	sodium_memzero(s->eph, sizeof s->eph);
	sodium_memzero(s->shared, sizeof s->shared);
	sodium_memzero(s->wrap_key, sizeof s->wrap_key);
	put(p, n, "-> X25519 ", 10);
	put(p, n, b64, age_b64_encode(b64, sizeof b64, share, 32));
	put(p, n, "\n", 1);
	put(p, n, b64, age_b64_encode(b64, sizeof b64, body, sizeof body));
	put(p, n, "\n", 1);
	return 0;
}


struct age_writer *age_writer_new(const struct age_recipients *r, age_out_fn out, void *ctx,
				  char *err, size_t errlen)
{
	unsigned char mac[32], *nonce;
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
	struct age_writer *w;
	size_t n = 0;

	if (age_sodium_ready(err, errlen) != 0)
		return NULL;
	if (!r || r->n == 0) {
		err_set(err, errlen, "no age recipients");
		return NULL;
	}
	if (!(w = calloc(1, sizeof *w)) || !(w->s = age_secrets_new(err, errlen)) ||
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
	age_hkdf(&w->s->hk, NULL, 0, w->s->file_key, FILE_KEY_LEN, "header", w->s->mac_key);
	age_header_mac(w->s, w->s->mac_key, w->prefix, n, mac);
	put(w->prefix, &n, " ", 1);
	put(w->prefix, &n, b64, age_b64_encode(b64, sizeof b64, mac, sizeof mac));
	put(w->prefix, &n, "\n", 1);
	nonce = w->prefix + n;
	randombytes_buf(nonce, NONCE_LEN);
	n += NONCE_LEN;
	w->prefix_len = n;
	age_hkdf(&w->s->hk, nonce, NONCE_LEN, w->s->file_key, FILE_KEY_LEN, "payload",
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

	age_chunk_nonce(nonce, w->counter, last);
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
		if ((r = age_src_read(s, buf, want)) < 0) {
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

	age_hkdf(&s->hk, NULL, 0, s->file_key, FILE_KEY_LEN, "header", s->mac_key);
	age_header_mac(s, s->mac_key, w->prefix, w->mac_at + 3, mac);
	rc = age_b64_decode((const char *)w->prefix + w->mac_at + 4, B64_32, stored) == 32 &&
	     sodium_memcmp(mac, stored, 32) == 0;
	if (!rc) {
		err_set(err, errlen, "header MAC does not verify");
		return -1;
	}
	age_hkdf(&s->hk, w->prefix + w->prefix_len - NONCE_LEN, NONCE_LEN, s->file_key, FILE_KEY_LEN,
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
	    age_stream_open(&s, w->s, hash_sink, plain, err, errlen) != AGE_OK)
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
