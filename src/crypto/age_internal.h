/* age_internal.h — what the age files share: the format's constants, the secrets block,
 * a ciphertext source, and the primitives in age_primitives.c. Not a public header: nothing
 * outside crypto/age*.c includes it. */
#ifndef NEXO_AGE_INTERNAL_H
#define NEXO_AGE_INTERNAL_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "age.h"
#include "hash.h"

#define FILE_KEY_LEN 16
#define NONCE_LEN 16
#define CT_CHUNK (AGE_CHUNK_SIZE + AGE_TAG_LEN)
#define B64_32 43 /* unpadded base64 characters of 32 bytes */
#define BODY_COLUMNS 64
#define VERSION_LINE "age-encryption.org/v1"

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

/* libsodium started; -1 with `err` set when it cannot start. */
int age_sodium_ready(char *err, size_t errlen);
/* A zeroed-on-free block for every secret, or NULL with `err` set. Free with sodium_free. */
struct secrets *age_secrets_new(char *err, size_t errlen);
/* HKDF-SHA-256 (RFC 5869), 32 bytes out; wipes `t`. */
void age_hkdf(struct hkdf *t, const unsigned char *salt, size_t saltlen,
	      const unsigned char *ikm, size_t ikmlen, const char *info, unsigned char out[32]);
/* The STREAM nonce of chunk `counter`. */
void age_chunk_nonce(unsigned char nonce[12], uint64_t counter, int last);
/* Unpadded standard base64; canonical decoding of at most 64 characters (-1 if not). */
size_t age_b64_encode(char *out, size_t outcap, const unsigned char *bin, size_t len);
long age_b64_decode(const char *s, size_t slen, unsigned char out[48]);
/* HMAC-SHA-256 of `len` header bytes. */
void age_header_mac(struct secrets *s, const unsigned char key[32], const unsigned char *hdr,
		    size_t len, unsigned char mac[32]);
/* Up to `len` bytes from `s`, short only at end of file; -1 with errno set. */
ssize_t age_src_read(struct src *s, unsigned char *buf, size_t len);
/* The payload after the nonce, chunk by chunk into `sink`: AGE_OK, AGE_BAD_PAYLOAD or
 * AGE_IO_ERROR with `err` set. */
int age_stream_open(struct src *s, struct secrets *k, age_out_fn sink, void *ctx, char *err,
		    size_t errlen);

#endif
