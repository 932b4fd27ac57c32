/* test_pbxtime.c — naive PBX minutes (pbxtime.c): parsing the two date shapes the PBX speaks,
 * formatting, round trips across month, year and leap-day edges, spans, and "now" in a zone.
 * Every malformed date or span has a case that must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/pbxtime.h"

/* 2021-03-28 00:00 is 18714 days after the epoch. */
#define M_2021_03_28 ((pbx_minute)18714 * 1440)

static void parse_minutes(void **state)
{
	pbx_minute m = -1;

	(void)state;
	assert_int_equal(pbxtime_parse("1970-01-01 00:00", &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(pbxtime_parse("1970-01-01 00:01", &m), 0);
	assert_int_equal(m, 1);
	assert_int_equal(pbxtime_parse("2021-03-28 00:00", &m), 0);
	assert_int_equal(m, M_2021_03_28);
	assert_int_equal(pbxtime_parse("2021-03-28 13:45", &m), 0);
	assert_int_equal(m, M_2021_03_28 + 13 * 60 + 45);
	assert_int_equal(pbxtime_parse("2021-03-28 23:59", &m), 0);
	assert_int_equal(m, M_2021_03_28 + 1439);
}

static void parse_with_seconds(void **state)
{
	pbx_minute m = -1;

	(void)state;
	/* Seconds are dropped, not rounded. */
	assert_int_equal(pbxtime_parse("2021-03-28 00:00:00", &m), 0);
	assert_int_equal(m, M_2021_03_28);
	assert_int_equal(pbxtime_parse("2021-03-28 00:00:59", &m), 0);
	assert_int_equal(m, M_2021_03_28);
	assert_int_equal(pbxtime_parse("2021-03-28 00:01:30", &m), 0);
	assert_int_equal(m, M_2021_03_28 + 1);
}

static void parse_leap_days(void **state)
{
	pbx_minute m = -1;

	(void)state;
	assert_int_equal(pbxtime_parse("2024-02-29 23:59", &m), 0);
	assert_int_equal(m, (pbx_minute)19782 * 1440 + 1439);
	assert_int_equal(pbxtime_parse("2000-02-29 00:00", &m), 0); /* divisible by 400 */
	m = 42;
	assert_int_equal(pbxtime_parse("2023-02-29 00:00", &m), -1);
	assert_int_equal(pbxtime_parse("2100-02-29 00:00", &m), -1); /* divisible by 100 */
	assert_int_equal(pbxtime_parse("2023-02-29 00:00:00", &m), -1);
	assert_int_equal(m, 42); /* untouched on failure */
}

static void parse_refusals(void **state)
{
	static const char *const bad[] = {
		"",
		"2021-3-28 00:00",
		"2021-03-8 00:00",
		"2021-03-28T00:00",
		"2021-03-28T00:00:00",
		"2021-03-28 24:00",
		"2021-03-28 00:60",
		"2021-03-28 00:00:60",
		"2021-03-28 0:00",
		"2021-03-28 00:00:",
		"2021-03-28 00:00:0",
		"2021-03-28 00:00 ",
		" 2021-03-28 00:00",
		"2021/03/28 00:00",
		"2021-03-28 00-00",
		"2021-00-28 00:00",
		"2021-13-01 00:00",
		"2021-04-31 00:00",
		"2021-03-00 00:00",
		"2021-03-32 00:00",
		"1969-12-31 23:59",
		"2021-03-28",
		"20210328 0000",
		"2021-03-28 +1:00",
		"2021-03-28 -1:00",
		"2021-0x-28 00:00",
		"abcd-ef-gh ij:kl",
	};
	pbx_minute m;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		m = 7;
		if (pbxtime_parse(bad[i], &m) != -1)
			fail_msg("pbxtime_parse accepted \"%s\"", bad[i]);
		assert_int_equal(m, 7);
	}
}

static void format_minutes(void **state)
{
	char out[PBXTIME_MINUTE_LEN + 1];

	(void)state;
	pbxtime_format(0, out);
	assert_string_equal(out, "1970-01-01 00:00");
	pbxtime_format(M_2021_03_28 + 13 * 60 + 5, out);
	assert_string_equal(out, "2021-03-28 13:05");
	pbxtime_format(M_2021_03_28 - 1, out);
	assert_string_equal(out, "2021-03-27 23:59");
	pbxtime_format((pbx_minute)19782 * 1440, out);
	assert_string_equal(out, "2024-02-29 00:00");
	pbxtime_format((pbx_minute)19783 * 1440, out);
	assert_string_equal(out, "2024-03-01 00:00");
}

static void round_trips(void **state)
{
	static const char *const texts[] = {
		"1970-01-01 00:00", "1999-12-31 23:59", "2000-01-01 00:00", "2000-02-29 12:00",
		"2021-03-28 00:00", "2021-03-28 02:30", "2021-10-31 02:59", "2023-02-28 23:59",
		"2023-03-01 00:00", "2024-02-29 00:00", "2024-12-31 23:59", "2038-01-19 03:14",
		"2099-12-31 23:59", "2100-03-01 00:00",
	};
	char out[PBXTIME_MINUTE_LEN + 1];
	pbx_minute m, m2;

	(void)state;
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		assert_int_equal(pbxtime_parse(texts[i], &m), 0);
		pbxtime_format(m, out);
		assert_string_equal(out, texts[i]);
	}
	/* minute → text → minute over several years in odd steps, across every month end */
	for (m = M_2021_03_28 - 3 * 366 * 1440; m < M_2021_03_28 + 4 * 366 * 1440;
	     m += 1439 * 7 + 13) {
		pbxtime_format(m, out);
		assert_int_equal(strlen(out), PBXTIME_MINUTE_LEN);
		assert_int_equal(pbxtime_parse(out, &m2), 0);
		assert_int_equal(m2, m);
	}
}

static void spans(void **state)
{
	static const struct {
		const char *text;
		pbx_minute want;
	} ok[] = {
		{ "30m", 30 },   { "6h", 360 },     { "1d", 1440 }, { "2w", 2 * 7 * 1440 },
		{ "90", 90 },    { "0", 0 },        { "0m", 0 },    { "24h", 1440 },
		{ "7d", 10080 }, { "1440", 1440 },
	};
	pbx_minute m;

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		m = -5;
		if (pbxtime_parse_span(ok[i].text, &m) != 0)
			fail_msg("pbxtime_parse_span refused \"%s\"", ok[i].text);
		assert_int_equal(m, ok[i].want);
	}
}

static void span_refusals(void **state)
{
	static const char *const bad[] = {
		"6x", "-1h", "", "h", "m", "90s", "1.5h", "6 h", "6hh", "6H", "+6h", "-0",
		"1d2h", "d1", "0x10", "99999999999999999999", "99999999999999999999d",
	};
	pbx_minute m;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		m = 77;
		if (pbxtime_parse_span(bad[i], &m) != -1)
			fail_msg("pbxtime_parse_span accepted \"%s\"", bad[i]);
		assert_int_equal(m, 77);
	}
}

static void now_in_utc(void **state)
{
	pbx_minute now = pbxtime_now("UTC");
	int64_t host = (int64_t)time(NULL) / 60;

	(void)state;
	assert_true(now >= host - 2 && now <= host + 2);
}

/* Zones as POSIX TZ strings (no tzdata needed, no DST rule): UTC+05:30 and UTC-03:30. */
static void now_in_a_zone(void **state)
{
	pbx_minute utc = pbxtime_now("UTC");
	int64_t east = pbxtime_now("IST-5:30") - utc;
	int64_t west = pbxtime_now("NST3:30") - utc;

	(void)state;
	assert_true(east >= 330 - 2 && east <= 330 + 2);
	assert_true(west >= -210 - 2 && west <= -210 + 2);
}

/* "now" in another zone must not leave the process's own TZ changed. */
static void now_restores_tz(void **state)
{
	char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	(void)state;
	assert_int_equal(setenv("TZ", "Europe/Berlin", 1), 0);
	(void)pbxtime_now("UTC");
	assert_non_null(getenv("TZ"));
	assert_string_equal(getenv("TZ"), "Europe/Berlin");

	assert_int_equal(unsetenv("TZ"), 0);
	(void)pbxtime_now("IST-5:30");
	assert_null(getenv("TZ"));

	if (saved)
		setenv("TZ", saved, 1);
	free(saved);
}

/* The manifest's "archived_at" stamps read back (retention: how long ago a copy was made). */
static void utc_stamps(void **state)
{
	char now[PBXTIME_UTC_LEN + 1];
	int64_t t = 0, before = (int64_t)time(NULL);

	(void)state;
	assert_int_equal(pbxtime_utc_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(pbxtime_utc_parse("2026-11-26T02:30:12Z", &t), 0);
	assert_int_equal(t, 1795660212);
	pbxtime_utc_stamp(now);
	assert_int_equal(pbxtime_utc_parse(now, &t), 0);
	assert_true(t >= before && t <= before + 2);
	assert_int_equal(pbxtime_utc_parse("2026-11-26T02:30:12", &t), -1);
	assert_int_equal(pbxtime_utc_parse("2026-11-26T02:30:12Z ", &t), -1);
	assert_int_equal(pbxtime_utc_parse("2026-13-26T02:30:12Z", &t), -1);
	assert_int_equal(pbxtime_utc_parse("2026-11-26 02:30:12Z", &t), -1);
	assert_int_equal(pbxtime_utc_parse("", &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_minutes),
		cmocka_unit_test(parse_with_seconds),
		cmocka_unit_test(parse_leap_days),
		cmocka_unit_test(parse_refusals),
		cmocka_unit_test(format_minutes),
		cmocka_unit_test(round_trips),
		cmocka_unit_test(spans),
		cmocka_unit_test(span_refusals),
		cmocka_unit_test(now_in_utc),
		cmocka_unit_test(now_in_a_zone),
		cmocka_unit_test(now_restores_tz),
		cmocka_unit_test(utc_stamps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
