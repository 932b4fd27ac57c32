/* reconcile.c — listing the PBX's history against the manifest (reconcile.h). */
#include "reconcile.h"

#include <stdio.h>
#include <string.h>

#include "run.h"
#include "sync.h"
#include "window.h"
#include "archive/manifest.h"
#include "base/log.h"
#include "base/stop.h"

#define MONTH (31 * 1440)

struct count_ctx {
	struct manifest *m;
	const char *day;
	pbx_minute start, end;
	long n;
};

/* A path the PBX still holds, per the manifest: its latest entry, not confirmed deleted. */
static int count_entry(void *ctx, const struct manifest_entry *e)
{
	struct count_ctx *c = ctx;
	const struct manifest_entry *latest;
	pbx_minute m;

	if (e->pbx_deleted || pbxtime_parse(e->calldate, &m) != 0 || m < c->start || m > c->end)
		return 0;
	if (manifest_lookup(c->m, c->day, e->pbx_path, &latest) == 1 && latest == e)
		c->n++;
	return 0;
}

/* How many recordings of [start, end] the manifest says the PBX holds; -1 when a day cannot be
 * read. */
static long manifest_count(struct run *r, pbx_minute start, pbx_minute end)
{
	char text[PBXTIME_MINUTE_LEN + 1], day[11];
	struct count_ctx c = { r->man, day, start, end, 0 };

	for (pbx_minute d = start - start % 1440; d <= end; d += 1440) {
		pbxtime_format(d, text);
		snprintf(day, sizeof day, "%.10s", text);
		if (manifest_each_entry(r->man, day, count_entry, &c) != 0)
			return -1;
	}
	return c.n;
}

long reconcile(struct run *r, pbx_minute from, pbx_minute to)
{
	unsigned long before = r->t.archived + r->t.missing + r->t.failed + r->t.growing;
	struct window_walk w;
	pbx_minute a, b;
	long long count;
	long rows, skipped = 0;

	r->span.from = r->span.reached = from;
	r->span.to = to;
	window_walk_start(&w, from, to, MONTH);
	while (!r->fatal && !stop_requested() && window_walk_next(&w, &a, &b)) {
		if (window_count(r, a, b, &count, &rows) != 0)
			return -1;
		r->span.reached = b + 1;
		window_walk_saw(&w, rows > 0 || count > 0);
		if (count == 0 || (count < 0 && rows == 0))
			continue;
		if (count > 0 && count == manifest_count(r, a, b)) {
			skipped++; /* counted whole: nothing to list */
			continue;
		}
		switch (sync_window(r, a, b)) {
		case -1:
			return -1;
		case 2:
			(void)window_walk_narrow(&w, a); /* a minute too large was reported */
			break;
		}
	}
	log_debug("reconcile: %ld months matched the manifest by their count", skipped);
	return (long)(r->t.archived + r->t.missing + r->t.failed + r->t.growing - before);
}
