/* manifest_append.c — the writing half of manifest.h: lines queued per day (each with "prev",
 * the hash of the line before it), appended with one write per file and fsynced by
 * manifest_commit, and only then applied to the loaded index; and the cutting of torn tails
 * (manifest_repair_tails). Never rewrites a line; cuts only a torn tail the loader found.
 * Shares the handle and days with manifest.c through manifest_internal.h. */
#include "manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "manifest_internal.h"
#include "store.h"
#include "base/clock.h"
#include "base/failpoint.h"
#include "base/fdio.h"
#include "base/log.h"
#include "base/pbxtime.h"
#include "pbx/cdr.h"

/* A queued change to the index, applied only once its line is on disk. */
struct change {
	struct manifest_day *day;
	struct manifest_entry entry;
	int mark;               /* an enum manifest_mark, or one of: */
	struct manifest_day_cdr cdr; /* CHANGE_DAY: the day's new CDR state */
};
#define CHANGE_PUT (-1)         /* put `entry` */
#define CHANGE_DAY (-2)         /* a line about the day: its CDR state */
#define CHANGE_CDR (-3)         /* `entry` got its CDR */
#define CHANGE_RELISTED (-4)    /* `entry`'s listing is now entry.listed_* */
#define CHANGE_OFFSITE (-5)     /* `entry`'s offsite copy is confirmed */

/* Serialises `o` (adding "prev"), queues it in d and the change in m. Takes `o`. */
/* Whether the append guard lets `d` be appended to (asked once per day). */
static int day_may_append(struct manifest *m, struct manifest_day *d)
{
	if (m->guard && !d->guarded)
		d->guarded = m->guard(m->guard_ctx, d->name) == 0 ? 1 : -1;
	return d->guarded >= 0;
}

int manifest_may_append(struct manifest *m, const char *day)
{
	struct manifest_day *d = manifest_get_day(m, day);

	return d && day_may_append(m, d);
}

static int queue_line(struct manifest *m, struct manifest_day *d, json_object *o,
		      const struct change *c)
{
	const char *line;
	size_t len;
	int rc = -1;

	if (!day_may_append(m, d)) {
		json_object_put(o);
		return -1; /* the guard said why */
	}
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
	manifest_line_hash(m, line, len, d->pending_hash);
	m->changes[m->nchanges++] = *c;
	rc = 0;
out:
	if (rc)
		log_error("out of memory queueing a manifest line");
	json_object_put(o);
	return rc;
}

int manifest_mark_changed(struct manifest *m, const char *day)
{
	struct manifest_day *d = manifest_get_day(m, day);

	if (!d)
		return -1;
	if (d->exists)
		d->changed = d->unsigned_lines = 1;
	return 0;
}

void manifest_set_commit_hook(struct manifest *m, void (*hook)(void *ctx, struct manifest *m),
			      void *ctx)
{
	m->committed = hook;
	m->committed_ctx = ctx;
}

void manifest_set_append_guard(struct manifest *m, int (*guard)(void *ctx, const char *day),
			       void *ctx)
{
	m->guard = guard;
	m->guard_ctx = ctx;
}

static void add_str(json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

/* The index change that an "archived" or "unavailable" line for `rec` makes in `d`. */
static void change_for(struct change *c, struct manifest_day *d, const struct recording *rec)
{
	memset(c, 0, sizeof *c);
	c->day = d;
	c->mark = CHANGE_PUT;
	snprintf(c->entry.pbx_path, sizeof c->entry.pbx_path, "%s", rec->pbx_path);
	snprintf(c->entry.calldate, sizeof c->entry.calldate, "%s", rec->calldate);
	snprintf(c->entry.src, sizeof c->entry.src, "%s", rec->src);
	snprintf(c->entry.dst, sizeof c->entry.dst, "%s", rec->dst);
	c->entry.version = rec->version ? rec->version : 1;
	c->entry.listed_duration = rec->duration;
	c->entry.listed_size = rec->size;
	c->entry.audio_seconds = -1;
}

/* The version (when not the first) and the listing's size (when it states one): what later runs
 * compare the PBX's listing with. */
static void add_version_and_size(json_object *o, const struct recording *rec)
{
	if (rec->version > 1)
		json_object_object_add(o, "version", json_object_new_int64(rec->version));
	if (rec->size >= 0)
		json_object_object_add(o, "listed_size", json_object_new_int64(rec->size));
}

/* The opening of a recording's line: its day, the change to its index, and an object holding
 * its event and path. Returns the object, which the caller fills and ends with end_line(), or
 * NULL (printed). */
static json_object *begin_line(struct manifest *m, const char *day, const struct recording *rec,
			       const char *event, struct change *c)
{
	struct manifest_day *d = manifest_get_day(m, day);
	json_object *o;

	if (!d)
		return NULL;
	change_for(c, d, rec);
	o = json_object_new_object();
	add_str(o, "event", event);
	add_str(o, "pbx_path", rec->pbx_path);
	return o;
}

/* Stamps the line with `at_key` = now (UTC, the last member) and queues it. */
static int end_line(struct manifest *m, json_object *o, struct change *c, const char *at_key)
{
	char now[21];

	pbxtime_utc_stamp(now);
	add_str(o, at_key, now);
	return queue_line(m, c->day, o, c);
}

int manifest_add_archived(struct manifest *m, const char *day, const struct recording *rec,
			  const struct manifest_file *f)
{
	struct change c;
	json_object *o = begin_line(m, day, rec, "archived", &c);

	if (!o)
		return -1;
	snprintf(c.entry.file, sizeof c.entry.file, "%s", f->file);
	snprintf(c.entry.sha256, sizeof c.entry.sha256, "%s", f->sha256);
	if (f->stored_sha256)
		snprintf(c.entry.stored_sha256, sizeof c.entry.stored_sha256, "%s",
			 f->stored_sha256);
	c.entry.size = f->size;
	c.entry.audio_seconds = f->audio_seconds;
	c.entry.archived_at = clock_unix(); /* as end_line stamps it */
	add_version_and_size(o, rec);
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
	if (rec->cut) {
		/* Longer on the PBX than a field of ours: kept, cut, and said. */
		static const char *const name[] = { "src", "dst", "trunk", "calltype" };
		json_object *cut = json_object_new_array();
		for (int i = 0; i < 4; i++)
			if (rec->cut & (1u << i))
				json_object_array_add(cut, json_object_new_string(name[i]));
		json_object_object_add(o, "cut", cut);
	}
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
	return end_line(m, o, &c, "archived_at");
}

int manifest_add_unavailable(struct manifest *m, const char *day, const struct recording *rec,
			     int attempts)
{
	struct change c;
	json_object *o = begin_line(m, day, rec, "unavailable", &c);

	if (!o)
		return -1;
	c.entry.unavailable = 1;
	add_version_and_size(o, rec);
	add_str(o, "calldate", rec->calldate);
	add_str(o, "src", rec->src);
	add_str(o, "dst", rec->dst);
	json_object_object_add(o, "duration", rec->duration >= 0
						       ? json_object_new_int64(rec->duration)
						       : NULL);
	json_object_object_add(o, "attempts", json_object_new_int(attempts));
	return end_line(m, o, &c, "recorded_at");
}

/* The line about `e` of `day`, begun: `c` set for the change `mark`, and a new object with
 * "event", "pbx_path" and "file". `held`: the day must hold `e` (an internal error otherwise,
 * `what` names the line). Returns the object, or NULL (printed). */
static json_object *entry_line(struct manifest *m, const char *day, const struct manifest_entry *e,
			       const char *event, int mark, int held, const char *what,
			       struct change *c)
{
	struct manifest_day *d = manifest_get_day(m, day);
	json_object *o;

	if (!d)
		return NULL;
	if (held && !manifest_day_find_file(d, e->pbx_path, e->file)) {
		log_error("internal: %s %s (%s), which manifest/%s.jsonl does not hold", what,
			  e->pbx_path, e->file, day);
		return NULL;
	}
	memset(c, 0, sizeof *c);
	c->day = d;
	c->entry = *e;
	c->mark = mark;
	o = json_object_new_object();
	add_str(o, "event", event);
	add_str(o, "pbx_path", e->pbx_path);
	add_str(o, "file", e->file);
	return o;
}

int manifest_add_mark(struct manifest *m, const char *day, const struct manifest_entry *e,
		      enum manifest_mark mark, const char *reason)
{
	static const char *const at[] = { "deleted_at", "pruned_at", "forgotten_at", "offloaded_at" };
	struct change c;
	json_object *o = entry_line(m, day, e, manifest_mark_event[mark], (int)mark, 1, "marking",
				    &c);

	if (!o)
		return -1;
	add_str(o, "sha256", e->sha256);
	if (e->stored_sha256[0])
		add_str(o, "stored_sha256", e->stored_sha256);
	if (reason)
		add_str(o, "reason", reason);
	return end_line(m, o, &c, at[mark]);
}

int manifest_add_offsite(struct manifest *m, const char *day, const struct manifest_entry *e,
			 const struct manifest_offsite *off)
{
	struct change c;
	json_object *o = entry_line(m, day, e, "offsite", CHANGE_OFFSITE, 1,
				    "the offsite copy of", &c);

	if (!o)
		return -1;
	c.entry.offsite = off->lock_mode ? MANIFEST_OFFSITE_LOCKED : 1;
	add_str(o, "key", off->key);
	add_str(o, "version_id", off->version_id);
	add_str(o, "etag", off->etag);
	json_object_object_add(o, "size", json_object_new_int64((int64_t)e->size));
	if (off->lock_mode) {
		add_str(o, "lock", off->lock_mode);
		add_str(o, "retain_until", off->retain_until);
	} else {
		json_object_object_add(o, "lock", NULL);
		json_object_object_add(o, "retain_until", NULL);
		add_str(o, "unlocked", off->why_unlocked ? off->why_unlocked : "lock = off");
	}
	return end_line(m, o, &c, "uploaded_at");
}

int manifest_add_relisted(struct manifest *m, const char *day, const struct manifest_entry *e,
			  const struct recording *rec)
{
	struct change c;
	json_object *o = entry_line(m, day, e, "relisted", CHANGE_RELISTED, 0, NULL, &c);

	if (!o)
		return -1;
	c.entry.listed_duration = rec->duration;
	c.entry.listed_size = rec->size;
	add_str(o, "sha256", e->sha256);
	json_object_object_add(o, "duration", rec->duration >= 0
						       ? json_object_new_int64(rec->duration)
						       : NULL);
	if (rec->size >= 0)
		json_object_object_add(o, "listed_size", json_object_new_int64(rec->size));
	return end_line(m, o, &c, "checked_at");
}

int manifest_add_cdr(struct manifest *m, const char *day, const char *pbx_path,
		     const struct cdr *c, int how)
{
	struct manifest_day *d = manifest_get_day(m, day);
	struct manifest_entry *e;
	json_object *o, *cdr = NULL;
	struct change ch;
	char now[21];

	if (!d)
		return -1;
	if (!(e = manifest_day_find(d, pbx_path))) {
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
	pbxtime_utc_stamp(now);
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
	struct manifest_day *d = manifest_get_day(m, day);
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
		manifest_day_cdr_apply(&ch.cdr, event, o);
	return queue_line(m, d, o, &ch);
}

static void drop_pending(struct manifest *m)
{
	for (struct manifest_day *d = m->days; d; d = d->next) {
		d->pending_len = 0;
		d->pending_lines = 0;
		memcpy(d->pending_hash, d->last_hash, sizeof d->last_hash);
	}
	m->nchanges = 0;
}

/* Appends d's queued lines durably. Returns 0, or -1 with err set. */
static int commit_day(struct manifest *m, struct manifest_day *d, char *err, size_t errlen)
{
	char fname[32];
	const char *step = "open";
	int fd, created = !d->exists, injected;

	snprintf(fname, sizeof fname, "%s.jsonl", d->name);
	/* O_NONBLOCK: a FIFO put at the name fails here instead of hanging the run. */
	fd = openat(m->dirfd, fname,
		    O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0640);
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
	if (injected || fd_write_all(fd, d->pending, d->pending_len) != 0)
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
	d->changed = d->unsigned_lines = 1;
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
	for (struct manifest_day *d = m->days; d; d = d->next) {
		if (d->pending_len && commit_day(m, d, err, errlen) != 0) {
			/* Some days may be on disk already; their index is still right to update
			 * only if committed, so reload is the honest path: forget all days. */
			drop_pending(m);
			manifest_drop_days(m);
			return -1;
		}
	}
	for (size_t i = 0; i < m->nchanges; i++) {
		struct change *c = &m->changes[i];
		if (c->mark == CHANGE_DAY) {
			c->day->cdr = c->cdr;
		} else if (c->mark != CHANGE_PUT) {
			struct manifest_entry *e =
				manifest_day_find_file(c->day, c->entry.pbx_path, c->entry.file);
			if (e && c->mark == CHANGE_CDR) {
				e->cdr_missing = 0;
			} else if (e && c->mark == CHANGE_OFFSITE) {
				e->offsite = c->entry.offsite;
			} else if (e && c->mark == CHANGE_RELISTED) {
				e->listed_duration = c->entry.listed_duration;
				e->listed_size = c->entry.listed_size;
			} else if (e && c->mark == MANIFEST_PBX_DELETED) {
				e->pbx_deleted = 1;
			} else if (e && c->mark == MANIFEST_PRUNED) {
				e->pruned = 1;
			} else if (e && c->mark == MANIFEST_OFFLOADED) {
				e->offloaded = 1;
			} else if (e && c->mark == MANIFEST_FORGOTTEN) {
				e->forgotten = 1;
			}
		} else if (manifest_day_put(c->day, &c->entry) != 0) {
			snprintf(err, errlen, "out of memory");
			m->nchanges = 0;
			return -1;
		}
	}
	m->nchanges = 0;
	if (m->committed)
		m->committed(m->committed_ctx, m);
	return 0;
}

int manifest_each_unsigned(struct manifest *m,
			   int (*fn)(void *ctx, const char *day, size_t lines, const char *last_hash),
			   void *ctx)
{
	int kept = 0;

	for (struct manifest_day *d = m->days; d; d = d->next) {
		if (!d->unsigned_lines || d->broken)
			continue;
		if (fn(ctx, d->name, d->lines, d->last_hash) == 0)
			d->unsigned_lines = 0;
		else
			kept++;
	}
	return kept;
}

int manifest_each_changed(struct manifest *m,
			  int (*fn)(void *ctx, const char *day, size_t lines, const char *last_hash),
			  void *ctx)
{
	for (struct manifest_day *d = m->days; d; d = d->next) {
		if (!d->changed || d->broken)
			continue;
		int rc = fn(ctx, d->name, d->lines, d->last_hash);
		if (rc)
			return rc;
	}
	return 0;
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
	struct manifest_day *d;
	char last = '\n';
	int fd;

	snprintf(fname, sizeof fname, "%s.jsonl", day);
	fd = store_open_regular(c->m->dirfd, fname);
	if (fd < 0) {
		if (errno == EINVAL)
			(void)manifest_get_day(c->m, day); /* says it is not a regular file */
		return 0;
	}
	if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	close(fd);
	if (last == '\n')
		return 0;
	d = manifest_get_day(c->m, day); /* says "torn tail" */
	if (!d || !d->torn)
		return 0;
	fd = openat(c->m->dirfd, fname, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
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
