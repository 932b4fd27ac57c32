/* test_progress.c — what a backfill has left, about (progress.c): the unlisted rest of a span
 * at the density of recordings to fetch its listed part held (from its first call's day on,
 * not from an empty start), plus what was planned and not fetched; the time at a rate; nothing
 * guessed when nothing was listed, or when the span is all listed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(extrapolates_the_rest),
		cmocka_unit_test(nothing_to_guess),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
