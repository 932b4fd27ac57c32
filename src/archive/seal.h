/* seal.h — one recording's bytes → a durable, verified stored file, in one pass.
 *
 * While the bytes stream in, the sealer writes them (encrypted to the age recipients when there
 * are any) to a temp file, hashes the audio with SHA-256 and feeds the WAV check. At the end it
 * judges the entry (sizes, WAV), commits the file (fsync, rename, folder fsync) and, for an
 * encrypted file, reads it back and checks it without the identity: same header bytes, header
 * MAC, every chunk with the file key kept in memory, plaintext hash equal to the wire hash.
 * Only then is the file "sealed"; the file key is wiped either way. Knows nothing of HTTP, tars
 * or manifests. One sealer serves a whole run, one entry at a time. */
#ifndef NEXO_SEAL_H
#define NEXO_SEAL_H

#include <stddef.h>
#include <stdint.h>
#include "recpath.h"
#include "sealed.h"
#include "crypto/hash.h"

struct sealer;
struct store;
struct age_recipients;

enum seal_result {
	SEAL_OK = 0,        /* sealed: durable and verified */
	SEAL_REJECTED = 1,  /* the content failed a check; discarded (`why` says which) */
	SEAL_STORAGE = -1,  /* the archive could not be written or read back (`why` says how) */
};

/* `recipients` NULL or empty: files are stored as they arrive. Returns NULL with `err` set. */
struct sealer *sealer_new(struct store *s, const struct age_recipients *recipients, char *err,
			  size_t errlen);
void sealer_free(struct sealer *z); /* NULL is a no-op; an entry in progress is abandoned */

/* Starts the entry of `pbx_path`'s version `version` (1 for its first copy), stored in the folder
 * of `where` under the name naming.h gives (out->file says which). Returns SEAL_OK or
 * SEAL_STORAGE. */
int sealer_begin(struct sealer *z, const struct recpath *where, const char *pbx_path,
		 unsigned version, char *why, size_t whylen);

/* Bytes of the entry. Returns SEAL_OK or SEAL_STORAGE (the entry is then abandoned). */
int sealer_write(struct sealer *z, const void *buf, size_t len, char *why, size_t whylen);

/* Drops the entry in progress, removing its temp file. No-op when there is none. */
void sealer_abandon(struct sealer *z);

/* Ends the entry: `expected_size` is the audio size the PBX stated in its listing (-1: none);
 * `wire` is the SHA-256 of the bytes given to sealer_write(), computed by the caller as they
 * arrived (on the download's thread: it has the time, the sealing thread has not).
 * Returns an enum seal_result; on SEAL_REJECTED out->unfinished says whether the WAV is one
 * still being recorded; on SEAL_OK `out` describes the stored file — but an encrypted
 * file is read back in the background: only after sealer_drain() is out->stored_sha256 set or
 * out->failed (`out` must stay valid until then). On SEAL_REJECTED
 * the entry stays open for the caller to decide: sealer_abandon() (fetch it again later) or
 * sealer_keep(). */
int sealer_finish(struct sealer *z, int64_t expected_size, const unsigned char wire[SHA256_LEN],
		  struct sealed *out, char *why, size_t whylen);

/* Waits for the background read-backs of the files sealed so far. Returns how many failed
 * (their `out->failed` is set and their files are removed). */
int sealer_drain(struct sealer *z);

/* Stores a rejected entry as it is (it failed the same way too many runs: better flagged in
 * the archive than lost), with out->invalid set. Durability and, for encrypted files, the
 * read-back are as for any other. Returns SEAL_OK or SEAL_STORAGE. */
int sealer_keep(struct sealer *z, struct sealed *out, char *why, size_t whylen);

#endif
