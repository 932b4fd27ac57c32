/*
 * live.h — recordings still being written: the DIR/.live.jsonl sidecar.
 *
 * Each line names a recording path, the file holding its final bytes, how
 * its header looks while it grows ("valid" sizes or "zero") and how it
 * grows: with time (from/until, unix seconds on the true clock) or with the
 * answers that showed it (steps). Before each 20053/20036/20054/9006/9005
 * answer the server writes every live file in place, as a recorder does.
 */
#ifndef FAKEPBX_LIVE_H
#define FAKEPBX_LIVE_H

#include <stdbool.h>
#include <stddef.h>

#define LIVE_FILE ".live.jsonl"

/* Serve dir; any: entries may name --any-folder paths. Call once. */
void live_setup(const char *dir, bool any);

/* Re-read the sidecar when it changed (inode, size, mtime, ctime), then
 * bring every live file up to date. */
void live_sync(void);

/* True when the sidecar has entries (a cheap check before live_note). */
bool live_any(void);

/* One answer (20053 listing or 20036 download) showed these paths: each
 * live entry among them counts one step (once per answer). */
void live_note(const char *const *paths, size_t n);

/* Hold the live files still while deleting (20054): live_deleted() must
 * be called with the lock held. */
void live_lock(void);
void live_unlock(void);

/* path was deleted: its entry is done and never written again. */
void live_deleted(const char *path);

/* Forget every entry (at shutdown). */
void live_free(void);

#endif
