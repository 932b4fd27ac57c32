/* sync.c — one window archived (sync.h). */
#include "sync.h"

#include <stdlib.h>
#include <string.h>

#include "cdrsync.h"
#include "live.h"
#include "plan.h"
#include "run.h"
#include "window.h"
#include "archive/attempts.h"
#include "archive/manifest.h"
#include "archive/pending.h"
#include "archive/recpath.h"
#include "pbx/cdr.h"
#include "pbx/pbx.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "base/stop.h"

static int by_path(const void *x, const void *y)
{
	return strcmp((*(struct recording *const *)x)->pbx_path,
		      (*(struct recording *const *)y)->pbx_path);
}

/* Whether archived version `e` may be shorter than the call that listed `rec` (with its CDR)
 * made: its audio is shorter than the listed duration or the CDR's billed seconds. */
static int copy_may_be_short(const struct manifest_entry *e, const struct recording *rec)
{
	return e->audio_seconds < 0 || (rec->duration >= 0 && e->audio_seconds < (double)rec->duration) ||
	       (rec->cdr->billsec >= 0 && e->audio_seconds < (double)rec->cdr->billsec);
}

/* The CDR as witness (cdrsync_unlisted): the recordings the window's CDRs name that its listing
 * left out are added to the plan, fetched by name (20036 needs no listing), and said. *named
 * holds them (freed by the caller). Returns 0, or -1 when the run must stop. */
static int witness(struct run *r, const struct cdr_list *cdrs, pbx_minute start,
		   pbx_minute end, const struct listing *l, struct recording ***plan, size_t *nplan,
		   struct recording **named)
{
	struct recording **more;
	char esc[512];
	long n;

	if (cdrs->count == 0)
		return 0;
	*named = calloc(cdrs->count, sizeof **named);
	if (!*named) {
		log_error("out of memory");
		r->fatal = EXIT_STORAGE;
		return -1;
	}
	n = cdrsync_unlisted(r, cdrs, start, end, l, *named);
	if (n < 0) {
		r->archive_error = 1;
		return 0; /* the manifest could not tell: the next run asks again */
	}
	if (n == 0)
		return 0;
	more = realloc(*plan, (*nplan + (size_t)n) * sizeof *more);
	if (!more) {
		log_error("out of memory");
		r->fatal = EXIT_STORAGE;
		return -1;
	}
	*plan = more;
	for (long i = 0; i < n; i++) {
		log_warn("%s: named by the CDR, missing from the listing; fetched by name",
			 log_escape((*named)[i].pbx_path, esc, sizeof esc));
		(*plan)[(*nplan)++] = &(*named)[i];
	}
	r->t.cdr_witnessed += (unsigned long)n;
	return 0;
}

/* The pending list (pending.h) after a fetch: each planned recording the manifest now holds
 * goes; the others are noted with why, as fetch left it in the failure counts. A path whose
 * listing matches its archived version again (a re-fetch that showed the same bytes, or one
 * fetched again only to compare with a late CDR) is held. */
static int note_pending(struct run *r, struct recording **plan, size_t n)
{
	char now[PBXTIME_UTC_LEN + 1], err[256];

	if (!r->pending)
		return 0;
	pbxtime_utc_stamp(now);
	for (size_t i = 0; i < n; i++) {
		const struct recording *rec = plan[i];
		const struct manifest_entry *e;
		struct recpath where;
		const char *kind;
		enum pending_state st;

		if (recpath_parse(rec->pbx_path, &where, err, sizeof err) != 0)
			continue;
		int found = manifest_lookup(r->man, where.day, rec->pbx_path, &e);
		if (found == 1 && (e->version >= rec->version || !plan_listing_changed(rec, e))) {
			pending_remove(r->pending, rec->pbx_path);
			continue;
		}
		int runs = attempts_this_run(r->attempts, rec->pbx_path, &kind);
		if (attempts_growing(r->attempts, rec->pbx_path))
			st = PENDING_GROWING; /* fetch's own verdict: still being recorded */
		else if (runs >= 0 && strcmp(kind, "missing") == 0)
			st = PENDING_MISSING; /* a changed listing (runs 0) of one not brought is
					       * still missing, not growing */
		else if (runs == 0)
			st = PENDING_GROWING;
		else if (runs > 0)
			st = PENDING_FAILED;
		else /* no failure noted: every planned one is marked tried before the fetch, so
		      * a stop (which leaves the rest unasked) is what tells "not started" */
			st = stop_requested() || !attempts_tried(r->attempts, rec->pbx_path)
				     ? PENDING_NOT_STARTED
				     : PENDING_FAILED;
		if (pending_note(r->pending, rec->pbx_path, where.day, rec->calldate, st, now) != 0) {
			log_error("out of memory");
			return -1;
		}
	}
	return 0;
}

static void free_paths(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

void sync_ahead_free(struct run *r)
{
	free_paths(r->ahead, r->nahead);
	r->ahead = NULL;
	r->nahead = 0;
}

static int in_paths(char *const *paths, size_t n, const char *pbx_path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(paths[i], pbx_path) == 0)
			return 1;
	return 0;
}

/* Notes a path this window handles that is shown after its end (r->ahead). Returns 0, or -1
 * out of memory. */
static int note_ahead(struct run *r, const char *pbx_path)
{
	char **n = realloc(r->ahead, (r->nahead + 1) * sizeof *n);

	if (!n)
		return -1;
	r->ahead = n;
	if (!(r->ahead[r->nahead] = strdup(pbx_path)))
		return -1;
	r->nahead++;
	return 0;
}

/* The last minute a listing made now can have seen whole: the one before now, by our clock or
 * the PBX's (its Date header), whichever is earlier. A walk reaches a day past now, and a last
 * listing ten years further (job.c): calls not made yet are not "listed" by either. (What is
 * kept as listed is cut further at the run's end: runctx.c, r->listed_until.) */
static pbx_minute last_past_minute(const struct run *r)
{
	pbx_minute now = pbxtime_now(r->cfg->pbx.timezone);
	long skew = 0;

	if (pbx_clock_skew(r->pbx, &skew) && skew < 0)
		now += skew / 60 - 1;
	return now - 1;
}

int sync_window(struct run *r, pbx_minute start, pbx_minute end)
{
	struct listing l;
	struct recording **plan = NULL, *named = NULL;
	const struct cdr_list *cdrs = NULL;
	size_t nplan = 0, late = 0;
	int complete = 1;
	char esc[512], err[256];

	listing_init(&l);
	switch (window_list(r, start, end, &l)) {
	case 0:
		/* Listed whole: what the pending list had of it and it no longer lists vanished.
		 * Only through the minutes past already: later ones may still get calls. */
		if (r->pending) {
			pbx_minute past = last_past_minute(r);
			if (start <= past &&
			    pending_covered(r->pending, start, end < past ? end : past) != 0) {
				listing_free(&l);
				log_error("out of memory");
				r->fatal = EXIT_STORAGE;
				return -1;
			}
		}
		break;
	case 1:
		complete = 0; /* some rows could not be listed: archive the others */
		break;
	case 2:
		listing_free(&l);
		return 2; /* too many rows at once: the walk narrows */
	default:
		listing_free(&l);
		return r->fatal ? -1 : 0;
	}
	/* The rows the window before handled that are shown after its end (window.h): handled
	 * there, not again here, if this window follows on. This window's own such rows are
	 * noted for the next one. */
	char **before = NULL;
	size_t nbefore = 0;
	if (start == r->ahead_end + 1) {
		before = r->ahead;
		nbefore = r->nahead;
	} else {
		sync_ahead_free(r);
	}
	r->ahead = NULL;
	r->nahead = 0;
	r->ahead_end = end;
	/* With the CDR archive on, also windows without recordings: a day of missed calls. */
	if (r->cfg->cdr.join && (l.n || r->cfg->cdr.archive))
		cdrs = cdrsync_window(r, start, end);
	/* Rows without a usable path can never be fetched: reported every run (exit 1), but
	 * they do not pin the checkpoint. */
	r->t.skipped_names += l.skipped;
	plan = calloc(l.n ? l.n : 1, sizeof *plan);
	if (!plan) {
		free_paths(before, nbefore);
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

		pbx_minute started;

		if (i > 0 && strcmp(rec->pbx_path, plan[i - 1]->pbx_path) == 0)
			continue; /* listed twice */
		if (pbxtime_parse(rec->calldate, &started) == 0 && started > end &&
		    note_ahead(r, rec->pbx_path) != 0) {
			free_paths(before, nbefore);
			free(plan);
			listing_free(&l);
			log_error("out of memory");
			r->fatal = EXIT_STORAGE;
			return -1;
		}
		if (in_paths(before, nbefore, rec->pbx_path))
			continue; /* the window before handled it */
		r->t.listed++;
		if (pbxtime_parse(rec->calldate, &started) == 0) {
			if (started > r->newest_seen)
				r->newest_seen = started;
			if (r->span.oldest_seen < 0 || started < r->span.oldest_seen)
				r->span.oldest_seen = started;
		}
		if (recpath_parse(rec->pbx_path, &where, err, sizeof err) != 0) {
			r->t.skipped_names++;
			log_warn("skipping a listed recording with an unusable path '%s': %s",
				 log_escape(rec->pbx_path, esc, sizeof esc), err);
			continue;
		}
		enum plan_verdict v = plan_row(r, &where, rec, &e, why, sizeof why);
		if (v == PLAN_ERROR) {
			if (r->pending)
				pending_seen(r->pending, rec->pbx_path); /* listed: not vanished */
			r->t.failed++;
			r->archive_error = 1;
			complete = 0;
			continue;
		}
		if (r->cfg->cdr.join)
			cdrsync_join(cdrs, rec);
		if (v != PLAN_FETCH && r->pending)
			pending_remove(r->pending, rec->pbx_path);
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
			if (v == PLAN_ALREADY && e->cdr_missing && rec->cdr && !r->dry_run) {
				int again = copy_may_be_short(e, rec);
				if (manifest_add_cdr(r->man, where.day, rec->pbx_path, rec->cdr,
						     rec->cdr_join) == 0)
					late++;
				if (again) {
					/* A CDR is written at the hang-up: the copy may have been
					 * taken while the call went on. Its bytes are compared (a
					 * fetch of the next version; the same bytes are not kept
					 * twice). */
					log_info("%s: its CDR came after it was archived, and the copy is "
						 "shorter than the call; fetched again to compare",
						 log_escape(rec->pbx_path, esc, sizeof esc));
					rec->version = e->version + 1;
					r->t.already--;
					plan[nplan++] = rec;
				}
			}
			break;
		}
	}
	free_paths(before, nbefore);
	/* Only where the PBX still lists recordings: before its own horizon (a PBX that frees its
	 * disk of old recordings keeps their CDRs far longer) a CDR names what is gone. */
	if (cdrs && l.n && witness(r, cdrs, start, end, &l, &plan, &nplan, &named) != 0) {
		free(plan);
		listing_free(&l);
		return -1;
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
	uint64_t planned_bytes = 0;
	for (size_t i = 0; i < nplan; i++)
		planned_bytes += recording_expected_bytes(plan[i], 0);
	r->span.planned_bytes += planned_bytes;
	live_listed(l.n);
	if (!r->dry_run)
		live_planned(nplan, planned_bytes);
	if (r->dry_run) {
		for (size_t i = 0; i < nplan; i++) {
			log_info("would download %s", log_escape(plan[i]->pbx_path, esc, sizeof esc));
			if (plan[i]->size >= 0)
				r->t.would_bytes += (uint64_t)plan[i]->size;
			else
				r->t.would_unsized++;
		}
		r->t.would_fetch += nplan;
	} else if (nplan) {
		live_phase(LIVE_DOWNLOADING);
		long left = plan_fetch(r, plan, nplan);
		if (note_pending(r, plan, nplan) != 0) {
			r->fatal = EXIT_STORAGE;
			left = -1;
		}
		if (left < 0) {
			free(plan);
			free(named);
			listing_free(&l);
			return -1;
		}
		if (left > 0)
			complete = 0;
	}
	free(plan);
	free(named);
	listing_free(&l);
	return complete;
}
