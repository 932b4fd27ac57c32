/* bech32.h — Bech32 (BIP-173) strings, the way age uses them for keys ("age1...",
 * "AGE-SECRET-KEY-1..."): the generic encoding with its checksum and case rules, without the
 * 90-character limit (age drops it, as its reference implementation does) and without any
 * segwit meaning. Data is converted between 8-bit bytes and 5-bit groups; padding must be
 * canonical. Works in the caller's buffers with no allocation, so a secret key is never copied
 * anywhere but where the caller says. */
#ifndef NEXO_BECH32_H
#define NEXO_BECH32_H

#include <stddef.h>

/* Characters of the encoding of `datalen` bytes under a `hrplen`-character HRP, without the
 * NUL: HRP, '1', the 5-bit groups, 6 checksum characters. */
#define BECH32_ENCODED_LEN(hrplen, datalen) ((hrplen) + 1 + ((datalen) * 8 + 4) / 5 + 6)

enum bech32_status {
	BECH32_OK = 0,
	BECH32_MIXED_CASE,   /* upper- and lowercase letters in one string */
	BECH32_NO_SEPARATOR, /* no '1' */
	BECH32_EMPTY_HRP,    /* nothing before the last '1' */
	BECH32_BAD_HRP_CHAR, /* an HRP byte outside 33..126 */
	BECH32_SHORT,        /* fewer than 6 characters after the last '1' */
	BECH32_BAD_CHAR,     /* a data character outside the Bech32 alphabet */
	BECH32_BAD_CHECKSUM, /* includes a checksum computed over an uppercase HRP */
	BECH32_BAD_PADDING,  /* 5 or more padding bits, or padding bits that are not zero */
	BECH32_NO_ROOM,      /* a buffer of the caller's is too small */
};

/* Decodes the `len` bytes at `s` (no NUL needed). On BECH32_OK: `hrp` holds the HRP as written
 * (case kept, so "AGE-SECRET-KEY-" and "age" can be told apart), NUL-terminated, and `data` the
 * `*datalen` decoded bytes. Returns an enum bech32_status; on anything but BECH32_OK the
 * buffers hold nothing meaningful and `data` has been wiped. */
int bech32_decode(const char *s, size_t len, char *hrp, size_t hrpcap, unsigned char *data,
		  size_t datacap, size_t *datalen);

/* Encodes `len` bytes under `hrp` into `out` (NUL-terminated; BECH32_ENCODED_LEN + 1 bytes are
 * enough). The result is all uppercase when `hrp` has uppercase letters, else lowercase; the
 * checksum is always over the lowercase form. Returns BECH32_OK, BECH32_EMPTY_HRP,
 * BECH32_BAD_HRP_CHAR, BECH32_MIXED_CASE (in `hrp`) or BECH32_NO_ROOM (`out` is then ""). */
int bech32_encode(const char *hrp, const unsigned char *data, size_t len, char *out,
		  size_t outcap);

/* A short English description of an enum bech32_status ("invalid checksum"). */
const char *bech32_strerror(int status);

#endif
