/*
 * live.c — grow the recordings of DIR/.live.jsonl in place.
 *
 * Owns the sidecar (re-parsed only when its stat changes), the state of
 * each entry (steps counted, bytes written, done) and the writes: new
 * audio at its offset first, then the header, into the same inode (no
 * temp file, no rename), so a reader may see a torn file as on a real PBX.
 * One mutex guards it all; 20054 holds it while it deletes.
 */
#include "live.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "clock.h"
#include "store.h"

#define LIVE_COPY (256 * 1024)
#define LIVE_HDR_MAX (1024 * 1024) /* header bytes before the audio we accept */

struct live_ent {
	char *path;        /* the recording path, as listed */
	char *final;       /* its final bytes, relative to DIR */
	bool zero;         /* "header":"zero" */
	bool timed;        /* from/until, else steps */
	double from, until;
	long steps;
	long count;        /* answers that showed path so far */
	bool done;         /* final written, or deleted */
	bool seen;         /* written once by this process */
	uint64_t written;  /* audio bytes in the live file */
	bool warned;       /* a problem with final reported since the last parse */
};

static struct {
	pthread_mutex_t lock;
	const char *dir;
	bool any;
	struct live_ent *v;
	size_t n;
	bool have;         /* a sidecar was parsed; st is its identity */
	struct stat st;
} live = { .lock = PTHREAD_MUTEX_INITIALIZER };

void live_setup(const char *dir, bool any)
{
	live.dir = dir;
	live.any = any;
}

static void live_ent_free(struct live_ent *e)
{
	free(e->path);
	free(e->final);
}

static void live_clear(void)
{
	for (size_t i = 0; i < live.n; i++)
		live_ent_free(&live.v[i]);
	free(live.v);
	live.v = NULL;
	live.n = 0;
}

static bool live_num(struct json_object *o, const char *key, double *out)
{
	struct json_object *x;
	if (!json_object_object_get_ex(o, key, &x) ||
	    !(json_object_is_type(x, json_type_int) || json_object_is_type(x, json_type_double)))
		return false;
	*out = json_object_get_double(x);
	return true;
}

static const char *live_str(struct json_object *o, const char *key)
{
	struct json_object *x;
	if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_string))
		return NULL;
	return json_object_get_string(x);
}

/* One sidecar line into e. Returns NULL, or why it is not an entry. */
static const char *live_parse_line(const char *line, struct live_ent *e)
{
	memset(e, 0, sizeof *e);
	struct json_object *o = json_tokener_parse(line);
	const char *why = NULL, *path, *final, *hdr;
	double steps = 0;
	bool has_from, has_until, has_steps;
	if (!o || !json_object_is_type(o, json_type_object)) {
		why = "not a JSON object";
		goto out;
	}
	path = live_str(o, "path");
	final = live_str(o, "final");
	hdr = live_str(o, "header");
	has_from = live_num(o, "from", &e->from);
	has_until = live_num(o, "until", &e->until);
	has_steps = live_num(o, "steps", &steps);
	if (!path || store_parse_path(path, live.any, NULL) < 0)
		why = "\"path\" is not a recording path";
	else if (!final || !final[0] || final[0] == '/' || strstr(final, ".."))
		why = "\"final\" must be a path relative to the served directory";
	else if (hdr && strcmp(hdr, "valid") != 0 && strcmp(hdr, "zero") != 0)
		why = "\"header\" must be \"valid\" or \"zero\"";
	else if (has_steps == (has_from || has_until) || has_from != has_until)
		why = "give either \"from\" and \"until\", or \"steps\"";
	else if (has_steps && (steps < 1 || steps > 1e12 || steps != (double)(long)steps))
		why = "\"steps\" must be a whole number >= 1";
	else if (!has_steps && !(e->until > e->from))
		why = "\"until\" must be after \"from\"";
	if (why)
		goto out;
	e->zero = hdr && strcmp(hdr, "zero") == 0;
	e->timed = !has_steps;
	e->steps = (long)steps;
	e->path = strdup(path);
	e->final = strdup(final);
	if (!e->path || !e->final) {
		live_ent_free(e);
		why = "out of memory";
	}
out:
	json_object_put(o);
	return why;
}

/* Parse the sidecar (open on f) into a new table, keeping the state of the
 * paths that were there before. */
static void live_parse(FILE *f)
{
	struct live_ent *v = NULL;
	size_t n = 0;
	char *line = NULL;
	size_t cap = 0;
	long lineno = 0;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		if (line[strspn(line, " \t\r\n")] == '\0')
			continue;
		struct live_ent e;
		const char *why = live_parse_line(line, &e);
		for (size_t i = 0; !why && i < n; i++)
			if (strcmp(v[i].path, e.path) == 0) {
				live_ent_free(&e);
				why = "\"path\" given twice";
			}
		struct live_ent *nv = why ? NULL : realloc(v, (n + 1) * sizeof *v);
		if (!why && !nv) {
			live_ent_free(&e);
			why = "out of memory";
		}
		if (why) {
			fprintf(stderr, "fakepbx: %s/%s:%ld: %s, ignored\n", live.dir, LIVE_FILE, lineno,
				why);
			continue;
		}
		v = nv;
		for (size_t i = 0; i < live.n; i++) {
			const struct live_ent *old = &live.v[i];
			if (strcmp(old->path, e.path) == 0) {
				e.count = old->count;
				e.done = old->done;
				e.seen = old->seen;
				e.written = old->written;
			}
		}
		v[n++] = e;
	}
	free(line);
	live_clear();
	live.v = v;
	live.n = n;
}

static bool live_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Re-read the sidecar if it changed; a missing one means no entries. */
static void live_reload(int dirfd)
{
	int fd = openat(dirfd, LIVE_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		live_clear();
		live.have = false;
		return;
	}
	if (live.have && live_same(&st, &live.st)) {
		close(fd);
		return;
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return;
	}
	live_parse(f);
	fclose(f);
	live.st = st;
	live.have = true;
}

static uint32_t live_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void live_put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The fmt chunk's block align within the header bytes h[0..n), or 1. */
static uint32_t live_block(const unsigned char *h, size_t n)
{
	for (size_t at = 12; at + 8 <= n;) {
		uint32_t size = live_le32(h + at + 4);
		if (memcmp(h + at, "fmt ", 4) == 0 && size >= 16 && at + 22 <= n) {
			uint32_t b = (uint32_t)h[at + 20] | (uint32_t)h[at + 21] << 8;
			return b ? b : 1;
		}
		at += 8 + (size_t)size + (size & 1);
	}
	return 1;
}

static int live_copy(int from, int to, uint64_t off, uint64_t len)
{
	static char buf[LIVE_COPY]; /* under live.lock */
	while (len > 0) {
		size_t k = len < sizeof buf ? (size_t)len : sizeof buf;
		ssize_t r = pread(from, buf, k, (off_t)off);
		if (r <= 0 || pwrite(to, buf, (size_t)r, (off_t)off) != r)
			return -1;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

static void live_warn(struct live_ent *e, const char *why)
{
	if (!e->warned)
		fprintf(stderr, "fakepbx: %s: %s: final %s %s, entry ignored\n", LIVE_FILE, e->path,
			e->final, why);
	e->warned = true;
}

/* Audio bytes the live file holds now: whole frames, floor(frames x
 * fraction) with the fraction (now - from) / (until - from) or count /
 * steps; rest (all of final after its header) once the fraction is 1. */
static uint64_t live_target(const struct live_ent *e, uint64_t frames, uint32_t block,
			    uint64_t rest, bool *final)
{
	uint64_t k;
	if (e->timed) {
		long double t = (long double)clock_true_now() - e->from;
		long double span = (long double)e->until - e->from;
		*final = t >= span;
		k = t > 0 && !*final ? (uint64_t)(t * (long double)frames / span) : 0;
	} else {
		*final = e->count >= e->steps;
		k = (uint64_t)((unsigned __int128)(uint64_t)e->count * frames / (uint64_t)e->steps);
	}
	if (*final)
		return rest;
	if (k >= frames)
		k = frames ? frames - 1 : 0;
	return k * block;
}

/* Bring e's live file to its current fraction: the new audio at its
 * offset, then the header, in place. */
static void live_write(int dirfd, struct live_ent *e)
{
	unsigned char *hdr = NULL;
	int out = -1, parent = -1;
	int fin = openat(dirfd, e->final, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint64_t off;
	uint32_t rate;
	bool final;
	const char *base;
	if (fin < 0 || fstat(fin, &st) < 0 || !S_ISREG(st.st_mode)) {
		live_warn(e, "is missing");
		goto out;
	}
	uint64_t fsize = (uint64_t)st.st_size;
	dev_t fin_dev = st.st_dev;
	ino_t fin_ino = st.st_ino;
	if (store_wav_data_chunk(fin, fsize, &off, &rate) < 0 || off + 8 > fsize ||
	    off + 8 > LIVE_HDR_MAX) {
		live_warn(e, "is not a WAV with a data chunk");
		goto out;
	}
	size_t hlen = (size_t)off + 8;
	if (!(hdr = malloc(hlen)) || pread(fin, hdr, hlen, 0) != (ssize_t)hlen)
		goto out;
	uint64_t data = live_le32(hdr + off + 4);
	if (data > fsize - hlen)
		data = fsize - hlen;
	uint32_t block = live_block(hdr, hlen);
	uint64_t audio = live_target(e, data / block, block, fsize - hlen, &final);
	if (e->seen && !final && audio <= e->written)
		goto out; /* nothing new: a recorder never shrinks its file */
	parent = store_parent(dirfd, e->path, true, &base);
	out = parent < 0 ? -1
			 : openat(parent, base, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0 || fstat(out, &st) < 0) {
		fprintf(stderr, "fakepbx: %s: %s: %s\n", LIVE_FILE, e->path, strerror(errno));
		goto out;
	}
	if (st.st_dev == fin_dev && st.st_ino == fin_ino) {
		live_warn(e, "is the live file itself");
		goto out;
	}
	/* first write of this process, or the file was changed behind our
	 * back: write it whole, at its current length */
	if (!e->seen || (uint64_t)st.st_size != hlen + e->written) {
		e->written = 0;
		if (ftruncate(out, (off_t)(hlen + audio)) < 0)
			goto out;
	}
	if (!final) {
		live_put32(hdr + 4, e->zero ? 0 : (uint32_t)(hlen + audio - 8));
		live_put32(hdr + off + 4, e->zero ? 0 : (uint32_t)audio);
	}
	if (live_copy(fin, out, hlen + e->written, audio - e->written) < 0 ||
	    pwrite(out, hdr, hlen, 0) != (ssize_t)hlen) {
		fprintf(stderr, "fakepbx: %s: writing %s failed\n", LIVE_FILE, e->path);
		e->seen = false;
		goto out;
	}
	e->seen = true;
	e->written = audio;
	e->done = final;
out:
	free(hdr);
	if (out >= 0)
		close(out);
	if (parent >= 0)
		close(parent);
	if (fin >= 0)
		close(fin);
}

void live_sync(void)
{
	if (!live.dir)
		return;
	pthread_mutex_lock(&live.lock);
	int dirfd = open(live.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd >= 0) {
		live_reload(dirfd);
		for (size_t i = 0; i < live.n; i++)
			if (!live.v[i].done)
				live_write(dirfd, &live.v[i]);
		close(dirfd);
	}
	pthread_mutex_unlock(&live.lock);
}

bool live_any(void)
{
	pthread_mutex_lock(&live.lock);
	bool any = live.n > 0;
	pthread_mutex_unlock(&live.lock);
	return any;
}

void live_note(const char *const *paths, size_t n)
{
	pthread_mutex_lock(&live.lock);
	for (size_t i = 0; i < live.n; i++) {
		struct live_ent *e = &live.v[i];
		for (size_t k = 0; !e->done && !e->timed && k < n; k++)
			if (strcmp(paths[k], e->path) == 0) {
				e->count++;
				break;
			}
	}
	pthread_mutex_unlock(&live.lock);
}

void live_lock(void)
{
	pthread_mutex_lock(&live.lock);
}

void live_unlock(void)
{
	pthread_mutex_unlock(&live.lock);
}

void live_deleted(const char *path)
{
	for (size_t i = 0; i < live.n; i++)
		if (strcmp(live.v[i].path, path) == 0)
			live.v[i].done = true;
}

void live_free(void)
{
	pthread_mutex_lock(&live.lock);
	live_clear();
	live.have = false;
	pthread_mutex_unlock(&live.lock);
}
