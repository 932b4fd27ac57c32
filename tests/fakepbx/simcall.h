/*
 * simcall.h — a call happening now on the running fake PBX.
 */
#ifndef FAKEPBX_SIMCALL_H
#define FAKEPBX_SIMCALL_H

#include <stdbool.h>
#include <stdint.h>

#include "cdr.h"

struct simcall_state {
	uint64_t rng;       /* seeded once per server */
	unsigned long n;    /* calls added so far */
	unsigned long seq;  /* next UniqueID sequence number */
};

/* The longest queue wait --queue-file may ask for, in seconds (a day). */
#define SIMCALL_QUEUE_MAX 86400

/*
 * Add one call now: every 4th call (n % 4 == 3) is a NO ANSWER without a
 * recording (ringing 10..30 s); the others write a 2..6 s WAV to
 * dir/YYYYMMDD/ (today, the current local time in its name; dot-named temp
 * file + rename), answered 1..5 s after the call started. When queue_file
 * (--queue-file; NULL: none) exists, it holds the seconds this call waited
 * in a queue before it rang: its start (the CDR's calldate) is that much
 * earlier, its recording's name (the answer) is unchanged; the file is
 * removed. Then the call's CDR is appended to cdrs.
 * row (empty on entry) gets the CDR; the caller clears it.
 * Returns 0, or -1 (message printed; nothing announced should follow).
 */
int simcall_add(const char *dir, struct cdr_store *cdrs, struct simcall_state *st,
		const char *queue_file, struct cdr_row *row);

#endif
