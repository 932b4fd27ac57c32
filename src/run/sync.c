/* sync.c — one window archived (sync.h). */
#include "sync.h"

#include <stdlib.h>
#include <string.h>

#include "cdrsync.h"
#include "plan.h"
#include "run.h"
#include "window.h"
#include "archive/manifest.h"
#include "archive/recpath.h"
#include "base/exitcode.h"
#include "base/log.h"

static int by_path(const void *x, const void *y)
{
	return strcmp((*(struct recording *const *)x)->pbx_path,
		      (*(struct recording *const *)y)->pbx_path);
}

int sync_window(struct run *r, pbx_minute start, pbx_minute end)
{
	struct listing l;
	struct recording **plan = NULL;
	const struct cdr_list *cdrs = NULL;
	size_t nplan = 0, late = 0;
	int complete = 1;
	char esc[512], err[256];

	listing_init(&l);
	switch (window_list(r, start, end, &l)) {
	case 0:
		break;
	case 1:
		complete = 0; /* some rows could not be listed: archive the others */
		break;
	default:
		listing_free(&l);
		return r->fatal ? -1 : 0;
	}
	/* With the CDR archive on, also windows without recordings: a day of missed calls. */
	if (r->cfg->cdr.join && (l.n || r->cfg->cdr.archive))
		cdrs = cdrsync_window(r, start, end);
	/* Rows without a usable path can never be fetched: reported every run (exit 1), but
	 * they do not pin the checkpoint. */
	r->t.skipped_names += l.skipped;
	plan = calloc(l.n ? l.n : 1, sizeof *plan);
	if (!plan) {
		listing_free(&l);
		log_error("out of memory");
		r->fatal = EXIT_STORAGE;
		return -1;
	}
	for (size_t i = 0; i < l.n; i++)
		plan[i] = &l.rows[i];
	qsort(plan, l.n, sizeof *plan, by_path);
	for (size_t i = 0; i < l.n; i++) {
		struct recording *rec = plan[i];
		const struct manifest_entry *e;
		struct recpath where;
		char why[160];

		if (i > 0 && strcmp(rec->pbx_path, plan[i - 1]->pbx_path) == 0)
			continue; /* listed twice */
		r->t.listed++;
		if (recpath_parse(rec->pbx_path, &where, err, sizeof err) != 0) {
			r->t.skipped_names++;
			log_warn("skipping a listed recording with an unusable path '%s': %s",
				 log_escape(rec->pbx_path, esc, sizeof esc), err);
			continue;
		}
		enum plan_verdict v = plan_row(r, &where, rec, &e, why, sizeof why);
		if (v == PLAN_ERROR) {
			r->t.failed++;
			r->archive_error = 1;
			complete = 0;
			continue;
		}
		if (r->cfg->cdr.join)
			cdrsync_join(cdrs, rec);
		switch (v) {
		case PLAN_FETCH:
			if (why[0])
				log_info("%s: %s; archiving it again, as version %u (the earlier copy "
					 "stays)", log_escape(rec->pbx_path, esc, sizeof esc), why,
					 rec->version);
			plan[nplan++] = rec;
			break;
		case PLAN_UNAVAILABLE:
			r->t.unavailable++;
			log_warn("%s is listed but was never delivered (recorded unavailable)",
				 log_escape(rec->pbx_path, esc, sizeof esc));
			break;
		default:
			r->t.already++;
			/* Archived before its CDR was known: join it now. */
			if (v == PLAN_ALREADY && e->cdr_missing && rec->cdr && !r->dry_run &&
			    manifest_add_cdr(r->man, where.day, rec->pbx_path, rec->cdr,
					     rec->cdr_join) == 0)
				late++;
			break;
		}
	}
	if (late) {
		if (manifest_commit(r->man, err, sizeof err) != 0) {
			log_error("%s", err);
			r->storage_error = 1;
			complete = 0;
		} else {
			r->t.cdr_late += late;
		}
	}
	r->planned_total += nplan;
	if (r->dry_run) {
		for (size_t i = 0; i < nplan; i++)
			log_info("would download %s", log_escape(plan[i]->pbx_path, esc, sizeof esc));
	} else if (nplan) {
		long left = plan_fetch(r, plan, nplan);
		if (left < 0) {
			free(plan);
			listing_free(&l);
			return -1;
		}
		if (left > 0)
			complete = 0;
	}
	free(plan);
	listing_free(&l);
	return complete;
}
