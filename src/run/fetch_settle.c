/* fetch_settle.c — a batch's sealed files → manifest lines, and the tallies of the rest
 * (fetch_internal.h): missing entries counted across runs, new versions whose bytes did not
 * change recorded as relisted, and what a broken download did not bring handed back to be
 * tried again. */
#include "fetch_internal.h"

#include <stdio.h>
#include <string.h>

#include "progress.h"
#include "run.h"
#include "archive/attempts.h"
#include "archive/manifest.h"
#include "archive/seal.h"
#include "archive/store.h"
#include "base/log.h"
#include "base/stop.h"

/* A new version whose bytes are those of the version before (the PBX's listing changed, the
 * audio did not): its file goes, and a "relisted" line records the listing instead, so it is
 * not fetched again. A stored file whose name is not the recording's own (another path or
 * version holds that) is said. Returns 1 when it was the same, 0 when not, -1 on error. */
static int same_as_before(struct run *r, struct slot *s, const struct recording *rec)
{
	const struct manifest_entry *e = NULL;
	char err[512], esc[512];

	if (rec->version > 1 && manifest_lookup(r->man, s->where.day, rec->pbx_path, &e) == 1 &&
	    !e->unavailable && !e->pbx_deleted && strcmp(e->sha256, s->sealed.sha256) == 0) {
		if (store_remove(r->store, s->where.dir, recpath_basename(s->sealed.file), err,
				 sizeof err) != 0)
			log_warn("%s", err);
		log_info("%s: its listing changed, its bytes did not; recorded as relisted",
			 log_escape(rec->pbx_path, esc, sizeof esc));
		return manifest_add_relisted(r->man, s->where.day, e, rec) == 0 ? 1 : -1;
	}
	char own[RECPATH_FILE_MAX];
	snprintf(own, sizeof own, "%s%s", s->where.name, s->sealed.encrypted ? ".age" : "");
	if (rec->version <= 1 && strcmp(recpath_basename(s->sealed.file), own) != 0)
		log_warn("%s is stored as %s: the archive keeps another recording of the same name, "
			 "or the PBX listed it under an unusual path",
			 log_escape(rec->pbx_path, esc, sizeof esc), s->sealed.file);
	return 0;
}

/* Records what landed; tallies the rest. `cut` says the answer ended early (broken transfer,
 * storage error, stop signal): what it did not bring is then not known to be missing. With
 * `rest`, those are put there (*nrest of them) to be tried again instead of being tallied.
 * Returns the number tallied as not landed, or -1. */
static long settle_locked(struct batch *b, int cut, struct recording **rest, size_t *nrest)
{
	struct run *r = b->r;
	char err[512], esc[512];
	unsigned long not_reached = 0;
	long not_landed = 0;

	for (size_t i = 0; i < b->n; i++) {
		struct slot *s = &b->slots[i];
		if (s->state == SLOT_CONFLICT) {
			/* The first copy may already be in place; it was never recorded. */
			const char *base = recpath_basename(s->sealed.file);
			if (s->sealed.file[0] &&
			    store_remove(r->store, s->where.dir, base, err, sizeof err))
				log_warn("%s", err);
			continue;
		}
		if (s->state == SLOT_WAITING && !cut) {
			/* Missing from the answer: asked for again, up to invalid_retries runs
			 * (counted again from the start when its listing changed). */
			char seen[64];
			snprintf(seen, sizeof seen, "listed %lld bytes, %ld s", b->recs[i]->size,
				 b->recs[i]->duration);
			int runs = r->watching ? 0
				   : attempts_note(r->attempts, b->paths[i], "missing",
						   "not in the PBX's answer", seen);
			if (runs >= r->cfg->sync.invalid_retries) {
				log_warn("%s: missing from the PBX's answer %d runs in a row; recorded "
					 "as unavailable and no longer asked for",
					 log_escape(b->paths[i], esc, sizeof esc), runs);
				if (manifest_add_unavailable(r->man, s->where.day, b->recs[i], runs))
					return -1;
				attempts_clear(r->attempts, b->paths[i]);
				s->state = SLOT_GIVEN_UP;
			}
			continue;
		}
		if (s->state != SLOT_DONE)
			continue;
		const struct recording *rec = b->recs[i];
		switch (same_as_before(r, s, rec)) {
		case 1:
			s->state = SLOT_SAME;
			continue;
		case -1:
			return -1;
		}
		int short_audio = rec->duration >= 0 && s->sealed.seconds >= 0 &&
				  s->sealed.seconds * 2 < (double)rec->duration &&
				  (double)rec->duration - s->sealed.seconds >= 10;
		struct manifest_file f = {
			s->sealed.file, s->sealed.size, s->sealed.sha256,
			s->sealed.encrypted ? s->sealed.stored_sha256 : NULL,
			s->sealed.encrypted ? "age" : NULL, s->sealed.seconds,
			s->sealed.invalid ? s->invalid : NULL, short_audio,
		};
		if (short_audio) {
			r->t.short_audio++;
			log_warn("%s: %.0f s of audio, the listing says %ld s; flagged short_audio",
				 log_escape(b->paths[i], esc, sizeof esc), s->sealed.seconds,
				 rec->duration);
		}
		if (manifest_add_archived(r->man, s->where.day, rec, &f) != 0)
			return -1;
		r->t.cdr_missing += rec->cdr_looked_up && !rec->cdr;
		attempts_clear(r->attempts, b->paths[i]);
	}
	if (manifest_commit(r->man, err, sizeof err) != 0) {
		log_error("%s", err);
		r->storage_error = 1;
		return -1;
	}
	if (nrest)
		*nrest = 0;
	for (size_t i = 0; i < b->n; i++) {
		enum slot_state st = b->slots[i].state;

		if (st == SLOT_DONE) {
			r->t.archived++;
			r->t.invalid += b->slots[i].sealed.invalid;
		} else if (st == SLOT_SAME) {
			r->t.already++;
		} else if (st == SLOT_GROWING) {
			r->t.growing++;
			not_landed++;
		} else if (st == SLOT_GIVEN_UP) {
			r->t.unavailable++;
		} else if (st == SLOT_OVERSIZED) {
			r->t.oversized++;
			not_landed++;
		} else if ((st == SLOT_WAITING && cut) || st == SLOT_BROKEN) {
			if (rest) {
				rest[(*nrest)++] = b->recs[i];
				continue;
			}
			not_landed++;
			if ((st == SLOT_WAITING && stop_requested()) ||
			    (st == SLOT_BROKEN && stop_abandon_file())) {
				/* Never reached, or abandoned by the signal: not a failure of
				 * the PBX's ("not started" in the summary). */
				r->t.left++;
				r->t.left_bytes += recording_expected_bytes(b->recs[i], 0);
				continue;
			}
			r->t.failed++;
			not_reached++;
		} else if (st == SLOT_WAITING) {
			r->t.missing++;
			not_landed++;
			log_warn("%s: listed but not in the PBX's answer; it will be asked for again",
				 log_escape(b->paths[i], esc, sizeof esc));
		} else {
			r->t.failed++;
			not_landed++;
		}
	}
	if (not_reached)
		log_warn("%lu recordings of this batch were not brought by the download; they "
			 "will be fetched again", not_reached);
	if (!r->shared) /* lanes each count their own: the summary adds them up */
		progress_tail(r);
	return not_landed;
}

long fetch_settle(struct batch *b, int cut, struct recording **rest, size_t *nrest)
{
	struct run *r = b->r;
	long rc;

	/* Encrypted files are read back in the background: their verdicts first. */
	if (sealer_drain(r->sealer) > 0) {
		for (size_t i = 0; i < b->n; i++) {
			struct slot *s = &b->slots[i];
			if (!s->sealed.failed ||
			    (s->state != SLOT_DONE && s->state != SLOT_CONFLICT))
				continue;
			log_error("%s", s->sealed.why);
			if (s->state == SLOT_DONE) {
				s->state = SLOT_FAILED;
				b->received--;
			}
			r->storage_error = 1;
			r->archive_error = 1;
		}
	}
	run_shared_lock(b->r);
	rc = settle_locked(b, cut, rest, nrest);
	run_shared_unlock(b->r);
	return rc;
}
