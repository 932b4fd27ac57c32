/* runctx.h — opening and closing a run (run.h): set up once per process, and the locked
 * stretch during which the archive's state may change. `run` holds the lock for its whole
 * life; `watch` only for each batch it archives. */
#ifndef NEXO_RUNCTX_H
#define NEXO_RUNCTX_H

struct run;
struct config;

/* Prepares `r` for `cfg`: keys (a bad one is a config error), the archive, the sealing
 * pipeline, the CDR state, a PBX handle (no traffic yet). Returns 0 or an exit code (printed);
 * run_teardown() in either case. */
int run_setup(struct run *r, const struct config *cfg, int dry_run);

/* Takes the archive lock as `role` (waiting up to `wait_s` s for a `watch` holder), removes
 * temps a crash left, opens the manifest (cutting torn tails) and the attempt counts. A dry
 * run takes no lock and only opens what is there to read. Returns
 * 0, EXIT_LOCKED (holder's pid in *holder) or EXIT_STORAGE (printed). */
int run_lock(struct run *r, const char *role, int wait_s, long *holder);

/* Signs the manifest days changed while locked, saves the attempt counts, closes the manifest
 * and releases the lock. Returns 0, or -1 (printed; r->storage_error set). */
int run_unlock(struct run *r);

/* Unlocks if needed and frees everything run_setup() made, and the download lanes. */
void run_teardown(struct run *r);

#endif
