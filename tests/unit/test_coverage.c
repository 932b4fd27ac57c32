/* test_coverage.c — the pure halves of the coverage report: one day's entries counted per
 * recording (versions once, the latest archived version's marks, local files every version),
 * the cache's rule (any key changed: not trusted), the default range, and the pending list
 * (a foreign or damaged file refused, notes and removals, vanished only inside spans listed
 * whole and only when the archive does not hold the path). */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "archive/coverage.h"
#include "archive/manifest.h"
#include "archive/pending.h"
#include "base/pbxtime.h"

static void entry(struct manifest_entry *e, const char *path, unsigned version, uint64_t size)
{
	memset(e, 0, sizeof *e);
	snprintf(e->pbx_path, sizeof e->pbx_path, "%s", path);
	e->version = version;
	e->size = size;
}

static void count_versions_once(void **state)
{
	struct manifest_entry e[6];
	const struct manifest_entry *v[6];
	struct coverage_counts c;

	(void)state;
	entry(&e[0], "a.wav", 1, 100);
	entry(&e[1], "a.wav", 2, 150);   /* grew: a second version */
	e[1].pbx_deleted = 1;
	entry(&e[2], "b.wav", 1, 0);
	e[2].unavailable = 1;            /* never delivered */
	entry(&e[3], "c.wav", 1, 70);
	e[3].forgotten = 1;
	entry(&e[4], "d.wav", 1, 30);
	e[4].invalid = 1;
	e[4].pruned = 1;
	entry(&e[5], "e.wav", 1, 10);
	e[5].offloaded = 1;
	for (int i = 0; i < 6; i++)
		v[i] = &e[5 - i]; /* any order */
	assert_int_equal(coverage_count(v, 6, NULL, &c), 0);
	assert_int_equal(c.recordings, 5);
	assert_int_equal(c.archived, 4);
	assert_int_equal(c.unavailable, 1);
	assert_int_equal(c.pbx_deleted, 1);
	assert_int_equal(c.forgotten, 1);
	assert_int_equal(c.invalid, 1);
	assert_int_equal(c.pruned, 1);
	assert_int_equal(c.offloaded, 1);
	assert_int_equal(c.files, 2);     /* a.wav v1 and v2; the others are gone locally */
	assert_int_equal(c.bytes, 250);
	assert_int_equal(c.held, 0);
}

static void cache_rule(void **state)
{
	json_object *e = json_tokener_parse(
		"{\"size\":10,\"mtime_ns\":5,\"head_lines\":3,\"head_last\":\"ab\",\"counts\":{}}");

	(void)state;
	assert_true(coverage_cache_fits(e, 10, 5, 3, "ab"));
	assert_false(coverage_cache_fits(e, 11, 5, 3, "ab"));  /* appended */
	assert_false(coverage_cache_fits(e, 10, 6, 3, "ab"));  /* rewritten */
	assert_false(coverage_cache_fits(e, 10, 5, 4, "ab"));  /* a newer head */
	assert_false(coverage_cache_fits(e, 10, 5, 3, "cd"));  /* another last line */
	assert_false(coverage_cache_fits(e, 10, 5, 0, ""));    /* the head lost the day */
	assert_false(coverage_cache_fits(NULL, 10, 5, 3, "ab"));
	json_object_put(e);
	e = json_tokener_parse("{\"size\":10,\"mtime_ns\":5,\"head_lines\":3,\"head_last\":\"ab\"}");
	assert_false(coverage_cache_fits(e, 10, 5, 3, "ab")); /* no counts */
	json_object_put(e);
}

static void default_range(void **state)
{
	char from[11], to[11], d[11] = "2024-02-28";

	(void)state;
	coverage_range("2020-01-01", "2026-05-07", from, to);
	assert_string_equal(from, "2026-03-01");
	assert_string_equal(to, "2026-05-07");
	coverage_range("2026-01-15", "2026-02-03", from, to);
	assert_string_equal(from, "2026-01-15");
	coverage_range("2020-01-01", "2026-01-20", from, to);
	assert_string_equal(from, "2025-11-01");
	coverage_next_day(d);
	assert_string_equal(d, "2024-02-29");
	coverage_next_day(d);
	assert_string_equal(d, "2024-03-01");
	assert_true(coverage_valid_day("2024-02-29"));
	assert_false(coverage_valid_day("2026-02-29"));
	assert_false(coverage_valid_day("2026-1-01"));
}

static int held_b(void *ctx, const char *day, const char *path)
{
	(void)ctx;
	(void)day;
	return strcmp(path, "b") == 0;
}

static int count_state(void *ctx, const struct pending_entry *e)
{
	int *n = ctx;

	n[e->state]++;
	return 0;
}

static void pending_settles(void **state)
{
	struct pending *p = pending_new(), *q;
	pbx_minute start, end;
	int n[PENDING_NSTATES] = { 0 };
	size_t len;
	char *text;

	(void)state;
	assert_non_null(p);
	assert_int_equal(pending_note(p, "a", "2026-05-07", "2026-05-07 10:00:00", PENDING_MISSING,
				      "2026-05-08T02:00:00Z"), 0);
	assert_int_equal(pending_note(p, "b", "2026-05-07", "2026-05-07 11:00:00", PENDING_FAILED,
				      "2026-05-08T02:00:00Z"), 0);
	assert_int_equal(pending_note(p, "c", "2026-05-09", "2026-05-09 11:00:00",
				      PENDING_GROWING, "2026-05-08T02:00:00Z"), 0);
	text = pending_format(p, &len);
	pending_free(p);
	/* The next run: it lists May 7th whole and notes none of them. */
	q = pending_parse(text, len);
	free(text);
	assert_non_null(q);
	pbxtime_parse("2026-05-07 00:00", &start);
	pbxtime_parse("2026-05-07 23:59", &end);
	assert_int_equal(pending_covered(q, start, end), 0);
	assert_int_equal(pending_settle(q, held_b, NULL), 1); /* a vanished, b archived */
	assert_int_equal(pending_count(q), 2);
	pending_each(q, count_state, n);
	assert_int_equal(n[PENDING_VANISHED], 1);
	assert_int_equal(n[PENDING_GROWING], 1); /* c: outside the span, untouched */
	pending_remove(q, "c");
	assert_int_equal(pending_count(q), 1);
	pending_free(q);
	assert_null(pending_parse("{\"format\":\"other/1\",\"recordings\":{}}", 36));
	assert_null(pending_parse("{\"format\":\"nexo-archive-pending/1\",\"recordings\":"
				  "{\"x\":{\"day\":\"2026-05-07\",\"state\":\"lost\"}}}", 95));
}

/* The spans listed whole: touching ones join, a gap does not; this run's and the loaded ones
 * count alike; a span a run cannot have written (negative, past year 9999, reversed) is
 * ignored rather than making every day listed. */
static void listed_spans(void **state)
{
	static const char file[] = "{\"format\":\"nexo-archive-pending/1\",\"recordings\":{},"
				   "\"listed\":[[0,10],[11,20],[30,40],"
				   "[-9223372036854775807,9223372036854775807],[60,50]]}";
	struct pending *p;

	(void)state;
	p = pending_parse(file, sizeof file - 1);
	assert_non_null(p);
	assert_true(pending_listed(p, 5, 15));   /* [0,10] and [11,20] touch */
	assert_false(pending_listed(p, 15, 35)); /* 21..29 not listed */
	assert_false(pending_listed(p, 41, 1000));
	assert_false(pending_listed(p, 55, 55)); /* the reversed span is not one */
	assert_int_equal(pending_covered(p, 21, 29), 0);
	assert_true(pending_listed(p, 0, 40));
	pending_free(p);
}

/* A walk from a checkpoint at 0 (a first run on a PBX without recordings) less the lookback
 * starts before 1970: the span it listed (merged with every earlier one) must survive the
 * file's next load, and a span is written from 0 on. Before the fix the merged span was
 * written as [-360, ...] and dropped whole on load: every day listed before was open again. */
static void listed_before_1970(void **state)
{
	static const char file[] = "{\"format\":\"nexo-archive-pending/1\",\"recordings\":{},"
				   "\"listed\":[[-360,5000]]}";
	struct pending *p, *q;
	size_t len;
	char *text;

	(void)state;
	p = pending_parse(file, sizeof file - 1);
	assert_non_null(p);
	assert_true(pending_listed(p, 0, 5000));
	pending_free(p);
	p = pending_new();
	assert_int_equal(pending_covered(p, -360, 5000), 0);
	text = pending_format(p, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "[[0,5000]]"));
	q = pending_parse(text, len);
	assert_non_null(q);
	assert_true(pending_listed(q, 100, 5000));
	free(text);
	pending_free(q);
	pending_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(count_versions_once),
		cmocka_unit_test(cache_rule),
		cmocka_unit_test(default_range),
		cmocka_unit_test(pending_settles),
		cmocka_unit_test(listed_spans),
		cmocka_unit_test(listed_before_1970),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
