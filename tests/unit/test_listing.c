/* test_listing.c — the 20053 answer parser (listing.c): the guide's numbered-object shape, arrays
 * under known and unknown keys, bare arrays, empty answers and error objects; values as strings
 * or numbers; missing and oversized fields; hostile input (not JSON, trailing garbage,
 * truncation, bad UTF-8, deep nesting); appending answers; paths kept byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"
#include "pbx/listing.h"

/* The answer in the guide, section 2.3, as the PBX sends it. */
static const char guide[] =
	"{\"25\":{\"calldate\":\"2021-03-29 00:10:04\",\"src\":\"202\",\"dst\":\"820(102)\","
	"\"trunk\":\"44\",\"duration\":\"4\",\"calltype\":\"CallBack\","
	"\"path\":\"20210329/20210329-001004-1617005404-CallBack-44-202-820(102).wav\"},\n"
	"\"26\":{\"calldate\":\"2021-03-29 00:07:19\",\"src\":\"202\",\"dst\":\"820(601)\","
	"\"trunk\":\"44\",\"duration\":\"11\",\"calltype\":\"CallBack\","
	"\"path\":\"20210329/20210329-000719-1617005239-CallBack-44-202-820(601).wav\"},\n"
	"\"json_obj_filter\":{\"startdate\":\"2021-03-28 00:00\",\"enddate\":\"2021-04-14 23:59\","
	"\"totalcount\":27}}\n";

#define ROW_A "{\"calldate\":\"2021-05-07 00:49:56\",\"src\":\"506\",\"dst\":\"620(202)\"," \
	"\"trunk\":\"96\",\"duration\":\"10\",\"calltype\":\"CallBack\"," \
	"\"path\":\"20210507/20210507-004956-1620377396-CallBack-96-506-620(202).wav\"}"
#define ROW_B "{\"calldate\":\"2021-05-07 00:46:16\",\"src\":\"202\",\"dst\":\"506\"," \
	"\"trunk\":\"96\",\"duration\":\"5\",\"calltype\":\"Outbound\"," \
	"\"path\":\"20210507/20210507-004616-1620377176-Outbound-96-202-506.wav\"}"
#define FILTER(n) "\"json_obj_filter\":{\"startdate\":\"2021-05-07 00:00\"," \
	"\"enddate\":\"2021-05-07 23:59\",\"totalcount\":" n "}"

static struct listing l;
static char err[256];

static int setup(void **state)
{
	(void)state;
	listing_init(&l);
	err[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	listing_free(&l);
	return 0;
}

static int parse(const char *s)
{
	return listing_parse(s, strlen(s), &l, err, sizeof err);
}

static void expect_bad(const char *s, const char *needle)
{
	size_t n = l.n;

	assert_int_equal(parse(s), LISTING_BAD);
	assert_int_equal(l.n, n);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
}

static void guide_shape(void **state)
{
	(void)state;
	assert_int_equal(parse(guide), LISTING_OK);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.totalcount, 27);
	assert_int_equal(l.skipped, 0);
	assert_string_equal(l.rows[0].pbx_path,
			    "20210329/20210329-001004-1617005404-CallBack-44-202-820(102).wav");
	assert_string_equal(l.rows[0].calldate, "2021-03-29 00:10:04");
	assert_string_equal(l.rows[0].src, "202");
	assert_string_equal(l.rows[0].dst, "820(102)");
	assert_string_equal(l.rows[0].trunk, "44");
	assert_string_equal(l.rows[0].calltype, "CallBack");
	assert_int_equal(l.rows[0].duration, 4);
	assert_int_equal(l.rows[0].size, -1);
	assert_string_equal(l.rows[1].dst, "820(601)");
	assert_int_equal(l.rows[1].duration, 11);
}

static void array_under_keys(void **state)
{
	static const char *const answers[] = {
		"{\"json_array_recordings\":[" ROW_A "," ROW_B "]," FILTER("2") "}",
		"{\"data\":[" ROW_A "," ROW_B "]}",
		/* arrays that are not recordings are passed over, before and after */
		"{\"calltypes\":[\"Inbound\",\"Outbound\"],\"json_array_astcdrs\":[{\"src\":\"1\"}],"
		"\"x\":[" ROW_A "," ROW_B "],\"more\":[[1],{}]," FILTER("\"2\"") "}",
		"[" ROW_A "," ROW_B "]",
		" \r\n\t[ " ROW_A " , " ROW_B " ] \n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
		listing_free(&l);
		assert_int_equal(parse(answers[i]), LISTING_OK);
		assert_int_equal(l.n, 2);
		assert_int_equal(l.totalcount, i == 0 || i == 2 ? 2 : -1);
		assert_string_equal(l.rows[0].dst, "620(202)");
		assert_string_equal(l.rows[1].calltype, "Outbound");
		assert_int_equal(l.rows[1].duration, 5);
	}
}

static void empty_answers(void **state)
{
	static const char *const answers[] = {
		"{}", "[]", " { } \n", "\n[\n]\n",
		"{\"json_array_recordings\":[]," FILTER("0") "}",
		"{" FILTER("\"0\"") "}",
		"{\"json_obj_filter\":{}}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
		assert_int_equal(parse(answers[i]), LISTING_OK);
		assert_int_equal(l.n, 0);
		assert_int_equal(l.skipped, 0);
	}
}

static void error_object(void **state)
{
	char big[600];
	size_t n = 0;

	(void)state;
	assert_int_equal(parse("{\"status\":\"fail\",\"message\":\"not logged in\"}"),
			 LISTING_ERROR_OBJECT);
	assert_string_equal(err, "{\"status\":\"fail\",\"message\":\"not logged in\"}");
	assert_int_equal(l.n, 0);

	/* An empty array under any key and no json_obj_filter: "nothing", in a shape the guide
	 * does not show; an error object is made of scalars. */
	assert_int_equal(parse("{\"json_array_recordings\":[]}"), LISTING_OK);
	assert_int_equal(l.n, 0);
	assert_int_equal(parse("{\"status\":\"fail\",\"data\":[]}"), LISTING_OK);

	/* Long: cut to 120 characters and marked; control characters arrive escaped. */
	n += (size_t)snprintf(big + n, sizeof big - n, "{\"error\":\"\\u001b[31m");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, "session ");
	snprintf(big + n, sizeof big - n, "\"}");
	assert_int_equal(parse(big), LISTING_ERROR_OBJECT);
	assert_true(strlen(err) <= 123);
	assert_non_null(strstr(err, "..."));
	assert_null(strchr(err, '\x1b'));
	assert_true(strncmp(err, "{\"error\":\"\\x5cu001b[31msession", 29) == 0);
}

static void strings_and_numbers(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"0\":{\"path\":\"a/20210507-004956-x.wav\",\"duration\":4,"
			       "\"src\":202,\"dst\":-5,\"trunk\":1.5,\"size\":1234},"
			       "\"1\":{\"path\":\"a/20210507-004956-y.wav\",\"duration\":\"4\","
			       "\"src\":\"202\",\"size\":\"1234\"},"
			       "\"2\":{\"path\":\"a/20210507-004956-z.wav\",\"duration\":4.0,"
			       "\"calltype\":true,\"trunk\":null,\"src\":{},\"dst\":[1]},"
			       "\"3\":{\"path\":\"a/20210507-004956-w.wav\",\"duration\":\"4s\","
			       "\"size\":-3},"
			       "\"4\":{\"path\":\"a/20210507-004956-v.wav\",\"duration\":\"four\","
			       "\"size\":\"12k\"},"
			       "\"5\":{\"path\":\"a/20210507-004956-u.wav\",\"duration\":\"4.6\"},"
			       "\"6\":{\"path\":\"a/20210507-004956-t.wav\",\"duration\":\"-4\"},"
			       "\"7\":{\"path\":\"a/20210507-004956-s.wav\",\"src\":18446744073709551615},"
			       "\"json_obj_filter\":{\"totalcount\":\"27\"}}"),
			 LISTING_OK);
	assert_int_equal(l.n, 8);
	assert_int_equal(l.totalcount, 27);
	assert_int_equal(l.rows[0].duration, 4);
	assert_string_equal(l.rows[0].src, "202");
	assert_string_equal(l.rows[0].dst, "-5");
	assert_string_equal(l.rows[0].trunk, "1.5");
	assert_int_equal(l.rows[0].size, 1234);
	assert_int_equal(l.rows[1].duration, 4);
	assert_string_equal(l.rows[1].src, "202");
	assert_int_equal(l.rows[1].size, 1234);
	assert_int_equal(l.rows[2].duration, 4);
	assert_string_equal(l.rows[2].calltype, ""); /* booleans, null, objects: absent */
	assert_string_equal(l.rows[2].trunk, "");
	assert_string_equal(l.rows[2].src, "");
	assert_string_equal(l.rows[2].dst, "");
	assert_int_equal(l.rows[3].duration, 4);
	assert_int_equal(l.rows[3].size, -1);
	assert_int_equal(l.rows[4].duration, -1);
	assert_int_equal(l.rows[4].size, -1);
	assert_int_equal(l.rows[5].duration, 4);
	assert_int_equal(l.rows[6].duration, -1);
	assert_string_equal(l.rows[7].src, "18446744073709551615");

	listing_free(&l);
	assert_int_equal(parse("{\"0\":" ROW_A "," FILTER("27") "}"), LISTING_OK);
	assert_int_equal(l.totalcount, 27);
	assert_int_equal(parse("{\"0\":" ROW_A "," FILTER("27.0") "}"), LISTING_OK);
	assert_int_equal(l.totalcount, 27);
	assert_int_equal(parse("{\"0\":" ROW_A "," FILTER("null") "}"), LISTING_OK);
	assert_int_equal(l.totalcount, -1);
	assert_int_equal(parse("{\"0\":" ROW_A "}"), LISTING_OK);
	assert_int_equal(l.totalcount, -1);
}

static void bad_totalcount(void **state)
{
	static const char *const counts[] = { "\"27x\"", "\"\"", "true", "[27]", "2.5",
					      "\" 27\"", "99999999999999999999" };
	char buf[512];

	(void)state;
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		snprintf(buf, sizeof buf, "{\"0\":%s,\"json_obj_filter\":{\"totalcount\":%s}}",
			 ROW_A, counts[i]);
		expect_bad(buf, "malformed totalcount");
	}
	expect_bad("{\"0\":" ROW_A ",\"json_obj_filter\":\"27\"}", "json_obj_filter is not an object");
	expect_bad("{\"0\":" ROW_A ",\"json_obj_filter\":[{\"totalcount\":1}]}",
		   "json_obj_filter is not an object");
	/* A negative count says nothing (a PBX lying by a few rows): the rows are taken. */
	assert_int_equal(parse("{\"0\":" ROW_A ",\"json_obj_filter\":{\"totalcount\":-3}}"),
			 LISTING_OK);
	assert_int_equal(l.totalcount, -1);
	assert_int_equal(parse("{\"0\":" ROW_A ",\"json_obj_filter\":{\"totalcount\":\"-1\"}}"),
			 LISTING_OK);
	/* A count with no rows where we look: a shape we do not know, not "nothing". */
	expect_bad("{\"rows\":{\"a\":" ROW_A "}," FILTER("1") "}", "says 1 recordings but no rows");
}

static void missing_fields(void **state)
{
	(void)state;
	assert_int_equal(
		parse("[{\"path\":\"20210329/20210329-001004-1617005404-CallBack-44-202-820(102).wav\"},"
		      "{\"calldate\":\"2021-03-29 00:10:04\",\"src\":\"1\"},"
		      "{\"path\":\"x/20210329-001004-a.wav\",\"calldate\":\"2021-03-29 00:11\"},"
		      "{\"path\":\"x/20210329-001004-b.wav\",\"calldate\":\"2021-02-30 00:11:00\"},"
		      "{\"path\":\"x/20210329-001004-c.wav\",\"calldate\":\"29/03/2021 00:11:00\"},"
		      "{\"path\":\"x/recording.wav\",\"calldate\":\"\"},"
		      "{\"path\":\"x/recording.wav\",\"calldate\":\"2024-02-29 23:59:59\"},"
		      "{\"path\":\"x/20210231-001004-d.wav\"},"
		      "{\"path\":\"x/20210329-0010041-e.wav\"},"
		      "{\"path\":\"20210329-235959.wav\"},"
		      "\"a string\","
		      "{\"path\":\"\"},"
		      "{\"path\":42}]"),
		LISTING_OK);
	assert_int_equal(l.n, 6);
	assert_int_equal(l.skipped, 7);
	assert_string_equal(l.rows[0].calldate, "2021-03-29 00:10:04"); /* from the name */
	assert_string_equal(l.rows[0].src, "");
	assert_int_equal(l.rows[0].duration, -1);
	assert_int_equal(l.rows[0].size, -1);
	assert_string_equal(l.rows[1].calldate, "2021-03-29 00:11:00");
	assert_string_equal(l.rows[2].calldate, "2021-03-29 00:10:04"); /* Feb 30: from the name */
	assert_string_equal(l.rows[3].calldate, "2021-03-29 00:10:04");
	assert_string_equal(l.rows[4].calldate, "2024-02-29 23:59:59");
	assert_string_equal(l.rows[5].calldate, "2021-03-29 23:59:59");
}

static void case_insensitive_names(void **state)
{
	(void)state;
	assert_int_equal(parse("[{\"Path\":\"d/20210329-001004-a.wav\",\"CallDate\":"
			       "\"2021-03-29 00:10:05\",\"SRC\":\"7\",\"Duration\":\"3\"},"
			       "{\"PATH\":\"d/wrong.wav\",\"path\":\"d/20210329-001004-b.wav\"}]"),
			 LISTING_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.rows[0].pbx_path, "d/20210329-001004-a.wav");
	assert_string_equal(l.rows[0].calldate, "2021-03-29 00:10:05");
	assert_string_equal(l.rows[0].src, "7");
	assert_int_equal(l.rows[0].duration, 3);
	assert_string_equal(l.rows[1].pbx_path, "d/20210329-001004-b.wav"); /* exact wins */
}

static void too_long_fields(void **state)
{
	char buf[2048], path[REC_PATH_MAX + 1], src[REC_FIELD_MAX + 1];

	(void)state;
	memset(src, '9', REC_FIELD_MAX);
	src[REC_FIELD_MAX] = '\0';
	memcpy(path, "20210329/20210329-001004-", 25);
	memset(path + 25, 'x', REC_PATH_MAX - 25);
	path[REC_PATH_MAX] = '\0';

	/* The longest that fits, then one byte more, for path and src. */
	snprintf(buf, sizeof buf, "[{\"path\":\"%.*s\",\"src\":\"%.*s\"},"
		 "{\"path\":\"%s\"},{\"path\":\"20210329-001004\",\"src\":\"%s\"},"
		 "{\"path\":\"20210329-001004\",\"dst\":\"%s\"},"
		 "{\"path\":\"20210329-001004\",\"trunk\":\"%s\"},"
		 "{\"path\":\"20210329-001004\",\"calltype\":\"%s\"}]",
		 REC_PATH_MAX - 1, path, REC_FIELD_MAX - 1, src, path, src, src, src, src);
	/* A path too long is refused (the row is skipped, and counted); a shown field too long
	 * is kept cut, and the cut said: the row stays. */
	assert_int_equal(parse(buf), LISTING_OK);
	assert_int_equal(l.n, 5);
	assert_int_equal(l.skipped, 1);
	assert_int_equal(strlen(l.rows[0].pbx_path), REC_PATH_MAX - 1);
	assert_int_equal(strlen(l.rows[0].src), REC_FIELD_MAX - 1);
	assert_int_equal(l.rows[0].cut, 0);
	assert_int_equal(l.rows[1].cut, REC_CUT_SRC);
	assert_int_equal(strlen(l.rows[1].src), REC_FIELD_MAX - 1);
	assert_int_equal(l.rows[2].cut, REC_CUT_DST);
	assert_int_equal(l.rows[3].cut, REC_CUT_TRUNK);
	assert_int_equal(l.rows[4].cut, REC_CUT_CALLTYPE);

	/* A NUL inside a path would cut it silently: the row is refused; inside a shown field
	 * the value is cut there, and said. */
	assert_int_equal(parse("[{\"path\":\"a/20210329-001004\\u0000.wav\"},"
			       "{\"path\":\"a/20210329-001004.wav\",\"src\":\"1\\u00002\"}]"),
			 LISTING_OK);
	assert_int_equal(l.n, 6);
	assert_int_equal(l.skipped, 2);
	assert_string_equal(l.rows[5].src, "1");
	assert_int_equal(l.rows[5].cut, REC_CUT_SRC);
}

static void hostile_input(void **state)
{
	char deep[2100];

	(void)state;
	expect_bad("<!DOCTYPE html><html><body>Login</body></html>", "not JSON");
	expect_bad("", "empty answer");
	expect_bad(" \n ", "empty answer");
	expect_bad(guide + 1, "JSON string where a listing was expected");
	expect_bad("{\"0\":" ROW_A "} trailing", "bytes after the JSON value");
	expect_bad("[]]", "bytes after the JSON value");
	expect_bad("{}{}", "bytes after the JSON value");
	expect_bad("{\"0\":" ROW_A ",}", "not JSON");
	expect_bad("[" ROW_A ",]", "not JSON");
	expect_bad("{\"0\" " ROW_A "}", "expected ':'");
	expect_bad("{\"0\":" ROW_A " \"1\":" ROW_B "}", "expected ',' or '}'");
	expect_bad("{0:" ROW_A "}", "expected a member name");
	expect_bad("\"just a string\"", "JSON string where a listing was expected");
	expect_bad("123 ", "JSON int where a listing was expected");
	expect_bad("null", "JSON null where a listing was expected");
	expect_bad("[1,2,\"x\"]", "top-level array holds no objects");

	/* Truncated anywhere: never a shorter listing. */
	for (size_t cut = 1; cut < sizeof guide - 2; cut++) {
		assert_int_equal(listing_parse(guide, cut, &l, err, sizeof err), LISTING_BAD);
		assert_int_equal(l.n, 0);
	}
	expect_bad("{\"0\":" ROW_A, "JSON ends early");

	/* Invalid UTF-8 inside a string, in a row and in a key, including what json-c's own
	 * check lets through: overlong forms, surrogates, code points past U+10FFFF. */
	expect_bad("[{\"path\":\"a/20210329-001004-\xff.wav\"}]", "invalid UTF-8 at byte 28");
	expect_bad("{\"0\":{\"path\":\"a/20210329-001004-\xc3\x28.wav\"}}", "invalid UTF-8");
	expect_bad("{\"\xed\xa0\x80\":1}", "invalid UTF-8 at byte 2");
	expect_bad("[{\"path\":\"a/20210329-001004-\xc0\xaf.wav\"}]", "invalid UTF-8");
	expect_bad("[{\"path\":\"a/20210329-001004-\xe0\x80\xaf.wav\"}]", "invalid UTF-8");
	expect_bad("[{\"path\":\"a/20210329-001004-\xf4\x90\x80\x80.wav\"}]", "invalid UTF-8");
	expect_bad("[{\"path\":\"a/20210329-001004-\xf0\x9f\x98\"}]", "invalid UTF-8");
	expect_bad("[{\"path\":\"a/20210329-001004-\xe2\x98\x8e\"}]\xe2\x98", "invalid UTF-8");
	assert_int_equal(listing_parse("{\"0\":{\"path\":\"a\0b\"}}", 19, &l, err, sizeof err),
			 LISTING_BAD);
	assert_non_null(strstr(err, "not JSON"));

	/* Deep nesting, at the top and inside a row and inside an array member. */
	memset(deep, '[', 1000);
	deep[1000] = '\0';
	expect_bad(deep, "not JSON: nesting too deep");
	memset(deep, '{', 1);
	for (int i = 0; i < 300; i++)
		memcpy(deep + 1 + 5 * i, "\"a\":{", 5);
	deep[1501] = '\0';
	expect_bad(deep, "nesting too deep");
	snprintf(deep, sizeof deep, "{\"x\":[%.*s", 1000, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[");
	expect_bad(deep, "nesting too deep");
}

static void appending(void **state)
{
	(void)state;
	assert_int_equal(parse(guide), LISTING_OK);
	assert_int_equal(parse("{\"json_array_recordings\":[" ROW_A "," ROW_B "]," FILTER("2") "}"),
			 LISTING_OK);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.totalcount, 2);
	assert_string_equal(l.rows[1].dst, "820(601)");
	assert_string_equal(l.rows[2].dst, "620(202)");

	/* A bad or refused answer adds nothing and leaves the count as it was. */
	assert_int_equal(parse("[" ROW_A "," ROW_B ",]"), LISTING_BAD);
	assert_int_equal(parse("{\"0\":" ROW_A ",\"json_obj_filter\":{\"totalcount\":\"x\"}}"),
			 LISTING_BAD);
	assert_int_equal(parse("{\"status\":\"fail\"}"), LISTING_ERROR_OBJECT);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.totalcount, 2);

	/* Many rows: the array grows. */
	for (int i = 0; i < 300; i++)
		assert_int_equal(parse("[" ROW_A "," ROW_B "]"), LISTING_OK);
	assert_int_equal(l.n, 604);
	assert_true(l.cap >= l.n);
	assert_string_equal(l.rows[603].calltype, "Outbound");
}

static void paths_byte_exact(void **state)
{
	(void)state;
	assert_int_equal(
		parse("[{\"path\":\"20210407/20210407-190729-1617851249-Inbound-96-506-620(1 05).wav\"},"
		      "{\"path\":\"20210407\\/20210407-190653-a;b&c=d%20e.wav\"},"
		      "{\"path\":\"20210407/20210407-190653-caf\\u00e9 \xe2\x98\x8e.wav\"},"
		      "{\"path\":\"20210407/20210407-190653-tab\\there.wav\"},"
		      "{\"path\":\"20210407/20210407-190653-\xf0\x9f\x93\x9e\xf4\x8f\xbf\xbf.wav\"}]"),
		LISTING_OK);
	assert_int_equal(l.n, 5);
	assert_string_equal(l.rows[4].pbx_path,
			    "20210407/20210407-190653-\xf0\x9f\x93\x9e\xf4\x8f\xbf\xbf.wav");
	assert_string_equal(l.rows[0].pbx_path,
			    "20210407/20210407-190729-1617851249-Inbound-96-506-620(1 05).wav");
	assert_string_equal(l.rows[1].pbx_path, "20210407/20210407-190653-a;b&c=d%20e.wav");
	assert_string_equal(l.rows[2].pbx_path,
			    "20210407/20210407-190653-caf\xc3\xa9 \xe2\x98\x8e.wav");
	assert_string_equal(l.rows[3].pbx_path, "20210407/20210407-190653-tab\there.wav");
	assert_string_equal(l.rows[0].calldate, "2021-04-07 19:07:29");
}

/* Numbered objects and an array of recordings in one answer: the array is the rows (reading
 * both could list a recording twice). */
static void mixed_shapes(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"0\":" ROW_B ",\"list\":[" ROW_A "],\"1\":" ROW_B
			       ",\"other\":[" ROW_B "]}"),
			 LISTING_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.rows[0].dst, "620(202)");

	/* Keys that are not decimal numbers are not rows; a numbered member that is not an
	 * object is ignored. */
	listing_free(&l);
	assert_int_equal(parse("{\"0x1\":" ROW_A ",\"-1\":" ROW_A ",\" 1\":" ROW_A ",\"2\":\"x\","
			       "\"3\":" ROW_B "," FILTER("1") "}"),
			 LISTING_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.rows[0].dst, "506");
}

/* 1,000 rows without a path: counted, and one warning for the answer, not one per row. */
static void skipped_rows_warn_once(void **state)
{
	size_t cap = 40000, n = 0;
	char *buf = malloc(cap), line[512];
	FILE *tmp = tmpfile();
	int saved = dup(2), warnings = 0;

	(void)state;
	assert_non_null(buf);
	assert_non_null(tmp);
	n += (size_t)snprintf(buf + n, cap - n, "{");
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(buf + n, cap - n, "\"%d\":{\"src\":\"\\u001b]0;x\"},", i);
	snprintf(buf + n, cap - n, "\"1000\":" ROW_A "}");

	fflush(stderr);
	dup2(fileno(tmp), 2);
	log_set_level(LOG_WARN);
	assert_int_equal(parse(buf), LISTING_OK);
	log_set_level(LOG_ERROR);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);

	assert_int_equal(l.n, 1);
	assert_int_equal(l.skipped, 1000);
	rewind(tmp);
	while (fgets(line, sizeof line, tmp)) {
		warnings++;
		assert_non_null(strstr(line, "skipped 1000 of 1001 rows"));
		assert_non_null(strstr(line, "row \"0\": no \"path\""));
	}
	assert_int_equal(warnings, 1);
	fclose(tmp);
	free(buf);
}

static void free_and_push(void **state)
{
	struct recording r = { .duration = 7, .size = -1 };

	(void)state;
	listing_free(&l); /* on an init'ed listing: nothing to do */
	listing_free(&l);
	assert_null(l.rows);
	assert_int_equal(l.totalcount, -1);
	memcpy(r.pbx_path, "a.wav", 6);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(listing_push(&l, &r), 0);
	assert_int_equal(l.n, 1000);
	assert_string_equal(l.rows[999].pbx_path, "a.wav");
	listing_free(&l);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.cap, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(guide_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(array_under_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(error_object, setup, teardown),
		cmocka_unit_test_setup_teardown(strings_and_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_totalcount, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(case_insensitive_names, setup, teardown),
		cmocka_unit_test_setup_teardown(too_long_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(hostile_input, setup, teardown),
		cmocka_unit_test_setup_teardown(appending, setup, teardown),
		cmocka_unit_test_setup_teardown(paths_byte_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(mixed_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(skipped_rows_warn_once, setup, teardown),
		cmocka_unit_test_setup_teardown(free_and_push, setup, teardown),
	};

	/* Rows these tests skip on purpose would each log a warning. */
	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
