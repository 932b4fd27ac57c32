/* manifest.c — append-only JSONL per call day: loading a day into an index, queueing lines,
 * committing them durably. Each line carries "prev", the SHA-256 of the previous line of the
 * same file, so an edited, removed or reordered line is detected when the day is loaded. */
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
#include <time.h>
#include <unistd.h>

#include "cdr.h"
#include "failpoint.h"
#include "log.h"
#include "store.h"

#define MAX_DAY_BYTES (512u << 20) /* a day of manifest larger than this is not ours */
#define MAX_LINE_BYTES (64u << 10)

struct day {
	char name[11];
	struct manifest_entry *entries;
	size_t n, cap;
	uint32_t *slots;        /* open addressing: entry index + 1, 0 = empty */
	size_t nslots;
	off_t good_len;         /* bytes of whole, valid lines in the file */
	int torn;               /* the file has a torn tail beyond good_len */
	int exists;
	int changed;            /* appended to by this handle */
	size_t lines;           /* whole lines in the file */
	int broken;             /* unreadable or corrupt: said once, then refused quietly */
	char error[256];        /* why it is broken */
	char last_hash[SHA256_HEX_LEN + 1];    /* hash of the last committed line */
	char pending_hash[SHA256_HEX_LEN + 1]; /* ... of the last queued line */
	struct manifest_day_cdr cdr; /* its "cdr_archived" / "cdr_deleted" lines */
	char *pending;          /* queued lines, '\n'-terminated */
	size_t pending_len, pending_cap, pending_lines;
	struct day *next;
};

/* A queued change to the index, applied only once its line is on disk. */
struct change {
	struct day *day;
	struct manifest_entry entry;
	int mark;               /* an enum manifest_mark, or one of: */
	struct manifest_day_cdr cdr; /* CHANGE_DAY: the day's new CDR state */
};
#define CHANGE_PUT (-1)         /* put `entry` */
#define CHANGE_DAY (-2)         /* a line about the day: its CDR state */
#define CHANGE_CDR (-3)         /* `entry` got its CDR */

static const char *const mark_event[] = { "pbx_deleted", "pruned", "forgotten" };

struct manifest {
	struct store *store;
	int dirfd;
	struct sha256 *hash;
	struct day *days;
	struct change *changes;
	size_t nchanges, capchanges;
};

static char empty_hash[SHA256_HEX_LEN + 1];

static void line_hash(struct manifest *m, const char *line, size_t len,
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
	m->hash = sha256_new();
	if (m->dirfd < 0 || !m->hash) {
		if (m->dirfd >= 0)
			close(m->dirfd);
		sha256_free(m->hash);
		free(m);
		return NULL;
	}
	if (!empty_hash[0])
		line_hash(m, "", 0, empty_hash);
	return m;
}

static void day_free(struct day *d)
{
	free(d->entries);
	free(d->slots);
	free(d->pending);
	free(d);
}

void manifest_close(struct manifest *m)
{
	if (!m)
		return;
	while (m->days) {
		struct day *next = m->days->next;
		day_free(m->days);
		m->days = next;
	}
	free(m->changes);
	sha256_free(m->hash);
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

static struct manifest_entry *day_find(struct day *d, const char *pbx_path)
{
	if (!d->nslots)
		return NULL;
	for (size_t i = str_hash(pbx_path) & (d->nslots - 1);; i = (i + 1) & (d->nslots - 1)) {
		uint32_t v = d->slots[i];
		if (!v)
			return NULL;
		if (strcmp(d->entries[v - 1].pbx_path, pbx_path) == 0)
			return &d->entries[v - 1];
	}
}

static int day_grow_slots(struct day *d)
{
	size_t n = d->nslots ? d->nslots * 2 : 64;
	uint32_t *slots = calloc(n, sizeof *slots);

	if (!slots)
		return -1;
	for (size_t e = 0; e < d->n; e++) {
		size_t i = str_hash(d->entries[e].pbx_path) & (n - 1);
		while (slots[i])
			i = (i + 1) & (n - 1);
		slots[i] = (uint32_t)(e + 1);
	}
	free(d->slots);
	d->slots = slots;
	d->nslots = n;
	return 0;
}

/* Inserts or replaces the entry for e->pbx_path. Returns 0 or -1 (out of memory). */
static int day_put(struct day *d, const struct manifest_entry *e)
{
	struct manifest_entry *old = day_find(d, e->pbx_path);

	if (old) {
		*old = *e;
		return 0;
	}
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
	size_t i = str_hash(e->pbx_path) & (d->nslots - 1);
	while (d->slots[i])
		i = (i + 1) & (d->nslots - 1);
	d->slots[i] = (uint32_t)d->n;
	return 0;
}

static int copy_str(json_object *o, const char *key, char *out, size_t outlen)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	if (strlen(s) >= outlen)
		return -1;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* A "cdr_archived" or "cdr_deleted" line → the day's CDR state. */
static void day_cdr_apply(struct manifest_day_cdr *st, const char *event, json_object *o)
{
	json_object *v;

	if (strcmp(event, "cdr_archived") == 0) {
		st->archived = 1;
		copy_str(o, "jsonl_sha256", st->jsonl_sha256, sizeof st->jsonl_sha256);
		copy_str(o, "csv_sha256", st->csv_sha256, sizeof st->csv_sha256);
		st->rows = json_object_object_get_ex(o, "rows", &v) ? json_object_get_int(v) : -1;
	} else if (strcmp(event, "cdr_deleted") == 0) {
		st->deleted = 1;
	}
}

/* Applies one parsed line to the day's index. Returns 0, or -1 with `why` set. */
static int apply_line(struct day *d, json_object *o, const char **why)
{
	struct manifest_entry e, *old;
	json_object *v;
	char event[32];

	memset(&e, 0, sizeof e);
	if (copy_str(o, "event", event, sizeof event) != 0) {
		*why = "no event";
		return -1;
	}
	if (copy_str(o, "pbx_path", e.pbx_path, sizeof e.pbx_path) != 0) {
		if (strncmp(event, "cdr_", 4) != 0 || json_object_object_get_ex(o, "pbx_path", NULL)) {
			*why = "no pbx_path";
			return -1;
		}
		/* A fact about the day's CDRs, not about a recording. */
		day_cdr_apply(&d->cdr, event, o);
		return 0;
	}
	if (strcmp(event, "archived") == 0) {
		if (copy_str(o, "file", e.file, sizeof e.file) != 0 ||
		    copy_str(o, "sha256", e.sha256, sizeof e.sha256) != 0 ||
		    !json_object_object_get_ex(o, "size", &v) ||
		    !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
			*why = "archived line without file, sha256 or size";
			return -1;
		}
		e.size = (uint64_t)json_object_get_int64(v);
		if (json_object_object_get_ex(o, "stored_sha256", &v) &&
		    copy_str(o, "stored_sha256", e.stored_sha256, sizeof e.stored_sha256) != 0) {
			*why = "archived line with a malformed stored_sha256";
			return -1;
		}
		/* Call data is for finding recordings (holds); absent or odd values stay "". */
		copy_str(o, "calldate", e.calldate, sizeof e.calldate);
		copy_str(o, "src", e.src, sizeof e.src);
		copy_str(o, "dst", e.dst, sizeof e.dst);
		e.invalid = json_object_object_get_ex(o, "invalid", NULL);
		e.cdr_missing = json_object_object_get_ex(o, "cdr", &v) && v == NULL;
		if (day_put(d, &e) != 0) {
			*why = "out of memory";
			return -1;
		}
	} else if (strcmp(event, "unavailable") == 0) {
		copy_str(o, "calldate", e.calldate, sizeof e.calldate);
		e.unavailable = 1;
		if (!day_find(d, e.pbx_path) && day_put(d, &e) != 0) {
			*why = "out of memory";
			return -1;
		}
	} else if ((old = day_find(d, e.pbx_path)) != NULL) {
		if (strcmp(event, mark_event[MANIFEST_PBX_DELETED]) == 0)
			old->pbx_deleted = 1;
		else if (strcmp(event, mark_event[MANIFEST_PRUNED]) == 0)
			old->pruned = 1;
		else if (strcmp(event, mark_event[MANIFEST_FORGOTTEN]) == 0)
			old->forgotten = 1;
		else if (strcmp(event, "cdr") == 0)
			old->cdr_missing = 0;
	}
	/* Other events (from newer versions) are kept in the file and ignored here. */
	return 0;
}

/* Says why a day cannot be used, once, and keeps it for manifest_day_error(). */
static void day_error(struct day *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void day_error(struct day *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->error, sizeof d->error, fmt, ap);
	va_end(ap);
	log_error("%s", d->error);
}

/* Reads the day's file into d. Returns 0, or -1 when unreadable or corrupt (printed). */
static int day_load(struct manifest *m, struct day *d)
{
	char fname[32], hash[SHA256_HEX_LEN + 1];
	const char *why = NULL;
	struct stat st;
	char *buf = NULL;
	size_t lineno = 0, off = 0;
	int fd;

	snprintf(fname, sizeof fname, "%s.jsonl", d->name);
	memcpy(d->last_hash, empty_hash, sizeof hash);
	fd = openat(m->dirfd, fname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			goto done;
		day_error(d, "cannot read manifest/%s: %s", fname, strerror(errno));
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
		line_hash(m, buf + off, len, d->last_hash);
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

/* The day's state, loading it on first use. NULL when it cannot be loaded (printed). */
static struct day *get_day(struct manifest *m, const char *day)
{
	struct day *d;

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
	struct day *d = get_day(m, day);

	if (!d)
		return -1;
	*out = day_find(d, pbx_path);
	return *out ? 1 : 0;
}

static void utc_now(char out[21])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Serialises `o` (adding "prev"), queues it in d and the change in m. Takes `o`. */
static int queue_line(struct manifest *m, struct day *d, json_object *o,
		      const struct change *c)
{
	const char *line;
	size_t len;
	int rc = -1;

	json_object_object_add(o, "prev", json_object_new_string(d->pending_hash));
	line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(line);
	if (m->nchanges == m->capchanges) {
		size_t cap = m->capchanges ? m->capchanges * 2 : 64;
		struct change *p = realloc(m->changes, cap * sizeof *p);
		if (!p)
			goto out;
		m->changes = p;
		m->capchanges = cap;
	}
	if (d->pending_len + len + 1 > d->pending_cap) {
		size_t cap = (d->pending_len + len + 1) * 2;
		char *p = realloc(d->pending, cap);
		if (!p)
			goto out;
		d->pending = p;
		d->pending_cap = cap;
	}
	memcpy(d->pending + d->pending_len, line, len);
	d->pending[d->pending_len + len] = '\n';
	d->pending_len += len + 1;
	d->pending_lines++;
	line_hash(m, line, len, d->pending_hash);
	m->changes[m->nchanges++] = *c;
	rc = 0;
out:
	if (rc)
		log_error("out of memory queueing a manifest line");
	json_object_put(o);
	return rc;
}

static void add_str(json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

/* The index change that an "archived" or "unavailable" line for `rec` makes in `d`. */
static void change_for(struct change *c, struct day *d, const struct recording *rec)
{
	memset(c, 0, sizeof *c);
	c->day = d;
	c->mark = CHANGE_PUT;
	snprintf(c->entry.pbx_path, sizeof c->entry.pbx_path, "%s", rec->pbx_path);
	snprintf(c->entry.calldate, sizeof c->entry.calldate, "%s", rec->calldate);
	snprintf(c->entry.src, sizeof c->entry.src, "%s", rec->src);
	snprintf(c->entry.dst, sizeof c->entry.dst, "%s", rec->dst);
}

int manifest_add_archived(struct manifest *m, const char *day, const struct recording *rec,
			  const struct manifest_file *f)
{
	struct day *d = get_day(m, day);
	json_object *o;
	struct change c;
	char now[21];

	if (!d)
		return -1;
	change_for(&c, d, rec);
	snprintf(c.entry.file, sizeof c.entry.file, "%s", f->file);
	snprintf(c.entry.sha256, sizeof c.entry.sha256, "%s", f->sha256);
	if (f->stored_sha256)
		snprintf(c.entry.stored_sha256, sizeof c.entry.stored_sha256, "%s",
			 f->stored_sha256);
	c.entry.size = f->size;
	utc_now(now);
	o = json_object_new_object();
	add_str(o, "event", "archived");
	add_str(o, "pbx_path", rec->pbx_path);
	add_str(o, "file", f->file);
	json_object_object_add(o, "size", json_object_new_int64((int64_t)f->size));
	add_str(o, "sha256", f->sha256);
	if (f->stored_sha256)
		add_str(o, "stored_sha256", f->stored_sha256);
	if (f->encryption)
		add_str(o, "encryption", f->encryption);
	add_str(o, "calldate", rec->calldate);
	add_str(o, "src", rec->src);
	add_str(o, "dst", rec->dst);
	add_str(o, "trunk", rec->trunk);
	add_str(o, "calltype", rec->calltype);
	json_object_object_add(o, "duration", rec->duration >= 0
						       ? json_object_new_int64(rec->duration)
						       : NULL);
	if (f->audio_seconds >= 0) {
		char secs[32];
		snprintf(secs, sizeof secs, "%.2f", f->audio_seconds);
		json_object_object_add(o, "audio_seconds",
				       json_object_new_double_s(f->audio_seconds, secs));
	}
	if (f->short_audio)
		json_object_object_add(o, "short_audio", json_object_new_boolean(1));
	if (f->invalid) {
		add_str(o, "invalid", f->invalid);
		c.entry.invalid = 1;
	}
	if (rec->cdr_looked_up) {
		json_object *cdr = NULL;
		if (rec->cdr && cdr_to_json(rec->cdr, (enum cdr_join_how)rec->cdr_join, &cdr) != 0) {
			json_object_put(o);
			log_error("out of memory");
			return -1;
		}
		json_object_object_add(o, "cdr", cdr); /* null: none found yet */
		c.entry.cdr_missing = cdr == NULL;
	}
	add_str(o, "archived_at", now);
	return queue_line(m, d, o, &c);
}

int manifest_add_unavailable(struct manifest *m, const char *day, const struct recording *rec,
			     int attempts)
{
	struct day *d = get_day(m, day);
	json_object *o;
	struct change c;
	char now[21];

	if (!d)
		return -1;
	change_for(&c, d, rec);
	c.entry.unavailable = 1;
	utc_now(now);
	o = json_object_new_object();
	add_str(o, "event", "unavailable");
	add_str(o, "pbx_path", rec->pbx_path);
	add_str(o, "calldate", rec->calldate);
	add_str(o, "src", rec->src);
	add_str(o, "dst", rec->dst);
	json_object_object_add(o, "attempts", json_object_new_int(attempts));
	add_str(o, "recorded_at", now);
	return queue_line(m, d, o, &c);
}

int manifest_add_mark(struct manifest *m, const char *day, const char *pbx_path,
		      enum manifest_mark mark, const char *reason)
{
	static const char *const at[] = { "deleted_at", "pruned_at", "forgotten_at" };
	struct day *d = get_day(m, day);
	struct manifest_entry *e;
	json_object *o;
	struct change c;
	char now[21];

	if (!d)
		return -1;
	e = day_find(d, pbx_path);
	if (!e) {
		log_error("internal: marking %s, which manifest/%s.jsonl does not hold", pbx_path,
			  day);
		return -1;
	}
	memset(&c, 0, sizeof c);
	c.day = d;
	c.entry = *e;
	c.mark = (int)mark;
	utc_now(now);
	o = json_object_new_object();
	add_str(o, "event", mark_event[mark]);
	add_str(o, "pbx_path", pbx_path);
	add_str(o, "file", e->file);
	add_str(o, "sha256", e->sha256);
	if (e->stored_sha256[0])
		add_str(o, "stored_sha256", e->stored_sha256);
	if (reason)
		add_str(o, "reason", reason);
	add_str(o, at[mark], now);
	return queue_line(m, d, o, &c);
}

int manifest_add_cdr(struct manifest *m, const char *day, const char *pbx_path,
		     const struct cdr *c, int how)
{
	struct day *d = get_day(m, day);
	struct manifest_entry *e;
	json_object *o, *cdr = NULL;
	struct change ch;
	char now[21];

	if (!d)
		return -1;
	if (!(e = day_find(d, pbx_path))) {
		log_error("internal: a CDR for %s, which manifest/%s.jsonl does not hold", pbx_path,
			  day);
		return -1;
	}
	if (cdr_to_json(c, (enum cdr_join_how)how, &cdr) != 0) {
		log_error("out of memory");
		return -1;
	}
	memset(&ch, 0, sizeof ch);
	ch.day = d;
	ch.entry = *e;
	ch.mark = CHANGE_CDR;
	utc_now(now);
	o = json_object_new_object();
	add_str(o, "event", "cdr");
	add_str(o, "pbx_path", pbx_path);
	add_str(o, "file", e->file);
	json_object_object_add(o, "cdr", cdr);
	add_str(o, "joined_at", now);
	return queue_line(m, d, o, &ch);
}

int manifest_add_day_event(struct manifest *m, const char *day, json_object *o)
{
	struct day *d = get_day(m, day);
	struct change ch;

	if (!d) {
		json_object_put(o);
		return -1;
	}
	memset(&ch, 0, sizeof ch);
	ch.day = d;
	ch.mark = CHANGE_DAY;
	ch.cdr = d->cdr;
	const char *event = json_object_get_string(json_object_object_get(o, "event"));
	if (event)
		day_cdr_apply(&ch.cdr, event, o);
	return queue_line(m, d, o, &ch);
}

int manifest_day_cdr(struct manifest *m, const char *day, struct manifest_day_cdr *out)
{
	struct day *d = get_day(m, day);

	if (!d)
		return -1;
	*out = d->cdr;
	return 0;
}

static void drop_pending(struct manifest *m)
{
	for (struct day *d = m->days; d; d = d->next) {
		d->pending_len = 0;
		d->pending_lines = 0;
		memcpy(d->pending_hash, d->last_hash, sizeof d->last_hash);
	}
	m->nchanges = 0;
}

/* Appends d's queued lines durably. Returns 0, or -1 with err set. */
static int commit_day(struct manifest *m, struct day *d, char *err, size_t errlen)
{
	char fname[32];
	const char *step = "open";
	int fd, created = !d->exists, injected;

	snprintf(fname, sizeof fname, "%s.jsonl", d->name);
	fd = openat(m->dirfd, fname, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		goto fail;
	if (created)
		FAILPOINT_CREATED(m->dirfd, fname);
	FAILPOINT_APPEND_BEGIN(m->dirfd, fname, d->torn ? d->good_len : lseek(fd, 0, SEEK_END));
	step = "cut the torn tail of";
	if (d->torn && (ftruncate(fd, d->good_len) != 0))
		goto fail;
	step = "append to";
	if ((injected = FAILPOINT("manifest.append")) != 0)
		errno = injected;
	if (injected || store_write_fd(fd, d->pending, d->pending_len) != 0)
		goto fail;
	step = "fsync";
	if ((injected = FAILPOINT("manifest.fsync")) != 0)
		errno = injected;
	if (injected || fsync(fd) != 0)
		goto fail;
	FAILPOINT_FILE_SYNCED(m->dirfd, fname);
	step = "close";
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	step = "fsync the folder of";
	if (created && fsync(m->dirfd) != 0)
		goto fail;
	if (created)
		FAILPOINT_DIR_SYNCED(m->dirfd);
	d->exists = 1;
	d->torn = 0;
	d->changed = 1;
	d->good_len += (off_t)d->pending_len;
	d->lines += d->pending_lines;
	d->pending_len = 0;
	d->pending_lines = 0;
	memcpy(d->last_hash, d->pending_hash, sizeof d->last_hash);
	return 0;
fail:
	snprintf(err, errlen, "cannot %s manifest/%s: %s", step, fname, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

int manifest_commit(struct manifest *m, char *err, size_t errlen)
{
	for (struct day *d = m->days; d; d = d->next) {
		if (d->pending_len && commit_day(m, d, err, errlen) != 0) {
			/* Some days may be on disk already; their index is still right to update
			 * only if committed, so reload is the honest path: forget all days. */
			drop_pending(m);
			while (m->days) {
				struct day *next = m->days->next;
				day_free(m->days);
				m->days = next;
			}
			return -1;
		}
	}
	for (size_t i = 0; i < m->nchanges; i++) {
		struct change *c = &m->changes[i];
		if (c->mark == CHANGE_DAY) {
			c->day->cdr = c->cdr;
		} else if (c->mark != CHANGE_PUT) {
			struct manifest_entry *e = day_find(c->day, c->entry.pbx_path);
			if (e && c->mark == CHANGE_CDR)
				e->cdr_missing = 0;
			else if (e && c->mark == MANIFEST_PBX_DELETED)
				e->pbx_deleted = 1;
			else if (e && c->mark == MANIFEST_PRUNED)
				e->pruned = 1;
			else if (e && c->mark == MANIFEST_FORGOTTEN)
				e->forgotten = 1;
		} else if (day_put(c->day, &c->entry) != 0) {
			snprintf(err, errlen, "out of memory");
			m->nchanges = 0;
			return -1;
		}
	}
	m->nchanges = 0;
	return 0;
}

int manifest_each_changed(struct manifest *m,
			  int (*fn)(void *ctx, const char *day, size_t lines, const char *last_hash),
			  void *ctx)
{
	for (struct day *d = m->days; d; d = d->next) {
		if (!d->changed || d->broken)
			continue;
		int rc = fn(ctx, d->name, d->lines, d->last_hash);
		if (rc)
			return rc;
	}
	return 0;
}

static int is_day_file(const char *n)
{
	if (strlen(n) != 16 || strcmp(n + 10, ".jsonl") != 0)
		return 0;
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? n[i] != '-' : (n[i] < '0' || n[i] > '9'))
			return 0;
	return 1;
}

struct repair_ctx {
	struct manifest *m;
	int cut;
	int failed;
};

static int repair_day(void *ctx, const char *day)
{
	struct repair_ctx *c = ctx;
	char fname[32];
	struct stat st;
	struct day *d;
	char last = '\n';
	int fd;

	snprintf(fname, sizeof fname, "%s.jsonl", day);
	fd = openat(c->m->dirfd, fname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	close(fd);
	if (last == '\n')
		return 0;
	d = get_day(c->m, day); /* says "torn tail" */
	if (!d || !d->torn)
		return 0;
	fd = openat(c->m->dirfd, fname, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, d->good_len) != 0 || fsync(fd) != 0) {
		log_error("cannot cut the torn tail of manifest/%s: %s", fname, strerror(errno));
		c->failed = 1;
	} else {
		d->torn = 0;
		c->cut++;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

int manifest_repair_tails(struct manifest *m)
{
	struct repair_ctx c = { m, 0, 0 };

	if (manifest_each_day(m, repair_day, &c) != 0 || c.failed)
		return -1;
	return c.cut;
}

int manifest_first_day(struct manifest *m, char day[11])
{
	int fd = dup(m->dirfd), found = 0;
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!dir) {
		if (fd >= 0)
			close(fd);
		log_error("cannot list manifest/: %s", strerror(errno));
		return -1;
	}
	rewinddir(dir);
	while ((e = readdir(dir)) != NULL) {
		if (!is_day_file(e->d_name))
			continue;
		if (!found || strncmp(e->d_name, day, 10) < 0)
			memcpy(day, e->d_name, 10);
		day[10] = '\0';
		found = 1;
	}
	closedir(dir);
	return found;
}

int manifest_each_entry(struct manifest *m, const char *day,
			int (*fn)(void *ctx, const struct manifest_entry *e), void *ctx)
{
	struct day *d = get_day(m, day);

	if (!d)
		return -1;
	for (size_t i = 0; i < d->n; i++) {
		int rc = fn(ctx, &d->entries[i]);
		if (rc)
			return rc;
	}
	return 0;
}

const char *manifest_day_error(struct manifest *m, const char *day)
{
	struct day *d = get_day(m, day);

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

int manifest_each_day(struct manifest *m, int (*fn)(void *ctx, const char *day), void *ctx)
{
	int fd = dup(m->dirfd), rc = 0;
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	char **days = NULL;
	size_t n = 0, cap = 0;

	if (!dir) {
		if (fd >= 0)
			close(fd);
		log_error("cannot list manifest/: %s", strerror(errno));
		return -1;
	}
	rewinddir(dir);
	while ((e = readdir(dir)) != NULL) {
		if (!is_day_file(e->d_name))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **p = realloc(days, ncap * sizeof *p);
			if (!p) {
				rc = -1;
				break;
			}
			days = p;
			cap = ncap;
		}
		if (!(days[n] = strndup(e->d_name, 10))) {
			rc = -1;
			break;
		}
		n++;
	}
	closedir(dir);
	if (rc == 0) {
		if (n > 1)
			qsort(days, n, sizeof *days, cmp_day);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = fn(ctx, days[i]);
	} else {
		log_error("out of memory listing manifest/");
	}
	for (size_t i = 0; i < n; i++)
		free(days[i]);
	free(days);
	return rc;
}

int manifest_each_undeleted(struct manifest *m, const char *day,
			    int (*fn)(void *ctx, const struct manifest_entry *e), void *ctx)
{
	struct day *d = get_day(m, day);

	if (!d)
		return -1;
	for (size_t i = 0; i < d->n; i++) {
		if (d->entries[i].pbx_deleted)
			continue;
		int rc = fn(ctx, &d->entries[i]);
		if (rc)
			return rc;
	}
	return 0;
}
