/* offsite.h — the offsite copy during a run (docs/offsite.md): the bucket opened and its
 * Object Lock checked at start, the sealed files of the queued days uploaded (HEAD first, so
 * nothing goes up twice) and each confirmed copy recorded in the manifest ("offsite"), then,
 * once the days are signed and the head written, the manifests, their signatures and the
 * heads. The queue (.state/offsite, archive/offsiteq.h) carries what is left to the next run. */
#ifndef NEXO_OFFSITE_H
#define NEXO_OFFSITE_H

struct run;

/* Opens [offsite] for the run (a no-op without it): the bucket's Object Lock configuration
 * settles the lock mode, and the queue is loaded (every day, the first time). A bucket that
 * cannot be reached is said once; the run archives, uploads nothing and deletes nothing that
 * waits for its copy. Returns 0, or an exit code (printed): EXIT_USAGE (a lock asked of a bucket
 * without Object Lock, or locking without lock_days), EXIT_LOGIN (the keys were refused),
 * EXIT_STORAGE (the queue cannot be read). */
int offsite_open(struct run *r);

/* Frees what offsite_open() made. NULL r->offsite is a no-op. */
void offsite_close(struct run *r);

/* Queues `day` (a day an interrupted run wrote to): its files and manifest are due again. */
void offsite_note_day(struct run *r, const char *day);

/* Uploads the recordings of the queued days (and of the days this run changed) that have no
 * confirmed copy, and records each ("offsite" lines, committed per day). A failed upload is
 * counted (r->t.offsite_failed) and its day stays queued; the bucket being down or refusing
 * the host's clock ends the uploads for this run. Returns 0, or -1 when the run must stop
 * (the keys were refused: r->fatal set; the manifest cannot be written: r->storage_error). */
int offsite_upload_files(struct run *r);

/* After the days are signed and the head written: uploads the queued days' manifests and
 * signatures and the newest head, its signature and the history (each kept as a new version
 * when it changed: every signed state stays), then saves the queue without what is whole.
 * Returns 0, or -1 (printed; the queue keeps what is left). */
int offsite_upload_manifests(struct run *r);

/* Whether the archived version `e` (a struct manifest_entry) may be deleted from the PBX as
 * far as the offsite copy goes: 1 yes (no [offsite], required_for_delete off, or its copy is
 * confirmed), 0 no (counted in r->t.offsite_waiting). */
struct manifest_entry;
int offsite_allows_delete(struct run *r, const struct manifest_entry *e);

#endif
