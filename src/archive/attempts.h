/* attempts.h — recordings that keep failing, remembered across runs in .state/attempts.json.
 *
 * A recording that fails a check is discarded and fetched again next run (it may still be being
 * written); one missing from the PBX's answer is asked for again. Both are normal once. This
 * module counts how many runs in a row a recording failed the same way (the reason with its
 * numbers ignored, since a file still growing changes its sizes), so that after [sync]
 * invalid_retries runs the caller stops retrying: it archives the file as it is, flagged, or
 * records it as unavailable. The file is small (only recordings with trouble) and rebuildable:
 * if it is lost, counting starts again. */
#ifndef NEXO_ATTEMPTS_H
#define NEXO_ATTEMPTS_H

struct attempts;
struct store;

/* Reads .state/attempts.json (absent or unreadable: starts empty, with a warning for the
 * latter). Returns NULL only when out of memory (printed). */
struct attempts *attempts_load(struct store *s);
void attempts_free(struct attempts *a); /* NULL is a no-op */

/* Counts one more failure of `pbx_path` of `kind` ("invalid", "missing") for reason `why`, with
 * `seen` a short text of what this run saw of it (the bytes that arrived, the listing's size and
 * duration). Returns how many runs in a row it has now failed this way and looked the same (1
 * when the way changed); 0 when the way is the same but `seen` changed since the last run: the
 * file is still changing on the PBX (a call being recorded), which is not a failure. Counts a
 * path once per run: a second note in the same run (a retry) returns what the first did. */
int attempts_note(struct attempts *a, const char *pbx_path, const char *kind, const char *why,
		  const char *seen);

/* This run asked the PBX for `pbx_path` (attempts_tried() says so until the end of the run, so
 * that a later stage of the same run does not ask again). */
void attempts_mark_tried(struct attempts *a, const char *pbx_path);
int attempts_tried(const struct attempts *a, const char *pbx_path);

/* This run found `pbx_path` still being recorded or changing (fetched again later, not a
 * failure): attempts_growing() says so until the end of the run (the pending list's "in
 * progress"). Marks it tried too. */
void attempts_mark_growing(struct attempts *a, const char *pbx_path);
int attempts_growing(const struct attempts *a, const char *pbx_path);

/* What this run noted of `pbx_path`: -1 nothing (it was not counted this run), else the
 * count attempts_note() returned (0: still changing, a call being recorded), with *kind set
 * to the kind noted ("invalid", "missing"). For the pending list (pending.h). */
int attempts_this_run(const struct attempts *a, const char *pbx_path, const char **kind);

/* `pbx_path` landed (or was given up on): forget its failures. */
void attempts_clear(struct attempts *a, const char *pbx_path);

/* Writes the file atomically when anything changed. Returns 0, or -1 (printed). */
int attempts_save(struct attempts *a, struct store *s);

#endif
