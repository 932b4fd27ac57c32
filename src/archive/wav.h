/* wav.h — RIFF/WAVE validation, fed incrementally as bytes stream to disk.
 *
 * Only chunk headers are parsed; chunk bodies are skipped by counting, so the cost per buffer
 * is O(1) whatever its size and nothing allocates. Accepts what Asterisk's MixMonitor writes:
 * PCM (1), A-law (6), µ-law (7), GSM 6.10 "wav49" (0x31, 65-byte blocks of 320 samples),
 * WAVE_FORMAT_EXTENSIBLE (0xFFFE) with a PCM/A-law/µ-law sub-format; fmt chunks of 16 to 40
 * bytes (16/18 plain, 20 for wav49, 40 for EXTENSIBLE); LIST, fact and other chunks before or
 * after data. Refuses what it cannot vouch for: not RIFF, a RIFF size that disagrees with the
 * file (one pad byte after an odd last chunk is allowed either way), no fmt or no data chunk,
 * a data chunk that is empty (a header still saying 0 bytes: the recording is still being
 * written) or runs past the end, a fmt whose fields contradict each other, bytes after the
 * last chunk. */
#ifndef NEXO_WAV_H
#define NEXO_WAV_H

#include <stddef.h>
#include <stdint.h>

struct wav_info {
	uint16_t format;      /* format tag (the sub-format for EXTENSIBLE) */
	uint16_t channels;
	uint32_t sample_rate;
	uint16_t bits;
	uint16_t block_align;
	uint64_t data_bytes;
	double seconds;       /* from data_bytes and the format's block alignment */
};

/* Validator state. Fields are private to wav.c; it lives on the caller's stack. */
struct wav_check {
	uint64_t total;        /* bytes fed so far */
	uint64_t riff_size;
	uint64_t chunk_size;   /* declared body size of the current chunk */
	uint64_t chunk_left;   /* body bytes still to skip in the current chunk */
	uint64_t outside;      /* bytes past the RIFF's end that belong to no chunk */
	uint32_t chunk_id;
	int state;
	int riff_seen, fmt_seen, data_seen, ended_on_pad;
	size_t hdr_len;        /* bytes gathered into hdr */
	size_t hdr_need;
	unsigned char hdr[48]; /* RIFF header, a chunk header, or a fmt body being gathered */
	struct wav_info info;
	char err[128];         /* first problem seen; later bytes cannot undo it */
};

void wav_check_init(struct wav_check *w);
void wav_check_feed(struct wav_check *w, const void *buf, size_t len);

/* Judges everything fed. Returns 0 with `info` filled when the file is a WAV we vouch for;
 * -1 with `err` saying what is wrong ("data chunk runs past end of file (...)" etc.). */
int wav_check_finish(struct wav_check *w, struct wav_info *info, char *err, size_t errlen);

/* Whether what was fed looks like a WAV still being recorded: RIFF/WAVE whose RIFF size or data
 * size still says 0 (MixMonitor writes the sizes when the file closes). Returns 1 or 0. */
int wav_check_unfinished(const struct wav_check *w);

#endif
