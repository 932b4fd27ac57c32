/* state.h — ARCHIVE/.state/: the run lock, the checkpoint, and what runs learned of the PBX
 * (.state/pbx: its parameter style and key spellings). All small and derivable:
 * the lock dies with its process (flock), and a lost checkpoint only makes the next run re-list
 * from [sync] since (the manifest keeps it from downloading anything twice). */
#ifndef NEXO_STATE_H
#define NEXO_STATE_H

#include <stddef.h>
#include "base/pbxtime.h"

struct store;
struct pbx_learned;

/* Takes the run lock (.state/lock, flock LOCK_EX|LOCK_NB) for the life of the process.
 * Returns an fd to keep open (closing it releases the lock), -2 when another run holds it
 * (its pid, when known, is in *holder), -1 on error (message printed). */
int state_lock(struct store *s, long *holder);

/* As state_lock(), writing `role` ("run", "watch") beside the pid; while the holder is a
 * `watch` (which holds the lock only for the seconds a batch takes), waits up to `wait_s`
 * seconds for it (a stop signal ends the wait). Never waits for a `run`. */
int state_lock_wait(struct store *s, const char *role, int wait_s, long *holder);

/* Reads .state/checkpoint: everything with a call start before it was archived when last
 * listed. Returns 1 with *out set, 0 when there is none yet, -1 when unreadable or malformed
 * (message printed: the operator fixes or removes it; we do not guess). */
int state_read_checkpoint(struct store *s, pbx_minute *out);

/* Replaces the checkpoint atomically. Returns 0, or -1 (message printed). */
int state_write_checkpoint(struct store *s, pbx_minute value);

/* .state/reconciled: when a run last listed the PBX's whole history (reconcile.h); the same
 * returns as the checkpoint's. */
int state_read_reconciled(struct store *s, pbx_minute *out);
int state_write_reconciled(struct store *s, pbx_minute value);

/* .state/backfill: where a backfill that did not finish stopped: its span [from, to] and the
 * first minute from which not everything it listed landed (windows before it all did). The
 * same backfill again resumes there instead of listing the span from its start; a finished
 * backfill clears it. Only a shortcut: read returns 1 with the three set, 0 when there is
 * none or it does not parse (a warning: the backfill then lists its whole span), -1 never.
 * Write and clear return 0, or -1 (printed). */
int state_read_backfill(struct store *s, pbx_minute *from, pbx_minute *to, pbx_minute *resume);
int state_write_backfill(struct store *s, pbx_minute from, pbx_minute to, pbx_minute resume);
int state_clear_backfill(struct store *s);

/* .state/partials: how many nightly runs in a row ended partial ([sync] partial_alarm). Read
 * returns 0 with *out set (0 when absent), -1 when unreadable or malformed (printed). Write
 * replaces it atomically (a 0 over an absent file writes nothing); returns 0, or -1 (printed). */
int state_read_partials(struct store *s, long *out);
int state_write_partials(struct store *s, long n);

/* .state/deleting: the PBX paths of a delete in flight (one a line), written before a 20054 is
 * sent and removed once its outcome is in the manifest. A crash in between leaves it: the
 * next run re-lists those paths and records the deletions that happened (else the manifest
 * would go on saying the PBX holds them). Write/clear return 0, or -1 (printed). Read returns
 * the text (malloc'd, NUL-terminated) in *out, NULL when there is none; -1 on error. */
int state_write_deleting(struct store *s, const char *const *paths, size_t n);
int state_read_deleting(struct store *s, char **out);
int state_clear_deleting(struct store *s);

/* Reads .state/pbx (what earlier runs learned of the PBX: style and key spellings) into `out`;
 * absent or unreadable (a warning) leaves `out` empty: it is learned again. */
void state_read_pbx(struct store *s, struct pbx_learned *out);

/* Replaces .state/pbx atomically when `now` differs from `before`. Returns 0, or -1 (printed). */
int state_write_pbx(struct store *s, const struct pbx_learned *before,
		    const struct pbx_learned *now);

#endif
