/* test_recpath.c — the gate every local file name passes (recpath.c). The PBX path is hostile:
 * it decides where a file lands, so traversal, odd folders, impossible dates,
 * hidden names, foreign extensions, control and non-ASCII bytes, backslashes and overlong names
 * each have a case that must be refused. Good names must give the right day, folder and base. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "archive/recpath.h"

static void expect_ok(const char *path, const char *day, const char *dir, const char *name)
{
	struct recpath rp;
	char err[256] = "";

	memset(&rp, 'Z', sizeof rp);
	if (recpath_parse(path, &rp, err, sizeof err) != 0)
		fail_msg("recpath_parse refused \"%s\": %s", path, err);
	assert_string_equal(rp.day, day);
	assert_string_equal(rp.dir, dir);
	assert_string_equal(rp.name, name);
}

static void expect_refused(const char *path)
{
	struct recpath rp;
	char err[256] = "";

	if (recpath_parse(path, &rp, err, sizeof err) != -1)
		fail_msg("recpath_parse accepted \"%s\" (day %s, name %s)", path, rp.day, rp.name);
	assert_true(strlen(err) > 0);
}

static void guide_names(void **state)
{
	(void)state;
	expect_ok("20210329/20210329-001004-1617005404-CallBack-44-202-820(102).wav", "2021-03-29",
		  "2021/03/29", "20210329-001004-1617005404-CallBack-44-202-820(102).wav");
	expect_ok("20210507/20210507-004956-1620377396-CallBack-96-506-620(202).wav", "2021-05-07",
		  "2021/05/07", "20210507-004956-1620377396-CallBack-96-506-620(202).wav");
	expect_ok("20211231/20211231-235959-1640995199-Inbound-12-0301234567-200.wav", "2021-12-31",
		  "2021/12/31", "20211231-235959-1640995199-Inbound-12-0301234567-200.wav");
}

static void internal_names_without_trunk(void **state)
{
	(void)state;
	expect_ok("20210329/20210329-101500-1617012900-Internal-202-203.wav", "2021-03-29",
		  "2021/03/29", "20210329-101500-1617012900-Internal-202-203.wav");
	expect_ok("20240229/20240229-120000-1709208000-Conference-6300-201.wav", "2024-02-29",
		  "2024/02/29", "20240229-120000-1709208000-Conference-6300-201.wav");
}

static void no_folder_date_prefixed(void **state)
{
	(void)state;
	expect_ok("20210329-001004-1617005404-CallBack-44-202-820(102).wav", "2021-03-29",
		  "2021/03/29", "20210329-001004-1617005404-CallBack-44-202-820(102).wav");
	expect_ok("20000229-x.wav", "2000-02-29", "2000/02/29", "20000229-x.wav");
	/* without a folder the name's date must be real and followed by '-' */
	expect_refused("20210230-001004-x.wav");
	expect_refused("20210329001004-x.wav");
	expect_refused("x-20210329.wav");
	expect_refused("call.wav");
}

static void folder_gives_the_day(void **state)
{
	(void)state;
	/* the folder wins over the name's own prefix */
	expect_ok("20210330/20210329-235959-1617062399-Inbound-1-2-3.wav", "2021-03-30",
		  "2021/03/30", "20210329-235959-1617062399-Inbound-1-2-3.wav");
	/* with a folder the name needs no date */
	expect_ok("20210329/call.wav", "2021-03-29", "2021/03/29", "call.wav");
}

static void traversal_and_absolute(void **state)
{
	(void)state;
	expect_refused("../x.wav");
	expect_refused("../20210329-x.wav");
	expect_refused("../20210329/20210329-x.wav");
	expect_refused("/tmp/x.wav");
	expect_refused("20210329/../x.wav");
	expect_refused("20210329/../20210329-x.wav");
	expect_refused("20210329/../20210329/20210329-x.wav");
	expect_refused("/var/../20210329/20210329-x.wav");
	expect_refused("a/../../20210329-x.wav");
	expect_refused("a/b/c.wav");
	expect_refused("..");
	expect_refused("20210329/..");
	expect_refused("20210329/../");
}

/* Folders above the day folder are tolerated (a PBX may list its full disk path) but never
 * used: only the day and the base name come out. */
static void deeper_folders_tolerated(void **state)
{
	(void)state;
	expect_ok("/var/spool/asterisk/monitor/20210329/20210329-001004-1617005404-In-1-2-3.wav",
		  "2021-03-29", "2021/03/29", "20210329-001004-1617005404-In-1-2-3.wav");
	expect_ok("media/20210329/call.wav", "2021-03-29", "2021/03/29", "call.wav");
	expect_ok("media/20210329-call.wav", "2021-03-29", "2021/03/29", "20210329-call.wav");
	expect_ok("/20210329-call.wav", "2021-03-29", "2021/03/29", "20210329-call.wav");
	/* a folder that is not exactly YYYYMMDD does not give the day */
	expect_refused("x20210329/call.wav");
	expect_refused("/tmp/call.wav");
	expect_refused("2021/03/29/call.wav");
}

static void bad_folders(void **state)
{
	(void)state;
	expect_refused("2021032/x.wav");
	expect_refused("202103290/x.wav");
	expect_refused("2021032a/x.wav");
	expect_refused("20211329/x.wav");        /* month 13 */
	expect_refused("20210029/x.wav");        /* month 0 */
	expect_refused("20210300/x.wav");        /* day 0 */
	expect_refused("20210332/x.wav");        /* day 32 */
	expect_refused("20210431/x.wav");        /* April 31 */
	expect_refused("20210230/20210230-x.wav"); /* Feb 30 */
	expect_refused("20210229/20210229-x.wav"); /* Feb 29 of a common year */
	expect_refused("21000229/x.wav");        /* 2100 is not a leap year */
	expect_refused("19691231/x.wav");        /* before the epoch */
	expect_refused("2021-03-29/x.wav");
	expect_refused("20210329 /x.wav");
}

static void hidden_and_extension(void **state)
{
	(void)state;
	expect_refused(".hidden.wav");
	expect_refused("20210329/.hidden.wav");
	expect_refused("20210329/.wav");
	expect_refused("20210329/..wav");
	expect_refused("x.mp3");
	expect_refused("20210329/20210329-x.mp3");
	expect_refused("20210329/20210329-x.WAV");
	expect_refused("20210329/20210329-x.wav.gz");
	expect_refused("20210329/20210329-x.wav ");
	expect_refused("20210329/20210329-xwav");
	expect_refused("20210329/wav");
}

static void control_and_non_ascii(void **state)
{
	(void)state;
	expect_refused("20210329/20210329-a\nb.wav");
	expect_refused("20210329/20210329-a\rb.wav");
	expect_refused("20210329/20210329-a\tb.wav");
	expect_refused("20210329/20210329-\x1b[2Jx.wav");
	expect_refused("20210329/20210329-a\x7f.wav");
	expect_refused("20210329/20210329-caf\xc3\xa9.wav");
	expect_refused("20210329/20210329-\xff.wav");
	expect_refused("20210329/20210329-a\\b.wav");
	expect_refused("20210329-a\\..\\b.wav");
}

static void lengths(void **state)
{
	char path[400], name[RECPATH_NAME_MAX + 2];

	(void)state;
	/* a base name of exactly 200 bytes is accepted, 201 refused */
	memset(name, 'a', sizeof name);
	memcpy(name, "20210329-", 9);
	memcpy(name + RECPATH_NAME_MAX - 4, ".wav", 5);
	assert_int_equal(strlen(name), RECPATH_NAME_MAX);
	snprintf(path, sizeof path, "20210329/%s", name);
	expect_ok(path, "2021-03-29", "2021/03/29", name);
	expect_ok(name, "2021-03-29", "2021/03/29", name);

	memset(name, 'a', sizeof name);
	memcpy(name, "20210329-", 9);
	memcpy(name + RECPATH_NAME_MAX - 3, ".wav", 5);
	assert_int_equal(strlen(name), RECPATH_NAME_MAX + 1);
	snprintf(path, sizeof path, "20210329/%s", name);
	expect_refused(path);
	expect_refused(name);
}

static void empty_names(void **state)
{
	(void)state;
	expect_refused("");
	expect_refused("20210329/");
	expect_refused("/");
	expect_refused(".wav");
}

static void basename_of_paths(void **state)
{
	const char *p = "20210329/20210329-x.wav";

	(void)state;
	assert_ptr_equal(recpath_basename(p), p + 9);
	assert_string_equal(recpath_basename("x.wav"), "x.wav");
	assert_string_equal(recpath_basename("a/b/c.wav"), "c.wav");
	assert_string_equal(recpath_basename("20210329/"), "");
	assert_string_equal(recpath_basename(""), "");
}

/* err is always NUL-terminated, even when tiny. */
static void small_err_buffer(void **state)
{
	struct recpath rp;
	char err[8];

	(void)state;
	memset(err, 'Z', sizeof err);
	assert_int_equal(recpath_parse("../x.wav", &rp, err, sizeof err), -1);
	assert_true(memchr(err, '\0', sizeof err) != NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(guide_names),
		cmocka_unit_test(internal_names_without_trunk),
		cmocka_unit_test(no_folder_date_prefixed),
		cmocka_unit_test(folder_gives_the_day),
		cmocka_unit_test(traversal_and_absolute),
		cmocka_unit_test(deeper_folders_tolerated),
		cmocka_unit_test(bad_folders),
		cmocka_unit_test(hidden_and_extension),
		cmocka_unit_test(control_and_non_ascii),
		cmocka_unit_test(lengths),
		cmocka_unit_test(empty_names),
		cmocka_unit_test(basename_of_paths),
		cmocka_unit_test(small_err_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
