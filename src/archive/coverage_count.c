/* coverage_count.c — the pure half of coverage.h: one day's entries counted, the cache's rule,
 * the default range, a day as JSON. No I/O (coverage.c reads the archive). */
#include "coverage.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hold.h"
#include "manifest.h"

static const char *const chain_names[] = { "ok", "ahead", "unlisted", "broken", "none" };

const char *coverage_chain_name(enum coverage_chain c)
{
	return (unsigned)c <= COVERAGE_CHAIN_NONE ? chain_names[c] : "broken";
}

/* Versions of one path together, oldest first. */
static int by_path_version(const void *a, const void *b)
{
	const struct manifest_entry *x = *(const struct manifest_entry *const *)a;
	const struct manifest_entry *y = *(const struct manifest_entry *const *)b;
	int c = strcmp(x->pbx_path, y->pbx_path);

	if (c)
		return c;
	if (x->unavailable != y->unavailable && x->version == y->version)
		return x->unavailable ? -1 : 1; /* an archived version outranks its "unavailable" */
	return x->version < y->version ? -1 : x->version > y->version;
}

int coverage_count(const struct manifest_entry *const *e, size_t n, const struct holds *h,
		   struct coverage_counts *out)
{
	const struct manifest_entry **v;

	memset(out, 0, sizeof *out);
	if (!n)
		return 0;
	v = malloc(n * sizeof *v);
	if (!v)
		return -1;
	memcpy(v, e, n * sizeof *v);
	qsort(v, n, sizeof *v, by_path_version);
	for (size_t i = 0; i < n;) {
		const struct manifest_entry *latest = NULL; /* latest archived version */
		int forgotten = 0;
		size_t j = i;

		for (; j < n && !strcmp(v[j]->pbx_path, v[i]->pbx_path); j++) {
			const struct manifest_entry *x = v[j];
			if (x->unavailable)
				continue;
			latest = x;
			forgotten |= x->forgotten;
			if (!x->pruned && !x->forgotten && !x->offloaded) {
				out->files++;
				out->bytes += x->size;
			}
		}
		out->recordings++;
		if (!latest) {
			out->unavailable++;
		} else {
			out->archived++;
			out->invalid += latest->invalid != 0;
			out->pbx_deleted += latest->pbx_deleted != 0;
			out->pruned += latest->pruned != 0;
			out->offloaded += latest->offloaded != 0;
			out->forgotten += forgotten;
			out->held += !forgotten && h && hold_match(h, latest) != NULL;
		}
		i = j;
	}
	free(v);
	return 0;
}

static long long get_ll(json_object *o, const char *key, long long dflt)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return dflt;
	return (long long)json_object_get_int64(v);
}

int coverage_cache_fits(json_object *entry, long long size, long long mtime_ns,
			unsigned long head_lines, const char *head_last)
{
	json_object *v;

	if (!entry || !json_object_is_type(entry, json_type_object) ||
	    get_ll(entry, "size", -1) != size || get_ll(entry, "mtime_ns", -1) != mtime_ns ||
	    get_ll(entry, "head_lines", -1) != (long long)head_lines ||
	    !json_object_object_get_ex(entry, "head_last", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), head_last ? head_last : "") != 0 ||
	    !json_object_object_get_ex(entry, "counts", &v) ||
	    !json_object_is_type(v, json_type_object))
		return 0;
	return 1;
}

void coverage_range(const char *first, const char *last, char from[11], char to[11])
{
	int y = 0, m = 0, d = 0;

	snprintf(to, 11, "%s", last);
	if (sscanf(last, "%4d-%2d-%2d", &y, &m, &d) != 3) {
		snprintf(from, 11, "%s", first);
		return;
	}
	m -= 2;
	if (m < 1) {
		m += 12;
		y--;
	}
	char buf[32];
	snprintf(buf, sizeof buf, "%04d-%02d-01", y, m);
	snprintf(from, 11, "%.10s", buf);
	if (strcmp(from, first) < 0)
		snprintf(from, 11, "%s", first);
}

/* "YYYY-MM-DD" as a UTC calendar day, at noon (so no zone or DST moves a day), normalized
 * into *tm (2026-02-30 becomes 2026-03-02). Returns its time, or -1 when `d` does not even
 * scan as Y-M-D. */
static time_t day_noon(const char *d, struct tm *tm)
{
	time_t t;

	memset(tm, 0, sizeof *tm);
	if (sscanf(d, "%4d-%2d-%2d", &tm->tm_year, &tm->tm_mon, &tm->tm_mday) != 3)
		return -1;
	tm->tm_year -= 1900;
	tm->tm_mon -= 1;
	tm->tm_hour = 12;
	t = timegm(tm);
	gmtime_r(&t, tm);
	return t;
}

void coverage_next_day(char d[11])
{
	struct tm tm;
	time_t t = day_noon(d, &tm) + 86400;

	gmtime_r(&t, &tm);
	strftime(d, 11, "%Y-%m-%d", &tm);
}

int coverage_valid_day(const char *d)
{
	char again[11];
	struct tm tm;

	if (!d || strlen(d) != 10 || day_noon(d, &tm) == -1)
		return 0;
	strftime(again, sizeof again, "%Y-%m-%d", &tm);
	return strcmp(again, d) == 0;
}

int coverage_weekday(const char *d)
{
	struct tm tm;

	return day_noon(d, &tm) == -1 ? 0 : (tm.tm_wday + 6) % 7;
}

static void add(json_object *o, const char *key, unsigned long long v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

json_object *coverage_day_json(const struct coverage_day *d)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "day", json_object_new_string(d->day));
	add(o, "archived", d->c.archived);
	add(o, "only_on_pbx", d->only_on_pbx);
	add(o, "in_progress", d->in_progress);
	add(o, "unavailable", d->c.unavailable);
	add(o, "invalid", d->c.invalid);
	add(o, "pbx_deleted", d->c.pbx_deleted);
	add(o, "held", d->c.held);
	add(o, "forgotten", d->c.forgotten);
	add(o, "pruned", d->c.pruned);
	add(o, "offloaded", d->c.offloaded);
	add(o, "vanished", d->vanished);
	add(o, "recordings", d->c.recordings);
	add(o, "files", d->c.files);
	add(o, "bytes", d->c.bytes);
	json_object_object_add(o, "cdr_recordings", d->cdr_recordings >= 0
				      ? json_object_new_int64(d->cdr_recordings) : NULL);
	json_object_object_add(o, "cdr_rows", d->cdr_rows >= 0 ? json_object_new_int64(d->cdr_rows)
							       : NULL);
	json_object_object_add(o, "cdr_sealed", json_object_new_boolean(d->cdr_sealed));
	json_object_object_add(o, "cdr_mismatch", json_object_new_boolean(d->cdr_mismatch));
	json_object_object_add(o, "chain", json_object_new_string(coverage_chain_name(d->chain)));
	json_object_object_add(o, "listed", json_object_new_boolean(d->listed));
	return o;
}
