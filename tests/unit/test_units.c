/* test_units.c — what an operator types for a gentle run (units.c): download rates with K/M/G
 * suffixes, durations, a time of day, the wait until that time in the host's zone (across DST
 * changes, month and year ends), and the numbers written back. Every malformed value has a
 * case that must be refused, and a refusal leaves the output alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/units.h"

static int64_t rate(const char *text)
{
	int64_t v = -42;

	assert_int_equal(units_parse_rate(text, &v), 0);
	return v;
}

static void rates(void **state)
{
	(void)state;
	assert_int_equal(rate("16384"), 16384);
	assert_int_equal(rate("2097152"), 2097152);
	assert_int_equal(rate("16K"), 16384);
	assert_int_equal(rate("500k"), 500 * 1024);
	assert_int_equal(rate("2M"), 2 * 1024 * 1024);
	assert_int_equal(rate("4m"), 4 * 1024 * 1024);
	assert_int_equal(rate("1G"), 1024LL * 1024 * 1024);
	assert_int_equal(rate("1.5M"), 3 * 512 * 1024);
	assert_int_equal(rate("0.5G"), 512LL * 1024 * 1024);
	assert_int_equal(rate("1.000001M"), 1048577); /* 1.048576 bytes more, cut down */
	assert_int_equal(rate("1024G"), UNITS_RATE_MAX);
	/* No cap. */
	assert_int_equal(rate("0"), 0);
	assert_int_equal(rate("off"), 0);
}

static void rate_refusals(void **state)
{
	static const char *const bad[] = {
		"", "M", "-1", "-2M", "+2M", " 2M", "2M ", "2 M", "2MB", "2MiB", "2T", "2x", "2.M",
		".5M", "1.0000001M", "1e6", "0x100000", "00", "0.0", "0K", "off ", "none",
		"16383", "15K", "0.01M",     /* below UNITS_RATE_MIN */
		"1025G", "1099511627777", "99999999999999999999", /* above UNITS_RATE_MAX */
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int64_t v = -42;
		if (units_parse_rate(bad[i], &v) != -1 || v != -42)
			fail_msg("rate '%s' was not refused (got %lld)", bad[i], (long long)v);
	}
}

static int64_t duration(const char *text)
{
	int64_t v = -42;

	if (units_parse_duration(text, &v) != 0)
		fail_msg("duration '%s' was refused", text);
	return v;
}

static void durations(void **state)
{
	(void)state;
	assert_int_equal(duration("3s"), 3);
	assert_int_equal(duration("90s"), 90);
	assert_int_equal(duration("45m"), 45 * 60);
	assert_int_equal(duration("2h"), 7200);
	assert_int_equal(duration("1d"), 86400);
	assert_int_equal(duration("1h30m"), 5400);
	assert_int_equal(duration("2h15m30s"), 2 * 3600 + 15 * 60 + 30);
	assert_int_equal(duration("1d12h"), 36 * 3600);
	assert_int_equal(duration("1m1s"), 61);
	assert_int_equal(duration("0s"), 0);
	assert_int_equal(duration("366d"), 366 * 86400);
	assert_int_equal(duration("0"), 0);
	assert_int_equal(duration("off"), 0);
}

static void duration_refusals(void **state)
{
	static const char *const bad[] = {
		"", "s", "3", "90", "-3s", "+3s", " 3s", "3s ", "3 s", "3S", "3sec", "3.5h", "1h1h",
		"30m1h", "1s1m", "1h30", "h1", "1w", "3ms", "367d", "366d1s", "9999999999999s",
		"99999999999999999999s", "0x10s", "off ",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int64_t v = -42;
		if (units_parse_duration(bad[i], &v) != -1 || v != -42)
			fail_msg("duration '%s' was not refused (got %lld)", bad[i], (long long)v);
	}
}

static void clocks(void **state)
{
	static const struct {
		const char *text;
		int minute;
	} good[] = {
		{ "00:00", 0 }, { "0:00", 0 }, { "06:30", 390 }, { "6:30", 390 }, { "12:00", 720 },
		{ "23:59", 1439 }, { "09:05", 545 },
	};
	static const char *const bad[] = {
		"", "6", "630", "06:3", "06:300", "24:00", "23:60", "-1:00", "06:30:00", " 06:30",
		"06:30 ", "06.30", "6h30", "006:30", "06:-1", "ab:cd", ":30", "06:",
	};

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		int m = -1;
		if (units_parse_clock(good[i].text, &m) != 0 || m != good[i].minute)
			fail_msg("'%s': %d, not %d", good[i].text, m, good[i].minute);
	}
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int m = -42;
		if (units_parse_clock(bad[i], &m) != -1 || m != -42)
			fail_msg("time of day '%s' was not refused", bad[i]);
	}
}

/* Runs with TZ set to `tz` (a POSIX rule: no tzdata needed), restoring it after. */
static char *saved_tz;

static void set_tz(const char *tz)
{
	saved_tz = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	setenv("TZ", tz, 1);
	tzset();
}

static void restore_tz(void)
{
	if (saved_tz)
		setenv("TZ", saved_tz, 1);
	else
		unsetenv("TZ");
	free(saved_tz);
	saved_tz = NULL;
	tzset();
}

static void until_clock_utc(void **state)
{
	/* 2024-05-10 22:00:00 UTC */
	const int64_t t = 1715378400;

	(void)state;
	set_tz("UTC0");
	assert_int_equal(units_until_clock(t, 6 * 60), 8 * 3600);           /* tomorrow 06:00 */
	assert_int_equal(units_until_clock(t, 23 * 60), 3600);              /* today 23:00 */
	assert_int_equal(units_until_clock(t, 22 * 60 + 1), 60);
	assert_int_equal(units_until_clock(t, 22 * 60), 86400);             /* now: tomorrow's */
	assert_int_equal(units_until_clock(t + 30, 22 * 60 + 1), 30);
	assert_int_equal(units_until_clock(t + 59, 22 * 60), 86400 - 59);
	/* Month and year ends: 2024-12-31 23:30 UTC to 00:15. */
	assert_int_equal(units_until_clock(1735687800, 15), 45 * 60);
	restore_tz();
}

static void until_clock_zone_and_dst(void **state)
{
	(void)state;
	/* Central Europe: CET (UTC+1), CEST (UTC+2) from the last Sunday of March 02:00 to the
	 * last Sunday of October 03:00. */
	set_tz("CET-1CEST,M3.5.0,M10.5.0/3");
	/* 2024-05-10 22:00 CEST (20:00 UTC) to 06:00: 8 h. */
	assert_int_equal(units_until_clock(1715371200, 6 * 60), 8 * 3600);
	/* 2024-03-30 22:00 CET (21:00 UTC) to 06:00 CEST: the night is an hour shorter. */
	assert_int_equal(units_until_clock(1711832400, 6 * 60), 7 * 3600);
	/* 2024-10-26 22:00 CEST (20:00 UTC) to 06:00 CET: an hour longer. */
	assert_int_equal(units_until_clock(1729972800, 6 * 60), 9 * 3600);
	/* 02:30 does not exist on 2024-03-31: read an hour later (03:30 CEST, 01:30 UTC), which
	 * is still after 2024-03-31 01:00 CET (00:00 UTC). */
	assert_int_equal(units_until_clock(1711843200, 2 * 60 + 30), 90 * 60);
	restore_tz();
}

static void formats(void **state)
{
	char b[32];

	(void)state;
	units_format_bytes(0, b, sizeof b);
	assert_string_equal(b, "0 B");
	units_format_bytes(1023, b, sizeof b);
	assert_string_equal(b, "1023 B");
	units_format_bytes(1536, b, sizeof b);
	assert_string_equal(b, "1.50 KiB");
	units_format_bytes(2 * 1024 * 1024, b, sizeof b);
	assert_string_equal(b, "2.00 MiB");
	units_format_bytes(20784880, b, sizeof b);
	assert_string_equal(b, "19.8 MiB");
	units_format_bytes(300ULL << 30, b, sizeof b);
	assert_string_equal(b, "300 GiB");
	units_format_duration(4, b, sizeof b);
	assert_string_equal(b, "4 s");
	units_format_duration(-5, b, sizeof b);
	assert_string_equal(b, "0 s");
	units_format_duration(754, b, sizeof b);
	assert_string_equal(b, "12 min");
	units_format_duration(2 * 3600 + 5 * 60 + 59, b, sizeof b);
	assert_string_equal(b, "2 h 05 min");
	units_format_duration(3 * 86400 + 4 * 3600 + 59, b, sizeof b);
	assert_string_equal(b, "3 d 04 h");
	/* Cut to fit, always terminated. */
	units_format_bytes(20784880, b, 5);
	assert_string_equal(b, "19.8");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rates),
		cmocka_unit_test(rate_refusals),
		cmocka_unit_test(durations),
		cmocka_unit_test(duration_refusals),
		cmocka_unit_test(clocks),
		cmocka_unit_test(until_clock_utc),
		cmocka_unit_test(until_clock_zone_and_dst),
		cmocka_unit_test(formats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
