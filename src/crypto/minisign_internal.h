/* minisign_internal.h — what the minisign files share: the record layouts, the key structs,
 * and the text helpers of minisign_text.c. Not a public header: nothing outside
 * crypto/minisign*.c includes it. */
#ifndef NEXO_MINISIGN_INTERNAL_H
#define NEXO_MINISIGN_INTERNAL_H

#include <sodium.h>
#include <stddef.h>

#include "minisign.h"

#define UNTRUSTED_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
#define PREFIX_LEN(p) (sizeof(p) - 1)
#define B64_LEN(n) (sodium_base64_ENCODED_LEN((n), sodium_base64_VARIANT_ORIGINAL) - 1)

/* Record layouts (offsets in bytes), as minisign lays them out. */
enum {
	KEYNUM_LEN = 8,
	PK_LEN = crypto_sign_ed25519_PUBLICKEYBYTES,
	SK_LEN = crypto_sign_ed25519_SECRETKEYBYTES,
	SIG_LEN = crypto_sign_ed25519_BYTES,
	CHK_LEN = 32,
	PREHASH_LEN = 64,
	/* secret key: "Ed", kdf alg, "B2", kdf salt[32], opslimit[8], memlimit[8], keynum, sk,
	 * chk */
	SK_SIGALG = 0,
	SK_KDFALG = 2,
	SK_CHKALG = 4,
	SK_KEYNUM = 54,
	SK_KEY = SK_KEYNUM + KEYNUM_LEN,
	SK_CHK = SK_KEY + SK_LEN,
	SK_REC_LEN = SK_CHK + CHK_LEN,
	/* public key: "Ed", keynum, pk */
	PK_KEYNUM = 2,
	PK_KEY = PK_KEYNUM + KEYNUM_LEN,
	PK_REC_LEN = PK_KEY + PK_LEN,
	/* signature: "ED" (or legacy "Ed"), keynum, Ed25519 signature */
	SIG_KEYNUM = 2,
	SIG_SIG = SIG_KEYNUM + KEYNUM_LEN,
	SIG_REC_LEN = SIG_SIG + SIG_LEN,
};

_Static_assert(SK_REC_LEN == 158, "minisign secret key record is 158 bytes");
_Static_assert(crypto_generichash_BYTES_MAX == PREHASH_LEN, "BLAKE2b-512 prehash");
_Static_assert(B64_LEN(PK_REC_LEN) == MINISIGN_PUBLIC_B64_LEN, "public key line length");

struct minisign_secret {
	unsigned char keynum[KEYNUM_LEN];
	unsigned char sk[SK_LEN];
};

struct minisign_public {
	unsigned char keynum[KEYNUM_LEN];
	unsigned char pk[PK_LEN];
};

/* A read position in a text, split into lines. */
struct cursor {
	const char *p, *end;
};

/* libsodium started; -1 with `err` set when it cannot start. */
int ms_ready(char *err, size_t errlen);
/* The next line of `c` without its "\n" and one "\r" before it: 1 for a line ended by "\n",
 * 0 for a last line without one, -1 at the end of the text. */
int ms_next_line(struct cursor *c, const char **line, size_t *len);
/* 1 when nothing but line ends remain. */
int ms_only_blank(const struct cursor *c);
int ms_has_prefix(const char *line, size_t len, const char *prefix, size_t plen);
/* Padded standard base64 that must make exactly `want` bytes: 0 or -1. */
int ms_b64_exact(unsigned char *out, size_t want, const char *b64, size_t len);
/* A key id as minisign prints it. */
void ms_keyid_hex(const unsigned char keynum[KEYNUM_LEN], char hex[MINISIGN_KEYID_HEX_LEN + 1]);

#endif
