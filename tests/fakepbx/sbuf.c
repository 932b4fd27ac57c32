/*
 * sbuf.c — growable byte buffer with sticky allocation errors.
 *
 * Owns the memory of one buffer; used for every JSON/HTML body the fake
 * builds. It never writes to a file or socket itself.
 */
#include "sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool sbuf_reserve(struct sbuf *sb, size_t extra)
{
	if (sb->failed)
		return false;
	if (sb->len + extra + 1 <= sb->cap)
		return true;
	size_t cap = sb->cap ? sb->cap : 256;
	while (cap < sb->len + extra + 1) {
		if (cap > ((size_t)-1) / 2) {
			sb->failed = true;
			return false;
		}
		cap *= 2;
	}
	char *p = realloc(sb->buf, cap);
	if (!p) {
		sb->failed = true;
		return false;
	}
	sb->buf = p;
	sb->cap = cap;
	return true;
}

void sbuf_add(struct sbuf *sb, const void *data, size_t n)
{
	if (!sbuf_reserve(sb, n))
		return;
	memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sbuf_adds(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void sbuf_addf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->failed = true;
		return;
	}
	if (!sbuf_reserve(sb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void sbuf_json_str(struct sbuf *sb, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	sbuf_add(sb, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		const unsigned char *run = p;
		while (*p && *p != '"' && *p != '\\' && *p >= 0x20)
			p++;
		sbuf_add(sb, run, (size_t)(p - run));
		if (!*p)
			break;
		if (*p == '"' || *p == '\\') {
			char esc[2] = { '\\', (char)*p };
			sbuf_add(sb, esc, 2);
		} else {
			char esc[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15] };
			sbuf_add(sb, esc, 6);
		}
	}
	sbuf_add(sb, "\"", 1);
}

void sbuf_fail(struct sbuf *sb)
{
	sb->failed = true;
}

bool sbuf_failed(const struct sbuf *sb)
{
	return sb->failed;
}

void sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

char *sbuf_take(struct sbuf *sb, size_t *len)
{
	if (sb->failed || !sbuf_reserve(sb, 0)) {
		sbuf_free(sb);
		return NULL;
	}
	char *p = sb->buf;
	*len = sb->len;
	p[sb->len] = '\0';
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return p;
}

void sbuf_free(struct sbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->failed = false;
}
