/* age_decrypt.c — a strict streaming age reader: the header parsed per the spec's ABNF
 * (stanzas checked before any decryption), the file key unwrapped by an identity, the header
 * MAC checked, then the payload released chunk by chunk, each only after its tag verified. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "age_internal.h"
#include "base/log.h"

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
	if (x25519 && (arg1len != B64_32 || age_b64_decode(arg1, arg1len, share) != 32))
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
		if ((got = age_b64_decode((const char *)h->buf + at, n, dec)) < 0)
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
	    age_b64_decode((const char *)h->buf + at + 4, B64_32, h->mac) != 32)
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
			age_hkdf(&s->hk, salt, sizeof salt, s->shared, sizeof s->shared,
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

	if (age_sodium_ready(err, errlen) != 0)
		return AGE_IO_ERROR;
	if (!(s = age_secrets_new(err, errlen)))
		return AGE_IO_ERROR;
	if ((rc = hdr_parse(&h, err, errlen)) != AGE_OK ||
	    (rc = unwrap(&h, ids, s, err, errlen)) != AGE_OK)
		goto out;
	age_hkdf(&s->hk, NULL, 0, s->file_key, FILE_KEY_LEN, "header", s->mac_key);
	age_header_mac(s, s->mac_key, h.buf, h.mac_input, mac);
	if (sodium_memcmp(mac, h.mac, sizeof mac) != 0) {
		err_set(err, errlen, "header MAC does not verify (the header was altered or is "
				 "corrupt)");
		rc = AGE_BAD_HMAC;
		goto out;
	}
	src.pre = h.buf + h.pos;
	src.prelen = h.len - h.pos;
	if ((r = age_src_read(&src, nonce, sizeof nonce)) < 0) {
		err_set(err, errlen, "read: %s", strerror(errno));
		rc = AGE_IO_ERROR;
		goto out;
	}
	if (r < (ssize_t)sizeof nonce) {
		err_set(err, errlen, "header: the payload nonce is truncated (%zd of 16 bytes)", r);
		rc = AGE_BAD_HEADER;
		goto out;
	}
	age_hkdf(&s->hk, nonce, sizeof nonce, s->file_key, FILE_KEY_LEN, "payload", s->payload_key);
	rc = age_stream_open(&src, s, out, ctx, err, errlen);
out:
	sodium_free(s);
	free(h.buf);
	free(h.st);
	return rc;
}
