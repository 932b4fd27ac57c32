/* test_progress.c — what a backfill has left, about (progress.c): the unlisted rest of a span
 * at the density of recordings to fetch its listed part held (from its first call's day on,
 * not from an empty start), plus what was planned and not fetched; the time at a rate; nothing
 * guessed when nothing was listed, or when the span is all listed. And the live line's text
 * (live.c): the window being listed, the counts, the bytes and their rate, the time left
 * while downloading only, the elapsed clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "run/live.h"
#include "run/progress.h"
#include "run/run.h"

static void extrapolates_the_rest(void **state)
{
	struct span sp = { .from = 0, .to = 999, .reached = 100, .oldest_seen = -1,
			   .planned_bytes = 1000 };
	struct progress_left l;

	(void)state;
	/* 100 of 1000 minutes listed: 10 recordings planned there, 2 (200 bytes) not fetched. */
	progress_estimate(&sp, 10, 2, 200, 10, &l);
	assert_true(l.guessed);
	assert_false(l.unknown_rest);
	assert_int_equal((long)(l.recordings + 0.5), 2 + 90);
	assert_int_equal((long)(l.bytes + 0.5), 200 + 9000);
	assert_int_equal((long)(l.seconds + 0.5), 920);
	/* A first call at minute 50 of the span's first day: the day counts whole. */
	sp.oldest_seen = 50;
	progress_estimate(&sp, 10, 2, 200, 10, &l);
	assert_int_equal((long)(l.recordings + 0.5), 2 + 90);
	/* A span of 10 days whose first call is at 10:00 of its 3rd: the 2 empty days before
	 * say nothing; 6 recordings in the 2 days listed from there, 6 days to come. */
	sp.to = 10 * 1440 - 1;
	sp.reached = 4 * 1440;
	sp.oldest_seen = 2 * 1440 + 600;
	sp.planned_bytes = 600;
	progress_estimate(&sp, 6, 0, 0, 10, &l);
	assert_int_equal((long)(l.recordings + 0.5), 18);
	assert_int_equal((long)(l.bytes + 0.5), 1800);
	/* No rate known: no time. */
	progress_estimate(&sp, 6, 0, 0, 0, &l);
	assert_true(l.seconds < 0);
}

static void nothing_to_guess(void **state)
{
	struct span sp = { .from = 0, .to = 999, .reached = 1000, .oldest_seen = 10,
			   .planned_bytes = 1000 };
	struct progress_left l;

	(void)state;
	/* All listed: what is left is what was not fetched. */
	progress_estimate(&sp, 10, 3, 300, 100, &l);
	assert_false(l.guessed);
	assert_false(l.unknown_rest);
	assert_int_equal((long)l.recordings, 3);
	assert_int_equal((long)l.bytes, 300);
	assert_int_equal((long)(l.seconds + 0.5), 3);
	/* Nothing listed yet: the rest cannot be judged. */
	sp.reached = 0;
	sp.oldest_seen = -1;
	progress_estimate(&sp, 0, 0, 0, 100, &l);
	assert_true(l.unknown_rest);
	assert_false(l.guessed);
	assert_int_equal((long)l.recordings, 0);
	/* No span (watch): nothing to guess either. */
	sp.to = -1;
	progress_estimate(&sp, 0, 1, 10, 100, &l);
	assert_false(l.unknown_rest);
	assert_int_equal((long)l.recordings, 1);
}

static void live_line(void **state)
{
	struct live_view v = { 0 };
	char line[256];

	(void)state;
	live_format(&v, line, sizeof line);
	assert_string_equal(line, "starting | 0:00");
	/* A window within a day names its date once; the counts appear once something is
	 * listed; the received bytes and their rate once something came. */
	v.phase = LIVE_LISTING;
	pbxtime_parse("2026-12-06 00:00", &v.list_from);
	pbxtime_parse("2026-12-06 23:59", &v.list_to);
	v.listed = 3;
	v.received = 2048;
	v.elapsed = 65.9;
	live_format(&v, line, sizeof line);
	assert_string_equal(line, "listing 2026-12-06 00:00 .. 23:59 | 0/0 archived, 3 listed | "
				  "2.00 KiB received | 1:05");
	pbxtime_parse("2026-12-07 00:10", &v.list_to);
	live_format(&v, line, sizeof line);
	assert_string_equal(line, "listing 2026-12-06 00:00 .. 2026-12-07 00:10 | 0/0 archived, "
				  "3 listed | 2.00 KiB received | 1:05");
	/* Downloading at a known rate: what is left of the planned bytes, at that rate. */
	v.phase = LIVE_DOWNLOADING;
	v.planned = 3;
	v.landed = 1;
	v.planned_bytes = 300000;
	v.landed_bytes = 100000;
	v.rate = 1000;
	v.elapsed = 3725;
	snprintf(v.tail, sizeof v.tail, " (cap 1.00 KiB/s)");
	live_format(&v, line, sizeof line);
	assert_string_equal(line, "downloading | 1/3 archived, 3 listed | 2.00 KiB received at "
				  "1000 B/s | about 3 min left (cap 1.00 KiB/s) | 1:02:05");
	/* Other phases say no time left; a short buffer is cut, never overrun. */
	v.phase = LIVE_DELETING;
	v.tail[0] = '\0';
	live_format(&v, line, sizeof line);
	assert_string_equal(line, "deleting from the PBX | 1/3 archived, 3 listed | 2.00 KiB "
				  "received at 1000 B/s | 1:02:05");
	live_format(&v, line, 9);
	assert_string_equal(line, "deleting");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(extrapolates_the_rest),
		cmocka_unit_test(nothing_to_guess),
		cmocka_unit_test(live_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
