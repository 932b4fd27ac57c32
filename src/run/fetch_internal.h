/* fetch_internal.h — what fetch.c (batches → requests, splits and retries), fetch_sink.c (an
 * answer's entries → sealed files) and fetch_settle.c (sealed files → manifest lines and
 * tallies) share: one batch and its slots. Not a public header: nothing outside run/fetch*.c
 * includes it. */
#ifndef NEXO_FETCH_INTERNAL_H
#define NEXO_FETCH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fetch.h"
#include "archive/recpath.h"
#include "archive/sealed.h"
#include "archive/unpack.h"
#include "crypto/hash.h"

enum slot_state {
	SLOT_WAITING,   /* not (yet) in the answer */
	SLOT_WRITING,
	SLOT_DONE,      /* sealed */
	SLOT_BROKEN,    /* the download broke off inside it */
	SLOT_FAILED,    /* arrived, failed a check or could not be stored */
	SLOT_GROWING,   /* arrived still being recorded, or changed since the last run: not a
			 * failure; fetched again until it stops changing */
	SLOT_CONFLICT,  /* two entries of its name */
	SLOT_GIVEN_UP,  /* missing too many runs in a row: recorded unavailable */
	SLOT_SAME,      /* fetched again for a changed listing: the bytes are those archived */
	SLOT_OVERSIZED, /* larger than its listing allows (entry_limit): left, not stored */
};

/* What the main side learns of an entry while the worker may still hold its slot: applied to
 * the slot once the worker is done with the batch. */
enum { MARK_CONFLICT = 1, MARK_OVERSIZED = 2 };

struct slot {
	enum slot_state state;
	struct recpath where;
	int64_t declared;           /* size the tar header states; -1 unknown */
	struct sealed sealed;
	unsigned char wire[SHA256_LEN]; /* the audio's hash, set before its end is queued */
	char invalid[160];          /* why it was kept despite failing its checks */
};

struct batch {
	struct run *r;
	struct recording *const *recs;
	const char **paths;
	size_t n;
	struct slot *slots;
	int writing;                /* an entry is open in the sealer (worker side) */
	size_t received;            /* sealed (worker side; read after sealq_drain) */
	size_t arrived;             /* entries the answer brought, good or not (main side) */
	unsigned char *mark;        /* per entry: MARK_* (main side) */
	struct sha256 *wire;        /* hashes the entry in progress (main side) */
	uint64_t entry_bytes;       /* of the entry in progress (main side) */
	uint64_t entry_limit;       /* ... and what it may hold */
	int entry_left;             /* ... it passed that: dropped, its end already queued */
};

/* The sealing, run by the sealq worker in the order the entries arrive (fetch_sink.c). */
extern const struct unpack_sink fetch_seal_work;

/* What unpack calls on the main thread (fetch_sink.c): hashes the audio as it arrives, checks
 * each entry against its listing and the free space, and hands it to the worker. */
extern const struct unpack_sink fetch_queue_sink;

/* Records what landed; tallies the rest (fetch_settle.c), with the manifest and the attempt
 * counts to itself (other lanes share them). `cut` says the answer ended early (broken
 * transfer, storage error, stop signal): what it did not bring is then not known to be
 * missing. With `rest`, those are put there (*nrest of them) to be tried again instead of
 * being tallied. Returns the number tallied as not landed, or -1. */
long fetch_settle(struct batch *b, int cut, struct recording **rest, size_t *nrest);

#endif
