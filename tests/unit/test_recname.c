/* Unit tests for recname.c: one key and one listing path for the three spellings of a
 * recording's name, and refusal of hostile names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pbx/recname.h"

#define KEY "20210422-010152-1619082112-Internal-205-204"
#define PATH "20210422/" KEY ".wav"

/* Both functions on `name`: the key and the path, or "-" for a refusal. */
static void check(const char *name, const char *key, const char *path)
{
	char out[256];

	memset(out, 'z', sizeof out);
	if (key == NULL) {
		assert_int_equal(recname_key(name, out, sizeof out), -1);
	} else {
		assert_int_equal(recname_key(name, out, sizeof out), 0);
		assert_string_equal(out, key);
	}
	if (path == NULL) {
		assert_int_equal(recname_to_pbx_path(name, out, sizeof out), -1);
	} else {
		assert_int_equal(recname_to_pbx_path(name, out, sizeof out), 0);
		assert_string_equal(out, path);
	}
}

static void three_spellings(void **state)
{
	(void)state;
	check(PATH, KEY, PATH);                                  /* the listing's path */
	check(KEY ".wav", KEY, PATH);                            /* a CDR's bare name */
	check("/media/usbStorage/monitor/20210422/" KEY, KEY, PATH); /* AMI, no ".wav" */
	check("/media/usbStorage/monitor/20210422/" KEY ".wav", KEY, PATH);
	check(KEY, KEY, PATH);
	/* The vendor's other call types and parenthesised numbers pass through. */
	check("20210507/20210507-004956-1620377396-CallBack-96-506-620(202).wav",
	      "20210507-004956-1620377396-CallBack-96-506-620(202)",
	      "20210507/20210507-004956-1620377396-CallBack-96-506-620(202).wav");
}

static void case_and_blanks(void **state)
{
	(void)state;
	check(KEY ".WAV", KEY, PATH);
	check("20210422/" KEY ".Wav", KEY, PATH);
	check("  " KEY ".wav  ", KEY, PATH);
	check("\t/media/usbStorage/monitor/20210422/" KEY " \r\n", KEY, PATH);
	check("20210422/  " KEY, KEY, PATH);
	/* Only one ".wav" goes; "wav" without its dot is part of the name. */
	check(KEY ".wav.wav", KEY ".wav", "20210422/" KEY ".wav.wav");
	check(KEY "wav", KEY "wav", "20210422/" KEY "wav.wav");
}

static void empty_names(void **state)
{
	(void)state;
	check("", NULL, NULL);
	check("   ", NULL, NULL);
	check(".wav", NULL, NULL);
	check(" .WAV ", NULL, NULL);
	check("20210422/", NULL, NULL);
	check("/media/usbStorage/monitor/20210422/", NULL, NULL);
}

static void hostile_names(void **state)
{
	(void)state;
	check("../../etc/passwd", "passwd", NULL);
	check("20210422-..wav", "20210422-.", "20210422/20210422-..wav"); /* ".wav" goes first */
	check("20210422-...wav", NULL, NULL);
	check("20210422/..", NULL, NULL);
	check("20210422/20210422-a..b.wav", NULL, NULL);
	check("20210422-a\\b.wav", NULL, NULL);
	check("C:\\monitor\\20210422-x.wav", NULL, NULL);
	check("20210422-a\x1b[2J.wav", NULL, NULL);
	check("20210422-a\x01.wav", NULL, NULL);
	check("20210422-a\x7f.wav", NULL, NULL);
	check("20210422-a\nb.wav", NULL, NULL);
	/* Only the base name and a day reach the output: a ".." among the folders cannot. */
	check("/media/../20210422/" KEY, KEY, PATH);
}

static void day_from_name_or_folder(void **state)
{
	(void)state;
	/* No date folder: the day is the name's own prefix. */
	check("/media/usbStorage/monitor/" KEY, KEY, PATH);
	check("monitor/" KEY ".wav", KEY, PATH);
	/* A date folder wins, even over a name with another day. */
	check("/m/20210423/" KEY, KEY, "20210423/" KEY ".wav");
	check("/m/20210422/custom-name", "custom-name", "20210422/custom-name.wav");
	check("20210422/custom-name.wav", "custom-name", "20210422/custom-name.wav");
	/* No day anywhere. */
	check("custom-name.wav", "custom-name", NULL);
	check("/m/2021042/custom", "custom", NULL);
	check("/m/202104220/custom", "custom", NULL);
	check("/m/2021042a/custom", "custom", NULL);
	check("2021042-010152.wav", "2021042-010152", NULL);
	check("20210422.wav", "20210422", NULL);
	check("20210422x010152.wav", "20210422x010152", NULL);
	check("2021042a-010152.wav", "2021042a-010152", NULL);
}

static void buffer_sizes(void **state)
{
	char out[64], longname[400];

	(void)state;
	/* The key and its NUL fit exactly, or the call fails. */
	assert_int_equal(recname_key(KEY ".wav", out, sizeof KEY), 0);
	assert_string_equal(out, KEY);
	assert_int_equal(recname_key(KEY ".wav", out, sizeof KEY - 1), -1);
	assert_int_equal(recname_to_pbx_path(KEY, out, sizeof PATH), 0);
	assert_string_equal(out, PATH);
	assert_int_equal(recname_to_pbx_path(KEY, out, sizeof PATH - 1), -1);
	/* Past the path's own key buffer. */
	memcpy(longname, "20210422-", 9);
	memset(longname + 9, 'a', 300);
	longname[309] = '\0';
	assert_int_equal(recname_to_pbx_path(longname, out, sizeof out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(three_spellings),
		cmocka_unit_test(case_and_blanks),
		cmocka_unit_test(empty_names),
		cmocka_unit_test(hostile_names),
		cmocka_unit_test(day_from_name_or_folder),
		cmocka_unit_test(buffer_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
