/*
 * generate.h — `fakepbx --generate`: write a fake PBX recording disk.
 */
#ifndef FAKEPBX_GENERATE_H
#define FAKEPBX_GENERATE_H

#include <stdint.h>

struct gen_opts {
	const char *dir;
	int days;           /* >= 1 */
	int per_day;        /* 1 .. 86400 */
	uint64_t seed;      /* same seed, same files, byte for byte */
	const char *start;  /* "YYYY-MM-DD" or NULL: today minus days (local) */
	int min_seconds;    /* 1 <= min <= max <= 86400 */
	int max_seconds;
};

/*
 * Write days x per_day 8 kHz 16-bit mono PCM WAVs under dir/YYYYMMDD/,
 * named like the PBX names them, each via a temp file and rename, and print
 * how many files and bytes were written. Returns 0 ok, -1 on error
 * (message printed; files already written stay).
 */
int gen_run(const struct gen_opts *o);

#endif
