/* test_manifest.c — the archive's source of truth (manifest.c) on a store in a temp folder:
 * queued lines become facts only on commit; a reopened manifest replays its files; the lines are
 * the JSON docs/manifest.md documents, chained by "prev" (checked here with libsodium's SHA-256,
 * independently of hash.c); a torn tail is tolerated and cut by the next commit, while a corrupt
 * or edited line followed by more lines makes the whole day refused. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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
#include <json-c/json.h>
#include <sodium.h>

#include "archive/manifest.h"
#include "archive/marker.h"
#include "archive/store.h"
#include "pbx/recording.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

#define P1 "20210329/20210329-001004-1617005404-CallBack-44-202-820(102).wav"
#define P2 "20210329/20210329-101500-1617012900-Internal-202-203.wav"
#define P3 "20210330/20210330-080000-1617091200-Inbound-12-0301234567-200.wav"
#define D1 "2021-03-29"
#define D2 "2021-03-30"

struct fixture {
	char dir[64];
	char root[PATH_MAX];
	struct store *s;
	struct manifest *m;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void reopen(struct fixture *f)
{
	char err[512] = "";

	manifest_close(f->m);
	f->m = manifest_open(f->s, err, sizeof err);
	if (!f->m)
		fail_msg("manifest_open: %s", err);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[512];

	if (!f || sodium_init() < 0)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/nexo-test-manifest.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->root, sizeof f->root, "%s/archive", f->dir);
	f->s = marker_create(f->root, err, sizeof err) < 0 ? NULL
		: store_open(f->root, STORE_WRITE, err, sizeof err);
	if (!f->s)
		return -1;
	f->m = manifest_open(f->s, err, sizeof err);
	if (!f->m)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	manifest_close(f->m);
	store_close(f->s);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void sha256_hex(const void *buf, size_t len, char hex[65])
{
	unsigned char d[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(d, buf, len);
	sodium_bin2hex(hex, 65, d, sizeof d);
}

static void make_rec(struct recording *r, const char *path, const char *calldate,
		     const char *trunk, const char *calltype, long duration)
{
	memset(r, 0, sizeof *r);
	snprintf(r->pbx_path, sizeof r->pbx_path, "%s", path);
	snprintf(r->calldate, sizeof r->calldate, "%s", calldate);
	snprintf(r->src, sizeof r->src, "202");
	snprintf(r->dst, sizeof r->dst, "820(102)");
	snprintf(r->trunk, sizeof r->trunk, "%s", trunk);
	snprintf(r->calltype, sizeof r->calltype, "%s", calltype);
	r->duration = duration;
	r->size = -1;
}

/* The stored file of a PBX path, as fetch.c names it: "YYYY/MM/DD/<base>". */
static void file_of(const char *pbx_path, char *out, size_t outlen)
{
	snprintf(out, outlen, "%.4s/%.2s/%.2s/%s", pbx_path, pbx_path + 4, pbx_path + 6,
		 pbx_path + 9);
}

/* Queues an archived line whose sha256 is that of the path itself and size its length. */
static void add(struct fixture *f, const char *day, const char *path, long duration,
		double secs)
{
	struct recording r;
	char file[REC_PATH_MAX + 16], hex[65];

	make_rec(&r, path, "2021-03-29 00:10:04", strstr(path, "Internal") ? "" : "44",
		 strstr(path, "Internal") ? "Internal" : "CallBack", duration);
	file_of(path, file, sizeof file);
	sha256_hex(path, strlen(path), hex);
	struct manifest_file mf = { file, strlen(path), hex, NULL, NULL, secs, NULL, 0 };
	assert_int_equal(manifest_add_archived(f->m, day, &r, &mf), 0);
}

static void commit(struct fixture *f)
{
	char err[512] = "";

	if (manifest_commit(f->m, err, sizeof err) != 0)
		fail_msg("manifest_commit: %s", err);
}

static void expect_entry(struct fixture *f, const char *day, const char *path, int deleted)
{
	const struct manifest_entry *e = NULL;
	char file[REC_PATH_MAX + 16], hex[65];
	int rc = manifest_lookup(f->m, day, path, &e);

	if (rc != 1)
		fail_msg("manifest_lookup(%s, %s) = %d, want 1", day, path, rc);
	file_of(path, file, sizeof file);
	sha256_hex(path, strlen(path), hex);
	assert_string_equal(e->pbx_path, path);
	assert_string_equal(e->file, file);
	assert_string_equal(e->sha256, hex);
	assert_int_equal(e->size, strlen(path));
	assert_int_equal(e->pbx_deleted, deleted);
}

static void expect_unknown(struct fixture *f, const char *day, const char *path)
{
	const struct manifest_entry *e = (const void *)1;

	assert_int_equal(manifest_lookup(f->m, day, path, &e), 0);
}

static void day_path(struct fixture *f, const char *day, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/manifest/%s.jsonl", f->root, day);
}

/* The day's file, NUL-terminated; *len its size. Caller frees. */
static char *read_day(struct fixture *f, const char *day, size_t *len)
{
	char p[PATH_MAX + 32];
	struct stat st;
	char *buf;
	int fd;

	day_path(f, day, p, sizeof p);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		fail_msg("cannot open %s: %s", p, strerror(errno));
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	buf[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	return buf;
}

static void write_day(struct fixture *f, const char *day, const char *buf, size_t len)
{
	char p[PATH_MAX + 32];
	int fd;

	day_path(f, day, p, sizeof p);
	fd = open(p, O_WRONLY | O_TRUNC | O_CREAT, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void append_day(struct fixture *f, const char *day, const char *text)
{
	char p[PATH_MAX + 32];
	int fd;

	day_path(f, day, p, sizeof p);
	fd = open(p, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Checks the whole file: ends with '\n', every line a JSON object whose "prev" chains. Returns
 * the number of lines. */
static size_t check_chain(struct fixture *f, const char *day)
{
	size_t len, n = 0;
	char *buf = read_day(f, day, &len), *p = buf;
	char prev[65] = EMPTY_SHA256;

	assert_true(len > 0);
	assert_int_equal(buf[len - 1], '\n');
	while (*p) {
		char *nl = strchr(p, '\n');
		json_object *o, *v;

		assert_non_null(nl);
		*nl = '\0';
		n++;
		o = json_tokener_parse(p);
		if (!o || !json_object_is_type(o, json_type_object))
			fail_msg("manifest/%s.jsonl line %zu is not a JSON object: %s", day, n, p);
		assert_true(json_object_object_get_ex(o, "prev", &v));
		if (strcmp(json_object_get_string(v), prev) != 0)
			fail_msg("line %zu: prev %s, want %s", n, json_object_get_string(v), prev);
		json_object_put(o);
		sha256_hex(p, (size_t)(nl - p), prev);
		p = nl + 1;
	}
	free(buf);
	return n;
}

static void add_commit_lookup(void **state)
{
	struct fixture *f = *state;
	const struct manifest_entry *e;
	char p[PATH_MAX + 32];

	/* a day without a file knows nothing, and is not an error */
	expect_unknown(f, D1, P1);
	add(f, D1, P1, 10, 11.0);
	add(f, D1, P2, 3, -1);
	add(f, D2, P3, -1, 2.5);
	/* queued lines are not facts yet */
	expect_unknown(f, D1, P1);
	expect_unknown(f, D2, P3);
	commit(f);

	expect_entry(f, D1, P1, 0);
	expect_entry(f, D1, P2, 0);
	expect_entry(f, D2, P3, 0);
	expect_unknown(f, D1, P3);
	expect_unknown(f, D2, P1);
	expect_unknown(f, D1, "20210329/20210329-000000-0-Inbound-1-2-3.wav");
	expect_unknown(f, "2021-03-31", P1);
	assert_int_equal(manifest_lookup(f->m, D1, P1, &e), 1);

	/* the files exist, one per day */
	day_path(f, D1, p, sizeof p);
	assert_int_equal(access(p, F_OK), 0);
	day_path(f, D2, p, sizeof p);
	assert_int_equal(access(p, F_OK), 0);
	/* a commit with nothing queued is fine */
	commit(f);
}

static void replay_after_reopen(void **state)
{
	struct fixture *f = *state;

	add(f, D1, P1, 10, 11.0);
	add(f, D1, P2, 3, -1);
	add(f, D2, P3, -1, 2.5);
	commit(f);
	reopen(f);
	expect_entry(f, D1, P1, 0);
	expect_entry(f, D1, P2, 0);
	expect_entry(f, D2, P3, 0);
	expect_unknown(f, D1, P3);

	/* a second batch appends to the existing day files */
	add(f, D1, "20210329/20210329-235959-1617062399-Inbound-1-2-3.wav", 1, 1.0);
	commit(f);
	reopen(f);
	expect_entry(f, D1, P1, 0);
	expect_entry(f, D1, "20210329/20210329-235959-1617062399-Inbound-1-2-3.wav", 0);
	assert_int_equal(check_chain(f, D1), 3);
	assert_int_equal(check_chain(f, D2), 1);
}

static void close_drops_pending(void **state)
{
	struct fixture *f = *state;
	char p[PATH_MAX + 32];

	add(f, D1, P1, 10, 11.0);
	reopen(f);
	expect_unknown(f, D1, P1);
	day_path(f, D1, p, sizeof p);
	assert_int_equal(access(p, F_OK), -1);
}

/* manifest_add_mark(PBX_DELETED) of the path's latest entry (of a made-up entry when the
 * manifest holds none: the call must then be refused). */
static int mark_deleted(struct fixture *f, const char *day, const char *path)
{
	const struct manifest_entry *e;
	struct manifest_entry none;

	if (manifest_lookup(f->m, day, path, &e) != 1) {
		memset(&none, 0, sizeof none);
		snprintf(none.pbx_path, sizeof none.pbx_path, "%s", path);
		e = &none;
	}
	return manifest_add_mark(f->m, day, e, MANIFEST_PBX_DELETED, NULL);
}

static void deleted_replay(void **state)
{
	struct fixture *f = *state;

	add(f, D1, P1, 10, 11.0);
	add(f, D1, P2, 3, -1);
	commit(f);
	assert_int_equal(mark_deleted(f, D1, P1), 0);
	expect_entry(f, D1, P1, 0); /* not a fact before the commit */
	commit(f);
	expect_entry(f, D1, P1, 1);
	expect_entry(f, D1, P2, 0);
	reopen(f);
	expect_entry(f, D1, P1, 1);
	expect_entry(f, D1, P2, 0);
	/* deleting what the day does not hold is refused */
	assert_int_equal(mark_deleted(f, D1, P3), -1);
	assert_int_equal(mark_deleted(f, D2, P3), -1);
	assert_int_equal(check_chain(f, D1), 3);
}

struct visits {
	int n;
	char seen[8][REC_PATH_MAX];
	int stop_at;
};

static int visit(void *ctx, const struct manifest_entry *e)
{
	struct visits *v = ctx;

	assert_true(v->n < 8);
	assert_int_equal(e->pbx_deleted, 0);
	snprintf(v->seen[v->n], sizeof v->seen[0], "%s", e->pbx_path);
	v->n++;
	return v->n == v->stop_at ? 42 : 0;
}

static int visited(const struct visits *v, const char *path)
{
	for (int i = 0; i < v->n; i++)
		if (strcmp(v->seen[i], path) == 0)
			return 1;
	return 0;
}

static void each_undeleted(void **state)
{
	struct fixture *f = *state;
	const char *p4 = "20210329/20210329-120000-1617019200-Outbound-12-201-0301234567.wav";
	struct visits v;

	add(f, D1, P1, 10, 11.0);
	add(f, D1, P2, 3, -1);
	add(f, D1, p4, 3, -1);
	add(f, D2, P3, 3, -1);
	commit(f);
	assert_int_equal(mark_deleted(f, D1, P2), 0);
	commit(f);

	for (int round = 0; round < 2; round++) {
		memset(&v, 0, sizeof v);
		assert_int_equal(manifest_each_undeleted(f->m, D1, visit, &v), 0);
		assert_int_equal(v.n, 2);
		assert_true(visited(&v, P1));
		assert_true(visited(&v, p4));
		assert_false(visited(&v, P2));
		reopen(f);
	}

	/* a nonzero answer stops the walk and is returned */
	memset(&v, 0, sizeof v);
	v.stop_at = 1;
	assert_int_equal(manifest_each_undeleted(f->m, D1, visit, &v), 42);
	assert_int_equal(v.n, 1);

	/* an empty day visits nothing */
	memset(&v, 0, sizeof v);
	assert_int_equal(manifest_each_undeleted(f->m, "2020-01-01", visit, &v), 0);
	assert_int_equal(v.n, 0);
}

static void first_day(void **state)
{
	struct fixture *f = *state;
	char day[11] = "", p[PATH_MAX + 32];
	int fd;

	assert_int_equal(manifest_first_day(f->m, day), 0);
	add(f, "2021-03-30", P3, 1, 1.0);
	add(f, "2022-01-01", P1, 1, 1.0);
	add(f, "2021-03-28", P2, 1, 1.0);
	commit(f);
	/* files that are not day files do not count */
	static const char *const junk[] = { "2020-01-01.jsonl.bak", "notes.txt", "2019-1-01.jsonl",
					    "2019-01-01.json", "x019-01-01.jsonl" };
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		snprintf(p, sizeof p, "%s/manifest/%s", f->root, junk[i]);
		fd = open(p, O_WRONLY | O_CREAT, 0640);
		assert_true(fd >= 0);
		close(fd);
	}
	assert_int_equal(manifest_first_day(f->m, day), 1);
	assert_string_equal(day, "2021-03-28");
	reopen(f);
	memset(day, 'Z', sizeof day);
	assert_int_equal(manifest_first_day(f->m, day), 1);
	assert_string_equal(day, "2021-03-28");
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no \"%s\" in a manifest line", key);
	if (!json_object_is_type(v, json_type_string))
		fail_msg("\"%s\" is not a string", key);
	return json_object_get_string(v);
}

static void expect_utc_stamp(const char *s)
{
	/* "2026-11-26T02:30:12Z" */
	assert_int_equal(strlen(s), 20);
	for (int i = 0; i < 20; i++) {
		char c = s[i];
		int ok;

		if (i == 4 || i == 7)
			ok = c == '-';
		else if (i == 10)
			ok = c == 'T';
		else if (i == 13 || i == 16)
			ok = c == ':';
		else if (i == 19)
			ok = c == 'Z';
		else
			ok = c >= '0' && c <= '9';
		if (!ok)
			fail_msg("\"%s\" is not an ISO 8601 UTC time", s);
	}
}

static void line_format_and_chain(void **state)
{
	struct fixture *f = *state;
	char *buf, *l1, *l2, *l3, hex[65], file[REC_PATH_MAX + 16];
	json_object *o, *v;
	size_t len;

	add(f, D1, P1, 10, 11.0);
	add(f, D1, P2, -1, -1);
	commit(f);
	assert_int_equal(mark_deleted(f, D1, P1), 0);
	commit(f);

	buf = read_day(f, D1, &len);
	assert_int_equal(buf[len - 1], '\n');
	l1 = buf;
	l2 = strchr(l1, '\n');
	assert_non_null(l2);
	*l2++ = '\0';
	l3 = strchr(l2, '\n');
	assert_non_null(l3);
	*l3++ = '\0';
	assert_non_null(strchr(l3, '\n'));
	*strchr(l3, '\n') = '\0';
	assert_ptr_equal(l3 + strlen(l3) + 1, buf + len);

	/* line 1: an archived line with every documented field */
	o = json_tokener_parse(l1);
	assert_non_null(o);
	assert_string_equal(get_str(o, "event"), "archived");
	assert_string_equal(get_str(o, "pbx_path"), P1);
	file_of(P1, file, sizeof file);
	assert_string_equal(get_str(o, "file"), file);
	assert_true(json_object_object_get_ex(o, "size", &v));
	assert_true(json_object_is_type(v, json_type_int));
	assert_int_equal(json_object_get_int64(v), strlen(P1));
	sha256_hex(P1, strlen(P1), hex);
	assert_string_equal(get_str(o, "sha256"), hex);
	assert_string_equal(get_str(o, "calldate"), "2021-03-29 00:10:04");
	assert_string_equal(get_str(o, "src"), "202");
	assert_string_equal(get_str(o, "dst"), "820(102)");
	assert_string_equal(get_str(o, "trunk"), "44");
	assert_string_equal(get_str(o, "calltype"), "CallBack");
	assert_true(json_object_object_get_ex(o, "duration", &v));
	assert_true(json_object_is_type(v, json_type_int));
	assert_int_equal(json_object_get_int64(v), 10);
	assert_true(json_object_object_get_ex(o, "audio_seconds", &v));
	assert_true(json_object_is_type(v, json_type_double));
	assert_true(json_object_get_double(v) == 11.0);
	expect_utc_stamp(get_str(o, "archived_at"));
	assert_string_equal(get_str(o, "prev"), EMPTY_SHA256);
	json_object_put(o);
	/* exactly as listed on disk: '/' not escaped, two decimals of audio */
	assert_non_null(strstr(l1, "\"pbx_path\":\"" P1 "\""));
	assert_non_null(strstr(l1, "\"audio_seconds\":11.00"));

	/* line 2: internal call, no duration, no audio length */
	o = json_tokener_parse(l2);
	assert_non_null(o);
	assert_string_equal(get_str(o, "event"), "archived");
	assert_string_equal(get_str(o, "pbx_path"), P2);
	assert_string_equal(get_str(o, "trunk"), "");
	assert_true(json_object_object_get_ex(o, "duration", &v));
	assert_null(v); /* JSON null */
	assert_false(json_object_object_get_ex(o, "audio_seconds", &v));
	sha256_hex(l1, strlen(l1), hex);
	assert_string_equal(get_str(o, "prev"), hex);
	json_object_put(o);

	/* line 3: the deletion */
	o = json_tokener_parse(l3);
	assert_non_null(o);
	assert_string_equal(get_str(o, "event"), "pbx_deleted");
	assert_string_equal(get_str(o, "pbx_path"), P1);
	assert_string_equal(get_str(o, "file"), file);
	sha256_hex(P1, strlen(P1), hex);
	assert_string_equal(get_str(o, "sha256"), hex);
	expect_utc_stamp(get_str(o, "deleted_at"));
	sha256_hex(l2, strlen(l2), hex);
	assert_string_equal(get_str(o, "prev"), hex);
	json_object_put(o);
	free(buf);
}

static void torn_tail_without_newline(void **state)
{
	struct fixture *f = *state;
	const char *p4 = "20210329/20210329-120000-1617019200-Outbound-12-201-0301234567.wav";
	size_t len;
	char *buf;

	add(f, D1, P1, 10, 11.0);
	add(f, D1, P2, 3, -1);
	commit(f);
	append_day(f, D1, "{\"event\":\"archived\",\"pbx_path\":\"2021");
	reopen(f);
	expect_entry(f, D1, P1, 0);
	expect_entry(f, D1, P2, 0);

	add(f, D1, p4, 3, -1);
	commit(f);
	buf = read_day(f, D1, &len);
	assert_null(strstr(buf, "\"2021{"));
	free(buf);
	assert_int_equal(check_chain(f, D1), 3);
	reopen(f);
	expect_entry(f, D1, P1, 0);
	expect_entry(f, D1, P2, 0);
	expect_entry(f, D1, p4, 0);
}

static void torn_tail_invalid_json(void **state)
{
	struct fixture *f = *state;
	const char *p4 = "20210329/20210329-120000-1617019200-Outbound-12-201-0301234567.wav";

	add(f, D1, P1, 10, 11.0);
	add(f, D1, P2, 3, -1);
	commit(f);
	append_day(f, D1, "{\"event\":\"archived\",\"pbx_pa\n");
	reopen(f);
	expect_entry(f, D1, P1, 0);
	expect_entry(f, D1, P2, 0);
	add(f, D1, p4, 3, -1);
	commit(f);
	assert_int_equal(check_chain(f, D1), 3);
	reopen(f);
	expect_entry(f, D1, p4, 0);
}

/* A day file holding only a torn line: the day is empty, and the first commit starts over. */
static void torn_only_line(void **state)
{
	struct fixture *f = *state;

	add(f, D2, P3, 1, 1.0);
	commit(f);
	write_day(f, D1, "{\"event\":\"arch", 14);
	reopen(f);
	expect_unknown(f, D1, P1);
	add(f, D1, P1, 10, 11.0);
	commit(f);
	assert_int_equal(check_chain(f, D1), 1);
	reopen(f);
	expect_entry(f, D1, P1, 0);
}

/* Replaces line `n` (1-based) of the day's file with `text` (without newline). */
static void replace_line(struct fixture *f, const char *day, int n, const char *text)
{
	size_t len;
	char *buf = read_day(f, day, &len), *start = buf, *end, *out;
	size_t olen;

	for (int i = 1; i < n; i++) {
		start = strchr(start, '\n');
		assert_non_null(start);
		start++;
	}
	end = strchr(start, '\n');
	assert_non_null(end);
	out = malloc(len + strlen(text) + 1);
	assert_non_null(out);
	olen = (size_t)(start - buf);
	memcpy(out, buf, olen);
	memcpy(out + olen, text, strlen(text));
	olen += strlen(text);
	memcpy(out + olen, end, len - (size_t)(end - buf));
	olen += len - (size_t)(end - buf);
	write_day(f, day, out, olen);
	free(out);
	free(buf);
}

static void expect_day_refused(struct fixture *f, const char *day, const char *path)
{
	const struct manifest_entry *e;
	struct visits v;
	struct recording r;
	char err[512] = "", hex[65];
	size_t before, after;
	char *buf;

	assert_int_equal(manifest_lookup(f->m, day, path, &e), -1);
	assert_int_equal(manifest_lookup(f->m, day, path, &e), -1); /* and stays refused */
	memset(&v, 0, sizeof v);
	assert_int_equal(manifest_each_undeleted(f->m, day, visit, &v), -1);
	assert_int_equal(v.n, 0);
	/* nothing is appended to a day that cannot be trusted */
	buf = read_day(f, day, &before);
	free(buf);
	make_rec(&r, "20210329/20210329-999999-1-Inbound-1-2-3.wav", "2021-03-29 00:00:00", "1",
		 "Inbound", 1);
	sha256_hex("x", 1, hex);
	struct manifest_file mf = { "2021/03/29/x.wav", 1, hex, NULL, NULL, 1.0, NULL, 0 };
	assert_int_equal(manifest_add_archived(f->m, day, &r, &mf), -1);
	assert_int_equal(mark_deleted(f, day, path), -1);
	assert_int_equal(manifest_commit(f->m, err, sizeof err), 0);
	buf = read_day(f, day, &after);
	free(buf);
	assert_int_equal(before, after);
}

static void corrupt_line_then_valid(void **state)
{
	struct fixture *f = *state;
	const char *p4 = "20210329/20210329-120000-1617019200-Outbound-12-201-0301234567.wav";

	add(f, D1, P1, 10, 11.0);
	add(f, D1, P2, 3, -1);
	add(f, D1, p4, 3, -1);
	add(f, D2, P3, 3, -1);
	commit(f);
	replace_line(f, D1, 2, "{\"event\":\"archived\",garbage");
	reopen(f);
	expect_day_refused(f, D1, P1);
	/* the other day is unharmed */
	expect_entry(f, D2, P3, 0);
}

static void edited_middle_line(void **state)
{
	struct fixture *f = *state;
	const char *p4 = "20210329/20210329-120000-1617019200-Outbound-12-201-0301234567.wav";
	size_t len;
	char *buf, *line2, *sha;

	add(f, D1, P1, 10, 11.0);
	add(f, D1, P2, 3, -1);
	add(f, D1, p4, 3, -1);
	commit(f);

	/* change one hex digit of line 2's sha256: still valid JSON, chain broken at line 3 */
	buf = read_day(f, D1, &len);
	line2 = strchr(buf, '\n') + 1;
	sha = strstr(line2, "\"sha256\":\"");
	assert_non_null(sha);
	sha += strlen("\"sha256\":\"");
	*sha = *sha == '0' ? '1' : '0';
	write_day(f, D1, buf, len);
	free(buf);
	reopen(f);
	expect_day_refused(f, D1, P1);
}

static void removed_or_reordered_line(void **state)
{
	struct fixture *f = *state;
	const char *p4 = "20210329/20210329-120000-1617019200-Outbound-12-201-0301234567.wav";
	size_t len;
	char *buf, *l2, *l3, *out;

	add(f, D1, P1, 10, 11.0);
	add(f, D1, P2, 3, -1);
	add(f, D1, p4, 3, -1);
	commit(f);
	buf = read_day(f, D1, &len);
	l2 = strchr(buf, '\n') + 1;
	l3 = strchr(l2, '\n') + 1;

	/* line 1 removed: line 2's prev no longer matches the start of the chain */
	write_day(f, D1, l2, len - (size_t)(l2 - buf));
	reopen(f);
	expect_day_refused(f, D1, P2);

	/* lines 2 and 3 swapped */
	out = malloc(len);
	assert_non_null(out);
	memcpy(out, buf, (size_t)(l2 - buf));
	memcpy(out + (l2 - buf), l3, len - (size_t)(l3 - buf));
	memcpy(out + (l2 - buf) + (len - (size_t)(l3 - buf)), l2, (size_t)(l3 - l2));
	write_day(f, D1, out, len);
	reopen(f);
	expect_day_refused(f, D1, P1);
	free(out);
	free(buf);
}

/* Events this version does not know are kept and skipped; the chain runs through them. */
static void unknown_event_tolerated(void **state)
{
	struct fixture *f = *state;
	const char *p4 = "20210329/20210329-120000-1617019200-Outbound-12-201-0301234567.wav";
	char line[256], prev[65];
	size_t len;
	char *buf;

	add(f, D1, P1, 10, 11.0);
	commit(f);
	buf = read_day(f, D1, &len);
	sha256_hex(buf, len - 1, prev);
	free(buf);
	snprintf(line, sizeof line,
		 "{\"event\":\"verified\",\"pbx_path\":\"%s\",\"at\":\"2030-01-01T00:00:00Z\","
		 "\"prev\":\"%s\"}\n",
		 P1, prev);
	append_day(f, D1, line);
	reopen(f);
	expect_entry(f, D1, P1, 0);
	add(f, D1, p4, 3, -1);
	commit(f);
	assert_int_equal(check_chain(f, D1), 3);
	reopen(f);
	expect_entry(f, D1, P1, 0);
	expect_entry(f, D1, p4, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(add_commit_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(replay_after_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(close_drops_pending, setup, teardown),
		cmocka_unit_test_setup_teardown(deleted_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(each_undeleted, setup, teardown),
		cmocka_unit_test_setup_teardown(first_day, setup, teardown),
		cmocka_unit_test_setup_teardown(line_format_and_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(torn_tail_without_newline, setup, teardown),
		cmocka_unit_test_setup_teardown(torn_tail_invalid_json, setup, teardown),
		cmocka_unit_test_setup_teardown(torn_only_line, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_line_then_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(edited_middle_line, setup, teardown),
		cmocka_unit_test_setup_teardown(removed_or_reordered_line, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_event_tolerated, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
