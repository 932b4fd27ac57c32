/* offsite.c — the run's side of the offsite copy (see offsite.h): which files are due, each
 * one uploaded from the stored file and confirmed by a HEAD before the manifest says so, and
 * the queue that carries the rest to the next run. Speaks S3 only through s3/s3.h; never
 * reads a whole file into memory; never logs the secret key (s3.h keeps it). */
#include "offsite.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "archive/manifest.h"
#include "archive/offsiteq.h"
#include "archive/store.h"
#include "base/clock.h"
#include "base/exitcode.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "base/stop.h"
#include "crypto/hash.h"
#include "s3/s3.h"

/* Days of backlog (queued, not written by this run) whose files one run uploads: the run's
 * manifest handle keeps every day it loads, so a first run over years of archive goes up a
 * fortnight a night instead of holding years of days in memory. */
#define BACKLOG_DAYS_PER_RUN 14

struct offsite {
	struct s3 *s3;
	struct offsiteq queue;
	const char *lock_mode;  /* "COMPLIANCE", "GOVERNANCE", or NULL */
	long lock_days;
	int down;               /* the bucket could not be reached, or refused our clock */
};

/* One file to put and confirm. */
struct upload {
	const char *key;        /* = the file's path relative to the archive root */
	uint64_t size;
	const char *sha256;     /* of the stored bytes */
	const char *lock_day;   /* "YYYY-MM-DD" the lock counts from; NULL: from now */
	struct s3_object got;   /* what HEAD confirmed */
	char retain[32];        /* the retain-until asked for; "" none */
	const char *why_unlocked;
	int already;            /* a HEAD found it there before any PUT */
	int grows;              /* a manifest or the head history: a new version is expected */
};

static int queue_day(void *ctx, const char *day)
{
	return offsiteq_add(ctx, day);
}

int offsite_open(struct run *r)
{
	const struct config *cfg = r->cfg;
	struct s3_options o = { cfg->offsite.url, cfg->offsite.region, cfg->offsite.access_key,
				cfg->offsite.secret_key, cfg->offsite.ca_file, cfg->offsite.insecure,
				cfg->offsite.max_rate, cfg->pbx.timeout, cfg->pbx.connect_timeout,
				cfg->pbx.retries };
	struct offsite *off;
	char err[512];
	int enabled = 0, rc;

	if (!cfg->offsite.url || r->offsite)
		return 0;
	off = calloc(1, sizeof *off);
	if (!off || !(off->s3 = s3_new(&o, err, sizeof err))) {
		log_error("%s", off ? err : "out of memory");
		free(off);
		return EXIT_USAGE;
	}
	r->offsite = off;
	off->lock_days = cfg->offsite.lock_days;
	rc = s3_bucket_lock(off->s3, &enabled, err, sizeof err);
	if (rc == S3_DENIED) {
		log_error("offsite: %s: the bucket refused our keys ([offsite] access_key, "
			  "secret_key)", err);
		offsite_close(r);
		return EXIT_LOGIN;
	}
	if (rc != S3_OK) {
		log_warn("offsite: %s%s: nothing is uploaded this run, and nothing that waits for its "
			 "offsite copy is deleted from the PBX", err,
			 rc == S3_SKEWED ? " (this host's clock is off: set it right, NTP)" : "");
		off->down = 1;
		r->t.offsite_down = 1;
	} else if (cfg->offsite.lock == OFFSITE_LOCK_COMPLIANCE ||
		   cfg->offsite.lock == OFFSITE_LOCK_GOVERNANCE) {
		if (!enabled) {
			log_error("%s: [offsite] lock = %s, but the bucket %s has no Object Lock "
				  "enabled (it can only be enabled when a bucket is made)", cfg->path,
				  cfg->offsite.lock == OFFSITE_LOCK_COMPLIANCE ? "compliance" : "governance",
				  s3_where(off->s3));
			offsite_close(r);
			return EXIT_USAGE;
		}
		off->lock_mode = cfg->offsite.lock == OFFSITE_LOCK_COMPLIANCE ? "COMPLIANCE" : "GOVERNANCE";
	} else if (cfg->offsite.lock == OFFSITE_LOCK_AUTO && enabled) {
		if (off->lock_days < 0) {
			log_error("%s: the bucket has Object Lock: [offsite] lock_days (or [retention] "
				  "archive_keep_days) must say for how long", cfg->path);
			offsite_close(r);
			return EXIT_USAGE;
		}
		off->lock_mode = "COMPLIANCE";
	}
	rc = offsiteq_load(r->store, &off->queue);
	if (rc < 0) {
		offsite_close(r);
		return EXIT_STORAGE;
	}
	if (rc == 0) {
		/* Never uploaded: everything the archive holds is due. */
		(void)offsiteq_add(&off->queue, OFFSITEQ_HEADS);
		if (manifest_each_day(r->man, queue_day, &off->queue) != 0) {
			offsite_close(r);
			return EXIT_STORAGE;
		}
	}
	return 0;
}

void offsite_close(struct run *r)
{
	if (!r->offsite)
		return;
	s3_free(r->offsite->s3);
	offsiteq_free(&r->offsite->queue);
	free(r->offsite);
	r->offsite = NULL;
}

void offsite_note_day(struct run *r, const char *day)
{
	if (r->offsite)
		(void)offsiteq_add(&r->offsite->queue, day);
}

/* The retain-until of an object counted from `day` ("YYYY-MM-DD"; NULL: today) into u->retain,
 * or why it goes up unlocked. */
static void settle_lock(struct offsite *off, struct upload *u)
{
	struct tm tm = { 0 };
	time_t t;

	u->retain[0] = '\0';
	if (!off->lock_mode) {
		u->why_unlocked = "lock = off";
		return;
	}
	if (u->lock_day && sscanf(u->lock_day, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon,
				  &tm.tm_mday) == 3) {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		t = timegm(&tm);
	} else {
		t = (time_t)clock_unix();
	}
	t += (time_t)off->lock_days * 86400;
	/* S3 refuses a retain-until in the past: an old recording goes up unlocked. */
	if ((int64_t)t <= clock_unix() + 60) {
		u->why_unlocked = "retain-until past";
		return;
	}
	gmtime_r(&t, &tm);
	strftime(u->retain, sizeof u->retain, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Whether HEAD's `o` is the object we mean: size, MD5 and (when we asked for one) the lock. */
static int confirms(const struct upload *u, const struct s3_object *o, const char *md5,
		    const char *lock_mode)
{
	if (o->size != u->size || strcasecmp(o->etag, md5) != 0)
		return 0;
	if (!u->retain[0])
		return 1;
	return strcasecmp(o->lock_mode, lock_mode) == 0 &&
	       strncmp(o->retain_until, u->retain, 19) == 0;
}

/* Puts one file (open at `fd`) and confirms it. Returns S3_OK with u->got set, or an enum
 * s3_status (printed). */
static int put_confirmed(struct offsite *off, int fd, struct upload *u)
{
	struct s3_object o;
	char md5[33], err[1024];
	int rc;

	if (s3_md5_fd(fd, u->size, md5) != 0) {
		log_error("offsite: %s: cannot read it: %s", u->key, strerror(errno));
		return S3_FAILED;
	}
	settle_lock(off, u);
	/* HEAD first: a run that stopped after its PUT left the object; it is not put twice. */
	rc = s3_head(off->s3, u->key, &o, err, sizeof err);
	if (rc == S3_OK && o.size == u->size && strcasecmp(o.etag, md5) == 0) {
		u->got = o;
		u->already = 1;
		return S3_OK;
	}
	if (rc != S3_OK && rc != S3_NOT_FOUND) {
		log_error("offsite: %s", err);
		return rc;
	}
	if (rc == S3_OK && !u->grows)
		log_warn("offsite: %s holds other bytes (%llu bytes, ETag %s); putting ours as its "
			 "newest version", u->key, (unsigned long long)o.size, o.etag);
	(void)FAILPOINT("offsite.put");
	struct s3_put p = { u->key, fd, u->size, u->sha256, u->retain[0] ? off->lock_mode : NULL,
			    u->retain[0] ? u->retain : NULL };
	rc = s3_put_file(off->s3, &p, &o, err, sizeof err);
	if (rc != S3_OK) {
		log_error("offsite: %s", err);
		return rc;
	}
	(void)FAILPOINT("offsite.head");
	rc = s3_head(off->s3, u->key, &u->got, err, sizeof err);
	if (rc != S3_OK) {
		log_error("offsite: %s (after its upload)", err);
		return rc == S3_NOT_FOUND ? S3_FAILED : rc;
	}
	if (!confirms(u, &u->got, md5, off->lock_mode)) {
		log_error("offsite: %s: HEAD after the upload shows %llu bytes, ETag %s, lock '%s' "
			  "until '%s'; wanted %llu bytes, MD5 %s%s%s", u->key,
			  (unsigned long long)u->got.size, u->got.etag, u->got.lock_mode,
			  u->got.retain_until, (unsigned long long)u->size, md5,
			  u->retain[0] ? ", locked until " : "", u->retain);
		return S3_FAILED;
	}
	return S3_OK;
}

/* Opens the archive's `file` (relative) for reading, and checks it holds `size` bytes.
 * Returns the fd, or -1 (printed). */
static int open_stored(struct run *r, const char *file, uint64_t size)
{
	char dir[1024], err[512];
	const char *name;
	struct stat st;
	int dfd, fd;

	if (store_split_file(file, dir, sizeof dir, &name) != 0) {
		log_error("offsite: %s: not a path inside the archive", file);
		return -1;
	}
	dfd = store_open_dir(r->store, dir, 0, err, sizeof err);
	if (dfd < 0) {
		log_error("offsite: %s: %s", file, err);
		return -1;
	}
	fd = store_open_regular(dfd, name);
	close(dfd);
	if (fd < 0) {
		log_error("offsite: %s: %s", file, store_open_error(errno));
		return -1;
	}
	if (size != UINT64_MAX && (fstat(fd, &st) != 0 || (uint64_t)st.st_size != size)) {
		log_error("offsite: %s: holds %lld bytes, the manifest says %llu; not uploaded", file,
			  (long long)st.st_size, (unsigned long long)size);
		close(fd);
		return -1;
	}
	return fd;
}

/* What the outcome `rc` of an upload means for the run. Returns 0 to go on, -1 to stop. */
static int judge(struct run *r, int rc)
{
	if (rc == S3_OK)
		return 0;
	r->t.offsite_failed++;
	if (rc == S3_DENIED) {
		log_error("offsite: the bucket refused our keys; check [offsite] access_key, "
			  "secret_key and the key's rights (docs/offsite.md)");
		r->fatal = EXIT_LOGIN;
		return -1;
	}
	if (rc == S3_DOWN || rc == S3_SKEWED) {
		if (rc == S3_SKEWED)
			log_error("offsite: the bucket says this host's clock is off (RequestTimeTooSkewed); "
				  "set the clock right (NTP)");
		r->offsite->down = 1;
		r->t.offsite_down = 1;
		return -1;
	}
	return 0;
}

struct day_files {
	struct manifest_entry *e;
	size_t n, cap;
};

static int collect(void *ctx, const struct manifest_entry *e)
{
	struct day_files *f = ctx;

	if (!e->file[0] || e->unavailable || e->pruned || e->forgotten || e->offsite)
		return 0;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		void *grown = realloc(f->e, cap * sizeof *f->e);
		if (!grown)
			return -1;
		f->e = grown;
		f->cap = cap;
	}
	f->e[f->n++] = *e;
	return 0;
}

/* The object of one sealed CDR file, for the day's "cdr_offsite" line. */
static json_object *object_json(const struct upload *u)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "key", json_object_new_string(u->key));
	json_object_object_add(o, "version_id", json_object_new_string(u->got.version_id));
	json_object_object_add(o, "etag", json_object_new_string(u->got.etag));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)u->size));
	json_object_object_add(o, "lock", u->got.lock_mode[0] ? json_object_new_string(u->got.lock_mode) : NULL);
	json_object_object_add(o, "retain_until", u->got.retain_until[0]
							  ? json_object_new_string(u->got.retain_until)
							  : NULL);
	return o;
}

/* A sealed day's CDR files (cdr/DAY.jsonl and .csv, [cdr] archive): put, confirmed, and one
 * "cdr_offsite" line for both. Returns 0 done or nothing due, 1 left for later, -1 stop. */
static int upload_cdr(struct run *r, const char *day)
{
	struct manifest_day_cdr st;
	json_object *line;
	const char *ext[2] = { "jsonl", "csv" };
	char key[2][32];
	int rc = 0;

	if (manifest_day_cdr(r->man, day, &st) != 0 || !st.archived || st.offsite)
		return 0;
	line = json_object_new_object();
	json_object_object_add(line, "event", json_object_new_string("cdr_offsite"));
	json_object_object_add(line, "day", json_object_new_string(day));
	for (int i = 0; i < 2 && rc == 0; i++) {
		const char *sha = i ? st.csv_sha256 : st.jsonl_sha256;
		struct stat fst;
		int fd, s;

		if (!sha[0])
			continue; /* a day sealed without that file */
		snprintf(key[i], sizeof key[i], "cdr/%s.%s", day, ext[i]);
		fd = open_stored(r, key[i], UINT64_MAX);
		if (fd < 0 || fstat(fd, &fst) != 0) {
			if (fd >= 0)
				close(fd);
			r->t.offsite_failed++;
			rc = 1;
			break;
		}
		struct upload u = { key[i], (uint64_t)fst.st_size, sha, day, { 0 }, "", NULL, 0, 0 };
		s = put_confirmed(r->offsite, fd, &u);
		close(fd);
		if (s != S3_OK) {
			rc = judge(r, s) ? -1 : 1;
			break;
		}
		if (u.already)
			r->t.offsite_already++;
		else
			r->t.offsite_uploaded++;
		json_object_object_add(line, ext[i], object_json(&u));
	}
	if (rc != 0) {
		json_object_put(line);
		return rc;
	}
	return manifest_add_day_event(r->man, day, line) == 0 ? 0 : -1;
}

/* The recordings of `day` without a confirmed copy. Returns how many were left unconfirmed,
 * or -1 when the run must stop. */
static long upload_day(struct run *r, const char *day)
{
	struct day_files f = { 0 };
	char err[512];
	long left = 0;
	int rc = 0;

	if (!manifest_may_append(r->man, day))
		return 1; /* its lines cannot be recorded now (verify names the day) */
	if (manifest_each_entry(r->man, day, collect, &f) != 0) {
		free(f.e);
		return 1;
	}
	for (size_t i = 0; i < f.n && rc == 0 && !stop_requested(); i++) {
		const struct manifest_entry *e = &f.e[i];
		char lock_day[11];
		struct upload u = { e->file, e->size, e->stored_sha256[0] ? e->stored_sha256 : e->sha256,
				    lock_day, { 0 }, "", NULL, 0, 0 };
		int fd = open_stored(r, e->file, e->size);

		snprintf(lock_day, sizeof lock_day, "%.10s", e->calldate[0] ? e->calldate : day);
		if (fd < 0) {
			r->t.offsite_failed++;
			left++;
			continue;
		}
		int s = put_confirmed(r->offsite, fd, &u);
		close(fd);
		if (s == S3_OK) {
			struct manifest_offsite o = { u.key, u.got.version_id, u.got.etag,
						      u.got.lock_mode[0] ? u.got.lock_mode : NULL,
						      u.got.retain_until[0] ? u.got.retain_until : NULL,
						      u.why_unlocked };
			(void)FAILPOINT("offsite.record");
			if (manifest_add_offsite(r->man, day, e, &o) != 0) {
				rc = -1;
				break;
			}
			if (u.already)
				r->t.offsite_already++;
			else
				r->t.offsite_uploaded++;
			continue;
		}
		left++;
		rc = judge(r, s);
	}
	free(f.e);
	if (rc == 0 && !stop_requested()) {
		int c = upload_cdr(r, day);
		left += c > 0;
		rc = c < 0 ? -1 : 0;
	}
	if (manifest_commit(r->man, err, sizeof err) != 0) {
		log_error("%s", err);
		r->storage_error = 1;
		return -1;
	}
	return rc < 0 ? -1 : left;
}

static int note_changed(void *ctx, const char *day, size_t lines, const char *last)
{
	(void)lines, (void)last;
	return offsiteq_add(&((struct run *)ctx)->offsite->queue, day);
}

int offsite_upload_files(struct run *r)
{
	struct offsite *off = r->offsite;

	if (!off || r->dry_run)
		return 0;
	/* The days this run wrote to are queued, durably, before any upload. */
	if (manifest_each_changed(r->man, note_changed, r) != 0 ||
	    offsiteq_save(r->store, &off->queue) != 0) {
		r->storage_error = 1;
		return -1;
	}
	size_t backlog = 0, left = 0;
	for (size_t i = 0; i < off->queue.n && !off->down && !stop_requested(); i++) {
		const char *day = off->queue.names[i];
		if (strcmp(day, OFFSITEQ_HEADS) == 0)
			continue;
		if (!manifest_day_loaded(r->man, day) && backlog++ >= BACKLOG_DAYS_PER_RUN) {
			left++;
			continue;
		}
		if (upload_day(r, day) < 0)
			return r->fatal || r->storage_error ? -1 : 0;
	}
	if (left)
		log_info("offsite: %zu more days of the archive are queued for the next runs (%d a "
			 "run; their PBX deletions wait for them)", left, BACKLOG_DAYS_PER_RUN);
	return 0;
}

/* Puts manifest/`name` when the bucket's newest version differs. Returns an enum s3_status;
 * S3_NOT_FOUND when there is no such local file (nothing to do). */
static int put_meta(struct run *r, const char *name, const char *lock_day)
{
	char file[256], dir[256], hex[SHA256_HEX_LEN + 1], err[512];
	const char *base;
	uint64_t size = 0;
	struct stat st;
	int dfd, fd, rc;

	snprintf(file, sizeof file, "manifest/%s", name);
	if (store_split_file(file, dir, sizeof dir, &base) != 0 ||
	    (dfd = store_open_dir(r->store, dir, 0, err, sizeof err)) < 0)
		return errno == ENOENT ? S3_NOT_FOUND : S3_FAILED;
	fd = store_open_regular(dfd, base);
	if (fd < 0) {
		close(dfd);
		if (errno == ENOENT)
			return S3_NOT_FOUND;
		log_error("offsite: %s: %s", file, store_open_error(errno));
		return S3_FAILED;
	}
	/* The run holds the lock: the file does not change between its hash and its upload. */
	if (sha256_file_at(r->hash, dfd, base, hex, &size) != 0 || fstat(fd, &st) != 0 ||
	    size != (uint64_t)st.st_size) {
		log_error("offsite: %s: cannot read it", file);
		close(fd);
		close(dfd);
		return S3_FAILED;
	}
	close(dfd);
	struct upload u = { file, size, hex, lock_day, { 0 }, "", NULL, 0, 1 };
	rc = put_confirmed(r->offsite, fd, &u);
	close(fd);
	if (rc == S3_OK && !u.already)
		r->t.offsite_uploaded++;
	return rc;
}

/* A day's manifest and signature. Returns 0 when both are in the bucket as they are here. */
static int upload_manifest_day(struct run *r, const char *day)
{
	char name[64];
	int rc;

	snprintf(name, sizeof name, "%s.jsonl.minisig", day);
	rc = put_meta(r, name, day);
	if (rc != S3_OK && rc != S3_NOT_FOUND)
		return judge(r, rc) ? -1 : 1;
	snprintf(name, sizeof name, "%s.jsonl", day);
	rc = put_meta(r, name, day);
	if (rc == S3_NOT_FOUND)
		return 0; /* the day is gone here (verify says so); nothing to copy */
	return rc == S3_OK ? 0 : judge(r, rc) ? -1 : 1;
}

/* The newest head, its signature and the history. Returns 0 when all are in the bucket. */
static int upload_heads(struct run *r)
{
	char name[64];
	int rc;

	if (r->head.seq == 0)
		return 0;
	snprintf(name, sizeof name, "heads/%012llu.json.minisig", r->head.seq);
	rc = put_meta(r, name, NULL);
	if (rc == S3_OK || rc == S3_NOT_FOUND) {
		snprintf(name, sizeof name, "heads/%012llu.json", r->head.seq);
		rc = put_meta(r, name, NULL);
	}
	if (rc == S3_OK)
		rc = put_meta(r, "heads/history.jsonl", NULL);
	if (rc == S3_OK || rc == S3_NOT_FOUND)
		return 0;
	return judge(r, rc) ? -1 : 1;
}

int offsite_upload_manifests(struct run *r)
{
	struct offsite *off = r->offsite;
	struct offsiteq left = { 0 };
	int rc = 0, stop = 0;

	if (!off || r->dry_run)
		return 0;
	if (manifest_each_changed(r->man, note_changed, r) != 0)
		rc = -1;
	if (r->head.seq)
		(void)offsiteq_add(&off->queue, OFFSITEQ_HEADS);
	for (size_t i = 0; i < off->queue.n; i++) {
		const char *name = off->queue.names[i];
		int due = 1;

		stop = stop || off->down || r->fatal || stop_requested();
		if (stop || (strcmp(name, OFFSITEQ_HEADS) != 0 && !manifest_day_loaded(r->man, name))) {
			due = 1; /* not reached, or backlog left for the next runs: stays queued */
		} else if (strcmp(name, OFFSITEQ_HEADS) == 0) {
			due = upload_heads(r);
		} else {
			struct day_files f = { 0 };
			/* A day stays queued while a file of it has no confirmed copy. */
			struct manifest_day_cdr st;
			int files_left = manifest_each_entry(r->man, name, collect, &f) != 0 || f.n ||
					 manifest_day_cdr(r->man, name, &st) != 0 ||
					 (st.archived && !st.offsite);
			free(f.e);
			due = upload_manifest_day(r, name);
			due = due < 0 ? -1 : (files_left || due);
		}
		if (due < 0)
			stop = 1;
		if (due != 0 && offsiteq_add(&left, name) != 0)
			rc = -1;
	}
	if (offsiteq_save(r->store, &left) != 0)
		rc = -1;
	offsiteq_free(&off->queue);
	off->queue = left;
	return rc;
}

int offsite_allows_delete(struct run *r, const struct manifest_entry *e)
{
	if (!r->cfg->offsite.url || !r->cfg->offsite.required_for_delete || e->offsite)
		return 1;
	r->t.offsite_waiting++;
	return 0;
}
