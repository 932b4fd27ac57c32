/* test_hold.c — legal holds (hold.c): the matching rules (a number alone or inside/before
 * parentheses, inclusive day ranges from the calldate or the path, globs over file and
 * pbx_path), what holds_add refuses, removed holds that stay on record but no longer match,
 * ids that are never reused, and holds.json round trips on a temp archive, including the
 * malformed files that must be refused rather than read as "no holds". */
#include <ftw.h>
#include <json-c/json.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "archive/hold.h"
#include "archive/manifest.h"
#include "archive/marker.h"
#include "archive/store.h"

struct fixture {
	char dir[64];
	char root[PATH_MAX];
	struct store *s;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[512];

	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/nexo-test-hold.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->root, sizeof f->root, "%s/archive", f->dir);
	f->s = marker_create(f->root, err, sizeof err) < 0 ? NULL
		: store_open(f->root, STORE_WRITE, err, sizeof err);
	if (!f->s)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->s);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* An entry as the manifest would hold it. */
static struct manifest_entry entry(const char *pbx_path, const char *calldate, const char *src,
				   const char *dst)
{
	struct manifest_entry e;

	memset(&e, 0, sizeof e);
	snprintf(e.pbx_path, sizeof e.pbx_path, "%s", pbx_path);
	snprintf(e.calldate, sizeof e.calldate, "%s", calldate);
	snprintf(e.src, sizeof e.src, "%s", src);
	snprintf(e.dst, sizeof e.dst, "%s", dst);
	/* "20240315/name.wav" -> "2024/03/15/name.wav" */
	if (strlen(pbx_path) > 9 && pbx_path[8] == '/')
		snprintf(e.file, sizeof e.file, "%.4s/%.2s/%.2s/%s", pbx_path, pbx_path + 4,
			 pbx_path + 6, pbx_path + 9);
	return e;
}

static const struct hold *add(struct holds *h, enum hold_kind k, const char *value,
			      const char *from, const char *to)
{
	char err[256] = "";
	const struct hold *x = holds_add(h, k, value, from, to, "test reason", "tester", err,
					 sizeof err);

	if (!x)
		fail_msg("holds_add: %s", err);
	return x;
}

static void number_rules(void **state)
{
	struct holds *h = holds_new();
	struct manifest_entry in = entry("20240315/20240315-101010-1-Inbound-96-506-620(202).wav",
					 "2024-03-15 10:10:10", "506", "620(202)");
	struct manifest_entry other = entry("20240315/20240315-111111-2-Internal-203-204.wav",
					    "2024-03-15 11:11:11", "203", "204");
	const struct hold *x;

	(void)state;
	assert_non_null(h);
	x = add(h, HOLD_NUMBER, "202", NULL, NULL);
	assert_string_equal(x->id, "h1");
	assert_ptr_equal(hold_match(h, &in), holds_at(h, 0));  /* inside the parentheses */
	assert_null(hold_match(h, &other));
	holds_free(h);

	h = holds_new();
	add(h, HOLD_NUMBER, "506", NULL, NULL);                  /* src, exactly */
	assert_non_null(hold_match(h, &in));
	holds_free(h);

	h = holds_new();
	add(h, HOLD_NUMBER, "620", NULL, NULL);                  /* the group before them */
	assert_non_null(hold_match(h, &in));
	holds_free(h);

	h = holds_new();
	add(h, HOLD_NUMBER, "204", NULL, NULL);                  /* dst, exactly */
	assert_non_null(hold_match(h, &other));
	assert_null(hold_match(h, &in));
	holds_free(h);

	/* Neither a part nor a superstring of a number matches. */
	h = holds_new();
	add(h, HOLD_NUMBER, "20", NULL, NULL);
	add(h, HOLD_NUMBER, "2020", NULL, NULL);
	add(h, HOLD_NUMBER, "02", NULL, NULL);
	add(h, HOLD_NUMBER, "62", NULL, NULL);
	assert_null(hold_match(h, &in));
	assert_null(hold_match(h, &other));
	holds_free(h);
}

static void range_rules(void **state)
{
	struct holds *h = holds_new();
	struct manifest_entry first = entry("20240301/20240301-000000-1-Internal-1-2.wav",
					    "2024-03-01 00:00:00", "1", "2");
	struct manifest_entry last = entry("20240331/20240331-235959-2-Internal-1-2.wav",
					   "2024-03-31 23:59:59", "1", "2");
	struct manifest_entry before = entry("20240229/20240229-235959-3-Internal-1-2.wav",
					     "2024-02-29 23:59:59", "1", "2");
	struct manifest_entry after = entry("20240401/20240401-000000-4-Internal-1-2.wav",
					    "2024-04-01 00:00:00", "1", "2");
	/* No calldate: the day comes from the PBX path, then from the archived file. */
	struct manifest_entry undated = entry("20240315/20240315-101010-5-Internal-1-2.wav", "",
					      "1", "2");
	struct manifest_entry file_only = entry("x.wav", "", "1", "2");

	(void)state;
	snprintf(file_only.file, sizeof file_only.file, "2024/03/20/x.wav");
	add(h, HOLD_RANGE, NULL, "2024-03-01", "2024-03-31");
	assert_non_null(hold_match(h, &first));
	assert_non_null(hold_match(h, &last));
	assert_null(hold_match(h, &before));
	assert_null(hold_match(h, &after));
	assert_non_null(hold_match(h, &undated));
	assert_non_null(hold_match(h, &file_only));
	holds_free(h);

	h = holds_new();
	add(h, HOLD_RANGE, NULL, "2024-02-29", "2024-02-29"); /* one day */
	assert_non_null(hold_match(h, &before));
	assert_null(hold_match(h, &first));
	holds_free(h);
}

static void path_rules(void **state)
{
	struct holds *h;
	struct manifest_entry e = entry("20240315/20240315-101010-1-Inbound-96-506-620(202).wav",
					"2024-03-15 10:10:10", "506", "620(202)");
	static const char *const hit[] = {
		"2024/03/15/*",               /* the archived file */
		"20240315/*",                 /* the PBX path */
		"*Inbound*",
		"2024/*",                     /* flags 0: '*' crosses '/' */
		"*620(202).wav",              /* parentheses are plain characters in a glob */
		"2024/03/1[0-9]/*",
	};
	static const char *const miss[] = { "2024/04/*", "*Outbound*", "20240315", "*.age" };

	(void)state;
	for (size_t i = 0; i < sizeof hit / sizeof *hit; i++) {
		h = holds_new();
		add(h, HOLD_PATH, hit[i], NULL, NULL);
		if (!hold_match(h, &e))
			fail_msg("glob '%s' should hold %s", hit[i], e.file);
		holds_free(h);
	}
	for (size_t i = 0; i < sizeof miss / sizeof *miss; i++) {
		h = holds_new();
		add(h, HOLD_PATH, miss[i], NULL, NULL);
		if (hold_match(h, &e))
			fail_msg("glob '%s' should not hold %s", miss[i], e.file);
		holds_free(h);
	}
	/* An encrypted file's name carries .age; the PBX path does not. */
	snprintf(e.file + strlen(e.file), sizeof e.file - strlen(e.file), ".age");
	h = holds_new();
	add(h, HOLD_PATH, "*.age", NULL, NULL);
	assert_non_null(hold_match(h, &e));
	holds_free(h);
}

static void first_hold_in_force_wins(void **state)
{
	struct holds *h = holds_new();
	struct manifest_entry e = entry("20240315/20240315-101010-1-Inbound-96-506-620(202).wav",
					"2024-03-15 10:10:10", "506", "620(202)");
	const struct hold *m;

	(void)state;
	add(h, HOLD_NUMBER, "999", NULL, NULL);                   /* h1: no match */
	add(h, HOLD_NUMBER, "202", NULL, NULL);                   /* h2 */
	add(h, HOLD_RANGE, NULL, "2024-03-15", "2024-03-15");     /* h3 */
	m = hold_match(h, &e);
	assert_non_null(m);
	assert_string_equal(m->id, "h2");
	assert_int_equal(holds_remove(h, "h2", "tester"), 0);
	m = hold_match(h, &e);
	assert_non_null(m);
	assert_string_equal(m->id, "h3");
	assert_int_equal(holds_remove(h, "h3", "tester"), 0);
	assert_null(hold_match(h, &e));
	/* Removed holds stay on record, and still describe what they covered. */
	assert_int_equal(holds_count(h), 3);
	assert_true(holds_at(h, 1)->removed);
	assert_true(hold_covers(holds_at(h, 1), &e));
	assert_string_equal(holds_at(h, 1)->removed_by, "tester");
	assert_int_equal(strlen(holds_at(h, 1)->removed_at), 20);
	/* Removing twice, or an unknown id, changes nothing. */
	assert_int_equal(holds_remove(h, "h2", "tester"), 2);
	assert_int_equal(holds_remove(h, "h9", "tester"), 1);
	holds_free(h);
}

static void add_refuses_bad_input(void **state)
{
	struct holds *h = holds_new();
	char err[256], longer[HOLD_VALUE_MAX + 8];
	struct {
		enum hold_kind k;
		const char *value, *from, *to, *reason;
	} bad[] = {
		{ HOLD_RANGE, NULL, "2024-03-31", "2024-03-01", "r" },   /* from after to */
		{ HOLD_RANGE, NULL, "2024-02-30", "2024-03-01", "r" },   /* no such day */
		{ HOLD_RANGE, NULL, "2024-3-1", "2024-03-01", "r" },
		{ HOLD_RANGE, NULL, "2024-03-01", NULL, "r" },
		{ HOLD_NUMBER, "", NULL, NULL, "r" },
		{ HOLD_NUMBER, "20 2", NULL, NULL, "r" },
		{ HOLD_NUMBER, "620(202)", NULL, NULL, "r" },
		{ HOLD_NUMBER, NULL, NULL, NULL, "r" },
		{ HOLD_PATH, "", NULL, NULL, "r" },
		{ HOLD_PATH, "a\nb", NULL, NULL, "r" },
		{ HOLD_NUMBER, "202", NULL, NULL, "" },                   /* no reason */
		{ HOLD_NUMBER, "202", NULL, NULL, NULL },
		{ HOLD_NUMBER, "202", NULL, NULL, "two\nlines" },
		{ HOLD_PATH, longer, NULL, NULL, "r" },
	};

	(void)state;
	memset(longer, 'a', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		if (holds_add(h, bad[i].k, bad[i].value, bad[i].from, bad[i].to, bad[i].reason,
			      "tester", err, sizeof err))
			fail_msg("case %zu was accepted", i);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(holds_count(h), 0);
	/* A refused add uses no id. */
	assert_string_equal(add(h, HOLD_NUMBER, "202", NULL, NULL)->id, "h1");
	holds_free(h);
}

static char *read_text(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf = calloc(1, 1 << 16);
	size_t n;

	assert_non_null(fp);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 16) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void round_trip(void **state)
{
	struct fixture *f = *state;
	struct manifest_entry e = entry("20240315/20240315-101010-1-Inbound-96-506-620(202).wav",
					"2024-03-15 10:10:10", "506", "620(202)");
	char err[512] = "", path[PATH_MAX + 32];
	struct holds *h = holds_load(f->s, err, sizeof err);
	const struct hold *x;
	json_object *arr;
	char *text;

	/* No holds.json: an empty set. */
	if (!h)
		fail_msg("holds_load: %s", err);
	assert_int_equal(holds_count(h), 0);
	add(h, HOLD_NUMBER, "202", NULL, NULL);
	add(h, HOLD_RANGE, NULL, "2024-03-01", "2024-03-31");
	x = holds_add(h, HOLD_PATH, "2024/03/*", NULL, NULL, "reason \"quoted\" \\ ünïcode",
		      "root (sudo by alice)", err, sizeof err);
	assert_non_null(x);
	assert_int_equal(holds_remove(h, "h2", "bob"), 0);
	assert_int_equal(holds_save(h, f->s, err, sizeof err), 0);
	holds_free(h);

	/* The file: a JSON array, one object per hold, readable by any tool. */
	snprintf(path, sizeof path, "%s/" HOLDS_FILE, f->root);
	text = read_text(path);
	arr = json_tokener_parse(text);
	assert_non_null(arr);
	assert_true(json_object_is_type(arr, json_type_array));
	assert_int_equal(json_object_array_length(arr), 3);
	assert_non_null(strstr(text, "\"kind\": \"range\""));
	assert_non_null(strstr(text, "\"removed_by\": \"bob\""));
	json_object_put(arr);
	free(text);

	h = holds_load(f->s, err, sizeof err);
	if (!h)
		fail_msg("holds_load: %s", err);
	assert_int_equal(holds_count(h), 3);
	x = holds_at(h, 0);
	assert_string_equal(x->id, "h1");
	assert_int_equal(x->kind, HOLD_NUMBER);
	assert_string_equal(x->value, "202");
	assert_string_equal(x->who, "tester");
	assert_int_equal(strlen(x->created), 20);
	assert_false(x->removed);
	x = holds_at(h, 1);
	assert_int_equal(x->kind, HOLD_RANGE);
	assert_string_equal(x->from, "2024-03-01");
	assert_string_equal(x->to, "2024-03-31");
	assert_true(x->removed);
	assert_string_equal(x->removed_by, "bob");
	x = holds_at(h, 2);
	assert_int_equal(x->kind, HOLD_PATH);
	assert_string_equal(x->value, "2024/03/*");
	assert_string_equal(x->reason, "reason \"quoted\" \\ ünïcode");
	assert_string_equal(x->who, "root (sudo by alice)");
	assert_string_equal(hold_match(h, &e)->id, "h1");
	/* Ids go on after the highest ever used, removed ones included. */
	assert_int_equal(holds_remove(h, "h3", "bob"), 0);
	assert_string_equal(add(h, HOLD_NUMBER, "7", NULL, NULL)->id, "h4");
	assert_int_equal(holds_save(h, f->s, err, sizeof err), 0);
	holds_free(h);
	h = holds_load(f->s, err, sizeof err);
	assert_non_null(h);
	assert_int_equal(holds_count(h), 4);
	assert_true(holds_at(h, 2)->removed);
	assert_string_equal(add(h, HOLD_NUMBER, "8", NULL, NULL)->id, "h5");
	holds_free(h);
	/* Nothing left in the temp folder: the save was a commit. */
	snprintf(path, sizeof path, "%s/.state/tmp", f->root);
	assert_int_equal(rmdir(path), 0);
}

static void load_refuses_malformed(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"",
		"{}",
		"[",
		"[] []",
		"[{\"id\":\"h1\",\"kind\":\"number\"}]",
		"[{\"id\":\"h1\",\"kind\":\"phase\",\"number\":\"1\"}]",
		"[{\"kind\":\"number\",\"number\":\"1\"}]",
		"[{\"id\":\"h1\",\"kind\":\"range\",\"from\":\"2024-03-01\",\"to\":\"x\"}]",
		"[{\"id\":\"h1\",\"kind\":\"number\",\"number\":\"1\"},"
		" {\"id\":\"h1\",\"kind\":\"number\",\"number\":\"2\"}]",
		"[{\"id\":\"h1\",\"kind\":\"number\",\"number\":1}]",
		"[{\"id\":\"h1\",\"kind\":\"number\",\"number\":\"1\",\"removed\":\"yes\"}]",
		"[1]",
	};
	char err[512], path[PATH_MAX + 32], target[PATH_MAX + 32];
	struct holds *h;

	snprintf(path, sizeof path, "%s/" HOLDS_FILE, f->root);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		write_text(path, bad[i]);
		err[0] = '\0';
		h = holds_load(f->s, err, sizeof err);
		if (h)
			fail_msg("case %zu (%s) was read as %zu holds", i, bad[i], holds_count(h));
		assert_non_null(strstr(err, HOLDS_FILE));
	}
	/* Whitespace around the array is fine; unknown members are ignored. */
	write_text(path,
		   "\n [ {\"id\":\"x1\",\"kind\":\"number\",\"number\":\"1\",\"note\":3} ]\n");
	h = holds_load(f->s, err, sizeof err);
	assert_non_null(h);
	assert_int_equal(holds_count(h), 1);
	holds_free(h);
	/* A symlink in its place is not followed. */
	snprintf(target, sizeof target, "%s/elsewhere.json", f->dir);
	write_text(target, "[]");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(target, path), 0);
	assert_null(holds_load(f->s, err, sizeof err));
}

static void whoami(void **state)
{
	char who[HOLD_WHO_MAX];
	const char *saved = getenv("SUDO_USER");
	char *copy = saved ? strdup(saved) : NULL;

	(void)state;
	unsetenv("SUDO_USER");
	holds_whoami(who, sizeof who);
	assert_true(who[0] != '\0');
	assert_null(strstr(who, "sudo"));
	setenv("SUDO_USER", "alice", 1);
	holds_whoami(who, sizeof who);
	assert_non_null(strstr(who, " (sudo by alice)"));
	if (copy)
		setenv("SUDO_USER", copy, 1);
	else
		unsetenv("SUDO_USER");
	free(copy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(number_rules),
		cmocka_unit_test(range_rules),
		cmocka_unit_test(path_rules),
		cmocka_unit_test(first_hold_in_force_wins),
		cmocka_unit_test(add_refuses_bad_input),
		cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(load_refuses_malformed, setup, teardown),
		cmocka_unit_test(whoami),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
