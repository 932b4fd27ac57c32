/* test_csv.c — the RFC 4180 reader (csv.c) on the 9005 export: our layout with and without a
 * header, quoted fields holding commas, quotes and line ends, CRLF and LF, a BOM, a missing
 * final newline, empty lines; errors with their line numbers (unterminated quote, stray quote,
 * text after a quote, stray CR, NUL); the caps on fields, records and their count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pbx/cdr.h"
#include "pbx/csv.h"

/* The guide's CSV sample (Figure 4) in our 9005 layout: 9006 names and order. */
#define HEADER CDR_CSV_COLUMNS "\r\n"
#define ROW1 "2021-05-07 00:49:52,506,,,620(202),96,,10,2,ANSWERED,CallBack,,,,,"       \
	"20210507/20210507-004956-1620377396-CallBack-96-506-620(202).wav,1620377388.1,0\r\n"
#define ROW2 "2021-05-07 00:49:15,506,,,620,96,,11,1,ANSWERED,CallBack,,,,,,1620377355.0,0\r\n"
#define ROW3 "2021-05-07 00:36:20,506,,,620(202),96,,11,3,ANSWERED,Inbound,,FROM96,FROM96," \
	"IVR620,20210507/20210507-003628-1620376588-Inbound-96-506-620(202).wav,1620376580.5,0\r\n"

static struct csv_reader r;
static char err[256];

/* The next record must have `n` fields, the first `first`. */
static void expect_record(size_t n, const char *first)
{
	int rc = csv_next(&r, err, sizeof err);

	if (rc != 1)
		fail_msg("csv_next: %d (%s)", rc, err);
	assert_int_equal(r.nfields, n);
	assert_string_equal(r.field[0].text, first);
}

static void expect_error(const char *text, size_t len, const char *needle)
{
	int rc;

	csv_init(&r, text, len);
	while ((rc = csv_next(&r, err, sizeof err)) == 1)
		;
	assert_int_equal(rc, -1);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
	assert_int_equal(csv_next(&r, err, sizeof err), -1); /* and stays failed */
}

static void guide_layout(void **state)
{
	static const char with[] = HEADER ROW1 ROW2 ROW3;
	size_t n;
	int header;

	(void)state;
	csv_init(&r, with, strlen(with));
	expect_record(18, "calldate");
	assert_string_equal(r.field[15].text, "Recording filename");
	assert_string_equal(r.field[17].text, "port");
	expect_record(18, "2021-05-07 00:49:52");
	assert_int_equal(r.record_line, 2);
	assert_string_equal(r.field[4].text, "620(202)");
	assert_string_equal(r.field[2].text, "");
	assert_int_equal(r.field[2].len, 0);
	assert_string_equal(r.field[15].text,
			    "20210507/20210507-004956-1620377396-CallBack-96-506-620(202).wav");
	assert_int_equal(r.field[15].len, 64);
	expect_record(18, "2021-05-07 00:49:15");
	assert_string_equal(r.field[15].text, "");
	expect_record(18, "2021-05-07 00:36:20");
	assert_string_equal(r.field[14].text, "IVR620");
	assert_string_equal(r.field[17].text, "0");
	assert_int_equal(csv_next(&r, err, sizeof err), 0);
	assert_int_equal(csv_next(&r, err, sizeof err), 0);

	assert_int_equal(csv_count(with, strlen(with), CDR_CSV_FIRST_COLUMN, &n, &header, err,
				   sizeof err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(header, 1);
	/* no header: every record is data */
	assert_int_equal(csv_count(with + strlen(HEADER), strlen(with) - strlen(HEADER),
				   CDR_CSV_FIRST_COLUMN, &n, &header, err, sizeof err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(header, 0);
	/* a header spelled otherwise, with a BOM, and nothing else */
	assert_int_equal(csv_count("\xef\xbb\xbf CallDate ,SRC\n", 18, "calldate", &n, &header, err,
				   sizeof err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(header, 1);
	assert_int_equal(csv_count("\"calldate\",src", 14, "calldate", &n, &header, err,
				   sizeof err), 0);
	assert_int_equal(header, 1);
	assert_int_equal(csv_count("calldates,src\n", 14, "calldate", &n, &header, err,
				   sizeof err), 0);
	assert_int_equal(header, 0);
	assert_int_equal(n, 1);
	/* nothing at all */
	assert_int_equal(csv_count("", 0, "calldate", &n, &header, err, sizeof err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(header, 0);
	assert_int_equal(csv_count("\xef\xbb\xbf\r\n\n", 6, "calldate", &n, &header, err,
				   sizeof err), 0);
	assert_int_equal(n, 0);
}

static void quoted_fields(void **state)
{
	static const char text[] =
		"a,\"b,c\",\"say \"\"hi\"\"\",\"two\r\nlines\",\"\"\n"
		"\"x\nyy\nz\",\"\"\"\",\"\"\"\"\"\",end\n"
		"\"\",,\"\"\n";

	(void)state;
	csv_init(&r, text, strlen(text));
	expect_record(5, "a");
	assert_string_equal(r.field[1].text, "b,c");
	assert_string_equal(r.field[2].text, "say \"hi\"");
	assert_int_equal(r.field[2].len, 8);
	assert_string_equal(r.field[3].text, "two\r\nlines");
	assert_string_equal(r.field[4].text, "");
	expect_record(4, "x\nyy\nz");
	assert_int_equal(r.record_line, 3); /* the first record spanned lines 1 and 2 */
	assert_string_equal(r.field[1].text, "\"");
	assert_string_equal(r.field[2].text, "\"\"");
	assert_string_equal(r.field[3].text, "end");
	expect_record(3, "");
	assert_int_equal(r.record_line, 6);
	assert_string_equal(r.field[1].text, "");
	assert_string_equal(r.field[2].text, "");
	assert_int_equal(csv_next(&r, err, sizeof err), 0);
}

static void line_ends(void **state)
{
	static const char *const texts[] = {
		"a,b\nc,d\n", "a,b\r\nc,d\r\n", "a,b\r\nc,d",  "a,b\nc,d\r",
		"a,b\n\nc,d\n\n", "\xef\xbb\xbf" "a,b\r\n\r\nc,d\r\n\r\n", "\na,b\nc,d",
	};

	(void)state;
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		csv_init(&r, texts[i], strlen(texts[i]));
		expect_record(2, "a");
		assert_string_equal(r.field[1].text, "b");
		expect_record(2, "c");
		assert_string_equal(r.field[1].text, "d");
		if (csv_next(&r, err, sizeof err) != 0)
			fail_msg("text %zu: more than two records (%s)", i, err);
	}
	/* empty fields at the end of a record and of the bytes */
	csv_init(&r, "a,\nb,", 5);
	expect_record(2, "a");
	assert_string_equal(r.field[1].text, "");
	expect_record(2, "b");
	assert_string_equal(r.field[1].text, "");
	assert_int_equal(csv_next(&r, err, sizeof err), 0);
	/* a BOM only at the start; elsewhere it is data */
	csv_init(&r, "x\n\xef\xbb\xbfy", 6);
	expect_record(1, "x");
	expect_record(1, "\xef\xbb\xbfy");
	/* blanks are data */
	csv_init(&r, " a , b \n", 8);
	expect_record(2, " a ");
	assert_string_equal(r.field[1].text, " b ");
}

static void errors(void **state)
{
	(void)state;
	expect_error("a,b\nc,\"open\nstill open\n", 23, "line 2: a quoted field is never closed");
	expect_error("a,b\n\"x\"\"", 8, "line 2: a quoted field is never closed");
	expect_error("a,b\nc,d\"e\n", 10, "line 2: a quote inside an unquoted field");
	expect_error("a,b\n\"two\nlines\"x,y\n", 19, "line 3: text after a closing quote");
	expect_error("a,b\rc,d\n", 8, "line 1: a CR not followed by LF");
	expect_error("a,b\n\rc\n", 7, "line 2: a CR not followed by LF");
	expect_error("a,\"b\"\rc\n", 8, "line 1: a CR not followed by LF");
	expect_error("a,b\nc,d\0e\n", 10, "line 2: a NUL byte");
	expect_error("a,b\n\"c\0\"\n", 9, "line 2: a NUL byte");
	/* csv_count reports the same */
	{
		size_t n = 99;
		int header = 99;

		assert_int_equal(csv_count("calldate\nx,\"y\n", 14, "calldate", &n, &header, err,
					   sizeof err), -1);
		assert_non_null(strstr(err, "line 2: a quoted field is never closed"));
	}
}

static void caps(void **state)
{
	static char text[CSV_RECORD_MAX * 2];
	size_t n = 0;

	(void)state;
	/* a field of CSV_FIELD_MAX bytes is read; one more is refused, quoted or not */
	memset(text, 'x', CSV_FIELD_MAX);
	memcpy(text + CSV_FIELD_MAX, "\nok\n", 4);
	csv_init(&r, text, CSV_FIELD_MAX + 4);
	assert_int_equal(csv_next(&r, err, sizeof err), 1);
	assert_int_equal(r.nfields, 1);
	assert_int_equal(r.field[0].len, CSV_FIELD_MAX);
	assert_int_equal(strlen(r.field[0].text), CSV_FIELD_MAX);
	expect_record(1, "ok");
	text[0] = 'a';
	memcpy(text + 1, "\nb,", 3);
	memset(text + 4, 'x', CSV_FIELD_MAX + 1);
	expect_error(text, 4 + CSV_FIELD_MAX + 1, "line 2: a field's bytes over the cap of 1024");
	text[4] = '"';
	memset(text + 5, 'x', CSV_FIELD_MAX + 1);
	text[5 + CSV_FIELD_MAX + 1] = '"';
	expect_error(text, 5 + CSV_FIELD_MAX + 2, "line 2: a field's bytes over the cap");

	/* CSV_FIELDS_MAX fields are read; one more is refused */
	for (int i = 0; i < CSV_FIELDS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "%s%d", i ? "," : "", i);
	csv_init(&r, text, n);
	expect_record(CSV_FIELDS_MAX, "0");
	assert_string_equal(r.field[CSV_FIELDS_MAX - 1].text, "63");
	text[n] = ',';
	expect_error(text, n + 1, "line 1: a record's fields over the cap of 64");
	memcpy(text + n, ",x", 2);
	expect_error(text, n + 2, "line 1: a record's fields over the cap of 64");

	/* a record of more than CSV_RECORD_MAX decoded bytes, in fields under their cap */
	n = 0;
	for (int i = 0; i < 9; i++) {
		memset(text + n, 'y', 1000);
		n += 1000;
		text[n++] = ',';
	}
	text[n - 1] = '\n';
	expect_error(text, n, "line 1: a record's bytes over the cap of 8192");
	/* and empty fields cannot slip past the cap */
	n = 0;
	for (int i = 0; i < 8; i++) {
		memset(text + n, 'y', 1022);
		n += 1022;
		text[n++] = ',';
	}
	memcpy(text + n, ",,,,,,,,,,,,,,,,,,,,\n", 21); /* 8 x 1023 + 21 NULs > 8192 */
	expect_error(text, n + 21, "line 1: a record's bytes over the cap");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(guide_layout),
		cmocka_unit_test(quoted_fields),
		cmocka_unit_test(line_ends),
		cmocka_unit_test(errors),
		cmocka_unit_test(caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
