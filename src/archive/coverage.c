/* coverage.c — see coverage.h. The walk: every day the archive knows (a manifest file, a CDR
 * file, a pending recording), each from the cache when its keys still hold, else counted
 * again; then the range's days in calendar order, the totals and the archive-wide figures. */
#include "coverage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdrfile.h"
#include "head.h"
#include "hold.h"
#include "manifest.h"
#include "pending.h"
#include "state.h"
#include "store.h"
#include "base/grow.h"
#include "base/log.h"
#include "pbx/cdr.h"

#define RELOAD_EVERY 32 /* days counted before the manifest handle is reopened (memory) */

struct walk {
	struct store *s;
	struct manifest *m;
	struct holds *holds;
	struct head head;
	int have_head;
	json_object *cache;     /* the cache's "days", or NULL */
	json_object *fresh;     /* the cache being written */
	int mdir, cdir;         /* manifest/ and cdr/, or -1 */
	unsigned loaded;
	unsigned long recounted;
	char **days;            /* every day known, sorted, unique */
	size_t ndays, capdays;
};

static int add_day(void *ctx, const char *day)
{
	struct walk *w = ctx;

	char **n = grow_for_one(w->days, &w->capdays, w->ndays, sizeof *w->days);

	if (!n)
		return -1;
	w->days = n;
	w->days[w->ndays] = strdup(day);
	return w->days[w->ndays++] ? 0 : -1;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The days of the cdr/ folder's DAY.jsonl files. */
static int cdr_days(struct walk *w)
{
	DIR *d;
	struct dirent *de;
	int fd, rc = 0;

	if (w->cdir < 0 || (fd = dup(w->cdir)) < 0 || !(d = fdopendir(fd)))
		return 0;
	while (!rc && (de = readdir(d))) {
		char day[11];
		if (strlen(de->d_name) == 16 && manifest_is_day_file(de->d_name)) {
			snprintf(day, sizeof day, "%.10s", de->d_name);
			rc = add_day(w, day);
		}
	}
	closedir(d);
	return rc;
}

static long long mtime_ns(const struct stat *st)
{
	return (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

/* stat of DIR/DAY.jsonl: 0 found, 1 missing (or dirfd -1). */
static int stat_day(int dirfd, const char *day, struct stat *st)
{
	char name[32];

	snprintf(name, sizeof name, "%s.jsonl", day);
	memset(st, 0, sizeof *st);
	return dirfd >= 0 && fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) == 0 &&
			       S_ISREG(st->st_mode) ? 0 : 1;
}

#define COUNT_FIELDS(X)                                                                      \
	X(recordings) X(archived) X(invalid) X(unavailable) X(pbx_deleted) X(forgotten)      \
	X(pruned) X(offloaded) X(held) X(files) X(bytes)

static json_object *counts_json(const struct coverage_counts *c)
{
	json_object *o = json_object_new_object();
#define PUT(f) json_object_object_add(o, #f, json_object_new_int64((int64_t)c->f));
	if (o) {
		COUNT_FIELDS(PUT)
	}
#undef PUT
	return o;
}

static void counts_read(json_object *o, struct coverage_counts *c)
{
	json_object *v;
#define GET(f)                                                                               \
	c->f = json_object_object_get_ex(o, #f, &v) ? (__typeof__(c->f))json_object_get_int64(v) : 0;
	COUNT_FIELDS(GET)
#undef GET
}

struct entries {
	const struct manifest_entry **v;
	size_t n, cap;
};

static int collect(void *ctx, const struct manifest_entry *e)
{
	struct entries *es = ctx;

	if (es->n == es->cap) {
		size_t cap = es->cap ? es->cap * 2 : 256;
		const struct manifest_entry **n = realloc(es->v, cap * sizeof *n);
		if (!n)
			return -1;
		es->v = n;
		es->cap = cap;
	}
	es->v[es->n++] = e;
	return 0;
}

/* The manifest side of `day` counted from its file; *cacheable when the file did not change
 * meanwhile. Returns 0, or -1 out of memory. */
static int recount(struct walk *w, const char *day, const struct stat *before,
		   const struct head_day *hd, struct coverage_day *d, int *cacheable)
{
	struct entries es = { NULL, 0, 0 };
	struct manifest_day_cdr mc;
	struct stat after;
	char last[SHA256_HEX_LEN + 1], why[256], err[256];
	unsigned long lines = 0;
	int tip = head_day_tip(w->s, day, &lines, last, why, sizeof why), rc;

	if (tip == 0 && hd && lines == hd->lines && !strcmp(last, hd->last))
		d->chain = COVERAGE_CHAIN_OK;
	else if (tip < 0 || (hd && head_check_day(w->s, hd, why, sizeof why) != 0))
		d->chain = COVERAGE_CHAIN_BROKEN;
	else
		d->chain = hd ? COVERAGE_CHAIN_AHEAD : COVERAGE_CHAIN_UNLISTED;
	if (w->loaded >= RELOAD_EVERY) {
		manifest_close(w->m);
		w->m = manifest_open(w->s, err, sizeof err);
		w->loaded = 0;
		if (!w->m)
			return -1;
	}
	w->loaded++;
	w->recounted++;
	rc = manifest_each_entry(w->m, day, collect, &es);
	*cacheable = rc == 0;
	if (rc == 0 && coverage_count(es.v, es.n, w->holds, &d->c) != 0) {
		free(es.v);
		return -1;
	}
	free(es.v);
	if (rc != 0)
		d->chain = COVERAGE_CHAIN_BROKEN; /* unreadable: counted as nothing, said as broken */
	if (manifest_day_cdr(w->m, day, &mc) == 0)
		d->cdr_sealed = mc.archived;
	if (stat_day(w->mdir, day, &after) != 0 || after.st_size != before->st_size ||
	    mtime_ns(&after) != mtime_ns(before))
		*cacheable = 0; /* a run appended meanwhile: counted again next time */
	return 0;
}

/* The CDR side of `day`: rows and distinct recordings of cdr/DAY.jsonl. */
static int cdr_side(struct walk *w, const char *day, json_object *cached, json_object *out,
		    struct coverage_day *d)
{
	struct stat st;
	json_object *c = NULL, *v;
	char name[32];
	struct cdrfile_buf buf;
	struct cdr_list l;

	d->cdr_rows = d->cdr_recordings = -1;
	if (stat_day(w->cdir, day, &st) != 0)
		return 0;
	if (cached && json_object_object_get_ex(cached, "cdr", &c) &&
	    json_object_object_get_ex(c, "size", &v) && json_object_get_int64(v) == st.st_size &&
	    json_object_object_get_ex(c, "mtime_ns", &v) && json_object_get_int64(v) == mtime_ns(&st)) {
		json_object_object_get_ex(c, "rows", &v);
		d->cdr_rows = (long)json_object_get_int64(v);
		json_object_object_get_ex(c, "recordings", &v);
		d->cdr_recordings = (long)json_object_get_int64(v);
	} else {
		snprintf(name, sizeof name, "%s.jsonl", day);
		cdr_list_init(&l);
		if (cdrfile_read(w->s, name, &buf) == 1 && cdrfile_parse_jsonl(day, &buf, &l) == 0) {
			const char **keys = calloc(l.count + 1, sizeof *keys);
			size_t nk = 0;
			if (!keys) {
				free(buf.p);
				cdr_list_free(&l);
				return -1;
			}
			for (size_t i = 0; i < l.count; i++)
				if (l.rows[i].recording_key[0])
					keys[nk++] = l.rows[i].recording_key;
			if (nk)
				qsort(keys, nk, sizeof *keys, by_str);
			d->cdr_recordings = 0;
			for (size_t i = 0; i < nk; i++)
				d->cdr_recordings += i == 0 || strcmp(keys[i], keys[i - 1]) != 0;
			d->cdr_rows = (long)l.count;
			free(keys);
		}
		free(buf.p);
		cdr_list_free(&l);
		if (d->cdr_rows < 0)
			return 0;
	}
	c = json_object_new_object();
	if (!c)
		return -1;
	json_object_object_add(c, "size", json_object_new_int64(st.st_size));
	json_object_object_add(c, "mtime_ns", json_object_new_int64(mtime_ns(&st)));
	json_object_object_add(c, "rows", json_object_new_int64(d->cdr_rows));
	json_object_object_add(c, "recordings", json_object_new_int64(d->cdr_recordings));
	json_object_object_add(out, "cdr", c);
	return 0;
}

/* One day, from the cache or counted; its entry of the new cache added to w->fresh. */
static int one_day(struct walk *w, const char *day, struct coverage_day *d)
{
	const struct head_day *hd = w->have_head ? head_find(&w->head, day) : NULL;
	json_object *cached = NULL, *entry = json_object_new_object(), *v;
	struct stat st;
	int cacheable = 1;

	memset(d, 0, sizeof *d);
	snprintf(d->day, sizeof d->day, "%s", day);
	d->chain = COVERAGE_CHAIN_NONE;
	if (!entry)
		return -1;
	if (w->cache)
		json_object_object_get_ex(w->cache, day, &cached);
	if (stat_day(w->mdir, day, &st) != 0) {
		if (hd)
			d->chain = COVERAGE_CHAIN_BROKEN; /* the head lists a day that is gone */
		cacheable = 0;
	} else if (coverage_cache_fits(cached, st.st_size, mtime_ns(&st), hd ? hd->lines : 0,
				       hd ? hd->last : "")) {
		json_object_object_get_ex(cached, "counts", &v);
		counts_read(v, &d->c);
		d->cdr_sealed = json_object_object_get_ex(cached, "cdr_sealed", &v) &&
				json_object_get_boolean(v);
		const char *ch = json_object_object_get_ex(cached, "chain", &v)
					 ? json_object_get_string(v) : "broken";
		d->chain = !strcmp(ch, "ok") ? COVERAGE_CHAIN_OK
			   : !strcmp(ch, "ahead") ? COVERAGE_CHAIN_AHEAD
			   : !strcmp(ch, "unlisted") ? COVERAGE_CHAIN_UNLISTED : COVERAGE_CHAIN_BROKEN;
	} else if (recount(w, day, &st, hd, d, &cacheable) != 0) {
		json_object_put(entry);
		return -1;
	}
	if (cacheable) {
		json_object_object_add(entry, "size", json_object_new_int64(st.st_size));
		json_object_object_add(entry, "mtime_ns", json_object_new_int64(mtime_ns(&st)));
		json_object_object_add(entry, "head_lines", json_object_new_int64(hd ? (int64_t)hd->lines
										    : 0));
		json_object_object_add(entry, "head_last", json_object_new_string(hd ? hd->last : ""));
		json_object_object_add(entry, "chain",
				       json_object_new_string(coverage_chain_name(d->chain)));
		json_object_object_add(entry, "cdr_sealed", json_object_new_boolean(d->cdr_sealed));
		json_object_object_add(entry, "counts", counts_json(&d->c));
	}
	if (cdr_side(w, day, cached, entry, d) != 0) {
		json_object_put(entry);
		return -1;
	}
	json_object_object_add(w->fresh, day, entry);
	return 0;
}

/* The holds file's identity, a key of the whole cache: "size:mtime_ns", "" when none. */
static void holds_key(struct store *s, char out[64])
{
	struct stat st;

	out[0] = '\0';
	if (fstatat(store_root_fd(s), HOLDS_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0)
		snprintf(out, 64, "%lld:%lld", (long long)st.st_size, mtime_ns(&st));
}

static json_object *cache_load(struct store *s, const char *hkey, int *state)
{
	char err[256], *buf = malloc(COVERAGE_MAX + 1);
	int dfd = store_open_dir(s, ".state", 0, err, sizeof err);
	ssize_t n = buf && dfd >= 0 ? store_read_regular(dfd, COVERAGE_FILE, buf, COVERAGE_MAX) : -1;
	json_object *o = NULL, *v, *days = NULL;

	if (dfd >= 0)
		close(dfd);
	*state = 1;
	if (n >= 0) {
		buf[n] = '\0';
		o = json_tokener_parse(buf);
		*state = 2;
		if (o && json_object_object_get_ex(o, "format", &v) &&
		    !strcmp(json_object_get_string(v), COVERAGE_FORMAT) &&
		    json_object_object_get_ex(o, "holds", &v) &&
		    !strcmp(json_object_get_string(v), hkey) &&
		    json_object_object_get_ex(o, "days", &days) &&
		    json_object_is_type(days, json_type_object)) {
			*state = 0;
			json_object_get(days);
		} else {
			days = NULL;
		}
	}
	json_object_put(o);
	free(buf);
	return days;
}

static void cache_save(struct walk *w, const char *hkey)
{
	json_object *o = json_object_new_object();
	char err[512];

	if (!o)
		return;
	json_object_object_add(o, "format", json_object_new_string(COVERAGE_FORMAT));
	json_object_object_add(o, "holds", json_object_new_string(hkey));
	json_object_object_add(o, "days", json_object_get(w->fresh));
	const char *j = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (store_put(w->s, ".state", COVERAGE_FILE, j, strlen(j), err, sizeof err) != 0)
		log_warn("cannot write .state/" COVERAGE_FILE " (it is only a cache): %s", err);
	json_object_put(o);
}

struct pend_ctx {
	struct coverage *c;
	struct coverage_day *all;   /* every day, sorted */
	size_t n;
};

static struct coverage_day *find_day(struct coverage_day *v, size_t n, const char *day)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(v[mid].day, day);
		if (!c)
			return &v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int pend_one(void *ctx, const struct pending_entry *e)
{
	struct pend_ctx *pc = ctx;
	struct coverage_day *d = find_day(pc->all, pc->n, e->day);

	if (!d)
		return 0;
	if (e->state == PENDING_VANISHED) {
		d->vanished++;
		return 0;
	}
	if (e->state == PENDING_GROWING)
		d->in_progress++;
	else
		d->only_on_pbx++;
	if (!pc->c->oldest_pending[0] || strcmp(e->calldate, pc->c->oldest_pending) < 0)
		snprintf(pc->c->oldest_pending, sizeof pc->c->oldest_pending, "%s", e->calldate);
	return 0;
}

static int pend_day(void *ctx, const struct pending_entry *e)
{
	return add_day(ctx, e->day);
}

static void sum(struct coverage_day *t, const struct coverage_day *d)
{
#define ADD(f) t->c.f += d->c.f;
	COUNT_FIELDS(ADD)
#undef ADD
	t->only_on_pbx += d->only_on_pbx;
	t->in_progress += d->in_progress;
	t->vanished += d->vanished;
	if (d->cdr_rows >= 0) {
		t->cdr_rows = (t->cdr_rows > 0 ? t->cdr_rows : 0) + d->cdr_rows;
		t->cdr_recordings = (t->cdr_recordings > 0 ? t->cdr_recordings : 0) +
				    d->cdr_recordings;
	}
	t->cdr_mismatch |= d->cdr_mismatch;
	t->listed &= d->listed;
	if (d->chain == COVERAGE_CHAIN_BROKEN || (d->chain != COVERAGE_CHAIN_NONE &&
						  d->chain > t->chain))
		t->chain = d->chain;
}

/* Whether the PBX was listed through `day`: the checkpoint lies past it, or runs listed its
 * every minute whole (pending.h). */
static int day_listed(const struct coverage *c, const struct pending *p, const char *day)
{
	char a[32], b[32];
	pbx_minute from, to;

	if (c->listed_through[0] && strncmp(day, c->listed_through, 10) < 0)
		return 1;
	snprintf(a, sizeof a, "%.10s 00:00", day);
	snprintf(b, sizeof b, "%.10s 23:59", day);
	return p && pbxtime_parse(a, &from) == 0 && pbxtime_parse(b, &to) == 0 &&
	       pending_listed(p, from, to);
}

/* The range's calendar days into c->days, the range's totals into c->total. */
static int lay_out(struct coverage *c, const struct pending *p, struct coverage_day *all,
		   size_t n, const char *from, const char *to)
{
	char d[11];
	size_t cap = 0;

	snprintf(c->from, sizeof c->from, "%s", from);
	snprintf(c->to, sizeof c->to, "%s", to);
	c->total.cdr_rows = c->total.cdr_recordings = -1;
	c->total.chain = COVERAGE_CHAIN_OK;
	c->total.listed = 1;
	for (snprintf(d, sizeof d, "%s", from); strcmp(d, to) <= 0; coverage_next_day(d)) {
		const struct coverage_day *have = find_day(all, n, d);
		if (c->n == cap) {
			cap = cap ? cap * 2 : 128;
			struct coverage_day *nv = realloc(c->days, cap * sizeof *nv);
			if (!nv)
				return -1;
			c->days = nv;
		}
		if (have) {
			c->days[c->n] = *have;
		} else {
			memset(&c->days[c->n], 0, sizeof *c->days);
			snprintf(c->days[c->n].day, sizeof c->days[c->n].day, "%s", d);
			c->days[c->n].cdr_rows = c->days[c->n].cdr_recordings = -1;
			c->days[c->n].chain = COVERAGE_CHAIN_NONE;
			c->days[c->n].listed = day_listed(c, p, d);
		}
		sum(&c->total, &c->days[c->n]);
		c->n++;
	}
	return 0;
}

int coverage_build(struct store *s, const struct coverage_opts *o, struct coverage *c,
		   char *err, size_t errlen)
{
	struct walk w = { .s = s, .mdir = -1, .cdir = -1 };
	struct coverage_day *all = NULL;
	struct pending *p = NULL;
	char hkey[64], from[11], to[11];
	size_t n = 0;
	int rc = -1, damaged;

	memset(c, 0, sizeof *c);
	if ((o->from && !coverage_valid_day(o->from)) || (o->to && !coverage_valid_day(o->to)) ||
	    (o->from && o->to && strcmp(o->from, o->to) > 0)) {
		err_set(err, errlen, "the range must be days YYYY-MM-DD, --from not after --to");
		return -1;
	}
	c->head.state = head_load(s, o->pk, o->npk, 1, &w.head, c->head.why, sizeof c->head.why);
	w.have_head = c->head.state == 0;
	if (w.have_head) {
		c->head.seq = w.head.seq;
		snprintf(c->head.time, sizeof c->head.time, "%s", w.head.time);
		c->head.is_signed = w.head.is_signed;
	}
	w.mdir = store_open_dir(s, "manifest", 0, err, errlen);
	w.cdir = store_open_dir(s, "cdr", 0, err, errlen);
	err_set(err, errlen, "out of memory");
	if (!(w.m = manifest_open(s, err, errlen)) || !(w.fresh = json_object_new_object()))
		goto out;
	w.holds = holds_load(s, err, errlen);
	if (!w.holds) {
		log_warn("holds.json: %s; no recording is counted as held", err);
		err_set(err, errlen, "out of memory");
	}
	holds_key(s, hkey);
	w.cache = cache_load(s, hkey, &c->cache_state);
	p = pending_load(s, &damaged);
	if (!p)
		goto out;
	if (damaged)
		log_warn(".state/" PENDING_FILE " is unreadable: recordings only on the PBX are not "
			 "shown");
	if (manifest_each_day(w.m, add_day, &w) != 0 || cdr_days(&w) != 0 ||
	    pending_each(p, pend_day, &w) != 0)
		goto out;
	if (w.ndays)
		qsort(w.days, w.ndays, sizeof *w.days, by_str);
	all = calloc(w.ndays + 1, sizeof *all);
	if (!all)
		goto out;
	for (size_t i = 0; i < w.ndays; i++) {
		if (n && !strcmp(w.days[i], all[n - 1].day))
			continue;
		if (one_day(&w, w.days[i], &all[n]) != 0)
			goto out;
		n++;
	}
	/* Through where the PBX was listed: a day counts as listed whole only when the
	 * checkpoint, less the lookback the next run lists again, lies past its end (a run stopped early, or one that could not list, leaves
	 * the rest of the day unseen: nothing of it is in the manifest or the pending list). */
	pbx_minute cp;
	if (state_read_checkpoint(s, &cp) == 1)
		pbxtime_format(cp - o->lookback, c->listed_through);
	for (size_t i = 0; i < n; i++)
		all[i].listed = day_listed(c, p, all[i].day);
	struct pend_ctx pc = { c, all, n };
	pending_each(p, pend_one, &pc);
	c->all.chain = COVERAGE_CHAIN_OK;
	c->all.listed = 1;
	c->all.cdr_rows = c->all.cdr_recordings = -1;
	for (size_t i = 0; i < n; i++) {
		struct coverage_day *d = &all[i];
		d->cdr_mismatch = d->cdr_recordings >= 0 &&
				  (unsigned long)d->cdr_recordings !=
					  d->c.recordings + d->only_on_pbx + d->in_progress + d->vanished;
		c->days_open += d->only_on_pbx + d->in_progress > 0 || !d->listed ||
				(o->cdr_archive && !d->cdr_sealed);
		c->chain_days[d->chain]++;
		sum(&c->all, d);
	}
	c->days_with_data = n;
	c->recounted = w.recounted;
	if ((w.recounted || c->cache_state != 0) && !store_readonly(s))
		cache_save(&w, hkey);
	if (n) {
		coverage_range(all[0].day, all[n - 1].day, from, to);
		if (lay_out(c, p, all, n, o->from ? o->from : o->to && strcmp(o->to, from) < 0 ? o->to
									  : from,
			    o->to ? o->to : o->from && strcmp(o->from, to) > 0 ? o->from : to) != 0)
			goto out;
	} else if ((o->from || o->to) &&
		   lay_out(c, p, all, 0, o->from ? o->from : o->to, o->to ? o->to : o->from) != 0) {
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		coverage_free(c);
	free(all);
	for (size_t i = 0; i < w.ndays; i++)
		free(w.days[i]);
	free(w.days);
	pending_free(p);
	json_object_put(w.cache);
	json_object_put(w.fresh);
	holds_free(w.holds);
	manifest_close(w.m);
	if (w.have_head)
		head_release(&w.head);
	if (w.mdir >= 0)
		close(w.mdir);
	if (w.cdir >= 0)
		close(w.cdir);
	return rc;
}

void coverage_free(struct coverage *c)
{
	free(c->days);
	c->days = NULL;
	c->n = 0;
}
