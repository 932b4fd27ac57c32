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
#include "crypto/hash.h"
#include "pbx/recording.h"

struct manifest;
struct store;

/* What the manifest knows of one archived version of a PBX path (an "archived" line and the
 * lines about it since), or of a version the PBX listed but never delivered ("unavailable").
 * A path archived again after it changed on the PBX has one entry per version; lookups give
 * the latest, walks visit them all. */
struct manifest_entry {
	char pbx_path[REC_PATH_MAX];
	char file[REC_PATH_MAX + 16]; /* relative to ARCHIVE, e.g. "2021/05/07/x.wav[.age]" */
	unsigned version;             /* 1, 2, ...: the n-th copy of this path (docs/manifest.md) */
	long listed_duration;         /* the listing's duration when archived; -1 unknown */
	long long listed_size;        /* the listing's size when archived; -1 not listed */
	double audio_seconds;         /* the archived WAV's own length; -1 unknown */
	int64_t archived_at;          /* when (this host's clock, epoch seconds); 0 unknown */
	char sha256[SHA256_HEX_LEN + 1];        /* of the audio as the PBX sent it */
	char stored_sha256[SHA256_HEX_LEN + 1]; /* of the stored file ("" when it is the audio) */
	uint64_t size;                /* of the stored file */
	char calldate[REC_DATE_LEN + 1];
	char src[REC_FIELD_MAX];
	char dst[REC_FIELD_MAX];
	int pbx_deleted;              /* a pbx_deleted line follows the archived one */
	int pruned;                   /* removed from the archive by retention ("pruned") */
	int forgotten;                /* erased on request ("forgotten", a tombstone) */
	int offloaded;                /* its local copy removed, its offsite copy confirmed
				       * ("offloaded", [retention] local_keep_days) */
	int invalid;                  /* archived as it was despite failed checks: never
				       * deleted from the PBX by retention */
	int unavailable;              /* never delivered by the PBX; no file ("unavailable") */
	int cdr_missing;              /* archived with "cdr": null, and no "cdr" line since */
	int offsite;                  /* an "offsite" line: its copy in the bucket is confirmed;
				       * MANIFEST_OFFSITE_LOCKED when that line names a lock */
};

#define MANIFEST_OFFSITE_LOCKED 2

/* Later facts about an archived recording. */
enum manifest_mark {
	MANIFEST_PBX_DELETED, /* "pbx_deleted": the PBX's copy is gone (a re-list agreed) */
	MANIFEST_PRUNED,      /* "pruned": the archived file was removed after archive_keep_days */
	MANIFEST_FORGOTTEN,   /* "forgotten": the archived file was erased on request */
	MANIFEST_OFFLOADED,   /* "offloaded": the local copy was removed, the offsite copy stays
			       * (local_keep_days) */
};

/* How a recording was stored, for its "archived" line. */
struct manifest_file {
	const char *file;            /* relative to ARCHIVE */
	uint64_t size;               /* of the stored file */
	const char *sha256;          /* hex, of the audio */
	const char *stored_sha256;   /* hex, of the stored file when it differs (encrypted); or NULL */
	const char *encryption;      /* "age", or NULL */
	double audio_seconds;        /* per the WAV header; negative: unknown */
	const char *invalid;         /* why it failed its checks, when kept anyway; or NULL */
	int short_audio;             /* much shorter than the listed duration */
};

/* Opens ARCHIVE/manifest/ (creating it; a STORE_READ store without one reads no days). Returns a
 * handle or NULL with `err` set. */
struct manifest *manifest_open(struct store *s, char *err, size_t errlen);
void manifest_close(struct manifest *m); /* NULL is a no-op; pending lines are dropped */

/* Cuts the torn tail a crash left on any day file (a last line without its newline), with a
 * warning, so that every file ends with a whole line again. For the holder of the run lock, at
 * the start of a run: one pread of a byte per day file, so it stays cheap for years of days.
 * Returns the number of files cut, or -1 on an I/O error (printed). */
int manifest_repair_tails(struct manifest *m);

/* Counts day `day` as changed by this handle, so that the run signs it again (lines a
 * crashed run appended after the day was last signed). Returns 0, or -1 when the day cannot
 * be loaded. */
int manifest_mark_changed(struct manifest *m, const char *day);

/* `guard(ctx, day)` is asked once per day before this handle first appends to it; when it
 * returns non-zero, every append to that day fails (-1) and the day is never written (the run
 * uses it to keep a signed day's signature true: mansig_check_append). */
void manifest_set_append_guard(struct manifest *m, int (*guard)(void *ctx, const char *day),
			       void *ctx);

/* Whether lines may be appended to `day` now (the guard asked, if not yet). Retention asks
 * before it deletes: a deletion must be recordable. Returns 1 or 0. */
int manifest_may_append(struct manifest *m, const char *day);

/* Looks `pbx_path` up in day `day` ("YYYY-MM-DD"), loading that day's file on first use.
 * Returns 1 with *out pointing at its latest entry (valid until the next change to the day or
 * manifest_close), 0 when unknown, -1 when the day's file cannot be read or is corrupt
 * (message printed). */
int manifest_lookup(struct manifest *m, const char *day, const char *pbx_path,
		    const struct manifest_entry **out);

/* Whether a line of `day` names `file` ("YYYY/MM/DD/name") as an archived file: 1 yes, 0 no,
 * -1 the day cannot be read (printed). A linear walk of the day: for the rare taken name. */
int manifest_file_recorded(struct manifest *m, const char *day, const char *file);

/* Queues an "archived" line in `day` for `rec` (version rec->version), stored as `f`. Returns
 * 0, or -1 (out of memory / day unreadable; message printed). */
int manifest_add_archived(struct manifest *m, const char *day, const struct recording *rec,
			  const struct manifest_file *f);

/* Queues an "unavailable" line: `rec` (version rec->version) was listed but missing from
 * `attempts` download answers in a row; it is not asked for again until its listing changes.
 * Returns 0 or -1 as above. */
int manifest_add_unavailable(struct manifest *m, const char *day, const struct recording *rec,
			     int attempts);

/* Queues a "cdr" line: the call record `c` (joined `how`, an enum cdr_join_how) was found for
 * an entry of `day` archived without one. Returns 0, or -1 (unknown entry / out of memory). */
int manifest_add_cdr(struct manifest *m, const char *day, const char *pbx_path,
		     const struct cdr *c, int how);

/* Queues a line about the day itself rather than one recording (e.g. "cdr_archived"): `o`
 * (taken) must hold "event" and no "pbx_path"; "prev" is added. Returns 0 or -1. */
struct json_object;
int manifest_add_day_event(struct manifest *m, const char *day, struct json_object *o);

/* What a day's manifest says of that day's CDR archive (cdrsync.h). */
struct manifest_day_cdr {
	int archived;                          /* a "cdr_archived" line: the files are final */
	int deleted;                           /* a "cdr_deleted" line: the PBX's rows are gone */
	char jsonl_sha256[SHA256_HEX_LEN + 1]; /* of cdr/DAY.jsonl, as sealed */
	char csv_sha256[SHA256_HEX_LEN + 1];   /* of cdr/DAY.csv, as sealed */
	long rows;                             /* rows it holds */
	int offsite;                           /* a "cdr_offsite" line: both files are confirmed
						* in the [offsite] bucket */
};

/* Fills `out` for `day` (loading it). Returns 0, or -1 when the day cannot be read. */
int manifest_day_cdr(struct manifest *m, const char *day, struct manifest_day_cdr *out);

/* Queues a `mark` line for the archived version `e` (an entry of `day`, found by its path and
 * file), with `reason` (NULL: none) in its "reason" field. Returns 0, or -1 when the entry is
 * unknown or out of memory (printed). */
int manifest_add_mark(struct manifest *m, const char *day, const struct manifest_entry *e,
		      enum manifest_mark mark, const char *reason);

/* What an "offsite" line says: the object that holds a file's offsite copy, as a HEAD
 * confirmed it (docs/offsite.md). */
struct manifest_offsite {
	const char *key;          /* relative to [offsite] url */
	const char *version_id;   /* "" when the bucket keeps no versions */
	const char *etag;         /* the MD5 hex of the stored file */
	const char *lock_mode;    /* "COMPLIANCE", "GOVERNANCE", or NULL: not locked */
	const char *retain_until; /* "YYYY-MM-DDTHH:MM:SSZ", or NULL */
	const char *why_unlocked; /* with no lock_mode: why ("lock = off", "retain-until past") */
};

/* Queues an "offsite" line for the archived version `e` of `day`. Returns 0, or -1 when the
 * entry is unknown or out of memory (printed). */
int manifest_add_offsite(struct manifest *m, const char *day, const struct manifest_entry *e,
			 const struct manifest_offsite *o);

/* Queues a "relisted" line: the PBX's listing of the latest version `e` of `day` changed (its
 * duration or size; now those of `rec`), and a fresh download showed the same bytes as
 * archived. From then on, that listing is what the entry is compared with. Returns 0 or -1. */
int manifest_add_relisted(struct manifest *m, const char *day, const struct manifest_entry *e,
			  const struct recording *rec);

/* Appends every queued line to its day's file, fsyncs each file (and the folder when a file was
 * created). Only after this returns 0 are the queued lines facts. Returns 0, or -1 with `err`
 * set (the queued lines are dropped; what reached the disk is cut at the next load). */
int manifest_commit(struct manifest *m, char *err, size_t errlen);

/* `hook(ctx, m)` is called after every manifest_commit() that succeeded (the run signs the
 * days it just appended to there: a crash then leaves at most one commit's lines unsigned). */
void manifest_set_commit_hook(struct manifest *m, void (*hook)(void *ctx, struct manifest *m),
			      void *ctx);

/* Calls `fn` as manifest_each_changed() does, for the days appended to (or marked changed)
 * since `fn` last returned 0 for them; a day whose `fn` fails (nonzero) is shown again next
 * time. Returns how many days `fn` failed on. */
int manifest_each_unsigned(struct manifest *m,
			   int (*fn)(void *ctx, const char *day, size_t lines, const char *last_hash),
			   void *ctx);

/* Calls `fn` for every day whose file this handle appended to, with the file's line count and
 * the hash of its last line (what a signature's trusted comment names). Returns 0 or the first
 * nonzero `fn` result. */
int manifest_each_changed(struct manifest *m,
			  int (*fn)(void *ctx, const char *day, size_t lines, const char *last_hash),
			  void *ctx);

/* Whether `name` is a day file's name, "YYYY-MM-DD.jsonl" (a name only: what it holds,
 * loading it checks). */
int manifest_is_day_file(const char *name);

/* The earliest day with a manifest file, as "YYYY-MM-DD". Returns 1 found, 0 none, -1 error. */
int manifest_first_day(struct manifest *m, char day[11]);

/* Calls `fn` for every entry of `day` that is archived and not yet pbx_deleted. Returns 0, the
 * first nonzero `fn` result, or -1 when the day cannot be read. */
int manifest_each_undeleted(struct manifest *m, const char *day,
			    int (*fn)(void *ctx, const struct manifest_entry *e), void *ctx);

/* Calls `fn` for every entry of `day` (every archived version, whatever its later marks, and
 * the unavailable ones), in the order they were first recorded. Returns 0, the first nonzero `fn` result, or -1 when the day
 * cannot be read or is corrupt (manifest_day_error() says why). */
int manifest_each_entry(struct manifest *m, const char *day,
			int (*fn)(void *ctx, const struct manifest_entry *e), void *ctx);

/* Calls `fn` for every day that has a manifest file, oldest first ("YYYY-MM-DD"). Returns 0,
 * the first nonzero `fn` result, or -1 when the folder cannot be read (printed). */
int manifest_each_day(struct manifest *m, int (*fn)(void *ctx, const char *day), void *ctx);

/* Whether this handle holds `day` loaded already (a day this run read or wrote): 1 or 0. */
int manifest_day_loaded(struct manifest *m, const char *day);

/* Why `day` could not be used (torn lines are not errors): NULL when it loads fine. */
const char *manifest_day_error(struct manifest *m, const char *day);

#endif
