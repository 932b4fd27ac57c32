/* sealed.h — what sealing one recording produced: the stored file, its sizes and hashes, and
 * whether the background read-back of an encrypted file failed. Filled by seal.c and
 * readback.c, read by the run when it records the file in the manifest. A type, no code. */
#ifndef NEXO_SEALED_H
#define NEXO_SEALED_H

#include <stdint.h>
#include "recpath.h"
#include "crypto/hash.h"

struct sealed {
	char file[sizeof(((struct recpath *)0)->dir) + RECPATH_FILE_MAX]; /* rel. to ARCHIVE */
	uint64_t size;                          /* bytes of the stored file */
	uint64_t audio_bytes;                   /* bytes of the audio as received */
	char sha256[SHA256_HEX_LEN + 1];        /* of the audio */
	char stored_sha256[SHA256_HEX_LEN + 1]; /* of the stored file; "" when it is the audio */
	int encrypted;
	int invalid;                            /* kept by sealer_keep() despite a failed check */
	double seconds;                         /* per the WAV header; -1 when not known */
	int unfinished;                         /* rejected: the WAV header's sizes are still 0,
						 * the call is being recorded (wav.h) */
	int failed;                             /* the read-back failed (see sealer_drain) */
	char why[600];                          /* ... and why */
};

#endif
