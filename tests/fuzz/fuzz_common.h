/* fuzz_common.h — small helpers shared by the libFuzzer harnesses in tests/fuzz/.
 *
 * A failed invariant calls FUZZ_CHECK's abort(), which libFuzzer (and ASan in the replay
 * build) reports as a crash with the message printed first. Piece sizes: several harnesses
 * cut their payload into pieces whose sizes come from a few control bytes at the front of
 * the input, so that the fuzzer also explores how a module copes with data arriving 1 byte
 * at a time, at an awkward boundary (4 bytes: the "RIFF" sniff; 8: a chunk header; 512: a
 * tar block) or all at once. Each piece is copied into a buffer of exactly its size that is
 * freed before the next one, so ASan sees a read past a piece or a pointer kept into one. */
#ifndef NEXO_FUZZ_COMMON_H
#define NEXO_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Where invariant failures are told: stderr as it was at start-up. run.sh passes
 * -close_fd_mask=2 so that the modules' own warnings (one per hostile input) are dropped;
 * libFuzzer closes fd 2 after LLVMFuzzerInitialize, which calls fuzz_keep_stderr() first. */
static int fuzz_err_fd = 2;

static inline void fuzz_keep_stderr(void)
{
	int fd = dup(2);

	if (fd >= 0)
		fuzz_err_fd = fd;
}

#define FUZZ_CHECK(cond, ...)                                                        \
	do {                                                                         \
		if (!(cond)) {                                                       \
			dprintf(fuzz_err_fd, "fuzz invariant failed at %s:%d: %s\n  ", \
				__FILE__, __LINE__, #cond);                          \
			dprintf(fuzz_err_fd, __VA_ARGS__);                           \
			dprintf(fuzz_err_fd, "\n");                                  \
			abort();                                                     \
		}                                                                    \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Piece sizes from up to 4 control bytes, cycled: a byte below 0x80 gives 0..16 bytes (0
 * only when `allow_zero`, and never a whole cycle of them; else 1), one above gives
 * 64..8192 in steps of 64. */
struct pieces {
	unsigned char ctl[4];
	size_t nctl;
	size_t i;
	size_t zeros; /* 0-byte pieces in a row: a whole cycle of them gives 1, not a hang */
	int allow_zero;
};

static inline void pieces_init(struct pieces *p, const uint8_t *ctl, size_t nctl, int allow_zero)
{
	memset(p, 0, sizeof *p);
	if (nctl > sizeof p->ctl)
		nctl = sizeof p->ctl;
	memcpy(p->ctl, ctl, nctl);
	p->nctl = nctl;
	p->allow_zero = allow_zero;
}

static inline size_t pieces_next(struct pieces *p)
{
	unsigned v;
	size_t n;

	if (p->nctl == 0)
		return (size_t)-1; /* no control bytes: everything at once */
	v = p->ctl[p->i++ % p->nctl];
	n = v < 0x80 ? v % 17 : (size_t)(v - 0x7f) * 64;
	if (n == 0 && (!p->allow_zero || ++p->zeros >= p->nctl))
		n = 1;
	if (n > 0)
		p->zeros = 0;
	return n;
}

/* The bytes as a NUL-terminated string (a copy; free() it). NUL bytes inside stay. */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
