/* manifest.c — the manifest handle, and each call day's JSONL file loaded into an index: read
 * whole, its hash chain checked ("prev", the SHA-256 of the previous line of the same file, so
 * an edited, removed or reordered line is detected), its torn tail found; the lookups and
 * walks over days and entries. Queueing lines, committing them durably and cutting torn tails
 * is manifest_append.c's; both share manifest_internal.h. */
#include "manifest.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonfield.h"
#include "manifest_internal.h"
#include "store.h"
#include "base/log.h"
#include "base/pbxtime.h"

#define MAX_DAY_BYTES (512u << 20) /* a day of manifest larger than this is not ours */
#define MAX_LINE_BYTES (64u << 10)

const char *const manifest_mark_event[4] = { "pbx_deleted", "pruned", "forgotten", "offloaded" };

static char empty_hash[SHA256_HEX_LEN + 1];

void manifest_line_hash(struct manifest *m, const char *line, size_t len,
		      char out[SHA256_HEX_LEN + 1])
{
	unsigned char d[SHA256_LEN];

	sha256_start(m->hash);
	sha256_update(m->hash, line, len);
	sha256_finish(m->hash, d);
	sha256_to_hex(d, out);
}

struct manifest *manifest_open(struct store *s, char *err, size_t errlen)
{
	struct manifest *m = calloc(1, sizeof *m);

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->store = s;
	m->dirfd = store_open_dir(s, "manifest", 1, err, errlen);
	/* A reader of an archive without a manifest yet (a dry run's first): no days. */
	int none = m->dirfd < 0 && errno == ENOENT && store_readonly(s);
	m->hash = sha256_new();
	if ((m->dirfd < 0 && !none) || !m->hash) {
		if (m->dirfd >= 0)
			close(m->dirfd);
		sha256_free(m->hash);
		free(m);
		return NULL;
	}
	if (!empty_hash[0])
		manifest_line_hash(m, "", 0, empty_hash);
	return m;
}

static void day_free(struct manifest_day *d)
{
	free(d->entries);
	free(d->slots);
	free(d->pending);
	free(d);
}

void manifest_drop_days(struct manifest *m)
{
	while (m->days) {
		struct manifest_day *next = m->days->next;
		day_free(m->days);
		m->days = next;
	}
}

void manifest_close(struct manifest *m)
{
	if (!m)
		return;
	manifest_drop_days(m);
	free(m->changes);
	sha256_free(m->hash);
	if (m->dirfd >= 0)
		close(m->dirfd);
	free(m);
}

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* The slot of `pbx_path`: the one holding its latest entry, or the empty one where it goes. */
static size_t slot_of(const struct manifest_day *d, const uint32_t *slots, size_t nslots,
		      const char *pbx_path)
{
	size_t i = str_hash(pbx_path) & (nslots - 1);

	while (slots[i] && strcmp(d->entries[slots[i] - 1].pbx_path, pbx_path) != 0)
		i = (i + 1) & (nslots - 1);
	return i;
}

struct manifest_entry *manifest_day_find(struct manifest_day *d, const char *pbx_path)
{
	uint32_t v;

	if (!d->nslots)
		return NULL;
	v = d->slots[slot_of(d, d->slots, d->nslots, pbx_path)];
	return v ? &d->entries[v - 1] : NULL;
}

struct manifest_entry *manifest_day_find_file(struct manifest_day *d, const char *pbx_path,
					      const char *file)
{
	struct manifest_entry *e = manifest_day_find(d, pbx_path);

	if (!e || strcmp(e->file, file) == 0)
		return e;
	/* An earlier version: rare (a mark for a superseded copy), so a walk. */
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->entries[i].pbx_path, pbx_path) == 0 &&
		    strcmp(d->entries[i].file, file) == 0)
			return &d->entries[i];
	return NULL;
}

static int day_grow_slots(struct manifest_day *d)
{
	size_t n = d->nslots ? d->nslots * 2 : 64;
	uint32_t *slots = calloc(n, sizeof *slots);

	if (!slots)
		return -1;
	for (size_t e = 0; e < d->n; e++) /* in order: a path's last entry wins its slot */
		slots[slot_of(d, slots, n, d->entries[e].pbx_path)] = (uint32_t)(e + 1);
	free(d->slots);
	d->slots = slots;
	d->nslots = n;
	return 0;
}

int manifest_day_put(struct manifest_day *d, const struct manifest_entry *e)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct manifest_entry *p = realloc(d->entries, cap * sizeof *p);
		if (!p)
			return -1;
		d->entries = p;
		d->cap = cap;
	}
	if ((d->n + 1) * 2 > d->nslots && day_grow_slots(d) != 0)
		return -1;
	d->entries[d->n++] = *e;
	d->slots[slot_of(d, d->slots, d->nslots, e->pbx_path)] = (uint32_t)d->n;
	return 0;
}

void manifest_day_cdr_apply(struct manifest_day_cdr *st, const char *event, json_object *o)
{
	json_object *v;

	if (strcmp(event, "cdr_archived") == 0) {
		st->archived = 1;
		jsonfield_copy(o, "jsonl_sha256", st->jsonl_sha256, sizeof st->jsonl_sha256);
		jsonfield_copy(o, "csv_sha256", st->csv_sha256, sizeof st->csv_sha256);
		st->rows = json_object_object_get_ex(o, "rows", &v) ? json_object_get_int(v) : -1;
	} else if (strcmp(event, "cdr_deleted") == 0) {
		st->deleted = 1;
	} else if (strcmp(event, "cdr_offsite") == 0) {
		st->offsite = 1;
	}
}

/* The listing's row as a line records it: "duration" (seconds or null) and "listed_size". */
static void listed_row(json_object *o, struct manifest_entry *e)
{
	json_object *v;

	e->listed_duration = json_object_object_get_ex(o, "duration", &v) &&
					     json_object_is_type(v, json_type_int) &&
					     json_object_get_int64(v) >= 0
				     ? (long)json_object_get_int64(v)
				     : -1;
	e->listed_size = json_object_object_get_ex(o, "listed_size", &v) &&
					 json_object_is_type(v, json_type_int) &&
					 json_object_get_int64(v) >= 0
				 ? json_object_get_int64(v)
				 : -1;
}

/* The version a line states ("version", absent for 1); 0 when it states none. */
static unsigned line_version(json_object *o)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, "version", &v) || !json_object_is_type(v, json_type_int))
		return 0;
	n = json_object_get_int64(v);
	return n >= 1 && n <= 1000000 ? (unsigned)n : 0;
}

/* Applies one parsed line to the day's index. Returns 0, or -1 with `why` set. */
static int apply_line(struct manifest_day *d, json_object *o, const char **why)
{
	struct manifest_entry e, *old;
	json_object *v;
	char event[32];

	memset(&e, 0, sizeof e);
	e.audio_seconds = -1;
	if (jsonfield_copy(o, "event", event, sizeof event) != 0) {
		*why = "no event";
		return -1;
	}
	if (jsonfield_copy(o, "pbx_path", e.pbx_path, sizeof e.pbx_path) != 0) {
		if (strncmp(event, "cdr_", 4) != 0 || json_object_object_get_ex(o, "pbx_path", NULL)) {
			*why = "no pbx_path";
			return -1;
		}
		/* A fact about the day's CDRs, not about a recording. */
		manifest_day_cdr_apply(&d->cdr, event, o);
		return 0;
	}
	old = manifest_day_find(d, e.pbx_path);
	if (strcmp(event, "archived") == 0 || strcmp(event, "unavailable") == 0) {
		/* A version after the last one (earlier files without "version" are 1). */
		e.version = line_version(o);
		if (!e.version)
			e.version = old ? old->version + !old->unavailable : 1;
		listed_row(o, &e);
		jsonfield_copy(o, "calldate", e.calldate, sizeof e.calldate);
	}
	if (strcmp(event, "archived") == 0) {
		if (jsonfield_copy(o, "file", e.file, sizeof e.file) != 0 ||
		    jsonfield_copy(o, "sha256", e.sha256, sizeof e.sha256) != 0 ||
		    !json_object_object_get_ex(o, "size", &v) ||
		    !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
			*why = "archived line without file, sha256 or size";
			return -1;
		}
		e.size = (uint64_t)json_object_get_int64(v);
		if (json_object_object_get_ex(o, "stored_sha256", &v) &&
		    jsonfield_copy(o, "stored_sha256", e.stored_sha256, sizeof e.stored_sha256) != 0) {
			*why = "archived line with a malformed stored_sha256";
			return -1;
		}
		if (json_object_object_get_ex(o, "audio_seconds", &v) &&
		    (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
			e.audio_seconds = json_object_get_double(v);
		/* Call data is for finding recordings (holds); absent or odd values stay "". */
		jsonfield_copy(o, "src", e.src, sizeof e.src);
		jsonfield_copy(o, "dst", e.dst, sizeof e.dst);
		if (json_object_object_get_ex(o, "archived_at", &v) &&
		    json_object_is_type(v, json_type_string))
			(void)pbxtime_utc_parse(json_object_get_string(v), &e.archived_at);
		e.invalid = json_object_object_get_ex(o, "invalid", NULL);
		e.cdr_missing = json_object_object_get_ex(o, "cdr", &v) && v == NULL;
		/* The same file archived again (lines from before versions): the last word. */
		if ((old = manifest_day_find_file(d, e.pbx_path, e.file)) != NULL) {
			e.version = old->version;
			*old = e;
		} else if (manifest_day_put(d, &e) != 0) {
			*why = "out of memory";
			return -1;
		}
	} else if (strcmp(event, "unavailable") == 0) {
		e.unavailable = 1;
		if (manifest_day_put(d, &e) != 0) {
			*why = "out of memory";
			return -1;
		}
	} else if (old) {
		char file[sizeof e.file];
		/* A mark names the file of the version it is about; without one, the latest. */
		if (jsonfield_copy(o, "file", file, sizeof file) == 0)
			old = manifest_day_find_file(d, e.pbx_path, file);
		if (!old)
			return 0;
		if (strcmp(event, manifest_mark_event[MANIFEST_PBX_DELETED]) == 0)
			old->pbx_deleted = 1;
		else if (strcmp(event, manifest_mark_event[MANIFEST_PRUNED]) == 0)
			old->pruned = 1;
		else if (strcmp(event, manifest_mark_event[MANIFEST_OFFLOADED]) == 0)
			old->offloaded = 1;
		else if (strcmp(event, manifest_mark_event[MANIFEST_FORGOTTEN]) == 0)
			old->forgotten = 1;
		else if (strcmp(event, "cdr") == 0)
			old->cdr_missing = 0;
		else if (strcmp(event, "offsite") == 0)
			old->offsite = json_object_object_get_ex(o, "lock", &v) && v
					       ? MANIFEST_OFFSITE_LOCKED : 1;
		else if (strcmp(event, "relisted") == 0)
			listed_row(o, old);
	}
	/* Other events (from newer versions) are kept in the file and ignored here. */
	return 0;
}

/* Says why a day cannot be used, once, and keeps it for manifest_day_error(). */
static void day_error(struct manifest_day *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void day_error(struct manifest_day *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->error, sizeof d->error, fmt, ap);
	va_end(ap);
	log_error("%s", d->error);
}

/* Reads the day's file into d. Returns 0, or -1 when unreadable or corrupt (printed). */
static int day_load(struct manifest *m, struct manifest_day *d)
{
	char fname[32], hash[SHA256_HEX_LEN + 1];
	const char *why = NULL;
	struct stat st;
	char *buf = NULL;
	size_t lineno = 0, off = 0;
	int fd;

	snprintf(fname, sizeof fname, "%s.jsonl", d->name);
	memcpy(d->last_hash, empty_hash, sizeof hash);
	fd = m->dirfd >= 0 ? store_open_regular(m->dirfd, fname) : -1;
	if (fd < 0) {
		if (errno == ENOENT || m->dirfd < 0)
			goto done;
		day_error(d, "cannot read manifest/%s: %s", fname,
			  store_open_error(errno));
		return -1;
	}
	d->exists = 1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_DAY_BYTES) {
		day_error(d, "manifest/%s is not a regular file of sane size", fname);
		close(fd);
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		day_error(d, "out of memory reading manifest/%s", fname);
		close(fd);
		return -1;
	}
	for (size_t got = 0; got < (size_t)st.st_size;) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			day_error(d, "reading manifest/%s: %s", fname, r ? strerror(errno) : "short");
			goto fail;
		}
		got += (size_t)r;
	}
	close(fd);
	fd = -1;
	buf[st.st_size] = '\0';
	while (off < (size_t)st.st_size) {
		char *nl = memchr(buf + off, '\n', (size_t)st.st_size - off);
		size_t len = nl ? (size_t)(nl - (buf + off)) : (size_t)st.st_size - off;
		json_object *o = NULL, *prev;
		int ok;

		lineno++;
		if (nl)
			*nl = '\0';
		ok = len > 0 && len <= MAX_LINE_BYTES && strlen(buf + off) == len &&
		     (o = json_tokener_parse(buf + off)) != NULL &&
		     json_object_is_type(o, json_type_object);
		if (!nl) {
			/* A last line without its newline: a torn append. Cut it at the next commit. */
			json_object_put(o);
			log_warn("manifest/%s: line %zu is a torn tail (%zu bytes); it will be cut",
				 fname, lineno, len);
			d->torn = 1;
			break;
		}
		if (!ok) {
			json_object_put(o);
			if (off + len + 1 == (size_t)st.st_size) {
				log_warn("manifest/%s: last line %zu is not valid JSON (torn write); "
					 "it will be cut", fname, lineno);
				d->torn = 1;
				break;
			}
			day_error(d, "manifest/%s: line %zu is corrupt and followed by more lines; "
				  "refusing to use this day (nothing of it will be deleted)",
				  fname, lineno);
			goto fail;
		}
		if (!json_object_object_get_ex(o, "prev", &prev) ||
		    !json_object_is_type(prev, json_type_string) ||
		    strcmp(json_object_get_string(prev), d->last_hash) != 0) {
			json_object_put(o);
			day_error(d, "manifest/%s: line %zu breaks the hash chain (a line was edited, "
				  "removed or reordered); refusing to use this day", fname, lineno);
			goto fail;
		}
		if (apply_line(d, o, &why) != 0) {
			json_object_put(o);
			day_error(d, "manifest/%s: line %zu: %s", fname, lineno, why);
			goto fail;
		}
		json_object_put(o);
		manifest_line_hash(m, buf + off, len, d->last_hash);
		d->lines++;
		off += len + 1;
		d->good_len = (off_t)off;
	}
	free(buf);
done:
	memcpy(d->pending_hash, d->last_hash, sizeof hash);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return -1;
}

struct manifest_day *manifest_get_day(struct manifest *m, const char *day)
{
	struct manifest_day *d;

	for (d = m->days; d; d = d->next)
		if (strcmp(d->name, day) == 0)
			return d->broken ? NULL : d;
	if (strlen(day) != 10)
		return NULL;
	d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	memcpy(d->name, day, 11);
	if (day_load(m, d) != 0)
		d->broken = 1;
	d->next = m->days;
	m->days = d;
	return d->broken ? NULL : d;
}

int manifest_lookup(struct manifest *m, const char *day, const char *pbx_path,
		    const struct manifest_entry **out)
{
	struct manifest_day *d = manifest_get_day(m, day);

	if (!d)
		return -1;
	*out = manifest_day_find(d, pbx_path);
	return *out ? 1 : 0;
}

int manifest_day_cdr(struct manifest *m, const char *day, struct manifest_day_cdr *out)
{
	struct manifest_day *d = manifest_get_day(m, day);

	if (!d)
		return -1;
	*out = d->cdr;
	return 0;
}

int manifest_is_day_file(const char *n)
{
	if (strlen(n) != 16 || strcmp(n + 10, ".jsonl") != 0)
		return 0;
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? n[i] != '-' : (n[i] < '0' || n[i] > '9'))
			return 0;
	return 1;
}

/* Calls `fn` for the name of every day file in manifest/, in the folder's order. Returns 0, the
 * first nonzero `fn` result, or -1 when the folder cannot be listed (printed). */
static int list_days(struct manifest *m, int (*fn)(void *ctx, const char *name), void *ctx)
{
	int fd, rc = 0;
	DIR *dir;
	struct dirent *e;

	if (m->dirfd < 0)
		return 0; /* no manifest folder yet (a reader's: manifest_open) */
	fd = dup(m->dirfd);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		log_error("cannot list manifest/: %s", strerror(errno));
		return -1;
	}
	rewinddir(dir);
	while (rc == 0 && (e = readdir(dir)) != NULL)
		if (manifest_is_day_file(e->d_name))
			rc = fn(ctx, e->d_name);
	closedir(dir);
	return rc;
}

struct first_day {
	char *day;
	int found;
};

static int note_first(void *ctx, const char *name)
{
	struct first_day *c = ctx;

	if (!c->found || strncmp(name, c->day, 10) < 0)
		memcpy(c->day, name, 10);
	c->day[10] = '\0';
	c->found = 1;
	return 0;
}

int manifest_first_day(struct manifest *m, char day[11])
{
	struct first_day c = { day, 0 };

	if (list_days(m, note_first, &c) != 0)
		return -1;
	return c.found;
}

/* Calls `fn` for the entries of `day` in the order they were first archived; with
 * `skip_deleted`, not for those whose PBX copy is gone. */
static int each_entry(struct manifest *m, const char *day, int skip_deleted,
		      int (*fn)(void *ctx, const struct manifest_entry *e), void *ctx)
{
	struct manifest_day *d = manifest_get_day(m, day);

	if (!d)
		return -1;
	for (size_t i = 0; i < d->n; i++) {
		if (skip_deleted && d->entries[i].pbx_deleted)
			continue;
		int rc = fn(ctx, &d->entries[i]);
		if (rc)
			return rc;
	}
	return 0;
}

int manifest_each_entry(struct manifest *m, const char *day,
			int (*fn)(void *ctx, const struct manifest_entry *e), void *ctx)
{
	return each_entry(m, day, 0, fn, ctx);
}

int manifest_each_undeleted(struct manifest *m, const char *day,
			    int (*fn)(void *ctx, const struct manifest_entry *e), void *ctx)
{
	return each_entry(m, day, 1, fn, ctx);
}

int manifest_file_recorded(struct manifest *m, const char *day, const char *file)
{
	struct manifest_day *d = manifest_get_day(m, day);

	if (!d)
		return -1;
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->entries[i].file, file) == 0)
			return 1;
	return 0;
}

int manifest_day_loaded(struct manifest *m, const char *day)
{
	for (struct manifest_day *d = m->days; d; d = d->next)
		if (strcmp(d->name, day) == 0)
			return 1;
	return 0;
}

const char *manifest_day_error(struct manifest *m, const char *day)
{
	struct manifest_day *d = manifest_get_day(m, day);

	if (d)
		return NULL;
	for (d = m->days; d; d = d->next)
		if (strcmp(d->name, day) == 0)
			return d->error[0] ? d->error : "cannot be read";
	return "cannot be read";
}

static int cmp_day(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The day names seen so far ("YYYY-MM-DD", allocated). */
struct day_list {
	char **v;
	size_t n, cap;
};

/* Returns 0, or 1 when out of memory. */
static int collect_day(void *ctx, const char *name)
{
	struct day_list *l = ctx;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		char **p = realloc(l->v, ncap * sizeof *p);
		if (!p)
			return 1;
		l->v = p;
		l->cap = ncap;
	}
	if (!(l->v[l->n] = strndup(name, 10)))
		return 1;
	l->n++;
	return 0;
}

int manifest_each_day(struct manifest *m, int (*fn)(void *ctx, const char *day), void *ctx)
{
	struct day_list l = { NULL, 0, 0 };
	int rc = list_days(m, collect_day, &l);

	if (rc > 0) {
		log_error("out of memory listing manifest/");
		rc = -1;
	} else if (rc == 0) {
		if (l.n > 1)
			qsort(l.v, l.n, sizeof *l.v, cmp_day);
		for (size_t i = 0; i < l.n && rc == 0; i++)
			rc = fn(ctx, l.v[i]);
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	return rc;
}
