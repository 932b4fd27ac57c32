/*
 * generate.h — `fakepbx --generate`: write a fake PBX recording disk.
 */
#ifndef FAKEPBX_GENERATE_H
#define FAKEPBX_GENERATE_H

#include <stddef.h>
#include <stdint.h>

struct gen_opts {
	const char *dir;
	int days;           /* >= 1 */
	int per_day;        /* 1 .. 86400 */
	uint64_t seed;      /* same seed, same files, byte for byte */
	const char *start;  /* "YYYY-MM-DD" or NULL: today minus days (local) */
	int min_seconds;    /* 1 <= min <= max <= 86400 */
	int max_seconds;
	int queue_percent;  /* 0..100: of the recorded calls, those that waited in a queue */
	int queue_max;      /* 1..86400: their wait, 1..queue_max s */
};

/*
 * Write days x per_day 8 kHz 16-bit mono PCM WAVs under dir/YYYYMMDD/,
 * named like the PBX names them, each via a temp file and rename, and print
 * how many files and bytes were written. Then merge their CDRs, plus
 * per_day / 4 + 4 unrecorded calls a day, into dir/cdr.jsonl (cdr.h).
 * queue_percent of the recorded calls (drawn from a stream of their own:
 * with 0 the CDRs are what they were) waited 1..queue_max s in a queue
 * before they rang: their CDR starts that much earlier, across midnight
 * too, while the recording keeps the answer's time.
 * Returns 0 ok, -1 on error (message printed; files already written stay).
 */
int gen_run(const struct gen_opts *o);

/* The generator's PRNG (splitmix64): the next value, and one below n. */
uint64_t gen_next(uint64_t *s);
uint32_t gen_below(uint64_t *s, uint32_t n);

/*
 * Write a WAV of secs seconds (8 kHz 16-bit mono, a tone drawn from rng
 * plus noise) to dayfd/name via the dot-named temp file
 * ".name.PID.tmp" and a rename; add its size to *bytes. Returns 0, or -1
 * (message printed, temp file removed).
 */
int gen_wav(int dayfd, const char *name, uint32_t secs, uint64_t *rng, uint64_t *bytes);

/* Draw the src and dst (n bytes each) and trunk (NULL for Internal) a call
 * of this type would carry. */
void gen_parties(uint64_t *rng, const char *type, char *src, char *dst, size_t n,
		 const char **trunk);

#endif
