/* plan.h — what to do with a recording the PBX lists, judged against the manifest, and the
 * fetch of a plan.
 *
 * The archive keeps every version of a path: a recording is fetched when the manifest does not
 * hold it; fetched again, as the next version, when the PBX's listing of it no longer matches
 * what was archived (its duration or size changed: it grew, or another recording took its
 * name) or when it is listed again after the PBX confirmed its deletion (a re-used name); and
 * offered again after it was recorded unavailable when its listing changed. What the manifest
 * holds unchanged is skipped, and an erased ("forgotten") recording is never fetched again.
 * The run's windows and retention both judge rows here. */
#ifndef NEXO_PLAN_H
#define NEXO_PLAN_H

#include <stddef.h>

struct run;
struct recording;
struct recpath;
struct manifest_entry;

enum plan_verdict {
	PLAN_FETCH,       /* to be fetched as version rec->version (`why` says why, if again) */
	PLAN_ALREADY,     /* archived, and its listing unchanged since */
	PLAN_UNAVAILABLE, /* recorded unavailable, its listing unchanged since */
	PLAN_FORGOTTEN,   /* erased on request: never fetched again */
	PLAN_ERROR,       /* its manifest day cannot be read (printed) */
};

/* Judges listed `rec` (whose path parsed as `where`): sets rec->version for PLAN_FETCH and
 * *latest to the path's latest manifest entry (NULL when none; valid until the manifest
 * changes). `why` gets the reason for fetching an archived path again, else "". */
enum plan_verdict plan_row(struct run *r, const struct recpath *where, struct recording *rec,
			   const struct manifest_entry **latest, char *why, size_t whylen);

/* Whether `rec`'s listing (duration, size) differs from what entry `e` recorded of its own,
 * where both state it. Returns 1 or 0. */
int plan_listing_changed(const struct recording *rec, const struct manifest_entry *e);

/* Fetches `n` planned recordings (lanes.h), oldest first, in rounds that never put two
 * recordings of one base name in one download (a PBX that drops folders in its tar could not
 * tell them apart). Returns the recordings not landed, or -1 when the run must stop. */
long plan_fetch(struct run *r, struct recording **plan, size_t n);

#endif
