/* unpack.h — a download answer (tar, or a bare WAV for a one-file request) → entries.
 *
 * Reads the stream through libarchive in one pass and hands each accepted entry's bytes to a
 * sink; it writes nothing itself. An entry is accepted only if it is a regular file whose name
 * matches a requested path: the same path, the same path under a leading "./" or any folder,
 * or the same base name. Absolute names, ".." components, links, devices and names that match
 * nothing requested are refused (reported to the sink's `refused`, then skipped). Whether the
 * answer is a tar or a bare WAV is told by its first bytes ("RIFF"), not by any header. */
#ifndef NEXO_UNPACK_H
#define NEXO_UNPACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Gives the next piece of the stream: >0 its length with *buf set (valid until the next call),
 * 0 at the end, -1 on a transfer error (already reported by the reader). */
typedef ssize_t (*unpack_read_fn)(void *ctx, const void **buf);

struct unpack_sink {
	/* Entry for requested path number `idx` starts; `size` is the size the tar header states
	 * (-1 for a bare WAV of unknown length). Return 0 to take it, 1 to leave it (it is
	 * skipped, without `end`; the sink says why), -1 to abort the stream. */
	int (*begin)(void *ctx, size_t idx, int64_t size);
	/* Bytes of the current entry. Return 0, or -1 to abort the stream (storage error). */
	int (*data)(void *ctx, size_t idx, const void *buf, size_t len);
	/* The entry ended: `complete` 1 when all its stated bytes arrived, 0 when the stream broke
	 * inside it (the sink must discard it). Return 0, or -1 to abort the stream. */
	int (*end)(void *ctx, size_t idx, int complete);
	/* An entry was refused; `name` is raw PBX bytes (escape before printing). May be NULL. */
	void (*refused)(void *ctx, const char *name, const char *why);
	/* A second entry for requested path `idx` arrived (after the first one ended): two
	 * entries of one name are a conflict, not a choice; the sink discards both. */
	void (*conflict)(void *ctx, size_t idx);
};

enum unpack_result {
	UNPACK_OK = 0,          /* the stream ended cleanly (some requested entries may be absent) */
	UNPACK_BROKEN = -1,     /* transfer error, truncated or malformed archive (err says which) */
	UNPACK_ABORTED = -2,    /* a sink callback returned -1 */
};

/* unpack_stream's flags. */
enum {
	UNPACK_GZIP = 1, /* the answer declares gzip: a gzip'd tar is inflated. Without it only a
			  * plain tar is read (a compressed body is refused), so that an answer
			  * cannot inflate to more than it said it would be */
};

/* Reads the whole stream. `requested` are the n PBX paths asked for; their order gives idx.
 * Returns an enum unpack_result; `err` is set for UNPACK_BROKEN. */
int unpack_stream(unpack_read_fn read, void *read_ctx, const char *const *requested, size_t n,
		  unsigned flags, const struct unpack_sink *sink, void *sink_ctx, char *err,
		  size_t errlen);

/* Which requested path an entry name stands for: its index, or -1 with `why` set when the name
 * is refused (absolute, "..", no match, ambiguous). Exposed for tests and fuzzing. */
long unpack_match_name(const char *name, const char *const *requested, size_t n,
		       const char **why);

#endif
