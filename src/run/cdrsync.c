/* cdrsync.c — see cdrsync.h: the join and the witness, window by window. The CDR archive after
 * the walk is cdrsync_archive.c's (cdrsync_internal.h). */
#include "cdrsync_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "window.h"
#include "archive/manifest.h"
#include "archive/recpath.h"
#include "base/grow.h"
#include "base/log.h"
#include "base/pbxtime.h"
#include "base/utf8.h"
#include "pbx/cdr.h"
#include "pbx/listing.h"
#include "pbx/pbx.h"
#include "pbx/recname.h"

#define MARGIN_MINUTES 60          /* a call's CDR starts before its recording does */
#define MAX_DAYS 4096              /* days remembered as not sealed yet */

struct cdrsync *cdrsync_new(void)
{
	struct cdrsync *c = calloc(1, sizeof *c);

	if (!c) {
		log_error("out of memory");
		return NULL;
	}
	cdr_list_init(&c->window);
	return c;
}

void cdrsync_free(struct cdrsync *c)
{
	if (!c)
		return;
	cdr_list_free(&c->window);
	free(c->days);
	free(c);
}

int cdrsync_note_day(struct cdrsync *c, const char *day, int sealed)
{
	for (size_t i = c->ndays; i-- > 0;)
		if (memcmp(c->days[i].day, day, 10) == 0)
			return 0;
	if (c->ndays >= MAX_DAYS)
		return 0; /* the next run picks the rest up */
	struct day_item *p = grow_for_one(c->days, &c->capdays, c->ndays, sizeof *c->days);

	if (!p)
		return -1;
	c->days = p;
	memcpy(c->days[c->ndays].day, day, 10);
	c->days[c->ndays].day[10] = '\0';
	c->days[c->ndays++].sealed = (char)sealed;
	return 0;
}

/* pbx_cdr()'s judge of a 9006 answer: rows into the list. */
struct take_rows {
	struct cdr_list *out;
	const char *what;
};

static int take_rows(void *ctx, const char *body, size_t len)
{
	struct take_rows *t = ctx;
	char err[256];

	switch (cdr_parse(body, len, t->out, err, sizeof err)) {
	case CDR_OK:
		return 0;
	case CDR_ERROR_OBJECT:
		log_debug("9006 answered an error object: %s", err);
		return 1;
	case CDR_TOO_MANY:
		log_debug("9006 for %s: %s", t->what, err);
		return 2;
	default:
		log_error("cannot read the PBX's CDRs (%s): %s", t->what, err);
		return -1;
	}
}

int cdrsync_query(struct run *r, const char *a, const char *b, struct cdr_list *out)
{
	char what[64];
	struct take_rows t = { out, what };

	cdr_list_free(out);
	snprintf(what, sizeof what, "%s to %s", a, b);
	return pbx_cdr(r->pbx, PBX_CDR_QUERY, a, b, take_rows, &t);
}

/* 9006 for [start, end] appended to `out`, split in halves wherever the PBX sent fewer rows
 * than its totalcount — or sent no count (or a count of what it sent) and as many rows as its
 * largest answer yet, which may be a cap (window.h) — or failed over more than a month
 * (perhaps an answer over our cap: a first run's window reaches back years), or answered more
 * than a run holds at once (PBX_TOO_LARGE). Sets *cut when a
 * one-minute answer still fell short of its count. Returns a pbx_result. */
static int query_split(struct run *r, pbx_minute start, pbx_minute end, struct cdr_list *out,
		       int *cut)
{
	char a[PBXTIME_MINUTE_LEN + 1], b[PBXTIME_MINUTE_LEN + 1], what[64];
	struct take_rows t = { out, what };
	size_t before = out->count;
	pbx_minute from, to;
	int rc;

	/* Padded like a listing window (window.h): every reading of the bounds sees it all. */
	window_request(start, end, &from, &to);
	pbxtime_format(from, a);
	pbxtime_format(to, b);
	snprintf(what, sizeof what, "%s to %s", a, b);
	rc = pbx_cdr(r->pbx, PBX_CDR_QUERY, a, b, take_rows, &t);
	if (rc == PBX_OK) {
		size_t got = out->count - before;
		long long count = out->totalcount;
		int short_of_count = count >= 0 && (unsigned long long)count > got;
		int may_be_capped = (count < 0 || (unsigned long long)count == got) &&
				    got >= WINDOW_CAP_MIN_ROWS && got >= r->cdr->largest;

		if (got > r->cdr->largest)
			r->cdr->largest = got;
		if (!short_of_count && (!may_be_capped || start >= end))
			return PBX_OK;
	}
	if (rc == PBX_TOO_LARGE && (start >= end || out->count >= CDR_MAX_ROWS / 2)) {
		log_warn("the PBX's CDRs for %s are more than a run holds at once", what);
		return PBX_FAILED;
	}
	if (rc != PBX_OK && rc != PBX_TOO_LARGE && (rc != PBX_FAILED || end - start < 31 * 1440))
		return rc;
	if (start >= end) {
		*cut = 1;
		return PBX_OK;
	}
	out->count = before;
	pbx_minute mid = start + (end - start) / 2;
	rc = query_split(r, start, mid, out, cut);
	return rc == PBX_OK ? query_split(r, mid + 1, end, out, cut) : rc;
}

const struct cdr_list *cdrsync_window(struct run *r, pbx_minute start, pbx_minute end)
{
	struct cdrsync *c = r->cdr;
	char a[PBXTIME_MINUTE_LEN + 1], b[PBXTIME_MINUTE_LEN + 1];
	int rc, cut = 0;

	if (!c || !r->cfg->cdr.join || c->off)
		return NULL;
	pbxtime_format(start - MARGIN_MINUTES, a);
	pbxtime_format(end, b);
	cdr_list_free(&c->window);
	rc = query_split(r, start - MARGIN_MINUTES, end, &c->window, &cut);
	if (rc != PBX_OK) {
		r->t.cdr_errors++;
		if (rc == PBX_REFUSED) {
			c->off = 1;
			log_warn("the PBX does not give user '%s' its CDRs (9006); recordings are "
				 "archived without call data this run", r->cfg->pbx.username);
		} else {
			log_warn("no CDRs for %s to %s; those recordings are joined to theirs in a "
				 "later run", a, b);
		}
		return NULL;
	}
	if (cut)
		log_warn("the PBX sends fewer CDRs than it counts for some minute from %s to %s; "
			 "recordings without theirs are joined in a later run", a, b);
	if (r->cfg->cdr.archive)
		for (size_t i = 0; i < c->window.count; i++)
			if (cdrsync_note_day(c, c->window.rows[i].calldate, 0) != 0) {
				log_error("out of memory");
				return NULL;
			}
	return &c->window;
}

void cdrsync_join(const struct cdr_list *cdrs, struct recording *rec)
{
	enum cdr_join_how how = CDR_JOIN_NONE;
	int i = cdrs ? cdr_join(cdrs, rec, &how) : -1;

	rec->cdr_looked_up = 1;
	rec->cdr = i >= 0 ? &cdrs->rows[i] : NULL;
	rec->cdr_join = i >= 0 ? (int)how : 0;
}

/* ---- the witness: recordings a window's CDRs name and its listing lacks -------------- */

/* The start a recording's own name gives ("YYYYMMDD-HHMMSS-..." as the PBX names them) as
 * "YYYY-MM-DD HH:MM:SS". Returns 0, or -1 when the name does not start so. */
static int name_calldate(const char *key, char out[REC_DATE_LEN + 1])
{
	pbx_minute m;

	for (int i = 0; i < 15; i++)
		if (i == 8 ? key[i] != '-' : (key[i] < '0' || key[i] > '9'))
			return -1;
	snprintf(out, REC_DATE_LEN + 1, "%.4s-%.2s-%.2s %.2s:%.2s:%.2s", key, key + 4, key + 6,
		 key + 9, key + 11, key + 13);
	return pbxtime_parse(out, &m);
}

/* Whether listing `l` holds a recording of key `key`, under any folder. */
static int listed_key(const struct listing *l, const char *key)
{
	char k[REC_PATH_MAX];

	for (size_t i = 0; i < l->n; i++)
		if (recname_key(l->rows[i].pbx_path, k, sizeof k) == 0 && strcmp(k, key) == 0)
			return 1;
	return 0;
}

long cdrsync_unlisted(struct run *r, const struct cdr_list *cdrs, pbx_minute start,
		      pbx_minute end, const struct listing *l, struct recording *out)
{
	long n = 0;

	for (size_t i = 0; cdrs && i < cdrs->count; i++) {
		const struct cdr *c = &cdrs->rows[i];
		struct recording *rec = &out[n];
		const struct manifest_entry *e;
		struct recpath where;
		char err[160];
		pbx_minute at;
		int known;

		if (!c->recording_key[0] || listed_key(l, c->recording_key))
			continue;
		memset(rec, 0, sizeof *rec);
		if (recname_to_pbx_path(c->recording, rec->pbx_path, sizeof rec->pbx_path) != 0 ||
		    recpath_parse(rec->pbx_path, &where, err, sizeof err) != 0)
			continue; /* a name no listing path can be made of */
		if (name_calldate(c->recording_key, rec->calldate) != 0)
			snprintf(rec->calldate, sizeof rec->calldate, "%s", c->calldate);
		if (pbxtime_parse(rec->calldate, &at) != 0 || at < start || at > end)
			continue; /* another window's */
		/* Named twice (a transfer writes two CDR rows): once is enough. */
		int twice = 0;
		for (long j = 0; j < n && !twice; j++)
			twice = strcmp(out[j].pbx_path, rec->pbx_path) == 0;
		if (twice)
			continue;
		known = manifest_lookup(r->man, where.day, rec->pbx_path, &e);
		if (known < 0)
			return -1;
		if (known)
			continue;
		rec->cut = (utf8_copy_cut(rec->src, sizeof rec->src, c->src) ? REC_CUT_SRC : 0) |
			   (utf8_copy_cut(rec->dst, sizeof rec->dst, c->dst) ? REC_CUT_DST : 0) |
			   (utf8_copy_cut(rec->calltype, sizeof rec->calltype, c->userfield)
				    ? REC_CUT_CALLTYPE
				    : 0);
		rec->duration = -1;
		rec->size = -1;
		rec->version = 1;
		rec->cdr = c;
		rec->cdr_join = CDR_JOIN_NAME;
		rec->cdr_looked_up = 1;
		n++;
	}
	return n;
}
