/* leftover.h — files a run committed but never recorded, found and removed by the next run.
 *
 * A recording's file is renamed into its date folder before its manifest line is appended; a
 * crash (or a storage error) in between leaves a file no line names. Nothing ever replaces a
 * file (store_commit_new), so such a leftover would stay for good, and a file a manifest line
 * does not name proves nothing (the PBX still holds that recording: it is deleted only after
 * its line is fsynced). So before a run writes into a day, it notes the day in
 * .state/writing (fsynced, once per day and run); a run that ends cleanly removes the note;
 * the next run that takes the lock finds any note left, and in those days' folders removes
 * every file no manifest line names. The cost is one small write per day a run writes into,
 * and nothing for a run that was not interrupted. */
#ifndef NEXO_LEFTOVER_H
#define NEXO_LEFTOVER_H

#include <stddef.h>

struct store;
struct manifest;
struct leftovers;

/* Starts a run's notes. Returns NULL when out of memory (printed). */
struct leftovers *leftovers_new(struct store *s);
void leftovers_free(struct leftovers *lo); /* NULL is a no-op */

/* Before files of `day` ("YYYY-MM-DD") are committed: notes the day (once per run). Returns 0,
 * or -1 (printed: nothing may be written then). */
int leftovers_note(struct leftovers *lo, const char *day);

/* For the holder of the run lock, after the manifest's torn tails were cut: the days an
 * interrupted run noted lose the files no line of theirs names, and `noted(ctx, day)` is
 * called for each (NULL: not called) — lines it appended may never have been signed. Returns
 * how many files were removed, or -1 (printed). */
long leftovers_sweep(struct store *s, struct manifest *m,
		     void (*noted)(void *ctx, const char *day), void *ctx);

/* The run ends: when `clean` (every file it committed is recorded), its notes are removed;
 * else they stay for the next run's sweep. Returns 0, or -1 (printed). */
int leftovers_done(struct leftovers *lo, int clean);

#endif
