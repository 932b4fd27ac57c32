/* fuzz_wav.c — the streaming RIFF/WAVE check (src/archive/wav.h) on hostile files.
 *
 * Input: bytes 0-3 give piece sizes (fuzz_common.h; 0-byte feeds included), the rest is the
 * file. The file is checked three ways: fed whole in one call, fed in those pieces, and fed
 * one byte at a time (files up to 16 KiB). Invariants: the three give the same result, the
 * same message and the same wav_info; a NULL err is allowed; on success data_bytes is > 0,
 * at least one block and at most the file's size, the format is one wav.h accepts with sane
 * channels, rate and block alignment, and seconds is finite and not negative; on failure the
 * message is not empty. Never a crash; each piece is its own exact-size heap copy. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "archive/wav.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	return 0;
}

struct verdict {
	int rc;
	char err[256];
	struct wav_info info;
};

static void feed_copy(struct wav_check *w, const uint8_t *p, size_t n)
{
	unsigned char *copy = malloc(n ? n : 1);

	FUZZ_CHECK(copy != NULL, "out of memory");
	memcpy(copy, p, n);
	wav_check_feed(w, n ? copy : NULL, n);
	free(copy);
}

static void judge(struct wav_check *w, struct verdict *v)
{
	memset(v, 0, sizeof *v);
	memset(v->err, 'x', sizeof v->err);
	v->rc = wav_check_finish(w, &v->info, v->err, sizeof v->err);
	FUZZ_CHECK(v->rc == 0 || v->rc == -1, "result %d", v->rc);
	FUZZ_CHECK(memchr(v->err, '\0', sizeof v->err) != NULL, "err not NUL-terminated");
}

static void same(const struct verdict *a, const struct verdict *b, const char *how)
{
	FUZZ_CHECK(a->rc == b->rc, "whole: %d \"%s\"; %s: %d \"%s\"", a->rc, a->err, how, b->rc,
		   b->err);
	FUZZ_CHECK(strcmp(a->err, b->err) == 0, "whole: \"%s\"; %s: \"%s\"", a->err, how, b->err);
	if (a->rc != 0)
		return;
	FUZZ_CHECK(a->info.format == b->info.format && a->info.channels == b->info.channels &&
			   a->info.sample_rate == b->info.sample_rate &&
			   a->info.bits == b->info.bits && a->info.block_align == b->info.block_align &&
			   a->info.data_bytes == b->info.data_bytes &&
			   a->info.seconds == b->info.seconds,
		   "wav_info differs between whole and %s", how);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *file;
	size_t len, off;
	struct wav_check w;
	struct verdict whole, cut, bytes;
	struct pieces p;

	if (size < 4)
		return -1;
	pieces_init(&p, data, 4, 1);
	file = data + 4;
	len = size - 4;

	wav_check_init(&w);
	feed_copy(&w, file, len);
	judge(&w, &whole);

	wav_check_init(&w);
	for (off = 0; off < len;) {
		size_t n = pieces_next(&p);

		if (n > len - off)
			n = len - off;
		feed_copy(&w, file + off, n);
		off += n;
	}
	judge(&w, &cut);
	same(&whole, &cut, "pieces");

	if (len <= 16384) {
		wav_check_init(&w);
		for (off = 0; off < len; off++)
			wav_check_feed(&w, file + off, 1);
		judge(&w, &bytes);
		same(&whole, &bytes, "bytes");
	}

	/* A NULL err (and no info) is allowed and gives the same verdict. */
	wav_check_init(&w);
	wav_check_feed(&w, file, len);
	FUZZ_CHECK(wav_check_finish(&w, NULL, NULL, 0) == whole.rc, "NULL err changes the verdict");

	if (whole.rc != 0) {
		FUZZ_CHECK(whole.err[0] != '\0', "refused without a message");
		return 0;
	}
	FUZZ_CHECK(whole.err[0] == '\0', "accepted with a message \"%s\"", whole.err);
	FUZZ_CHECK(whole.info.data_bytes > 0, "accepted with an empty data chunk");
	FUZZ_CHECK(whole.info.data_bytes <= len, "data_bytes %llu > file size %zu",
		   (unsigned long long)whole.info.data_bytes, len);
	FUZZ_CHECK(whole.info.format == 1 || whole.info.format == 6 || whole.info.format == 7 ||
			   whole.info.format == 0x31,
		   "accepted format 0x%04x", whole.info.format);
	FUZZ_CHECK(whole.info.channels >= 1 && whole.info.channels <= 8, "%u channels",
		   whole.info.channels);
	FUZZ_CHECK(whole.info.sample_rate >= 1 && whole.info.sample_rate <= 384000, "%u Hz",
		   whole.info.sample_rate);
	FUZZ_CHECK(whole.info.block_align >= 1, "block align 0");
	FUZZ_CHECK(whole.info.data_bytes >= whole.info.block_align, "no whole block");
	FUZZ_CHECK(isfinite(whole.info.seconds) && whole.info.seconds >= 0, "seconds %g",
		   whole.info.seconds);
	return 0;
}
