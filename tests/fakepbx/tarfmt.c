/*
 * tarfmt.c — ustar headers, pax path records, padding, a tiny WAV.
 *
 * Owns the byte layout of tar headers only; what goes into a tar and when
 * is tarstream.c's business.
 */
#include "tarfmt.h"

#include <stdio.h>
#include <string.h>

/* Write v as zero-padded octal in a w-byte field (w-1 digits + NUL), or
 * in GNU base-256 when it does not fit (files of 8 GiB and more). */
static void tarfmt_octal(unsigned char *f, size_t w, uint64_t v)
{
	if (w - 1 < 22 && v >> (3 * (w - 1))) {
		memset(f, 0, w);
		f[0] = 0x80;
		for (size_t i = w - 1; i > 0 && v; i--, v >>= 8)
			f[i] = (unsigned char)(v & 0xff);
		return;
	}
	f[w - 1] = '\0';
	for (size_t i = w - 1; i > 0; i--, v >>= 3)
		f[i - 1] = (unsigned char)('0' + (v & 7));
}

static void tarfmt_checksum(unsigned char *h)
{
	unsigned sum = 0;
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < TARFMT_BLOCK; i++)
		sum += h[i];
	tarfmt_octal(h + 148, 7, sum);
	h[155] = ' ';
}

static void tarfmt_ustar(unsigned char *h, const struct tarfmt_meta *m, const char *name,
			 size_t namelen, const char *prefix, size_t prefixlen)
{
	memset(h, 0, TARFMT_BLOCK);
	memcpy(h, name, namelen > 100 ? 100 : namelen);
	tarfmt_octal(h + 100, 8, 0644);
	tarfmt_octal(h + 108, 8, 0);
	tarfmt_octal(h + 116, 8, 0);
	tarfmt_octal(h + 124, 12, m->size);
	tarfmt_octal(h + 136, 12, m->mtime > 0 ? (uint64_t)m->mtime : 0);
	h[156] = (unsigned char)m->type;
	if (m->link)
		memcpy(h + 157, m->link, strlen(m->link) > 100 ? 100 : strlen(m->link));
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	if (m->type == '3') {
		tarfmt_octal(h + 329, 8, m->devmajor);
		tarfmt_octal(h + 337, 8, m->devminor);
	}
	if (prefixlen)
		memcpy(h + 345, prefix, prefixlen);
	tarfmt_checksum(h);
}

static size_t tarfmt_digits(size_t v)
{
	size_t d = 1;
	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

size_t tarfmt_header(unsigned char *out, const struct tarfmt_meta *m)
{
	size_t len = strlen(m->name);
	if (len <= 100 && !m->pax) {
		tarfmt_ustar(out, m, m->name, len, NULL, 0);
		return TARFMT_BLOCK;
	}
	for (size_t i = len - 1; i > 0 && !m->pax; i--) {
		if (m->name[i] != '/' || i > 155 || len - i - 1 > 100)
			continue;
		tarfmt_ustar(out, m, m->name + i + 1, len - i - 1, m->name, i);
		return TARFMT_BLOCK;
	}
	size_t body = strlen(" path=") + len + 1, d = 1;
	while (tarfmt_digits(body + d) != d)
		d++;
	size_t rec = body + d;
	struct tarfmt_meta pax = { "PaxHeader/entry", 'x', rec, m->mtime, NULL, 0, 0, 0 };
	tarfmt_ustar(out, &pax, pax.name, strlen(pax.name), NULL, 0);
	memset(out + TARFMT_BLOCK, 0, TARFMT_BLOCK);
	snprintf((char *)out + TARFMT_BLOCK, TARFMT_BLOCK, "%zu path=%s\n", rec, m->name);
	tarfmt_ustar(out + 2 * TARFMT_BLOCK, m, m->name, len, NULL, 0);
	return 3 * TARFMT_BLOCK;
}

uint64_t tarfmt_padded(uint64_t n)
{
	return (n + TARFMT_BLOCK - 1) / TARFMT_BLOCK * TARFMT_BLOCK;
}

void tarfmt_blob(unsigned char *b)
{
	static const unsigned char head[44] = {
		'R', 'I', 'F', 'F', (36 + TARFMT_BLOB_DATA) & 0xff, (36 + TARFMT_BLOB_DATA) >> 8, 0, 0,
		'W', 'A', 'V', 'E', 'f', 'm', 't', ' ', 16, 0, 0, 0, 1, 0, 1, 0,
		0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0,
		'd', 'a', 't', 'a', TARFMT_BLOB_DATA & 0xff, TARFMT_BLOB_DATA >> 8, 0, 0,
	};
	memcpy(b, head, sizeof head);
	for (size_t i = 0; i < TARFMT_BLOB_DATA / 2; i++) {
		int v = (i / 8) % 2 ? 4000 : -4000; /* 500 Hz square wave */
		b[44 + 2 * i] = (unsigned char)(v & 0xff);
		b[45 + 2 * i] = (unsigned char)((v >> 8) & 0xff);
	}
}
