/* wav.c — the RIFF/WAVE check behind wav.h: a small state machine fed the bytes of a download
 * as they stream to disk. It gathers only the 12-byte RIFF header, 8-byte chunk headers and the
 * fmt body (at most 40 bytes, into w->hdr); every other byte is skipped by counting. It never
 * allocates, reads or writes files, or logs: the verdict and its reason go to the caller. */
#include "wav.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum {
	ST_RIFF,    /* gathering "RIFF" size "WAVE" */
	ST_HDR,     /* gathering a chunk header: id, size */
	ST_FMT,     /* gathering the fmt body */
	ST_BODY,    /* skipping a chunk body */
	ST_PAD,     /* expecting the pad byte after an odd-sized body */
	ST_OUTSIDE, /* past the end the RIFF size declares: counting only */
	ST_FAILED,  /* w->err says why; nothing more is looked at */
};

#define RIFF_HDR_LEN 12
#define CHUNK_HDR_LEN 8
#define FMT_MIN 16
#define FMT_MAX 40 /* WAVE_FORMAT_EXTENSIBLE; hdr[] must hold it */

#define TAG_PCM 0x0001
#define TAG_ALAW 0x0006
#define TAG_MULAW 0x0007
#define TAG_GSM610 0x0031
#define TAG_EXTENSIBLE 0xFFFE

#define GSM_BLOCK 65    /* bytes per block: two 32.5-byte GSM frames */
#define GSM_SAMPLES 320 /* samples per block */

#define MAX_CHANNELS 8
#define MAX_RATE 384000

_Static_assert(sizeof(((struct wav_check *)0)->hdr) >= FMT_MAX, "hdr holds the largest fmt");

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t fourcc(const char *s)
{
	return le32((const unsigned char *)s);
}

/* A chunk id for a message: printable ASCII as is, anything else as \xNN, so a hostile file
 * cannot put control characters into our logs. `out` holds the worst case, 4 × 4 + 1. */
static const char *id_text(uint32_t id, char out[17])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (int i = 0; i < 4; i++) {
		unsigned char c = (unsigned char)(id >> (8 * i));

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

static void fail(struct wav_check *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct wav_check *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof w->err, fmt, ap);
	va_end(ap);
	w->state = ST_FAILED;
}

static void start_gather(struct wav_check *w, int state, size_t need)
{
	w->state = state;
	w->hdr_len = 0;
	w->hdr_need = need;
}

/* After a chunk (and its pad byte): another chunk header if the RIFF says there is more,
 * else whatever follows is outside the RIFF and only counted. The RIFF end is checked at
 * finish, so that a header still saying "0 bytes" is reported as such and not as garbage
 * chunks parsed out of the audio that follows it. */
static void next_chunk(struct wav_check *w)
{
	if (w->total < w->riff_size + 8)
		start_gather(w, ST_HDR, CHUNK_HDR_LEN);
	else
		w->state = ST_OUTSIDE;
}

static void end_body(struct wav_check *w)
{
	w->ended_on_pad = 0;
	if (w->chunk_size & 1)
		w->state = ST_PAD; /* RIFF chunks are word-aligned */
	else
		next_chunk(w);
}

/* Byte rate, block alignment and bits of a plain (non-GSM) format: they must agree, since
 * the duration is computed from them. */
static int check_sampled(struct wav_check *w, const struct wav_info *in, uint32_t byte_rate)
{
	uint16_t tag = in->format;

	if (tag == TAG_PCM) {
		if (in->bits != 8 && in->bits != 16 && in->bits != 24 && in->bits != 32) {
			fail(w, "PCM with %u bits per sample", in->bits);
			return -1;
		}
		if (in->block_align != in->channels * (in->bits / 8)) {
			fail(w, "fmt block align %u does not fit %u channels of %u bits",
			     in->block_align, in->channels, in->bits);
			return -1;
		}
	} else {
		if (in->bits != 8) {
			fail(w, "%s with %u bits per sample", tag == TAG_ALAW ? "A-law" : "mu-law",
			     in->bits);
			return -1;
		}
		if (in->block_align != in->channels) {
			fail(w, "fmt block align %u does not fit %u channels of 8 bits",
			     in->block_align, in->channels);
			return -1;
		}
	}
	if ((uint64_t)byte_rate != (uint64_t)in->sample_rate * in->block_align) {
		fail(w, "fmt byte rate %u is not %u Hz x %u bytes", byte_rate, in->sample_rate,
		     in->block_align);
		return -1;
	}
	return 0;
}

/* GSM 6.10 packs 320 samples into 65 bytes; writers round the byte rate (Asterisk: 1625 for
 * 8 kHz), so accept the floor or the ceiling of rate × 65 / 320. */
static int check_gsm(struct wav_check *w, const struct wav_info *in, uint32_t byte_rate,
		     const unsigned char *f, size_t size)
{
	uint64_t exact = (uint64_t)in->sample_rate * GSM_BLOCK;
	uint64_t lo = exact / GSM_SAMPLES, hi = (exact + GSM_SAMPLES - 1) / GSM_SAMPLES;

	if (in->channels != 1) {
		fail(w, "GSM 6.10 with %u channels", in->channels);
		return -1;
	}
	if (in->block_align != GSM_BLOCK) {
		fail(w, "GSM 6.10 block align %u, not %u", in->block_align, GSM_BLOCK);
		return -1;
	}
	if (byte_rate < lo || byte_rate > hi) {
		fail(w, "GSM 6.10 byte rate %u does not fit %u Hz", byte_rate, in->sample_rate);
		return -1;
	}
	/* wav49's extra field states the samples per block; when present it must be ours. */
	if (size >= 20 && le16(f + 16) >= 2 && le16(f + 18) != GSM_SAMPLES) {
		fail(w, "GSM 6.10 with %u samples per block, not %u", le16(f + 18), GSM_SAMPLES);
		return -1;
	}
	return 0;
}

static void parse_fmt(struct wav_check *w)
{
	static const unsigned char guid_tail[14] = { 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
						     0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71 };
	const unsigned char *f = w->hdr;
	size_t size = w->hdr_len;
	struct wav_info in = { 0 };
	uint32_t byte_rate = le32(f + 8);
	int rc;

	in.format = le16(f);
	in.channels = le16(f + 2);
	in.sample_rate = le32(f + 4);
	in.block_align = le16(f + 12);
	in.bits = le16(f + 14);

	if (in.format == TAG_EXTENSIBLE) {
		/* cbSize 22: valid bits, channel mask, then the sub-format GUID whose first two
		 * bytes are the plain format tag and whose rest is the fixed KSDATAFORMAT tail. */
		if (size < 40 || le16(f + 16) < 22) {
			fail(w, "EXTENSIBLE fmt chunk of %zu bytes (cbSize %u) is too short", size,
			     size >= 18 ? le16(f + 16) : 0);
			return;
		}
		if (memcmp(f + 26, guid_tail, sizeof guid_tail) != 0) {
			fail(w, "EXTENSIBLE fmt with an unknown sub-format GUID");
			return;
		}
		in.format = le16(f + 24);
		if (in.format != TAG_PCM && in.format != TAG_ALAW && in.format != TAG_MULAW) {
			fail(w, "EXTENSIBLE fmt with sub-format 0x%04x", in.format);
			return;
		}
		if (le16(f + 18) > in.bits) {
			fail(w, "EXTENSIBLE fmt says %u valid bits in %u-bit samples", le16(f + 18),
			     in.bits);
			return;
		}
	}
	if (in.channels < 1 || in.channels > MAX_CHANNELS) {
		fail(w, "fmt says %u channels", in.channels);
		return;
	}
	if (in.sample_rate < 1 || in.sample_rate > MAX_RATE) {
		fail(w, "fmt says %u Hz", in.sample_rate);
		return;
	}
	switch (in.format) {
	case TAG_PCM:
	case TAG_ALAW:
	case TAG_MULAW:
		rc = check_sampled(w, &in, byte_rate);
		break;
	case TAG_GSM610:
		rc = check_gsm(w, &in, byte_rate, f, size);
		break;
	default:
		fail(w, "unsupported format tag 0x%04x", in.format);
		rc = -1;
	}
	if (rc == 0) {
		w->info = in;
		w->fmt_seen = 1;
	}
}

static void on_riff_header(struct wav_check *w)
{
	if (memcmp(w->hdr, "RIFF", 4) != 0 || memcmp(w->hdr + 8, "WAVE", 4) != 0) {
		char a[17], b[17];

		fail(w, "not a RIFF/WAVE file (starts \"%s\" ... \"%s\")", id_text(le32(w->hdr), a),
		     id_text(le32(w->hdr + 8), b));
		return;
	}
	w->riff_size = le32(w->hdr + 4);
	w->riff_seen = 1;
	next_chunk(w);
}

static void on_chunk_header(struct wav_check *w)
{
	uint64_t offset = w->total - CHUNK_HDR_LEN;
	char id[17];

	w->chunk_id = le32(w->hdr);
	w->chunk_size = le32(w->hdr + 4);
	w->chunk_left = w->chunk_size;
	/* Ids are printable ASCII; anything else means we are reading audio or garbage as a
	 * header (a size that lied earlier, a missing pad byte) and nothing after can be trusted. */
	for (int i = 0; i < 4; i++) {
		if (w->hdr[i] < 0x20 || w->hdr[i] > 0x7e) {
			fail(w, "no chunk header at offset %llu (id \"%s\")", (unsigned long long)offset,
			     id_text(w->chunk_id, id));
			return;
		}
	}
	if (w->chunk_id == fourcc("fmt ")) {
		if (w->fmt_seen) {
			fail(w, "second fmt chunk at offset %llu", (unsigned long long)offset);
			return;
		}
		if (w->chunk_size < FMT_MIN || w->chunk_size > FMT_MAX) {
			fail(w, "fmt chunk of %llu bytes (expected %d to %d)",
			     (unsigned long long)w->chunk_size, FMT_MIN, FMT_MAX);
			return;
		}
		start_gather(w, ST_FMT, (size_t)w->chunk_size);
		return;
	}
	if (w->chunk_id == fourcc("data")) {
		if (w->data_seen) {
			fail(w, "second data chunk at offset %llu", (unsigned long long)offset);
			return;
		}
		if (!w->fmt_seen) {
			fail(w, "data chunk before the fmt chunk");
			return;
		}
		w->data_seen = 1;
		w->info.data_bytes = w->chunk_size;
	}
	if (w->chunk_left == 0)
		end_body(w);
	else
		w->state = ST_BODY;
}

void wav_check_init(struct wav_check *w)
{
	memset(w, 0, sizeof *w);
	start_gather(w, ST_RIFF, RIFF_HDR_LEN);
}

void wav_check_feed(struct wav_check *w, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0 && w->state != ST_FAILED) {
		size_t n;

		switch (w->state) {
		case ST_RIFF:
		case ST_HDR:
		case ST_FMT:
			n = w->hdr_need - w->hdr_len;
			if (n > len)
				n = len;
			memcpy(w->hdr + w->hdr_len, p, n);
			w->hdr_len += n;
			w->total += n;
			if (w->hdr_len < w->hdr_need)
				break;
			if (w->state == ST_RIFF)
				on_riff_header(w);
			else if (w->state == ST_HDR)
				on_chunk_header(w);
			else {
				parse_fmt(w);
				if (w->state != ST_FAILED)
					end_body(w);
			}
			break;
		case ST_BODY:
			n = w->chunk_left < len ? (size_t)w->chunk_left : len;
			w->chunk_left -= n;
			w->total += n;
			if (w->chunk_left == 0)
				end_body(w);
			break;
		case ST_PAD:
			n = 1;
			w->total += 1;
			w->ended_on_pad = 1;
			next_chunk(w);
			break;
		default: /* ST_OUTSIDE */
			n = len;
			w->total += n;
			w->outside += n;
			break;
		}
		p += n;
		len -= n;
	}
	w->total += len; /* after a failure: still counted, never looked at */
}

/* 0, or -1 with the first thing wrong with the complete file. Checked in an order that names the
 * cause rather than a symptom: a truncated chunk before the RIFF size that disagrees because
 * of it; the RIFF size before "data chunk is empty", because a header still saying 0 bytes
 * with audio after it is a recording still being written. */
static int judge(const struct wav_check *w, char *err, size_t errlen)
{
	uint64_t riff_end = w->riff_size + 8;
	uint64_t end = w->total - w->outside;
	char quoted[17], id[20];

	switch (w->state) {
	case ST_FAILED:
		snprintf(err, errlen, "%s", w->err);
		return -1;
	case ST_RIFF:
		if (w->total == 0)
			snprintf(err, errlen, "empty file");
		else if (memcmp(w->hdr, "RIFF", w->hdr_len < 4 ? w->hdr_len : 4) != 0 ||
			 (w->hdr_len > 8 && memcmp(w->hdr + 8, "WAVE", w->hdr_len - 8) != 0))
			snprintf(err, errlen, "not a RIFF/WAVE file (%zu bytes)", w->hdr_len);
		else
			snprintf(err, errlen, "file too short for a RIFF header (%zu bytes)",
				 w->hdr_len);
		return -1;
	case ST_FMT:
		snprintf(err, errlen, "fmt chunk runs past end of file (declares %llu bytes, %zu "
			 "present)", (unsigned long long)w->chunk_size, w->hdr_len);
		return -1;
	case ST_BODY:
		if (w->chunk_id == fourcc("data"))
			snprintf(id, sizeof id, "data");
		else
			snprintf(id, sizeof id, "\"%s\"", id_text(w->chunk_id, quoted));
		snprintf(err, errlen, "%s chunk runs past end of file (declares %llu bytes, %llu "
			 "present)", id, (unsigned long long)w->chunk_size,
			 (unsigned long long)(w->chunk_size - w->chunk_left));
		return -1;
	case ST_HDR:
		if (w->hdr_len == 0)
			break;
		if (end == riff_end)
			snprintf(err, errlen, "%zu trailing bytes after the last chunk", w->hdr_len);
		else
			snprintf(err, errlen, "chunk header cut short at end of file (%zu of %d bytes)",
				 w->hdr_len, CHUNK_HDR_LEN);
		return -1;
	default:
		break;
	}
	/* A writer may count the pad byte after an odd last chunk in the RIFF size or not
	 * (Asterisk does not), and may leave it out at the very end: no audio is lost. */
	if (w->outside > 0 ||
	    !(end == riff_end || (w->ended_on_pad && end == riff_end + 1) ||
	      (w->state == ST_PAD && end + 1 == riff_end))) {
		snprintf(err, errlen, "RIFF size %llu says %llu bytes, file has %llu",
			 (unsigned long long)w->riff_size, (unsigned long long)riff_end,
			 (unsigned long long)w->total);
		return -1;
	}
	if (!w->fmt_seen) {
		snprintf(err, errlen, "no fmt chunk");
		return -1;
	}
	if (!w->data_seen) {
		snprintf(err, errlen, "no data chunk");
		return -1;
	}
	if (w->info.data_bytes == 0) {
		snprintf(err, errlen, "data chunk is empty");
		return -1;
	}
	if (w->info.data_bytes < w->info.block_align) {
		snprintf(err, errlen, "data chunk of %llu bytes holds no whole %u-byte block",
			 (unsigned long long)w->info.data_bytes, w->info.block_align);
		return -1;
	}
	return 0;
}

int wav_check_finish(struct wav_check *w, struct wav_info *info, char *err, size_t errlen)
{
	struct wav_info in = w->info;
	char scratch[sizeof w->err];

	if (!err || errlen == 0) {
		err = scratch;
		errlen = sizeof scratch;
	}
	if (judge(w, err, errlen) != 0)
		return -1;
	/* Whole blocks only: a partial block at the end holds no complete sample (PCM) or
	 * frame (GSM). */
	if (in.format == TAG_GSM610)
		in.seconds = (double)(in.data_bytes / GSM_BLOCK) * GSM_SAMPLES / in.sample_rate;
	else
		in.seconds = (double)(in.data_bytes / in.block_align) / in.sample_rate;
	if (info)
		*info = in;
	err[0] = '\0';
	return 0;
}

int wav_check_unfinished(const struct wav_check *w)
{
	return w->riff_seen && (w->riff_size == 0 || (w->data_seen && w->info.data_bytes == 0));
}
