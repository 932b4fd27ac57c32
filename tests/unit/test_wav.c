/* test_wav.c — the RIFF/WAVE check (wav.c) against WAVs built in memory: the layouts Asterisk
 * writes (PCM, A-law, µ-law, wav49 GSM with a fact chunk, EXTENSIBLE, LIST chunks, pad bytes)
 * must pass with the right duration; truncated, lying and foreign files must fail with a
 * message that names the problem. Every fixture is also fed one byte at a time and in odd
 * pieces, and must get the same verdict as when fed whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "archive/wav.h"

/* A WAV under construction. Large enough for one second of 48 kHz stereo 16-bit. */
struct wb {
	unsigned char b[200000];
	size_t n;
};

static struct wb g;

static void put(struct wb *w, const void *p, size_t len)
{
	assert_true(w->n + len <= sizeof w->b);
	memcpy(w->b + w->n, p, len);
	w->n += len;
}

static void put16(struct wb *w, unsigned v)
{
	unsigned char b[2] = { (unsigned char)v, (unsigned char)(v >> 8) };

	put(w, b, 2);
}

static void put32(struct wb *w, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };

	put(w, b, 4);
}

static void fill(struct wb *w, int byte, size_t len)
{
	assert_true(w->n + len <= sizeof w->b);
	memset(w->b + w->n, byte, len);
	w->n += len;
}

static void set32(struct wb *w, size_t at, uint32_t v)
{
	w->b[at] = (unsigned char)v;
	w->b[at + 1] = (unsigned char)(v >> 8);
	w->b[at + 2] = (unsigned char)(v >> 16);
	w->b[at + 3] = (unsigned char)(v >> 24);
}

/* "RIFF" with a size fixed up by riff_fix(), "WAVE". */
static void riff(struct wb *w)
{
	w->n = 0;
	put(w, "RIFF", 4);
	put32(w, 0);
	put(w, "WAVE", 4);
}

static void riff_fix(struct wb *w)
{
	set32(w, 4, (uint32_t)(w->n - 8));
}

static void fmt16(struct wb *w, unsigned tag, unsigned ch, uint32_t rate, unsigned bits,
		  unsigned align)
{
	put(w, "fmt ", 4);
	put32(w, 16);
	put16(w, tag);
	put16(w, ch);
	put32(w, rate);
	put32(w, rate * align);
	put16(w, align);
	put16(w, bits);
}

static void chunk(struct wb *w, const char *id, const void *body, uint32_t len)
{
	put(w, id, 4);
	put32(w, len);
	put(w, body, len);
	if (len & 1)
		fill(w, 0, 1);
}

static void data(struct wb *w, uint32_t len, int byte)
{
	put(w, "data", 4);
	put32(w, len);
	fill(w, byte, len);
}

static const char info_list[] = "INFOISFT\x0e\0\0\0Lavf58.76.100\0";

/* Asterisk's format_wav.c: 44-byte header, 8 kHz 16-bit mono PCM. */
static void pcm_8k(struct wb *w, uint32_t data_len)
{
	riff(w);
	fmt16(w, 1, 1, 8000, 16, 2);
	data(w, data_len, 0x11);
	riff_fix(w);
}

/* Asterisk's format_wav_gsm.c ("wav49"): 20-byte fmt with cbSize 2 and 320 samples per
 * block, bits 0, byte rate 1625; a fact chunk; 65-byte blocks. `pad`: 0 none, 1 pad byte
 * counted in the RIFF size, 2 pad byte written but not counted (Asterisk's own way). */
static void gsm_wav49(struct wb *w, uint32_t blocks, int pad)
{
	uint32_t len = blocks * 65;

	riff(w);
	put(w, "fmt ", 4);
	put32(w, 20);
	put16(w, 0x31);
	put16(w, 1);
	put32(w, 8000);
	put32(w, 1625);
	put16(w, 65);
	put16(w, 0);
	put16(w, 2);
	put16(w, 320);
	put(w, "fact", 4);
	put32(w, 4);
	put32(w, blocks * 320);
	data(w, len, 0x5a);
	if (pad == 1 && (len & 1))
		fill(w, 0, 1);
	riff_fix(w);
	if (pad == 2 && (len & 1))
		fill(w, 0, 1);
}

/* Feeds `len` bytes in pieces of `step` bytes (0: all at once; SIZE_MAX: a varying prime
 * pattern) and returns wav_check_finish()'s verdict. */
static int run(const unsigned char *buf, size_t len, size_t step, struct wav_info *info, char *err,
	       size_t errlen)
{
	static const size_t pattern[] = { 1, 7, 3, 8, 13, 2, 4096, 5, 12, 11 };
	struct wav_check w;
	size_t off = 0, k = 0;

	wav_check_init(&w);
	while (off < len) {
		size_t n = step == 0 ? len : step == SIZE_MAX ? pattern[k++ % 10] : step;

		if (n > len - off)
			n = len - off;
		wav_check_feed(&w, buf + off, n);
		off += n;
	}
	return wav_check_finish(&w, info, err, errlen);
}

static void assert_same_info(const struct wav_info *a, const struct wav_info *b)
{
	assert_int_equal(a->format, b->format);
	assert_int_equal(a->channels, b->channels);
	assert_int_equal(a->sample_rate, b->sample_rate);
	assert_int_equal(a->bits, b->bits);
	assert_int_equal(a->block_align, b->block_align);
	assert_int_equal(a->data_bytes, b->data_bytes);
	assert_true(a->seconds == b->seconds);
}

/* The verdict on the buffer, checked to be the same whole, byte by byte and in odd pieces. */
static int check_buf(const unsigned char *buf, size_t len, struct wav_info *info, char *err,
		     size_t errlen)
{
	static const size_t steps[] = { 1, 2, 3, SIZE_MAX };
	struct wav_info i0, i1;
	char e1[160];
	int rc = run(buf, len, 0, &i0, err, errlen);

	for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
		memset(&i1, 0, sizeof i1);
		assert_int_equal(run(buf, len, steps[s], &i1, e1, sizeof e1), rc);
		assert_string_equal(e1, err);
		if (rc == 0)
			assert_same_info(&i1, &i0);
	}
	if (info)
		*info = i0;
	return rc;
}

static int check(struct wb *w, struct wav_info *info, char *err, size_t errlen)
{
	return check_buf(w->b, w->n, info, err, errlen);
}

static void expect_ok(struct wb *w, struct wav_info *info)
{
	char err[160] = "x";

	assert_int_equal(check(w, info, err, sizeof err), 0);
	assert_string_equal(err, "");
}

static void expect_fail(struct wb *w, const char *needle)
{
	char err[160];

	assert_int_equal(check(w, NULL, err, sizeof err), -1);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
}

static void pcm_plain(void **state)
{
	struct wav_info in;

	(void)state;
	pcm_8k(&g, 16000);
	expect_ok(&g, &in);
	assert_int_equal(in.format, 1);
	assert_int_equal(in.channels, 1);
	assert_int_equal(in.sample_rate, 8000);
	assert_int_equal(in.bits, 16);
	assert_int_equal(in.block_align, 2);
	assert_int_equal(in.data_bytes, 16000);
	assert_true(in.seconds == 1.0);
}

static void pcm_list_before_and_after(void **state)
{
	struct wav_info in;

	(void)state;
	riff(&g);
	chunk(&g, "LIST", info_list, sizeof info_list - 1);
	fmt16(&g, 1, 1, 8000, 16, 2);
	chunk(&g, "LIST", info_list, sizeof info_list - 1);
	data(&g, 24000, 0);
	chunk(&g, "LIST", info_list, sizeof info_list - 1);
	chunk(&g, "junk", "\0\0\0\0", 4);
	riff_fix(&g);
	expect_ok(&g, &in);
	assert_int_equal(in.data_bytes, 24000);
	assert_true(in.seconds == 1.5);
}

static void pcm_fmt18(void **state)
{
	struct wav_info in;

	(void)state;
	riff(&g);
	put(&g, "fmt ", 4);
	put32(&g, 18);
	put16(&g, 1);
	put16(&g, 2);
	put32(&g, 44100);
	put32(&g, 44100 * 4);
	put16(&g, 4);
	put16(&g, 16);
	put16(&g, 0);
	data(&g, 44100 * 4 / 2, 0);
	riff_fix(&g);
	expect_ok(&g, &in);
	assert_int_equal(in.channels, 2);
	assert_true(in.seconds == 0.5);
}

static void alaw_and_mulaw(void **state)
{
	struct wav_info in;

	(void)state;
	for (unsigned tag = 6; tag <= 7; tag++) {
		riff(&g);
		fmt16(&g, tag, 1, 8000, 8, 1);
		chunk(&g, "fact", "\x40\x1f\0\0", 4);
		data(&g, 4000, 0xd5);
		riff_fix(&g);
		expect_ok(&g, &in);
		assert_int_equal(in.format, tag);
		assert_int_equal(in.bits, 8);
		assert_true(in.seconds == 0.5);
	}
}

static void odd_data_with_pad(void **state)
{
	struct wav_info in;

	(void)state;
	/* 8-bit µ-law with an odd length: Asterisk pads after writing a RIFF size without it. */
	riff(&g);
	fmt16(&g, 7, 1, 8000, 8, 1);
	data(&g, 8001, 0xff);
	riff_fix(&g);
	fill(&g, 0, 1);
	expect_ok(&g, &in);
	assert_int_equal(in.data_bytes, 8001);
	assert_true(in.seconds == 8001.0 / 8000);

	/* The pad counted in the RIFF size, and the pad left out entirely: both fine. */
	riff_fix(&g);
	expect_ok(&g, NULL);
	g.n--;
	expect_ok(&g, NULL);
}

static void odd_chunk_pad_in_middle(void **state)
{
	(void)state;
	riff(&g);
	chunk(&g, "LIST", "abcde", 5); /* 5 bytes + 1 pad */
	fmt16(&g, 1, 1, 8000, 16, 2);
	data(&g, 800, 0);
	riff_fix(&g);
	expect_ok(&g, NULL);

	/* A writer that forgot the pad: everything after is misread, and must be refused. */
	riff(&g);
	put(&g, "LIST", 4);
	put32(&g, 5);
	put(&g, "abcde", 5);
	fmt16(&g, 1, 1, 8000, 16, 2);
	data(&g, 800, 0);
	riff_fix(&g);
	expect_fail(&g, "no chunk header at offset 26");
}

static void gsm_wav49_layout(void **state)
{
	struct wav_info in;

	(void)state;
	gsm_wav49(&g, 25, 2); /* 1625 data bytes: odd, so padded after the RIFF size */
	expect_ok(&g, &in);
	assert_int_equal(in.format, 0x31);
	assert_int_equal(in.block_align, 65);
	assert_int_equal(in.data_bytes, 1625);
	assert_true(in.seconds == 1.0);

	gsm_wav49(&g, 25, 1);
	expect_ok(&g, NULL);
	gsm_wav49(&g, 25, 0);
	expect_ok(&g, NULL);
	gsm_wav49(&g, 50, 0);
	expect_ok(&g, &in);
	assert_true(in.seconds == 2.0);

	/* A partial block at the end counts for nothing. */
	gsm_wav49(&g, 10, 0);
	set32(&g, 56, 10 * 65 + 30);
	fill(&g, 0, 30);
	riff_fix(&g);
	expect_ok(&g, &in);
	assert_true(in.seconds == 0.4);
}

static void gsm_bad_fields(void **state)
{
	(void)state;
	gsm_wav49(&g, 5, 1);
	g.b[32] = 64; /* block align */
	expect_fail(&g, "GSM 6.10 block align 64");
	gsm_wav49(&g, 5, 1);
	set32(&g, 28, 1600); /* byte rate */
	expect_fail(&g, "GSM 6.10 byte rate 1600");
	gsm_wav49(&g, 5, 1);
	g.b[38] = 0x60; /* samples per block 0x160 */
	expect_fail(&g, "samples per block");
	gsm_wav49(&g, 5, 1);
	g.b[22] = 2; /* stereo */
	expect_fail(&g, "GSM 6.10 with 2 channels");
}

static void extensible_pcm(void **state)
{
	static const unsigned char pcm_guid[16] = { 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
						    0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71 };
	struct wav_info in;

	(void)state;
	riff(&g);
	put(&g, "fmt ", 4);
	put32(&g, 40);
	put16(&g, 0xfffe);
	put16(&g, 2);
	put32(&g, 48000);
	put32(&g, 48000 * 6);
	put16(&g, 6);
	put16(&g, 24);
	put16(&g, 22);
	put16(&g, 24);
	put32(&g, 3);
	put(&g, pcm_guid, 16);
	data(&g, 48000 * 6 / 4, 0);
	riff_fix(&g);
	expect_ok(&g, &in);
	assert_int_equal(in.format, 1);
	assert_int_equal(in.bits, 24);
	assert_int_equal(in.channels, 2);
	assert_true(in.seconds == 0.25);

	g.b[44] = 0x03; /* sub-format IEEE float */
	expect_fail(&g, "sub-format 0x0003");
	g.b[44] = 0x01;
	g.b[59] = 0x72; /* GUID tail */
	expect_fail(&g, "unknown sub-format GUID");
}

static void truncated(void **state)
{
	(void)state;
	pcm_8k(&g, 16000);
	g.n = 44 + 9000; /* cut inside data */
	expect_fail(&g, "data chunk runs past end of file (declares 16000 bytes, 9000 present)");

	pcm_8k(&g, 16000);
	g.n = 40; /* cut inside the data chunk header */
	expect_fail(&g, "chunk header cut short at end of file (4 of 8 bytes)");

	pcm_8k(&g, 16000);
	g.n = 30; /* cut inside fmt */
	expect_fail(&g, "fmt chunk runs past end of file (declares 16 bytes, 10 present)");

	pcm_8k(&g, 16000);
	g.n = 36; /* fmt complete, no data chunk yet */
	expect_fail(&g, "RIFF size 16036 says 16044 bytes, file has 36");

	pcm_8k(&g, 16000);
	g.n = 7;
	expect_fail(&g, "file too short for a RIFF header (7 bytes)");

	riff(&g);
	chunk(&g, "LIST", info_list, sizeof info_list - 1);
	fmt16(&g, 1, 1, 8000, 16, 2);
	data(&g, 100, 0);
	riff_fix(&g);
	g.n = 20;
	expect_fail(&g, "\"LIST\" chunk runs past end of file (declares 26 bytes, 0 present)");
}

static void lying_sizes(void **state)
{
	(void)state;
	pcm_8k(&g, 16000);
	set32(&g, 4, 16036 + 100); /* RIFF size too big */
	expect_fail(&g, "RIFF size 16136 says 16144 bytes, file has 16044");

	pcm_8k(&g, 16000);
	set32(&g, 4, 16036 - 100); /* RIFF size too small */
	expect_fail(&g, "RIFF size 15936 says 15944 bytes, file has 16044");

	pcm_8k(&g, 16000);
	set32(&g, 40, 20000); /* data size too big */
	set32(&g, 4, 20036);
	expect_fail(&g, "data chunk runs past end of file (declares 20000 bytes, 16000 present)");

	/* Asterisk still writing: both sizes still say nothing, the audio is there. */
	pcm_8k(&g, 0);
	fill(&g, 0x37, 160000);
	expect_fail(&g, "RIFF size 36 says 44 bytes, file has 160044");

	/* ...and the same header with the audio not there yet. */
	pcm_8k(&g, 0);
	expect_fail(&g, "data chunk is empty");

	/* A data size of 0 with a RIFF size covering what follows: the audio is read as chunk
	 * headers and refused. */
	pcm_8k(&g, 0);
	fill(&g, 0, 1000);
	riff_fix(&g);
	expect_fail(&g, "no chunk header at offset 44");

	/* The RIFF size still 0 (some writers). */
	pcm_8k(&g, 16000);
	set32(&g, 4, 0);
	expect_fail(&g, "RIFF size 0 says 8 bytes, file has 16044");
}

static void trailing_bytes(void **state)
{
	(void)state;
	pcm_8k(&g, 1600);
	fill(&g, 0, 3);
	riff_fix(&g);
	expect_fail(&g, "3 trailing bytes after the last chunk");

	pcm_8k(&g, 1600);
	fill(&g, 0, 3); /* outside the RIFF size */
	expect_fail(&g, "RIFF size 1636 says 1644 bytes, file has 1647");

	pcm_8k(&g, 1600);
	fill(&g, 0, 1); /* an even last chunk has no pad byte */
	expect_fail(&g, "RIFF size 1636 says 1644 bytes, file has 1645");
}

static void not_riff(void **state)
{
	static const char html[] = "<!DOCTYPE html><html><head><title>Login</title></head></html>\n";

	(void)state;
	pcm_8k(&g, 1600);
	memcpy(g.b, "RIFX", 4);
	expect_fail(&g, "not a RIFF/WAVE file (starts \"RIFX\"");

	pcm_8k(&g, 1600);
	memcpy(g.b + 8, "AVI ", 4);
	expect_fail(&g, "not a RIFF/WAVE file");

	g.n = 0;
	put(&g, html, sizeof html - 1);
	expect_fail(&g, "not a RIFF/WAVE file (starts \"<!DO\" ... \"E ht\")");

	g.n = 0;
	expect_fail(&g, "empty file");

	g.n = 0;
	put(&g, "<ht", 3);
	expect_fail(&g, "not a RIFF/WAVE file (3 bytes)");

	/* Control characters in the id are escaped, not copied into the message. */
	g.n = 0;
	put(&g, "\x1b[2J\0\0\0\0WAVE", 12);
	expect_fail(&g, "starts \"\\x1b[2J\"");
}

static void bad_fmt(void **state)
{
	(void)state;
	pcm_8k(&g, 1600);
	g.b[32] = 4; /* block align 4 for mono 16-bit */
	expect_fail(&g, "fmt block align 4 does not fit 1 channels of 16 bits");

	pcm_8k(&g, 1600);
	set32(&g, 28, 8000); /* byte rate */
	expect_fail(&g, "fmt byte rate 8000 is not 8000 Hz x 2 bytes");

	pcm_8k(&g, 1600);
	g.b[34] = 12;
	expect_fail(&g, "PCM with 12 bits per sample");

	pcm_8k(&g, 1600);
	g.b[22] = 0;
	expect_fail(&g, "fmt says 0 channels");

	pcm_8k(&g, 1600);
	g.b[22] = 9;
	expect_fail(&g, "fmt says 9 channels");

	pcm_8k(&g, 1600);
	set32(&g, 24, 0);
	expect_fail(&g, "fmt says 0 Hz");

	pcm_8k(&g, 1600);
	set32(&g, 24, 400000);
	expect_fail(&g, "fmt says 400000 Hz");

	pcm_8k(&g, 1600);
	g.b[20] = 2; /* MS ADPCM */
	expect_fail(&g, "unsupported format tag 0x0002");

	riff(&g);
	fmt16(&g, 6, 1, 8000, 16, 2); /* A-law with 16 bits */
	data(&g, 100, 0);
	riff_fix(&g);
	expect_fail(&g, "A-law with 16 bits per sample");

	riff(&g);
	put(&g, "fmt ", 4);
	put32(&g, 14); /* WAVEFORMAT without bits: too short */
	fill(&g, 0, 14);
	data(&g, 100, 0);
	riff_fix(&g);
	expect_fail(&g, "fmt chunk of 14 bytes (expected 16 to 40)");

	pcm_8k(&g, 1);
	fill(&g, 0, 1);
	riff_fix(&g);
	expect_fail(&g, "data chunk of 1 bytes holds no whole 2-byte block");
}

static void chunk_order(void **state)
{
	(void)state;
	riff(&g);
	data(&g, 100, 0);
	fmt16(&g, 1, 1, 8000, 16, 2);
	riff_fix(&g);
	expect_fail(&g, "data chunk before the fmt chunk");

	pcm_8k(&g, 100);
	data(&g, 100, 0);
	riff_fix(&g);
	expect_fail(&g, "second data chunk at offset 144");

	riff(&g);
	fmt16(&g, 1, 1, 8000, 16, 2);
	fmt16(&g, 1, 1, 8000, 16, 2);
	data(&g, 100, 0);
	riff_fix(&g);
	expect_fail(&g, "second fmt chunk at offset 36");

	riff(&g);
	fmt16(&g, 1, 1, 8000, 16, 2);
	chunk(&g, "LIST", info_list, sizeof info_list - 1);
	riff_fix(&g);
	expect_fail(&g, "no data chunk");

	riff(&g);
	chunk(&g, "LIST", info_list, sizeof info_list - 1);
	riff_fix(&g);
	expect_fail(&g, "no fmt chunk");
}

/* After a failure the rest is not looked at, and the first reason stays. */
static void first_error_sticks(void **state)
{
	struct wav_check w;
	char err[128];

	(void)state;
	pcm_8k(&g, 100);
	memcpy(g.b, "RIFX", 4);
	wav_check_init(&w);
	wav_check_feed(&w, g.b, g.n);
	pcm_8k(&g, 100);
	wav_check_feed(&w, g.b, g.n);
	assert_int_equal(wav_check_finish(&w, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "RIFX"));

	/* A small err buffer is cut, not overrun. */
	assert_int_equal(wav_check_finish(&w, NULL, err, 8), -1);
	assert_int_equal(strlen(err), 7);
}

static void durations(void **state)
{
	struct wav_info in;

	(void)state;
	pcm_8k(&g, 8000 * 2 * 3 + 1000); /* 3 s + 500 samples */
	expect_ok(&g, &in);
	assert_true(in.seconds == 3.0625);

	riff(&g);
	fmt16(&g, 1, 2, 16000, 16, 4);
	data(&g, 16000 * 4 * 2, 0);
	riff_fix(&g);
	expect_ok(&g, &in);
	assert_true(in.seconds == 2.0);

	riff(&g);
	fmt16(&g, 1, 1, 8000, 8, 1);
	data(&g, 7999, 0x80);
	riff_fix(&g);
	expect_ok(&g, &in);
	assert_true(in.seconds == 7999.0 / 8000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pcm_plain),
		cmocka_unit_test(pcm_list_before_and_after),
		cmocka_unit_test(pcm_fmt18),
		cmocka_unit_test(alaw_and_mulaw),
		cmocka_unit_test(odd_data_with_pad),
		cmocka_unit_test(odd_chunk_pad_in_middle),
		cmocka_unit_test(gsm_wav49_layout),
		cmocka_unit_test(gsm_bad_fields),
		cmocka_unit_test(extensible_pcm),
		cmocka_unit_test(truncated),
		cmocka_unit_test(lying_sizes),
		cmocka_unit_test(trailing_bytes),
		cmocka_unit_test(not_riff),
		cmocka_unit_test(bad_fmt),
		cmocka_unit_test(chunk_order),
		cmocka_unit_test(first_error_sticks),
		cmocka_unit_test(durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
