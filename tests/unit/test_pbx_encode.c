/* test_pbx_encode.c — percent-encoding of recording paths for the download and delete URLs
 * (pbx_encode in pbx.c). Paths carry parentheses that the PBX wants as they are, while ';'
 * separates paths and '&', '#', '%', '+' and spaces would change the query's meaning. The out
 * buffer is capped: too small must be refused, an exact fit must work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pbx/pbx.h"

/* The keep set the client uses for query values (pbx.c). */
#define KEEP "-_.~/():*!'"

static void check(const char *in, const char *want)
{
	char out[512];
	size_t n;

	memset(out, 'Z', sizeof out);
	n = pbx_encode(in, KEEP, out, sizeof out);
	if (n == (size_t)-1)
		fail_msg("pbx_encode(\"%s\") refused a 512-byte buffer", in);
	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void plain_path_unchanged(void **state)
{
	(void)state;
	check("20210329/20210329-001004-1617005404-CallBack-44-202-820(102).wav",
	      "20210329/20210329-001004-1617005404-CallBack-44-202-820(102).wav");
	check("AZaz09-_.~/():*!'", "AZaz09-_.~/():*!'");
	check("", "");
}

static void reserved_bytes_escaped(void **state)
{
	(void)state;
	check("a b", "a%20b");
	check("a;b", "a%3Bb");
	check("a&b=c", "a%26b%3Dc");
	check("100%", "100%25");
	check("a+b", "a%2Bb");
	check("#frag", "%23frag");
	check("?x", "%3Fx");
	check("a\"b<c>", "a%22b%3Cc%3E");
	check("tab\there", "tab%09here");
	check("nl\r\n", "nl%0D%0A");
	check("back\\slash", "back%5Cslash");
	check("\x7f", "%7F");
	check("[x]{y}|@$,", "%5Bx%5D%7By%7D%7C%40%24%2C");
}

static void non_ascii_uppercase_hex(void **state)
{
	(void)state;
	check("caf\xc3\xa9", "caf%C3%A9");
	check("\xff\x80\xa0", "%FF%80%A0");
	check("20210329/x-\xe2\x82\xac(1).wav", "20210329/x-%E2%82%AC(1).wav");
}

/* The header promises that unreserved characters stay even when `keep` does not list them. */
static void unreserved_kept_without_keep(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(pbx_encode("aZ9-_.~", "", out, sizeof out), 7);
	assert_string_equal(out, "aZ9-_.~");
	assert_int_equal(pbx_encode("aZ9-_.~", NULL, out, sizeof out), 7);
	assert_string_equal(out, "aZ9-_.~");
	/* and what keep does not name is escaped */
	assert_int_equal(pbx_encode("(x)", "", out, sizeof out), 7);
	assert_string_equal(out, "%28x%29");
}

static void buffer_too_small(void **state)
{
	char out[16];

	(void)state;
	/* "abc" needs 4 bytes with its NUL */
	assert_true(pbx_encode("abc", KEEP, out, 3) == (size_t)-1);
	assert_true(pbx_encode("abc", KEEP, out, 0) == (size_t)-1);
	assert_true(pbx_encode("", KEEP, out, 0) == (size_t)-1);
	/* " " needs 4 bytes ("%20" + NUL): an escape must not be cut in half */
	assert_true(pbx_encode(" ", KEEP, out, 3) == (size_t)-1);
	assert_true(pbx_encode(" ", KEEP, out, 2) == (size_t)-1);
	assert_true(pbx_encode("a b", KEEP, out, 5) == (size_t)-1);
}

static void exact_fit(void **state)
{
	char out[16];

	(void)state;
	memset(out, 'Z', sizeof out);
	assert_int_equal(pbx_encode("abc", KEEP, out, 4), 3);
	assert_string_equal(out, "abc");
	assert_int_equal(out[4], 'Z'); /* nothing written past outlen */

	memset(out, 'Z', sizeof out);
	assert_int_equal(pbx_encode("a b", KEEP, out, 6), 5);
	assert_string_equal(out, "a%20b");
	assert_int_equal(out[6], 'Z');

	memset(out, 'Z', sizeof out);
	assert_int_equal(pbx_encode("", KEEP, out, 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(out[1], 'Z');
}

/* A long path is encoded in one go when the buffer is big enough. */
static void long_input(void **state)
{
	char in[301], out[1000];

	(void)state;
	memset(in, ' ', 300);
	in[300] = '\0';
	assert_true(pbx_encode(in, KEEP, out, 900) == (size_t)-1);
	assert_int_equal(pbx_encode(in, KEEP, out, 901), 900);
	for (size_t i = 0; i < 900; i += 3)
		assert_memory_equal(out + i, "%20", 3);
	assert_int_equal(out[900], '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_path_unchanged),
		cmocka_unit_test(reserved_bytes_escaped),
		cmocka_unit_test(non_ascii_uppercase_hex),
		cmocka_unit_test(unreserved_kept_without_keep),
		cmocka_unit_test(buffer_too_small),
		cmocka_unit_test(exact_fit),
		cmocka_unit_test(long_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
