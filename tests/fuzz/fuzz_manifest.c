/* fuzz_manifest.c — loading a hostile day file of the manifest (src/archive/manifest.h).
 *
 * Input: the whole input is the content of a day file (JSON lines). A private archive is
 * made once under $TMPDIR (store_open); for each input three day files are written into
 * ARCHIVE/manifest/ and read through a fresh manifest handle (nothing is ever committed):
 *   2021-03-29.jsonl  the input as it is;
 *   2021-03-30.jsonl  the input cut after its last '\n' when it has a torn tail (no '\n' at
 *                     the end), else the input plus half of its first line as a torn tail;
 *   2021-03-31.jsonl  the input with each line's "prev":"<64 chars>" rewritten to the real
 *                     hash of the line before, so the fuzzer gets past the hash chain to
 *                     the line handling behind it.
 * For each day: manifest_lookup of a fixed path, manifest_each_entry, manifest_each_undeleted
 * and manifest_day_error; then manifest_each_day and manifest_first_day.
 * Invariants: no crash or leak; lookup gives -1, 0 or 1, and 1 exactly when each_entry shows
 * that path (once); each_entry and each_undeleted fail exactly when lookup does, and
 * day_error is set exactly then; entries have unique paths and NUL-terminated fields;
 * each_undeleted shows the entries not marked pbx_deleted; a torn tail is tolerated: when a
 * file whose last line is a whole JSON object loads, it also loads with a torn tail after
 * that line, with the same entries. The harness writes only inside its temp dir and removes it at exit. */
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "archive/manifest.h"
#include "archive/marker.h"
#include "archive/store.h"
#include "base/log.h"

#define PATH_A "20210329/20210329-001004-1617005404-CallBack-44-202-820(102).wav"
#define MAX_SEEN 4096

static char dir[4096];
static char mdir[4300];
static struct store *store;

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void cleanup(void)
{
	store_close(store);
	store = NULL;
	if (dir[0])
		nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char root[4200], err[256];

	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	snprintf(dir, sizeof dir, "%s/nexo-fuzz-manifest.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	FUZZ_CHECK(mkdtemp(dir) != NULL, "mkdtemp %s", dir);
	atexit(cleanup);
	snprintf(root, sizeof root, "%s/archive", dir);
	store = marker_create(root, err, sizeof err) < 0 ? NULL
		: store_open(root, STORE_WRITE, err, sizeof err);
	FUZZ_CHECK(store != NULL, "store_open: %s", err);
	snprintf(mdir, sizeof mdir, "%s/manifest", root);
	FUZZ_CHECK(mkdir(mdir, 0750) == 0, "mkdir %s", mdir);
	return 0;
}

static void put_day(const char *day, const void *data, size_t len)
{
	char path[4400];
	int fd;

	snprintf(path, sizeof path, "%s/%s.jsonl", mdir, day);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0, "cannot write %s", path);
	FUZZ_CHECK(len == 0 || write(fd, data, len) == (ssize_t)len, "write %s", path);
	close(fd);
}

/* What one day looked like through the API. */
struct view {
	int lookup, each, undeleted;
	size_t n, n_undeleted, n_deleted, hits;
	char *paths[MAX_SEEN]; /* "pbx_path\nfile" of each archived version seen */
	int overflow;
	int in_undeleted;
	char last_a_file[REC_PATH_MAX + 16]; /* the file of PATH_A's last entry walked */
	unsigned last_a_version;
};

static void check_str(const char *s, size_t cap, const char *what)
{
	FUZZ_CHECK(memchr(s, '\0', cap) != NULL, "entry %s not NUL-terminated", what);
}

static int on_entry(void *ctx, const struct manifest_entry *e)
{
	struct view *v = ctx;

	check_str(e->pbx_path, sizeof e->pbx_path, "pbx_path");
	check_str(e->file, sizeof e->file, "file");
	check_str(e->sha256, sizeof e->sha256, "sha256");
	check_str(e->stored_sha256, sizeof e->stored_sha256, "stored_sha256");
	check_str(e->calldate, sizeof e->calldate, "calldate");
	check_str(e->src, sizeof e->src, "src");
	check_str(e->dst, sizeof e->dst, "dst");
	if (v->in_undeleted) {
		FUZZ_CHECK(!e->pbx_deleted, "each_undeleted showed a pbx_deleted entry");
		v->n_undeleted++;
		return 0;
	}
	v->n_deleted += e->pbx_deleted != 0;
	if (strcmp(e->pbx_path, PATH_A) == 0) {
		v->hits++;
		snprintf(v->last_a_file, sizeof v->last_a_file, "%s", e->file);
		v->last_a_version = e->version;
	}
	FUZZ_CHECK(e->version >= 1 || e->unavailable, "an archived entry of version %u",
		   e->version);
	if (v->n < MAX_SEEN) {
		char key[2 * REC_PATH_MAX + 32];
		snprintf(key, sizeof key, "%s\n%s", e->pbx_path, e->unavailable ? "" : e->file);
		/* Versions of one path are separate entries; one archived file, one entry. */
		for (size_t i = 0; i < v->n && !e->unavailable; i++)
			FUZZ_CHECK(strcmp(v->paths[i], key) != 0,
				   "each_entry showed \"%s\" (%s) twice", e->pbx_path, e->file);
		v->paths[v->n] = strdup(key);
		FUZZ_CHECK(v->paths[v->n] != NULL, "out of memory");
	} else {
		v->overflow = 1;
	}
	v->n++;
	return 0;
}

static void view_free(struct view *v)
{
	for (size_t i = 0; i < v->n && i < MAX_SEEN; i++)
		free(v->paths[i]);
}

static void look(struct manifest *m, const char *day, struct view *v)
{
	const struct manifest_entry *e = NULL;
	const char *why;

	memset(v, 0, sizeof *v);
	v->lookup = manifest_lookup(m, day, PATH_A, &e);
	FUZZ_CHECK(v->lookup >= -1 && v->lookup <= 1, "lookup gave %d", v->lookup);
	if (v->lookup == 1) {
		FUZZ_CHECK(e != NULL && strcmp(e->pbx_path, PATH_A) == 0, "lookup found another path");
	}
	v->each = manifest_each_entry(m, day, on_entry, v);
	FUZZ_CHECK(v->each == 0 || v->each == -1, "each_entry gave %d", v->each);
	FUZZ_CHECK((v->each == -1) == (v->lookup == -1), "lookup %d but each_entry %d", v->lookup,
		   v->each);
	v->in_undeleted = 1;
	v->undeleted = manifest_each_undeleted(m, day, on_entry, v);
	FUZZ_CHECK(v->undeleted == v->each, "each_undeleted %d but each_entry %d", v->undeleted,
		   v->each);
	why = manifest_day_error(m, day);
	FUZZ_CHECK((why != NULL) == (v->lookup == -1), "day_error %s with lookup %d",
		   why ? why : "NULL", v->lookup);
	if (v->lookup == -1)
		return;
	FUZZ_CHECK((v->hits > 0) == (v->lookup == 1), "lookup %d but each_entry shows the path "
		   "%zu times", v->lookup, v->hits);
	if (v->lookup == 1)
		FUZZ_CHECK(strcmp(e->file, v->last_a_file) == 0 && e->version == v->last_a_version,
			   "lookup gave %s (version %u), not the path's latest entry %s (version %u)",
			   e->file, e->version, v->last_a_file, v->last_a_version);
	FUZZ_CHECK(v->n_undeleted + v->n_deleted == v->n, "%zu undeleted + %zu deleted != %zu",
		   v->n_undeleted, v->n_deleted, v->n);
}

static void sha_hex(const unsigned char *p, size_t n, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[SHA256_DIGEST_LENGTH];

	SHA256(p, n, d);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}

/* Rewrites, line by line, the 64 characters after the first "prev":" into the SHA-256 of
 * the previous (rewritten) line, as the writer would have. */
static void fix_chain(unsigned char *buf, size_t len)
{
	static const char key[] = "\"prev\":\"";
	char prev[65];
	size_t off = 0;

	sha_hex((const unsigned char *)"", 0, prev);
	while (off < len) {
		unsigned char *nl = memchr(buf + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (buf + off)) : len - off;
		unsigned char *k = memmem(buf + off, l, key, sizeof key - 1);

		if (k && (size_t)(k - (buf + off)) + sizeof key - 1 + 65 <= l &&
		    k[sizeof key - 1 + 64] == '"')
			memcpy(k + sizeof key - 1, prev, 64);
		sha_hex(buf + off, l, prev);
		off += l + 1;
	}
}

static int on_changed(void *ctx, const char *day, size_t lines, const char *last_hash)
{
	(void)ctx;
	(void)lines;
	(void)last_hash;
	FUZZ_CHECK(0, "day %s counts as changed, yet nothing was committed", day);
	return 0;
}

static int on_day(void *ctx, const char *day)
{
	size_t *n = ctx;

	FUZZ_CHECK(strlen(day) == 10 && !strncmp(day, "2021-03-", 8), "each_day: \"%s\"", day);
	(*n)++;
	return 0;
}

/* Whether the last line of `base` (which ends in '\n', or is empty) is one the reader takes
 * as a whole record rather than a torn write: a JSON object, parsed as manifest.c parses it.
 * Only then must a torn tail after it be tolerated; a bad line followed by anything is
 * corruption by design (docs/manifest.md: at most one torn line). */
static int last_line_whole(const uint8_t *base, size_t len)
{
	const uint8_t *start;
	char *line;
	json_object *o;
	int ok;

	if (len == 0)
		return 1;
	start = len > 1 ? memrchr(base, '\n', len - 1) : NULL;
	start = start ? start + 1 : base;
	line = fuzz_strdup(start, (size_t)(base + len - 1 - start));
	o = strlen(line) == (size_t)(base + len - 1 - start) ? json_tokener_parse(line) : NULL;
	ok = o && json_object_is_type(o, json_type_object);
	json_object_put(o);
	free(line);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *last_nl = size ? memrchr(data, '\n', size) : NULL;
	size_t base_len = last_nl ? (size_t)(last_nl - data) + 1 : 0;
	int torn = base_len < size;
	unsigned char *fixed = malloc(size ? size : 1), *longer = NULL;
	struct view raw, other, chained, *whole, *cut;
	const char *other_day = "2021-03-30";
	struct manifest *m;
	char err[256], first[11];
	size_t days;
	int rc;

	FUZZ_CHECK(fixed != NULL, "out of memory");
	memcpy(fixed, data, size);
	fix_chain(fixed, size);
	put_day("2021-03-29", data, size);
	if (torn) {
		/* The input has a torn tail: the other day is the input without it. */
		put_day(other_day, data, base_len);
	} else {
		/* It has none: the other day is the input plus half of its first line, torn. */
		size_t first_len = size ? (size_t)((const uint8_t *)memchr(data, '\n', size) - data)
					: 0;
		size_t tail = first_len >= 2 ? first_len / 2 : 1;

		longer = malloc(size + tail);
		FUZZ_CHECK(longer != NULL, "out of memory");
		memcpy(longer, data, size);
		memcpy(longer + size, first_len >= 2 ? (const void *)data : "{", tail);
		put_day(other_day, longer, size + tail);
	}
	put_day("2021-03-31", fixed, size);
	free(fixed);

	m = manifest_open(store, err, sizeof err);
	FUZZ_CHECK(m != NULL, "manifest_open: %s", err);
	look(m, "2021-03-29", &raw);
	look(m, "2021-03-31", &chained);
	look(m, other_day, &other);
	whole = torn ? &raw : &other;
	cut = torn ? &other : &raw;
	if (cut->lookup != -1 && last_line_whole(torn ? data : longer, base_len)) {
		FUZZ_CHECK(whole->lookup == cut->lookup, "a torn tail turned lookup %d into %d",
			   cut->lookup, whole->lookup);
		FUZZ_CHECK(whole->n == cut->n, "a torn tail turned %zu entries into %zu", cut->n,
			   whole->n);
		for (size_t i = 0; i < whole->n && i < MAX_SEEN; i++)
			FUZZ_CHECK(strcmp(whole->paths[i], cut->paths[i]) == 0,
				   "a torn tail changed entry %zu", i);
	}
	free(longer);
	rc = manifest_first_day(m, first);
	FUZZ_CHECK(rc == 1 && strcmp(first, "2021-03-29") == 0, "first day %d %.10s", rc, first);
	FUZZ_CHECK(manifest_each_changed(m, on_changed, NULL) == 0, "each_changed failed");
	days = 0;
	FUZZ_CHECK(manifest_each_day(m, on_day, &days) == 0, "each_day failed");
	FUZZ_CHECK(days == 3, "each_day saw %zu days", days);
	manifest_close(m);
	view_free(&raw);
	view_free(&other);
	view_free(&chained);
	return 0;
}
