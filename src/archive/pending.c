/* pending.c — see pending.h. Held in memory as the JSON object the file is (path → entry),
 * plus what this run touched and the spans it listed whole. */
#include "pending.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "base/grow.h"
#include "base/log.h"
#include "base/pbxtime.h"

static const char *const state_names[PENDING_NSTATES] = { "failed", "missing", "growing",
							  "not_started", "vanished" };

/* The minute of year 9999's end, and more: no listed span reaches past it. */
#define LISTED_MAX ((int64_t)1 << 40)

struct span {
	int64_t from, to;
};

struct pending {
	json_object *all;    /* pbx_path → {"day","calldate","state","first_listed","last_listed"} */
	json_object *touched; /* paths noted or removed by this run (keys only) */
	struct span *spans;   /* listed whole by this run, then (loaded) by earlier ones */
	size_t nspans, capspans;
	size_t nrun;          /* spans[0..nrun) are this run's (pending_settle's) */
	int changed;
};

const char *pending_state_name(enum pending_state st)
{
	return (unsigned)st < PENDING_NSTATES ? state_names[st] : "failed";
}

static int state_of(const char *name)
{
	for (int i = 0; i < PENDING_NSTATES; i++)
		if (!strcmp(name, state_names[i]))
			return i;
	return -1;
}

static struct pending *alloc_set(json_object *all)
{
	struct pending *p = calloc(1, sizeof *p);

	if (!p || !all || !(p->touched = json_object_new_object())) {
		free(p);
		json_object_put(all);
		return NULL;
	}
	p->all = all;
	return p;
}

struct pending *pending_new(void)
{
	return alloc_set(json_object_new_object());
}

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Whether `e` is an entry this module could have written (a hostile or damaged file is
 * refused whole rather than half-trusted). */
static int entry_ok(json_object *e)
{
	const char *day = str(e, "day"), *cd = str(e, "calldate"), *st = str(e, "state");
	pbx_minute m;

	return json_object_is_type(e, json_type_object) && day && strlen(day) == 10 && cd &&
	       pbxtime_parse(cd, &m) == 0 && st && state_of(st) >= 0 && str(e, "first_listed") &&
	       str(e, "last_listed");
}

struct pending *pending_parse(const char *buf, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *o = tok ? json_tokener_parse_ex(tok, buf, (int)len) : NULL, *f, *rec;

	json_tokener_free(tok);
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "format", &f) ||
	    strcmp(json_object_get_string(f), PENDING_FORMAT) != 0 ||
	    !json_object_object_get_ex(o, "recordings", &rec) ||
	    !json_object_is_type(rec, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	json_object_object_foreach(rec, k, v) {
		(void)k;
		if (!entry_ok(v)) {
			json_object_put(o);
			return NULL;
		}
	}
	json_object_get(rec);
	json_object *listed = NULL;
	json_object_object_get_ex(o, "listed", &listed);
	if (listed)
		json_object_get(listed);
	json_object_put(o);
	struct pending *p = alloc_set(rec);
	if (p && listed && json_object_is_type(listed, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(listed); i++) {
			json_object *sp = json_object_array_get_idx(listed, i);
			if (!json_object_is_type(sp, json_type_array) ||
			    json_object_array_length(sp) != 2)
				continue;
			json_object *a = json_object_array_get_idx(sp, 0),
				    *b = json_object_array_get_idx(sp, 1);
			if (!json_object_is_type(a, json_type_int) ||
			    !json_object_is_type(b, json_type_int) ||
			    json_object_get_int64(a) < -LISTED_MAX || json_object_get_int64(b) < 0 ||
			    json_object_get_int64(b) > LISTED_MAX ||
			    json_object_get_int64(a) > json_object_get_int64(b))
				continue; /* not a span a run wrote (and no overflow when merged) */
			/* A walk from before 1970 (a checkpoint at 0 less the lookback) wrote a
			 * negative start before pending_covered clamped it: the span still holds. */
			if (pending_covered(p, json_object_get_int64(a), json_object_get_int64(b)) != 0)
				break;
		}
		p->nrun = 0; /* none of them this run's */
		p->changed = 0;
	}
	json_object_put(listed);
	return p;
}

struct pending *pending_load(struct store *s, int *damaged)
{
	char err[256], *buf;
	ssize_t n;
	int dfd = store_open_dir(s, ".state", 0, err, sizeof err);
	struct pending *p;

	*damaged = 0;
	if (dfd < 0)
		return pending_new();
	buf = malloc(PENDING_MAX + 1);
	n = buf ? store_read_regular(dfd, PENDING_FILE, buf, PENDING_MAX + 1) : -1;
	close(dfd);
	if (!buf)
		return NULL;
	if (n < 0 && errno == ENOENT) {
		free(buf);
		return pending_new();
	}
	p = n >= 0 && (size_t)n <= PENDING_MAX ? pending_parse(buf, (size_t)n) : NULL;
	free(buf);
	if (!p) {
		*damaged = 1;
		p = pending_new();
		if (p)
			p->changed = 1; /* written anew at the end of the run */
	}
	return p;
}

void pending_free(struct pending *p)
{
	if (!p)
		return;
	json_object_put(p->all);
	json_object_put(p->touched);
	free(p->spans);
	free(p);
}

int pending_note(struct pending *p, const char *pbx_path, const char *day, const char *calldate,
		 enum pending_state st, const char *now)
{
	json_object *old, *e = json_object_new_object();
	const char *first = now;

	if (!e)
		return -1;
	if (json_object_object_get_ex(p->all, pbx_path, &old) && str(old, "first_listed"))
		first = str(old, "first_listed");
	json_object_object_add(e, "day", json_object_new_string(day));
	json_object_object_add(e, "calldate", json_object_new_string(calldate));
	json_object_object_add(e, "state", json_object_new_string(pending_state_name(st)));
	json_object_object_add(e, "first_listed", json_object_new_string(first));
	json_object_object_add(e, "last_listed", json_object_new_string(now));
	if (json_object_object_add(p->all, pbx_path, e) != 0 ||
	    json_object_object_add(p->touched, pbx_path, NULL) != 0)
		return -1;
	p->changed = 1;
	return 0;
}

void pending_remove(struct pending *p, const char *pbx_path)
{
	json_object_object_add(p->touched, pbx_path, NULL);
	if (json_object_object_get_ex(p->all, pbx_path, NULL)) {
		json_object_object_del(p->all, pbx_path);
		p->changed = 1;
	}
}

void pending_seen(struct pending *p, const char *pbx_path)
{
	json_object_object_add(p->touched, pbx_path, NULL);
}

int pending_covered(struct pending *p, int64_t from, int64_t to)
{
	if (to < 0)
		return 0; /* before 1970: no call is stamped there */
	if (from < 0)
		from = 0; /* a walk from a checkpoint at 0 less the lookback */
	struct span *n = grow_for_one(p->spans, &p->capspans, p->nspans, sizeof *p->spans);

	if (!n)
		return -1;
	p->spans = n;
	/* This run's spans first (pending_settle reads those only). */
	memmove(&p->spans[p->nrun + 1], &p->spans[p->nrun], (p->nspans - p->nrun) * sizeof *p->spans);
	p->spans[p->nrun].from = from;
	p->spans[p->nrun++].to = to;
	p->nspans++;
	p->changed = 1;
	return 0;
}

void pending_clip_run(struct pending *p, int64_t until)
{
	size_t k = 0;

	for (size_t i = 0; i < p->nspans; i++) {
		struct span sp = p->spans[i];
		if (i < p->nrun) {
			if (sp.from > until)
				continue; /* wholly after it: dropped */
			if (sp.to > until)
				sp.to = until;
		}
		p->spans[k++] = sp;
	}
	p->nrun -= p->nspans - k; /* only this run's were dropped */
	p->nspans = k;
}

static int in_spans(const struct pending *p, pbx_minute m)
{
	for (size_t i = 0; i < p->nrun; i++)
		if (m >= p->spans[i].from && m <= p->spans[i].to)
			return 1;
	return 0;
}

size_t pending_settle(struct pending *p, int (*held)(void *ctx, const char *day,
						     const char *pbx_path), void *ctx)
{
	size_t vanished = 0, ngone = 0;
	const char **gone = calloc(json_object_object_length(p->all) + 1, sizeof *gone);
	pbx_minute m;

	if (!gone)
		return 0;
	json_object_object_foreach(p->all, path, e) {
		const char *st = str(e, "state");
		if (json_object_object_get_ex(p->touched, path, NULL) ||
		    pbxtime_parse(str(e, "calldate"), &m) != 0 || !in_spans(p, m))
			continue;
		int h = held(ctx, str(e, "day"), path);
		if (h == 1) {
			gone[ngone++] = path;
		} else if (h == 0 && strcmp(st, "vanished") != 0) {
			json_object_object_add(e, "state", json_object_new_string("vanished"));
			p->changed = 1;
			vanished++;
		}
	}
	for (size_t i = 0; i < ngone; i++)
		json_object_object_del(p->all, gone[i]);
	if (ngone)
		p->changed = 1;
	free(gone);
	return vanished;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int pending_each(const struct pending *p,
		 int (*fn)(void *ctx, const struct pending_entry *e), void *ctx)
{
	size_t n = 0, total = json_object_object_length(p->all);
	const char **keys = calloc(total + 1, sizeof *keys);
	int rc = 0;

	if (!keys)
		return -1;
	json_object_object_foreach(p->all, path, val) {
		(void)val;
		keys[n++] = path;
	}
	if (n)
		qsort(keys, n, sizeof *keys, by_key);
	for (size_t i = 0; i < n && !rc; i++) {
		json_object *e;
		json_object_object_get_ex(p->all, keys[i], &e);
		struct pending_entry pe = { keys[i], str(e, "day"), str(e, "calldate"),
					    (enum pending_state)state_of(str(e, "state")),
					    str(e, "first_listed"), str(e, "last_listed") };
		rc = fn(ctx, &pe);
	}
	free(keys);
	return rc;
}

size_t pending_count(const struct pending *p)
{
	return (size_t)json_object_object_length(p->all);
}

static int by_from(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	return x->from < y->from ? -1 : x->from > y->from;
}

/* Every span listed whole, this run's and earlier runs', sorted and merged (touching ones
 * joined): at most p->nspans in `out`. Returns how many. */
static size_t merged(const struct pending *p, struct span *out)
{
	size_t n = 0;

	if (p->nspans == 0)
		return 0; /* p->spans may be NULL: neither memcpy nor qsort take one */
	memcpy(out, p->spans, p->nspans * sizeof *out);
	qsort(out, p->nspans, sizeof *out, by_from);
	for (size_t i = 0; i < p->nspans; i++) {
		if (n && out[i].from <= out[n - 1].to + 1) {
			if (out[i].to > out[n - 1].to)
				out[n - 1].to = out[i].to;
		} else {
			out[n++] = out[i];
		}
	}
	return n;
}

int pending_listed(const struct pending *p, int64_t from, int64_t to)
{
	struct span *m = malloc((p->nspans + 1) * sizeof *m);
	size_t n;
	int yes = 0;

	if (!m)
		return 0;
	n = merged(p, m);
	for (size_t i = 0; i < n && !yes; i++)
		yes = m[i].from <= from && to <= m[i].to;
	free(m);
	return yes;
}

char *pending_format(const struct pending *p, size_t *len)
{
	json_object *o = json_object_new_object();
	const char *j;
	char *out = NULL;

	if (!o)
		return NULL;
	json_object_object_add(o, "format", json_object_new_string(PENDING_FORMAT));
	json_object_object_add(o, "recordings", json_object_get(p->all));
	struct span *m = malloc((p->nspans + 1) * sizeof *m);
	json_object *listed = json_object_new_array();
	if (!m || !listed) {
		free(m);
		json_object_put(listed);
		json_object_put(o);
		return NULL;
	}
	size_t nm = merged(p, m);
	for (size_t i = 0; i < nm; i++) {
		json_object *sp = json_object_new_array();
		json_object_array_add(sp, json_object_new_int64(m[i].from));
		json_object_array_add(sp, json_object_new_int64(m[i].to));
		json_object_array_add(listed, sp);
	}
	free(m);
	json_object_object_add(o, "listed", listed);
	j = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					       JSON_C_TO_STRING_NOSLASHESCAPE);
	*len = strlen(j);
	out = malloc(*len + 2);
	if (out) {
		memcpy(out, j, *len);
		out[(*len)++] = '\n';
		out[*len] = '\0';
	}
	json_object_put(o);
	return out;
}

int pending_save(struct pending *p, struct store *s)
{
	char err[512], *text;
	size_t len;
	int rc;

	if (!p->changed)
		return 0;
	text = pending_format(p, &len);
	if (!text) {
		log_error("cannot write .state/" PENDING_FILE ": out of memory");
		return -1;
	}
	rc = store_put(s, ".state", PENDING_FILE, text, len, err, sizeof err);
	free(text);
	if (rc != 0) {
		log_error("cannot write .state/" PENDING_FILE ": %s", err);
		return -1;
	}
	p->changed = 0;
	return 0;
}
