/* verify.h — the audit of an archive against its manifests: does everything the manifests
 * promise still hold, and is there nothing they do not know about?
 *
 * For every day in a range (days with a manifest file, a signature or a date folder): the day's
 * manifest loads (line syntax and hash chain, checked by manifest.c); its minisign signature
 * checks with the public key, when one is given, and its trusted comment names the day's line
 * count and last line; the newest head (head.h) is signed (with a key), its history chains to
 * it, and every day it lists still holds the line it names (with a witness: the head is the
 * witnessed one or newer, and the days the witness saw are intact); every archived entry that was not pruned or
 * forgotten has its file, a regular file of the recorded size whose SHA-256 is the recorded one
 * (`stored_sha256` when the line has one, else `sha256`); pruned and forgotten entries' files
 * are gone; every entry of the date folder YYYY/MM/DD is a regular file some entry of that
 * day's manifest names. A "deep" check also decrypts .age files with the identities (plaintext
 * only streams through SHA-256 and the WAV check; it is never written anywhere) and checks the
 * WAV of every file. Hashing can be sampled: file i (counting live entries in day and entry
 * order) is hashed when (i + offset) % every == 0; existence, sizes, chains and signatures are
 * always checked in full.
 *
 * Only reads: takes no lock, writes nothing but the sample offset (verify_sample_advance) and,
 * after an audit without findings, the witness file.
 * Every problem is a "finding" handed to the caller's callback with the path it concerns,
 * relative to the archive root, and a reason; nothing here prints findings. Note that a run
 * in flight may have stored a file it has not yet recorded: such a file shows as a finding
 * until the run appends its line. */
#ifndef NEXO_VERIFY_H
#define NEXO_VERIFY_H

#include <stddef.h>

struct store;
struct age_identities;
struct minisign_public;

struct verify_options {
	const char *from, *to;                /* "YYYY-MM-DD" bounds, inclusive; NULL: open */
	int deep;                             /* decrypt .age files, check every WAV */
	const struct age_identities *ids;     /* for deep; NULL or empty: .age files are hashed
					       * but not decrypted (counted in not_decrypted) */
	const struct minisign_public *pk;     /* NULL: signatures are not checked */
	unsigned long sample_every;           /* 0 or 1: hash every file */
	unsigned long sample_offset;
	const char *witness;                  /* a file outside the archive holding the head the
					       * last clean verify saw; NULL: none */
};

struct verify_report {
	unsigned long days;          /* days looked at */
	unsigned long files;         /* live entries whose files were checked (existence, size) */
	unsigned long hashed;        /* ... of which were hashed (and, when deep, decrypted) */
	unsigned long findings;
	unsigned long not_decrypted; /* deep, no identity: .age files only hashed */
	int signatures_checked;      /* a public key was given */
	unsigned long long head_seq; /* the newest head's number; 0 none */
};

/* Receives one finding: `path` relative to the archive root ("2021/05/07/x.wav",
 * "manifest/2021-05-07.jsonl"), `reason` a sentence. Both may hold bytes from file names or
 * manifests: escape before printing. */
typedef void (*verify_finding_fn)(void *ctx, const char *path, const char *reason);

/* Audits the archive as described above, calling `fn` for every finding in day order.
 * Returns 0 when the audit ran (findings are not errors: see rep->findings), -1 when it could
 * not start or list the manifest folder (message printed). */
int verify_archive(struct store *s, const struct verify_options *o, verify_finding_fn fn,
		   void *ctx, struct verify_report *rep);

/* The sampling offset kept in ARCHIVE/.state/verify-sample (0 when there is none; an
 * unreadable one is reported and taken as 0). */
unsigned long verify_sample_offset(struct store *s);

/* Stores `offset` + 1 for the next sampled verify, atomically (store_put). Returns 0, or -1
 * (message printed). */
int verify_sample_advance(struct store *s, unsigned long offset);

/* The sampling period for PERCENT (1..100): 100/PERCENT rounded to the nearest integer. */
unsigned long verify_sample_every(unsigned percent);

#endif
