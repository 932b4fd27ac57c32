/* readback.h — checking encrypted files after they are stored, in a thread of their own.
 *
 * The read-back of an encrypted file (same header, header MAC, every chunk with the file key,
 * plaintext hash equal to the wire hash) costs as much CPU as writing it. Done in its own
 * thread, the check of file N overlaps the download and encryption of file N+1: on two cores
 * one does the network and encryption, the other the read-back. At most READBACK_QUEUE files
 * wait (each holds its writer's buffers and file key), so memory stays bounded. A batch's
 * results are collected with readback_drain() before its manifest lines are written. */
#ifndef NEXO_READBACK_H
#define NEXO_READBACK_H

#include "hash.h"

#define READBACK_QUEUE 4

struct readback;
struct store;
struct age_writer;
struct sealed;

/* Starts the thread. Returns NULL with `err` set. */
struct readback *readback_new(struct store *s, char *err, size_t errlen);

/* Waits for queued checks, then stops the thread. NULL is a no-op. */
void readback_free(struct readback *rb);

/* Queues the check of `dir`/`name`, which `w` wrote and finished; `w` passes to the read-back
 * (freed, its file key wiped, after the check). `wire` is the audio's hash as it arrived. By
 * the time readback_drain() returns, *out has stored_sha256 set, or out->failed and out->why
 * (and the file was removed: a file that did not pass is never left for a manifest to name).
 * `out` must stay valid until then. Blocks while READBACK_QUEUE checks wait. Returns 0, or -1
 * when out of memory (`w` freed, nothing queued). */
int readback_submit(struct readback *rb, struct age_writer *w, const char *dir, const char *name,
		    const unsigned char wire[SHA256_LEN], struct sealed *out);

/* Waits until every queued check is done. Returns how many failed. */
int readback_drain(struct readback *rb);

#endif
