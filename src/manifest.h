/* manifest.h — the archive's source of truth: ARCHIVE/manifest/YYYY-MM-DD.jsonl.
 *
 * One JSON object per line, append-only, one file per call date. An "archived" line says a
 * recording's file is durable and what it hashed to; a "pbx_deleted" line says the PBX copy is
 * gone. Lines are appended in batches: written with one write() per file, then fsynced, so a
 * record is either wholly there or a torn tail, which the reader cuts (with a warning) before
 * anything is appended. Days are loaded on demand, so a run touches only the days it lists:
 * the nightly cost does not grow with the archive's age. See docs/manifest.md. */
#ifndef NEXO_MANIFEST_H
#define NEXO_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include "hash.h"
#include "recording.h"

struct manifest;
struct store;

/* What the manifest knows of one PBX path (the last word of its lines). */
struct manifest_entry {
	char pbx_path[REC_PATH_MAX];
	char file[REC_PATH_MAX + 16]; /* relative to ARCHIVE, e.g. "2021/05/07/x.wav" */
	char sha256[SHA256_HEX_LEN + 1];
	uint64_t size;
	int pbx_deleted;              /* a pbx_deleted line follows the archived one */
};

/* Opens ARCHIVE/manifest/ (creating it). Returns a handle or NULL with `err` set. */
struct manifest *manifest_open(struct store *s, char *err, size_t errlen);
void manifest_close(struct manifest *m); /* NULL is a no-op; pending lines are dropped */

/* Looks `pbx_path` up in day `day` ("YYYY-MM-DD"), loading that day's file on first use.
 * Returns 1 with *out pointing at the entry (valid until manifest_close), 0 when unknown, -1
 * when the day's file cannot be read or is corrupt (message printed). */
int manifest_lookup(struct manifest *m, const char *day, const char *pbx_path,
		    const struct manifest_entry **out);

/* Queues an "archived" line in `day` for `rec`, stored as `file` (relative to ARCHIVE), with
 * the audio's length in seconds as the WAV header gives it (negative: not known). Returns 0,
 * or -1 (out of memory / day unreadable; message printed). */
int manifest_add_archived(struct manifest *m, const char *day, const struct recording *rec,
			  const char *file, uint64_t size, const char *sha256_hex,
			  double audio_seconds);

/* Queues a "pbx_deleted" line for an archived entry of `day`. Returns 0 or -1 as above. */
int manifest_add_deleted(struct manifest *m, const char *day, const char *pbx_path);

/* Appends every queued line to its day's file, fsyncs each file (and the folder when a file was
 * created). Only after this returns 0 are the queued lines facts. Returns 0, or -1 with `err`
 * set (the queued lines are dropped; what reached the disk is cut at the next load). */
int manifest_commit(struct manifest *m, char *err, size_t errlen);

/* The earliest day with a manifest file, as "YYYY-MM-DD". Returns 1 found, 0 none, -1 error. */
int manifest_first_day(struct manifest *m, char day[11]);

/* Calls `fn` for every entry of `day` that is archived and not yet pbx_deleted. Returns 0, the
 * first nonzero `fn` result, or -1 when the day cannot be read. */
int manifest_each_undeleted(struct manifest *m, const char *day,
			    int (*fn)(void *ctx, const struct manifest_entry *e), void *ctx);

#endif
