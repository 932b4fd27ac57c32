/* sealq.h — the entries of a download, handed to a thread of their own.
 *
 * The main thread drives the network and libarchive; a worker runs the sealing (hash, WAV
 * check, encryption, write, fsync, commit) of the same entries, in the same order. Bytes are
 * copied into a small ring of buffers (SEALQ_SLOTS x SEALQ_BUFFER: memory stays bounded), so the
 * download goes on while a file is hashed or fsynced. The worker calls the `work` callbacks of
 * an unpack_sink; once one of them returns -1, the rest of the batch is skipped and the next
 * call on the main side returns -1, which aborts the stream. */
#ifndef NEXO_SEALQ_H
#define NEXO_SEALQ_H

#include <stddef.h>
#include <stdint.h>

#define SEALQ_SLOTS 8
#define SEALQ_BUFFER (512u << 10)

struct sealq;
struct unpack_sink;

/* Starts the worker. Returns NULL with `err` set. */
struct sealq *sealq_new(char *err, size_t errlen);

/* Drains, then stops the worker. NULL is a no-op. */
void sealq_free(struct sealq *q);

/* Points the queue at this batch's handlers (only begin, data and end are used). Call with
 * the queue drained. */
void sealq_start(struct sealq *q, const struct unpack_sink *work, void *ctx);

/* Queue an entry's start, bytes (copied), end; shaped like unpack_sink's callbacks so they can
 * be called from one. Each blocks while the ring is full. Returns 0, or -1 when a handler has
 * failed (the stream should stop). */
int sealq_begin(struct sealq *q, size_t idx, int64_t size);
int sealq_data(struct sealq *q, size_t idx, const void *buf, size_t len);
int sealq_end(struct sealq *q, size_t idx, int complete);

/* Waits until every queued event was handled. Returns 0, or -1 when a handler failed. */
int sealq_drain(struct sealq *q);

#endif
