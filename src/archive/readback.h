/* readback.h — checking encrypted files before they are committed, in a thread of their own.
 *
 * The read-back of an encrypted file (same header, header MAC, every chunk with the file key,
 * plaintext hash equal to the wire hash) costs as much CPU as writing it. Done in its own
 * thread, with the commit (fsync, rename, folder fsync) that follows it, the check of file N
 * overlaps the download and encryption of file N+1, and the sealing thread never waits on a
 * disk: on two cores one does the network and encryption, the other the read-back. At most READBACK_QUEUE files
 * wait (each holds its writer's buffers and file key), so memory stays bounded. A batch's
 * results are collected with readback_drain() before its manifest lines are written. */
#ifndef NEXO_READBACK_H
#define NEXO_READBACK_H

#include "crypto/hash.h"

#define READBACK_QUEUE 4

struct readback;
struct store_file;
struct age_writer;
struct sealed;
struct file_naming;

/* Starts the thread. Returns NULL with `err` set. */
struct readback *readback_new(char *err, size_t errlen);

/* Waits for queued checks, then stops the thread. NULL is a no-op. */
void readback_free(struct readback *rb);

/* Queues the check of `file` (to be named as `naming` says: copied), which `w` wrote and
 * finished and store_finish_writing() flushed; `w` and `file` pass to the read-back: `w` is
 * freed (its file key wiped) after the check, `file` committed (store_commit_new) when the
 * check passed, out->file then naming it, else abandoned. `wire`
 * is the audio's hash as it arrived, `stored` the file's as it was written (the check proves
 * the file holds exactly those bytes: same header, every chunk's tag). By the time readback_drain() returns, *out has
 * stored_sha256 set (the file is durable under its name), or out->failed and out->why (no
 * file was left for a manifest to name). `out` must stay valid until then. Blocks while
 * READBACK_QUEUE checks wait. Returns 0, or -1 when out of memory (both freed, nothing
 * queued). */
int readback_submit(struct readback *rb, struct age_writer *w, struct store_file *file,
		    const struct file_naming *naming, const unsigned char wire[SHA256_LEN],
		    const unsigned char stored[SHA256_LEN], struct sealed *out);

/* Waits until every queued check is done. Returns how many failed. */
int readback_drain(struct readback *rb);

#endif
