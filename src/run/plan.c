/* plan.c — judging listed recordings against the manifest, and fetching a plan (plan.h). */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lanes.h"
#include "run.h"
#include "archive/attempts.h"
#include "archive/leftover.h"
#include "archive/manifest.h"
#include "archive/recpath.h"
#include "base/exitcode.h"
#include "base/log.h"

int plan_listing_changed(const struct recording *rec, const struct manifest_entry *e)
{
	return (rec->duration >= 0 && e->listed_duration >= 0 &&
		rec->duration != e->listed_duration) ||
	       (rec->size >= 0 && e->listed_size >= 0 && rec->size != e->listed_size);
}

static void say_listing(const struct recording *rec, const struct manifest_entry *e, char *why,
			size_t whylen)
{
	if (rec->duration >= 0 && e->listed_duration >= 0 && rec->duration != e->listed_duration)
		snprintf(why, whylen, "its listed duration changed from %ld s to %ld s",
			 e->listed_duration, rec->duration);
	else
		snprintf(why, whylen, "its listed size changed from %lld to %lld bytes",
			 e->listed_size, rec->size);
}

enum plan_verdict plan_row(struct run *r, const struct recpath *where, struct recording *rec,
			   const struct manifest_entry **latest, char *why, size_t whylen)
{
	const struct manifest_entry *e = NULL;
	int found = manifest_lookup(r->man, where->day, rec->pbx_path, &e);

	why[0] = '\0';
	*latest = found == 1 ? e : NULL;
	if (found < 0)
		return PLAN_ERROR;
	if (!found) {
		rec->version = 1;
		return PLAN_FETCH;
	}
	if (e->forgotten)
		return PLAN_FORGOTTEN;
	if (e->unavailable) {
		if (!plan_listing_changed(rec, e))
			return PLAN_UNAVAILABLE;
		say_listing(rec, e, why, whylen);
		rec->version = e->version; /* that version never arrived: it is still to come */
		return PLAN_FETCH;
	}
	if (e->pbx_deleted) {
		/* The PBX confirmed the deletion; what it lists now under that path is another
		 * recording (a clock reset re-used the name, a disk came back). */
		snprintf(why, whylen, "it is listed again after its deletion from the PBX");
		rec->version = e->version + 1;
		return PLAN_FETCH;
	}
	if (plan_listing_changed(rec, e)) {
		say_listing(rec, e, why, whylen);
		rec->version = e->version + 1;
		return PLAN_FETCH;
	}
	return PLAN_ALREADY;
}

/* Oldest first, so a run cut short has archived the oldest (first to be deleted) recordings. */
static int by_calldate(const void *x, const void *y)
{
	const struct recording *a = *(struct recording *const *)x, *b = *(struct recording *const *)y;
	int c = strcmp(a->calldate, b->calldate);
	return c ? c : strcmp(a->pbx_path, b->pbx_path);
}

static int by_basename(const void *x, const void *y)
{
	const struct recording *a = *(struct recording *const *)x, *b = *(struct recording *const *)y;
	int c = strcmp(recpath_basename(a->pbx_path), recpath_basename(b->pbx_path));
	return c ? c : by_calldate(x, y);
}

long plan_fetch(struct run *r, struct recording **plan, size_t n)
{
	struct recording **later;
	size_t nnow = 0, nlater = 0;
	long left, more;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct recpath where;
		char err[160];
		attempts_mark_tried(r->attempts, plan[i]->pbx_path);
		/* The day is noted before anything is written into it (leftover.h). */
		if (recpath_parse(plan[i]->pbx_path, &where, err, sizeof err) == 0 &&
		    leftovers_note(r->leftovers, where.day) != 0) {
			r->storage_error = 1;
			r->fatal = EXIT_STORAGE;
			return -1;
		}
	}
	/* This round: the first recording of each base name; the others wait for the next. */
	qsort(plan, n, sizeof *plan, by_basename);
	later = calloc(n, sizeof *later);
	if (!later) {
		log_error("out of memory");
		r->fatal = EXIT_STORAGE;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (nnow > 0 && strcmp(plan[i]->pbx_path, plan[nnow - 1]->pbx_path) == 0)
			continue; /* listed twice: fetched once */
		if (nnow > 0 && strcmp(recpath_basename(plan[i]->pbx_path),
				       recpath_basename(plan[nnow - 1]->pbx_path)) == 0)
			later[nlater++] = plan[i];
		else
			plan[nnow++] = plan[i];
	}
	qsort(plan, nnow, sizeof *plan, by_calldate);
	left = lanes_fetch(r, plan, nnow);
	more = left < 0 ? -1 : plan_fetch(r, later, nlater);
	free(later);
	return left < 0 || more < 0 ? -1 : left + more;
}
