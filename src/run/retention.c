/* retention.c — freeing the PBX, and only of the bytes the archive holds. A recording is deleted
 * only when it is older than [retention] pbx_keep_days, the manifest records it as archived,
 * the PBX still holds exactly what was archived, and its archived file, read back from disk
 * right before the delete, still hashes to the manifest's value. At most [retention]
 * max_delete per run. The PBX's answer to a delete proves nothing: a re-list decides, and only
 * recordings gone from it get a "pbx_deleted" line.
 *
 * "Exactly what was archived": the PBX's listing of the recording (duration, size) must be what
 * it was when it was archived (plan.h; a changed one is archived again as a new version first,
 * and deleted by a later run), and must agree with the archived audio's own length. Where the
 * listing cannot tell — it states neither, or the archived audio is shorter than listed (a
 * copy taken while the call went on, or a PBX that counts the ringing) — or with
 * verify_pbx_copy = download, the recording is downloaded again and its bytes compared. A
 * recording whose call may still go on (no CDR names it yet, with [cdr] join, within the
 * lookback) is kept. */
#include "retention.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "compare.h"
#include "fetch.h"
#include "live.h"
#include "offsite.h"
#include "plan.h"
#include "run.h"
#include "window.h"
#include "archive/attempts.h"
#include "archive/manifest.h"
#include "archive/recpath.h"
#include "archive/state.h"
#include "archive/store.h"
#include "base/clock.h"
#include "base/exitcode.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "base/stop.h"
#include "crypto/hash.h"
#include "pbx/pbx.h"

/* How far the archived audio may fall short of the listed duration: the PBX rounds. */
#define ROUNDING_SECONDS 1.0

struct candidate {
	struct recording *rec;
	struct recpath where;
	pbx_minute minute;
	struct manifest_entry e; /* the archived version it must still be (a copy: the index
				  * moves as lines are added) */
	int compare;             /* its PBX copy is downloaded and compared first */
};

static int oldest_first(const void *x, const void *y)
{
	const struct candidate *a = x, *b = y;
	int c = strcmp(a->rec->calldate, b->rec->calldate);
	return c ? c : strcmp(a->rec->pbx_path, b->rec->pbx_path);
}

static const char *candidate_path_at(const void *items, size_t i)
{
	return ((const struct candidate *)items)[i].rec->pbx_path;
}

/* How long after its archiving an unchanged listing vouches for a recording: one still being
 * written adds a second of duration each second, so a minute later its listing has moved. */
#define SETTLED_SECONDS 60

/* How long after its call ended a recording's file may still be rewritten by the PBX with the
 * same length: MixMonitor's post-recording command (a sox that re-encodes, normalises or mixes
 * in the "this call is recorded" prompt) runs once the file closes. A copy taken sooner may not
 * be the bytes the PBX keeps, whatever the listing says. */
#define POSTPROCESS_MINUTES 10

/* Whether version `e` was archived at least POSTPROCESS_MINUTES after the call listed as `rec`
 * ended, by the PBX's clock: the archiving's age (this host's clock) set against `now` (the
 * PBX's minute now, [pbx] timezone), plus the PBX's clock skew when known. */
static int copied_after_postprocess(const struct run *r, const struct recording *rec,
				    const struct manifest_entry *e, pbx_minute now)
{
	pbx_minute started, archived;
	long skew = 0;

	if (pbxtime_parse(rec->calldate, &started) != 0 || e->archived_at <= 0)
		return 0;
	archived = now - (clock_unix() - e->archived_at) / 60;
	if (pbx_clock_skew(r->pbx, &skew))
		archived += skew / 60;
	/* The listed duration may include ringing: it errs towards a later end. */
	return archived >= started + (rec->duration > 0 ? rec->duration / 60 + 1 : 1) +
				   POSTPROCESS_MINUTES;
}

/* Whether the listing alone cannot vouch that the PBX holds the archived bytes. A size it
 * lists, the same as when the version was archived (when it was checked against the bytes
 * that came), vouches. A duration is whole seconds: a recording still being written with a
 * valid header can grow within its rounding, so with auto an unchanged duration that agrees
 * with the archived audio vouches only once SETTLED_SECONDS have passed since the archiving
 * (a nightly run deleting what it archived weeks ago downloads nothing more; a run deleting
 * what it archived moments ago compares), and only for a copy taken POSTPROCESS_MINUTES after
 * the call ended (one fetched at the hang-up, by a watch or a run just after the call, is
 * compared once: the PBX may have rewritten the file since with the same length). With
 * verify_pbx_copy = listing an agreeing duration vouches at once; never a copy shorter than
 * listed. */
static int must_compare(const struct run *r, const struct recording *rec,
			const struct manifest_entry *e, pbx_minute now)
{
	int known = rec->duration >= 0 && e->audio_seconds >= 0;
	int short_copy = known && e->audio_seconds + ROUNDING_SECONDS < (double)rec->duration;
	int agrees = known && !short_copy &&
		     e->audio_seconds <= (double)rec->duration + ROUNDING_SECONDS;
	int64_t unix_now = clock_unix();

	switch (r->cfg->retention.verify_pbx_copy) {
	case VERIFY_DOWNLOAD:
		return 1;
	case VERIFY_LISTING:
		if (known && !short_copy)
			return 0;
		break;
	default:
		if (agrees && e->listed_duration == rec->duration && e->archived_at > 0 &&
		    unix_now >= e->archived_at + SETTLED_SECONDS &&
		    copied_after_postprocess(r, rec, e, now))
			return 0;
		break;
	}
	return !(rec->size >= 0 && e->listed_size == rec->size && !short_copy);
}

/* Reads the archived copy back and compares it with the manifest. Returns 1 when it matches. */
static int still_intact(struct run *r, const struct candidate *c)
{
	const struct manifest_entry *e = &c->e;
	char err[512], hex[SHA256_HEX_LEN + 1], esc[512], dir[sizeof e->file];
	const char *name = recpath_basename(e->file);
	uint64_t size = 0;
	int fd, ok;

	/* Offloaded ([retention] local_keep_days): no local copy by design; the offsite copy,
	 * confirmed by HEAD and locked, stands for it (judge_rows asked offsite_allows_delete). */
	if (e->offloaded && e->offsite)
		return 1;
	/* The copy is where the manifest says it is. */
	snprintf(dir, sizeof dir, "%.*s", (int)(name - e->file - (name > e->file)), e->file);
	fd = store_open_dir(r->store, dir, 0, err, sizeof err);

	if (fd < 0) {
		log_error("NOT deleting %s from the PBX: its archived copy cannot be read: %s",
			  log_escape(c->rec->pbx_path, esc, sizeof esc), err);
		return 0;
	}
	ok = sha256_file_at(r->hash, fd, name, hex, &size) == 0;
	if (!ok)
		log_error("NOT deleting %s from the PBX: its archived copy %s cannot be read: %s",
			  log_escape(c->rec->pbx_path, esc, sizeof esc), e->file, strerror(errno));
	close(fd);
	/* An encrypted copy was checked with its file key when it was stored; from then on its
	 * own hash (stored_sha256) is what proves it unchanged. */
	const char *want = e->stored_sha256[0] ? e->stored_sha256 : e->sha256;
	if (ok && (size != e->size || strcmp(hex, want) != 0)) {
		log_error("NOT deleting %s from the PBX: the archived copy %s no longer matches the "
			  "manifest (sha256 %s, %llu bytes; recorded %s, %llu bytes)",
			  log_escape(c->rec->pbx_path, esc, sizeof esc), e->file, hex,
			  (unsigned long long)size, want, (unsigned long long)e->size);
		ok = 0;
	}
	return ok;
}

/* The candidates of a batch that must be compared are downloaded again: those whose bytes are
 * the archived ones stay candidates; the others are dropped (c->rec = NULL) and those that
 * differ archived again as a new version. Returns 0, or -1 when the run must stop. */
static int compare_batch(struct run *r, struct candidate *c, size_t n)
{
	struct recording **recs = calloc(n, sizeof *recs), **changed = calloc(n, sizeof *changed);
	const char **want = calloc(n, sizeof *want);
	int *same = calloc(n, sizeof *same);
	size_t k = 0, nchanged = 0;
	char esc[512];
	int rc = 0;

	if (!recs || !changed || !want || !same) {
		free(recs), free(changed), free(want), free(same);
		log_error("out of memory");
		r->fatal = EXIT_STORAGE;
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (c[i].rec && c[i].compare) {
			recs[k] = c[i].rec;
			want[k++] = c[i].e.sha256;
		}
	if (k && compare_copies(r, recs, want, k, same) != 0)
		rc = -1;
	for (size_t i = 0, j = 0; rc == 0 && i < n; i++) {
		if (!c[i].rec || !c[i].compare)
			continue;
		/* Not compared because the run stops (stop.h): not deleted, and not "kept" for
		 * a reason of its own either. */
		if (same[j] < 0 && stop_requested()) {
			c[i].rec = NULL;
			j++;
			continue;
		}
		if (same[j] == 0) {
			log_warn("%s: the PBX's copy is not the archived one (another recording, or it "
				 "grew); archiving it again, as version %u, before it may be deleted",
				 log_escape(c[i].rec->pbx_path, esc, sizeof esc), c[i].e.version + 1);
			c[i].rec->version = c[i].e.version + 1;
			changed[nchanged++] = c[i].rec;
		} else if (same[j] < 0) {
			log_warn("%s: the PBX did not send it to be compared with its archived copy; it "
				 "stays on the PBX", log_escape(c[i].rec->pbx_path, esc, sizeof esc));
		}
		if (same[j++] != 1) {
			r->t.kept++;
			c[i].rec = NULL;
		}
	}
	if (rc == 0 && nchanged && plan_fetch(r, changed, nchanged) < 0)
		rc = -1;
	free(recs), free(changed), free(want), free(same);
	return rc;
}

/* Whether listing `l` still holds `pbx_path`. */
static int still_listed(const struct listing *l, const char *pbx_path)
{
	for (size_t j = 0; j < l->n; j++)
		if (strcmp(l->rows[j].pbx_path, pbx_path) == 0)
			return 1;
	return 0;
}

/* pbx_delete of paths[0..k), in halves while the PBX answers 414 (its request-target cap: a PBX
 * that takes its parameters in the query string only; nothing was deleted), as a download
 * batch is split (fetch.c). Stops at the first half that fails: the re-list decides anyway.
 * *claimed: the counts the PBX claimed, summed (-1 when one half gave none). */
static int delete_split(struct run *r, const char **paths, size_t k, long long *claimed)
{
	char esc[512];
	int rc = pbx_delete(r->pbx, paths, k, claimed);

	if (rc != PBX_URL_TOO_LONG)
		return rc;
	if (k == 1) {
		log_error("the PBX refuses even a one-file delete as too long: %s",
			  log_escape(paths[0], esc, sizeof esc));
		return rc;
	}
	log_info("the PBX refused a %zu-file delete as too long; splitting it", k);
	long long a = -1, b = -1;
	rc = delete_split(r, paths, k / 2, &a);
	if (rc == PBX_OK)
		rc = delete_split(r, paths + k / 2, k - k / 2, &b);
	*claimed = a < 0 || b < 0 ? -1 : a + b;
	return rc;
}

/* Sends the delete of `paths` (k of them), then re-lists [lo, hi] into `after`. Returns how many
 * candidates of c[0..n) the re-list no longer holds, or -1 when it failed (the deletions are
 * then unconfirmed) or the run must stop. *none_claimed: the PBX accepted the request and said
 * it deleted 0 files (what a PBX answers for a key spelling it does not read). */
static int delete_and_relist(struct run *r, const struct candidate *c, size_t n,
			     const char **paths, size_t k, pbx_minute lo, pbx_minute hi,
			     struct listing *after, int *none_claimed)
{
	long long claimed;
	int rc, gone = 0;

	(void)FAILPOINT("retention.delete");
	rc = delete_split(r, paths, k, &claimed);
	*none_claimed = rc == PBX_OK && claimed == 0;
	if (rc == PBX_REFUSED || rc == PBX_UNREACHABLE) {
		r->fatal = rc == PBX_REFUSED ? EXIT_LOGIN : EXIT_UNREACHABLE;
		return -1;
	}
	/* Whatever the PBX said, the re-list decides. It asks from WINDOW_EARLIER before the
	 * oldest candidate: a PBX that filters on the call's start lists a recording shown at
	 * minute lo only from when its call started (window.h), and one the re-list does not
	 * ask for would read as deleted. */
	(void)FAILPOINT("retention.relist");
	listing_init(after);
	if (window_list(r, lo - WINDOW_EARLIER, hi, after) != 0) {
		listing_free(after);
		r->t.unconfirmed += k;
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		gone += c[i].rec && !still_listed(after, c[i].rec->pbx_path);
	return gone;
}

/* Deletes one batch, then re-lists its minutes to learn what really went. */
static int delete_batch(struct run *r, struct candidate *c, size_t n)
{
	const char **paths = calloc(n, sizeof *paths);
	struct listing after;
	pbx_minute lo = c[0].minute, hi = c[0].minute;
	char err[512], esc[512];
	size_t k = 0;
	int none_claimed = 0;

	if (!paths) {
		log_error("out of memory");
		return -1;
	}
	if (compare_batch(r, c, n) != 0) {
		free(paths);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!c[i].rec)
			continue;
		if (!still_intact(r, &c[i])) {
			r->t.blocked++;
			c[i].rec = NULL;
			continue;
		}
		paths[k++] = c[i].rec->pbx_path;
		lo = c[i].minute < lo ? c[i].minute : lo;
		hi = c[i].minute > hi ? c[i].minute : hi;
	}
	if (k == 0) {
		free(paths);
		return 0;
	}
	/* What is about to be deleted is noted first: should the run end before the outcome is
	 * in the manifest, the next run confirms it (retention_confirm_inflight). */
	if (!r->dry_run && state_write_deleting(r->store, paths, k) != 0) {
		free(paths);
		r->storage_error = 1;
		return -1;
	}
	switch (delete_and_relist(r, c, n, paths, k, lo, hi, &after, &none_claimed)) {
	case -1:
		free(paths);
		return -1;
	case 0:
		/* Accepted, "0 deleted", nothing went: the PBX may read the other spelling of the
		 * key. Tried once (no other failure makes a delete be sent again). */
		if (none_claimed && pbx_delete_key_switch(r->pbx)) {
			listing_free(&after);
			int again = delete_and_relist(r, c, n, paths, k, lo, hi, &after,
						      &none_claimed);
			if (again < 0) {
				free(paths);
				return -1;
			}
			if (again == 0)
				pbx_delete_key_revert(r->pbx);
			else
				pbx_delete_key_confirm(r->pbx);
		}
		break;
	default:
		pbx_delete_key_confirm(r->pbx);
	}
	free(paths);
	for (size_t i = 0; i < n; i++) {
		if (!c[i].rec)
			continue;
		if (still_listed(&after, c[i].rec->pbx_path)) {
			r->t.unconfirmed++;
			log_warn("%s is still listed after its delete; it stays for the next run",
				 log_escape(c[i].rec->pbx_path, esc, sizeof esc));
		} else if (manifest_add_mark(r->man, c[i].where.day, &c[i].e, MANIFEST_PBX_DELETED,
					     NULL) != 0) {
			listing_free(&after);
			return -1;
		} else {
			r->t.deleted++;
		}
	}
	listing_free(&after);
	(void)FAILPOINT("retention.record");
	if (manifest_commit(r->man, err, sizeof err) != 0) {
		log_error("%s", err);
		r->storage_error = 1;
		return -1;
	}
	if (state_clear_deleting(r->store) != 0)
		r->storage_error = 1;
	return 0;
}

/* One path of an interrupted delete: recorded as deleted when the manifest still says the PBX
 * holds its archived version and a re-list of its minute no longer shows it. Returns 1 when
 * a line was added, 0 when none was due, -1 when it cannot be told now. */
static int confirm_one(struct run *r, const char *path)
{
	const struct manifest_entry *e;
	struct recpath where;
	struct listing l;
	pbx_minute m;
	char err[256];
	int found, gone;

	if (recpath_parse(path, &where, err, sizeof err) != 0)
		return 0;
	found = manifest_lookup(r->man, where.day, path, &e);
	if (found < 0)
		return -1;
	if (!found || e->pbx_deleted || e->unavailable || !e->file[0] ||
	    pbxtime_parse(e->calldate, &m) != 0)
		return 0;
	struct manifest_entry copy = *e;
	listing_init(&l);
	if (window_list(r, m - WINDOW_EARLIER, m, &l) != 0) { /* as delete_and_relist's */
		listing_free(&l);
		return -1;
	}
	gone = !still_listed(&l, path);
	listing_free(&l);
	if (!gone)
		return 0;
	return manifest_add_mark(r->man, where.day, &copy, MANIFEST_PBX_DELETED, NULL) == 0 ? 1
											     : -1;
}

int retention_confirm_inflight(struct run *r)
{
	char *text = NULL, *line, *save = NULL, err[512], esc[512];
	long added = 0;
	int rc = 0;

	if (r->dry_run || state_read_deleting(r->store, &text) != 0)
		return r->dry_run ? 0 : -1;
	if (!text)
		return 0;
	for (line = strtok_r(text, "\n", &save); line && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		int k = confirm_one(r, line);
		if (k < 0)
			rc = -1;
		else if (k > 0) {
			added++;
			log_info("%s: deleted from the PBX by an interrupted run; recorded now",
				 log_escape(line, esc, sizeof esc));
		}
	}
	free(text);
	if (rc == 0 && added && manifest_commit(r->man, err, sizeof err) != 0) {
		log_error("%s", err);
		r->storage_error = 1;
		return -1;
	}
	if (rc == 0 && state_clear_deleting(r->store) != 0) {
		r->storage_error = 1;
		return -1;
	}
	return rc;
}

/* Sorts the listing's rows due for deletion into candidates (cand) and those the archive does
 * not hold as listed (fetch: never deleted this run). Returns 0, or -1 (printed). */
static int judge_rows(struct run *r, struct listing *l, pbx_minute now, pbx_minute cutoff,
		      struct candidate *cand, size_t *ncand, struct recording **fetch,
		      size_t *nfetch)
{
	char err[256], why[160], esc[512];

	for (size_t i = 0; i < l->n; i++) {
		struct recording *rec = &l->rows[i];
		struct candidate *c = &cand[*ncand];
		const struct manifest_entry *e;

		if (recpath_parse(rec->pbx_path, &c->where, err, sizeof err) != 0 ||
		    pbxtime_parse(rec->calldate, &c->minute) != 0 || c->minute >= cutoff)
			continue;
		switch (plan_row(r, &c->where, rec, &e, why, sizeof why)) {
		case PLAN_ERROR:
			return -1;
		case PLAN_FETCH:
			/* Not archived as the PBX holds it now: archived first, deleted later
			 * (unless this run's windows just tried: their tallies tell). */
			if (attempts_tried(r->attempts, rec->pbx_path))
				continue;
			if (why[0])
				log_info("%s: %s; archiving it again, as version %u",
					 log_escape(rec->pbx_path, esc, sizeof esc), why, rec->version);
			fetch[(*nfetch)++] = rec;
			continue;
		case PLAN_ALREADY:
			break;
		default:
			continue; /* no archived copy to stand for it: the PBX keeps its own */
		}
		if (e->pruned || e->invalid)
			continue; /* no copy any more, or one never made deletable */
		if (!manifest_may_append(r->man, c->where.day))
			continue; /* its deletion could not be recorded (a day whose signature fails) */
		if (!offsite_allows_delete(r, e))
			continue; /* [offsite] required_for_delete: no confirmed copy there yet */
		if (r->cfg->cdr.join && e->cdr_missing && c->minute >= now - r->cfg->sync.lookback) {
			/* No CDR names it yet: its call may still go on. A CDR comes at the hang-up. */
			r->t.kept++;
			continue;
		}
		c->rec = rec;
		c->e = *e;
		c->compare = must_compare(r, rec, e, now);
		(*ncand)++;
	}
	return 0;
}

/* The run's deletion budget ([retention] max_delete) and what was due, over all windows. */
struct budget {
	size_t left;       /* deletions still allowed this run */
	size_t taken;      /* candidates taken (deleted, or would be in a dry run) */
	size_t over;       /* due, but over the budget */
};

/* Retention over one window [a, b] (minutes, before the cutoff): list it, judge its rows,
 * archive first what the PBX holds otherwise, then delete its candidates, oldest first, within
 * the budget. Memory holds this window's rows only. *rows: how many the window listed.
 * Returns 0, 2 when the window holds more rows than one listing may (nothing done), or -1
 * when retention must stop. */
static int retention_window(struct run *r, pbx_minute a, pbx_minute b, pbx_minute now,
			    pbx_minute cutoff, struct budget *bud, size_t *rows)
{
	struct listing l;
	struct candidate *cand = NULL;
	struct recording **fetch = NULL;
	size_t ncand = 0, nfetch = 0, done = 0, take;
	int rc = 0;

	/* A row is judged by the window that shows it, and the listing reaches WINDOW_EARLIER
	 * before the window for it: a PBX that filters on the call's start lists a call answered
	 * in the window only from the minute it started (window.h), up to an hour before. Listed
	 * from `a`, a call that started before it and was answered in it would be in no window's
	 * rows (the window before lists it, shown after its end), and stay on the PBX for good. */
	listing_init(&l);
	switch (window_list(r, a - WINDOW_EARLIER, b, &l)) {
	case -1:
		listing_free(&l);
		return -1;
	case 2:
		listing_free(&l);
		return 2; /* too many rows at once: the walk narrows */
	}
	/* This window's rows only: those the listing shows before it (its reach back, the padding)
	 * or after it (window.h) are another window's. */
	size_t own = 0;
	for (size_t i = 0; i < l.n; i++)
		if (window_holds(a, b, l.rows[i].calldate))
			l.rows[own++] = l.rows[i];
	l.n = own;
	*rows = l.n;
	if (l.n == 0) {
		listing_free(&l);
		return 0;
	}
	cand = calloc(l.n, sizeof *cand);
	fetch = calloc(l.n, sizeof *fetch);
	if (!cand || !fetch) {
		log_error("out of memory");
		rc = -1;
		goto out;
	}
	if (judge_rows(r, &l, now, cutoff, cand, &ncand, fetch, &nfetch) != 0) {
		r->archive_error = 1;
		rc = -1;
		goto out;
	}
	if (nfetch && !r->dry_run) {
		log_info("%zu recordings due for deletion are not archived as the PBX holds them; "
			 "archiving them first (they stay on the PBX this run)", nfetch);
		r->planned_total += nfetch;
		r->t.kept += nfetch;
		uint64_t bytes = 0;
		for (size_t i = 0; i < nfetch; i++)
			bytes += recording_expected_bytes(fetch[i], 0);
		live_planned(nfetch, bytes);
		if (plan_fetch(r, fetch, nfetch) < 0) {
			rc = -1;
			goto out;
		}
	}
	live_phase(LIVE_DELETING); /* after this window's listing */
	qsort(cand, ncand, sizeof *cand, oldest_first);
	/* A listing can repeat a row; deleting it once is enough. */
	size_t u = 0;
	for (size_t i = 0; i < ncand; i++)
		if (u == 0 || strcmp(cand[u - 1].rec->pbx_path, cand[i].rec->pbx_path) != 0)
			cand[u++] = cand[i];
	take = u < bud->left ? u : bud->left;
	bud->left -= take;
	bud->taken += take;
	bud->over += u - take;
	if (r->dry_run)
		take = 0;
	while (done < take && !r->fatal && !stop_requested()) {
		size_t n = batch_len(r, candidate_path_at, cand, done, take);
		if (delete_batch(r, cand + done, n) != 0) {
			rc = -1;
			break;
		}
		done += n;
	}
out:
	free(cand);
	free(fetch);
	listing_free(&l);
	return rc;
}

int retention_apply(struct run *r, pbx_minute now)
{
	const struct config *cfg = r->cfg;
	pbx_minute cutoff = now - cfg->retention.pbx_keep_days * 1440, first, a, b;
	struct budget bud = { (size_t)cfg->retention.max_delete, 0, 0 };
	struct window_walk w;
	char day[11], first_text[PBXTIME_MINUTE_LEN + 1];
	int rc = 0;

	if (manifest_first_day(r->man, day) != 1)
		return 0;
	snprintf(first_text, sizeof first_text, "%s 00:00", day);
	if (pbxtime_parse(first_text, &first) != 0 || first > cutoff - 1)
		return 0;
	/* Everything still on the PBX from the archive's first day up to the cutoff, window by
	 * window, oldest first (a PBX that holds years costs a window's rows of memory, not all
	 * of them; empty stretches widen the window). A listing left incomplete by a lying count
	 * only means fewer candidates: each is still read back and its deletion confirmed by a
	 * complete re-list. */
	window_walk_start(&w, first, cutoff - 1, cfg->sync.window);
	while (rc == 0 && !r->fatal && !stop_requested() && window_walk_next(&w, &a, &b)) {
		size_t rows = 0;
		rc = retention_window(r, a, b, now, cutoff, &bud, &rows);
		if (rc == 2) {
			rc = 0;
			(void)window_walk_narrow(&w, a); /* a minute too large was reported */
			continue;
		}
		window_walk_saw(&w, rows > 0);
	}
	if (bud.over) {
		log_warn("%zu recordings are due for deletion from the PBX, more than [retention] "
			 "max_delete = %ld; deleting the oldest %ld (a guard against a wrong clock or "
			 "config)", bud.taken + bud.over, cfg->retention.max_delete,
			 cfg->retention.max_delete);
		r->t.deferred = bud.over;
	}
	if (r->dry_run)
		r->t.would_delete = bud.taken;
	return rc;
}
