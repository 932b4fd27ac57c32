/* bech32.c — BIP-173 Bech32 without the length limit, as age uses it. The checksum is computed
 * in one pass over the string and the 5-to-8-bit conversion in a second one, straight into the
 * caller's buffer: no copy of the data is made, which matters when it is a secret key. Knows
 * nothing of what the bytes mean. See bech32.h. */
#include "bech32.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>

static const char alphabet[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t chk, unsigned v)
{
	static const uint32_t gen[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd,
					 0x2a1462b3 };
	uint32_t top = chk >> 25;

	chk = ((chk & 0x1ffffff) << 5) ^ v;
	for (int i = 0; i < 5; i++)
		if ((top >> i) & 1)
			chk ^= gen[i];
	return chk;
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* The checksum state after the HRP (always taken in lowercase). */
static uint32_t polymod_hrp(const char *hrp, size_t n)
{
	uint32_t chk = 1;

	for (size_t i = 0; i < n; i++)
		chk = polymod_step(chk, lower((unsigned char)hrp[i]) >> 5);
	chk = polymod_step(chk, 0);
	for (size_t i = 0; i < n; i++)
		chk = polymod_step(chk, lower((unsigned char)hrp[i]) & 31);
	return chk;
}

/* Value of a data character (either case), or -1. */
static int value_of(unsigned char c)
{
	const char *p;

	c = lower(c);
	if (c == 0 || !(p = strchr(alphabet, c)))
		return -1;
	return (int)(p - alphabet);
}

/* 1 when the `n` bytes hold both upper- and lowercase letters. */
static int mixed_case(const char *s, size_t n)
{
	int up = 0, low = 0;

	for (size_t i = 0; i < n; i++) {
		up |= s[i] >= 'A' && s[i] <= 'Z';
		low |= s[i] >= 'a' && s[i] <= 'z';
	}
	return up && low;
}

int bech32_decode(const char *s, size_t len, char *hrp, size_t hrpcap, unsigned char *data,
		  size_t datacap, size_t *datalen)
{
	size_t sep, ngroups, nbytes, o = 0;
	uint32_t chk, acc = 0;
	unsigned bits = 0;
	int rc = BECH32_OK;

	*datalen = 0;
	if (mixed_case(s, len))
		return BECH32_MIXED_CASE;
	for (sep = len; sep > 0 && s[sep - 1] != '1'; sep--)
		;
	if (sep == 0)
		return BECH32_NO_SEPARATOR;
	sep--; /* index of the last '1' */
	if (sep == 0)
		return BECH32_EMPTY_HRP;
	if (len - sep - 1 < 6)
		return BECH32_SHORT;
	for (size_t i = 0; i < sep; i++)
		if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126)
			return BECH32_BAD_HRP_CHAR;
	chk = polymod_hrp(s, sep);
	for (size_t i = sep + 1; i < len; i++) {
		int v = value_of((unsigned char)s[i]);

		if (v < 0)
			return BECH32_BAD_CHAR;
		chk = polymod_step(chk, (unsigned)v);
	}
	if (chk != 1)
		return BECH32_BAD_CHECKSUM;
	ngroups = len - sep - 1 - 6;
	nbytes = ngroups * 5 / 8;
	if (ngroups * 5 % 8 >= 5)
		return BECH32_BAD_PADDING;
	if (nbytes > datacap || sep + 1 > hrpcap)
		return BECH32_NO_ROOM;
	for (size_t i = sep + 1; i < sep + 1 + ngroups; i++) {
		acc = (acc << 5) | (uint32_t)value_of((unsigned char)s[i]);
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			data[o++] = (unsigned char)(acc >> bits);
		}
		acc &= (1u << bits) - 1;
	}
	if (acc != 0) {
		rc = BECH32_BAD_PADDING;
		sodium_memzero(data, nbytes);
	} else {
		memcpy(hrp, s, sep);
		hrp[sep] = '\0';
		*datalen = nbytes;
	}
	sodium_memzero(&acc, sizeof acc);
	sodium_memzero(&chk, sizeof chk);
	return rc;
}

int bech32_encode(const char *hrp, const unsigned char *data, size_t len, char *out,
		  size_t outcap)
{
	size_t hlen = strlen(hrp), need, o = 0;
	uint32_t chk, acc = 0;
	unsigned bits = 0;
	int upper = 0;

	if (outcap > 0)
		out[0] = '\0';
	if (hlen == 0)
		return BECH32_EMPTY_HRP;
	for (size_t i = 0; i < hlen; i++) {
		if ((unsigned char)hrp[i] < 33 || (unsigned char)hrp[i] > 126)
			return BECH32_BAD_HRP_CHAR;
		upper |= hrp[i] >= 'A' && hrp[i] <= 'Z';
	}
	if (mixed_case(hrp, hlen))
		return BECH32_MIXED_CASE;
	need = BECH32_ENCODED_LEN(hlen, len) + 1;
	if (outcap < need)
		return BECH32_NO_ROOM;
	chk = polymod_hrp(hrp, hlen);
	for (size_t i = 0; i < hlen; i++)
		out[o++] = upper ? hrp[i] : (char)lower((unsigned char)hrp[i]);
	out[o++] = '1';
	for (size_t i = 0; i <= len; i++) {
		if (i < len) {
			acc = (acc << 8) | data[i];
			bits += 8;
		} else if (bits > 0) {
			acc <<= 5 - bits; /* zero padding up to a whole group */
			bits = 5;
		}
		while (bits >= 5) {
			unsigned v = (acc >> (bits - 5)) & 31;

			bits -= 5;
			chk = polymod_step(chk, v);
			out[o++] = alphabet[v];
		}
		acc &= (1u << bits) - 1;
	}
	for (int i = 0; i < 6; i++)
		chk = polymod_step(chk, 0);
	chk ^= 1;
	for (int i = 0; i < 6; i++)
		out[o++] = alphabet[(chk >> (5 * (5 - i))) & 31];
	out[o] = '\0';
	if (upper)
		for (size_t i = hlen + 1; i < o; i++)
			if (out[i] >= 'a' && out[i] <= 'z')
				out[i] = (char)(out[i] - 'a' + 'A');
	sodium_memzero(&acc, sizeof acc);
	return BECH32_OK;
}

const char *bech32_strerror(int status)
{
	switch (status) {
	case BECH32_OK:
		return "ok";
	case BECH32_MIXED_CASE:
		return "mixed upper and lower case";
	case BECH32_NO_SEPARATOR:
		return "no '1' separator";
	case BECH32_EMPTY_HRP:
		return "empty human-readable part";
	case BECH32_BAD_HRP_CHAR:
		return "invalid character in the human-readable part";
	case BECH32_SHORT:
		return "too short for a checksum";
	case BECH32_BAD_CHAR:
		return "invalid character in the data part";
	case BECH32_BAD_CHECKSUM:
		return "invalid checksum";
	case BECH32_BAD_PADDING:
		return "invalid padding";
	case BECH32_NO_ROOM:
		return "too long";
	}
	return "unknown error";
}
