/* test_bech32.c — the Bech32 codec (bech32.c) against BIP-173's generic vectors (not the
 * segwit ones), age's reference test list (long strings are valid: age drops BIP-173's
 * 90-character limit), case rules, every single-character error in the data part, padding
 * rules built with an independent checksum in this file, and the caller's buffer limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/bech32.h"

#define CAP 4096

static char hrp[CAP];
static unsigned char data[CAP];
static char enc[2 * CAP];

static int decode(const char *s, size_t *n)
{
	return bech32_decode(s, strlen(s), hrp, sizeof hrp, data, sizeof data, n);
}

/* Decodes, re-encodes to the same string, and checks that changing any one data character
 * breaks the checksum. */
static void valid(const char *s)
{
	size_t n, len = strlen(s), sep = strrchr(s, '1') - s;
	char copy[CAP];
	int upper = 0;

	for (size_t i = 0; i < len; i++)
		upper |= s[i] >= 'A' && s[i] <= 'Z';
	assert_int_equal(decode(s, &n), BECH32_OK);
	assert_int_equal(strlen(hrp), sep);
	assert_memory_equal(hrp, s, sep);
	assert_int_equal(bech32_encode(hrp, data, n, enc, sizeof enc), BECH32_OK);
	assert_string_equal(enc, s);
	assert_true(len < sizeof copy);
	for (size_t i = sep + 1; i < len; i++) {
		static const char other[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
		char repl = other[(strchr(other, s[i] | 0x20) - other + 7) % 32];
		size_t m;

		memcpy(copy, s, len + 1);
		copy[i] = upper && repl >= 'a' && repl <= 'z' ? (char)(repl - 32) : repl;
		assert_int_equal(bech32_decode(copy, len, hrp, sizeof hrp, data, sizeof data, &m),
				 BECH32_BAD_CHECKSUM);
	}
}

static void test_bip173_valid(void **state)
{
	(void)state;
	valid("A12UEL5L");
	valid("a12uel5l");
	valid("an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharacters"
	      "bio1tt5tgs");
	valid("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw");
	valid("11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"
	      "qqc8247j");
	valid("split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w");
	valid("?1ezyfcl");
}

static void test_bip173_invalid(void **state)
{
	static const struct {
		const char *s;
		int status;
	} v[] = {
		{ " 1nwldj5", BECH32_BAD_HRP_CHAR },
		{ "\x7f"
		  "1axkwrx",
		  BECH32_BAD_HRP_CHAR },
		{ "\x80"
		  "1eym55h",
		  BECH32_BAD_HRP_CHAR },
		{ "pzry9x0s0muk", BECH32_NO_SEPARATOR },
		{ "1pzry9x0s0muk", BECH32_EMPTY_HRP },
		{ "x1b4n0q5v", BECH32_BAD_CHAR },
		{ "li1dgmt3", BECH32_SHORT },
		{ "de1lg7wt\xff", BECH32_BAD_CHAR },
		{ "A1G7SGD8", BECH32_BAD_CHECKSUM },
		{ "10a06t8", BECH32_EMPTY_HRP },
		{ "1qzzfhee", BECH32_EMPTY_HRP },
		/* from age's own list */
		{ "split1checkupstagehandshakeupstreamerranterredcaperred2y9e2w", BECH32_BAD_CHECKSUM },
		{ "s lit1checkupstagehandshakeupstreamerranterredcaperredp8hs2p", BECH32_BAD_HRP_CHAR },
		{ "split1cheo2y9e2w", BECH32_BAD_CHAR },
		{ "split1a2y9w", BECH32_SHORT },
		{ "1checkupstagehandshakeupstreamerranterredcaperred2y9e3w", BECH32_EMPTY_HRP },
		{ "spl\x7ft1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
		  BECH32_BAD_HRP_CHAR },
		{ "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7", BECH32_MIXED_CASE },
		{ "", BECH32_NO_SEPARATOR },
	};
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		int rc = decode(v[i].s, &n);

		if (rc != v[i].status)
			fail_msg("vector %zu: got %d (%s), want %d", i, rc, bech32_strerror(rc),
				 v[i].status);
		assert_int_equal(n, 0);
		assert_string_not_equal(bech32_strerror(rc), "unknown error");
	}
}

/* BIP-173 limits strings to 90 characters; age does not, and neither do we. */
static void test_no_length_limit(void **state)
{
	char s[2100];
	size_t n;

	(void)state;
	valid("an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharacter"
	      "sbio1569pvx");
	for (size_t i = 0; i < 1000; i++)
		data[i] = (unsigned char)(i * 7);
	assert_int_equal(bech32_encode("long", data, 1000, s, sizeof s), BECH32_OK);
	assert_int_equal(strlen(s), BECH32_ENCODED_LEN(4, 1000));
	assert_true(strlen(s) > 1600);
	valid(s);
	assert_int_equal(decode(s, &n), BECH32_OK);
	assert_int_equal(n, 1000);
	for (size_t i = 0; i < 1000; i++)
		assert_int_equal(data[i], (unsigned char)(i * 7));
}

/* The independent checksum the padding vectors are built with (BIP-173's reference). */
static uint32_t ref_polymod(const unsigned char *v, size_t n)
{
	static const uint32_t gen[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd,
					 0x2a1462b3 };
	uint32_t chk = 1;

	for (size_t i = 0; i < n; i++) {
		uint32_t b = chk >> 25;

		chk = ((chk & 0x1ffffff) << 5) ^ v[i];
		for (int j = 0; j < 5; j++)
			chk ^= ((b >> j) & 1) ? gen[j] : 0;
	}
	return chk;
}

/* "age1" + the 5-bit `groups` + a correct checksum. */
static void build(const unsigned char *groups, size_t n, char *out)
{
	static const char alphabet[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
	unsigned char v[256] = { 3, 3, 3, 0, 1, 7, 5 }; /* "age" expanded */
	size_t k = 7, o = 0;
	uint32_t mod;

	if (n)
		memcpy(v + k, groups, n);
	k += n;
	memset(v + k, 0, 6);
	mod = ref_polymod(v, k + 6) ^ 1;
	memcpy(out, "age1", 4);
	o = 4;
	for (size_t i = 0; i < n; i++)
		out[o++] = alphabet[groups[i]];
	for (int i = 0; i < 6; i++)
		out[o++] = alphabet[(mod >> (5 * (5 - i))) & 31];
	out[o] = '\0';
}

static void test_padding(void **state)
{
	/* 0xff: 11111 111(00) */
	unsigned char good[] = { 31, 28 }, nonzero[] = { 31, 29 }, three[] = { 31, 28, 0 };
	char s[64];
	size_t n;

	(void)state;
	build(good, sizeof good, s);
	assert_int_equal(decode(s, &n), BECH32_OK);
	assert_int_equal(n, 1);
	assert_int_equal(data[0], 0xff);
	build(nonzero, sizeof nonzero, s);
	assert_int_equal(decode(s, &n), BECH32_BAD_PADDING);
	assert_int_equal(data[0], 0); /* wiped */
	build(three, sizeof three, s);
	assert_int_equal(decode(s, &n), BECH32_BAD_PADDING);
	build(NULL, 0, s);
	assert_int_equal(decode(s, &n), BECH32_OK);
	assert_int_equal(n, 0);
}

static void test_case_rules(void **state)
{
	static const char up[] = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZ"
				 "GFPYYSJZGFPQ4EGAEX";
	char low[sizeof up], mixed[sizeof up];
	unsigned char key[32];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof up; i++)
		low[i] = (char)(up[i] >= 'A' && up[i] <= 'Z' ? up[i] + 32 : up[i]);
	assert_int_equal(decode(up, &n), BECH32_OK);
	assert_string_equal(hrp, "AGE-SECRET-KEY-"); /* case kept */
	assert_int_equal(n, 32);
	memcpy(key, data, 32);
	for (int i = 0; i < 32; i++)
		assert_int_equal(key[i], 0x42);
	assert_int_equal(decode(low, &n), BECH32_OK); /* same checksum over lowercase */
	assert_string_equal(hrp, "age-secret-key-");
	assert_memory_equal(data, key, 32);
	memcpy(mixed, up, sizeof up);
	mixed[40] = (char)(mixed[40] + 32);
	assert_int_equal(decode(mixed, &n), BECH32_MIXED_CASE);
	memcpy(mixed, low, sizeof up);
	mixed[0] = 'A';
	assert_int_equal(decode(mixed, &n), BECH32_MIXED_CASE);

	assert_int_equal(bech32_encode("AGE-SECRET-KEY-", key, 32, enc, sizeof enc), BECH32_OK);
	assert_string_equal(enc, up);
	assert_int_equal(bech32_encode("age-secret-key-", key, 32, enc, sizeof enc), BECH32_OK);
	assert_string_equal(enc, low);
	assert_int_equal(bech32_encode("Age", key, 32, enc, sizeof enc), BECH32_MIXED_CASE);
	assert_int_equal(bech32_encode("", key, 32, enc, sizeof enc), BECH32_EMPTY_HRP);
	assert_int_equal(bech32_encode("a b", key, 32, enc, sizeof enc), BECH32_BAD_HRP_CHAR);
	assert_int_equal(bech32_encode("a\x80", key, 32, enc, sizeof enc), BECH32_BAD_HRP_CHAR);
}

/* The spec's example recipient, and the caller's buffer limits. */
static void test_buffers(void **state)
{
	static const char r[] = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";
	unsigned char key[32];
	char h[4], small[62];
	size_t n;

	(void)state;
	assert_int_equal(strlen(r), BECH32_ENCODED_LEN(3, 32));
	assert_int_equal(bech32_decode(r, strlen(r), h, sizeof h, key, sizeof key, &n), BECH32_OK);
	assert_string_equal(h, "age");
	assert_int_equal(n, 32);
	assert_int_equal(bech32_decode(r, strlen(r), h, sizeof h, key, 31, &n), BECH32_NO_ROOM);
	assert_int_equal(bech32_decode(r, strlen(r), h, 3, key, sizeof key, &n), BECH32_NO_ROOM);
	/* a length shorter than the string: the tail is not read */
	assert_int_equal(bech32_decode(r, strlen(r) - 1, h, sizeof h, key, sizeof key, &n),
			 BECH32_BAD_CHECKSUM);
	assert_int_equal(bech32_encode("age", key, 32, small, sizeof small), BECH32_NO_ROOM);
	assert_string_equal(small, "");
	assert_int_equal(bech32_encode("age", key, 32, enc, BECH32_ENCODED_LEN(3, 32) + 1),
			 BECH32_OK);
	assert_string_equal(enc, r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bip173_valid),   cmocka_unit_test(test_bip173_invalid),
		cmocka_unit_test(test_no_length_limit), cmocka_unit_test(test_padding),
		cmocka_unit_test(test_case_rules),     cmocka_unit_test(test_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
