/* s3xml.c — element text out of S3's XML answers (see s3xml.h): find, bound, decode. */
#include "s3xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first occurrence of `needle` (len n) in [p, end), or NULL. */
static const char *find(const char *p, const char *end, const char *needle, size_t n)
{
	while (p && (size_t)(end - p) >= n) {
		const char *q = memchr(p, needle[0], (size_t)(end - p) - n + 1);
		if (!q)
			return NULL;
		if (memcmp(q, needle, n) == 0)
			return q;
		p = q + 1;
	}
	return NULL;
}

const char *s3xml_next(const char *p, const char *end, const char *tag, const char **inner,
		       const char **inner_end)
{
	char open[80], close[80];
	size_t lo, lc;
	const char *a, *b;

	if (strlen(tag) > 64)
		return NULL;
	lo = (size_t)snprintf(open, sizeof open, "<%s>", tag);
	lc = (size_t)snprintf(close, sizeof close, "</%s>", tag);
	a = find(p, end, open, lo);
	if (!a)
		return NULL;
	a += lo;
	b = find(a, end, close, lc);
	if (!b)
		return NULL;
	*inner = a;
	*inner_end = b;
	return b + lc;
}

/* Decodes one entity at p (after '&') into out; returns the bytes consumed after '&', or 0. */
static size_t entity(const char *p, const char *end, char *c)
{
	static const struct {
		const char *name;
		char c;
	} named[] = { { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' },
		      { "apos;", '\'' } };

	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
		size_t n = strlen(named[i].name);
		if ((size_t)(end - p) >= n && memcmp(p, named[i].name, n) == 0) {
			*c = named[i].c;
			return n;
		}
	}
	if (p < end && *p == '#') {
		char num[12], *stop;
		size_t n = 0;
		const char *q = p + 1;
		int hex = q < end && (*q == 'x' || *q == 'X');
		q += hex;
		while (q < end && *q != ';' && n < sizeof num - 1)
			num[n++] = *q++;
		num[n] = '\0';
		if (q >= end || *q != ';' || n == 0)
			return 0;
		long v = strtol(num, &stop, hex ? 16 : 10);
		if (*stop || v <= 0 || v > 127)
			return 0; /* keys we write are bytes; a wider character is not ours */
		*c = (char)v;
		return (size_t)(q + 1 - p);
	}
	return 0;
}

const char *s3xml_value(const char *p, const char *end, const char *tag, char *out, size_t len)
{
	const char *a, *b, *next = s3xml_next(p, end, tag, &a, &b);
	size_t n = 0;

	if (!next || len == 0)
		return NULL;
	while (a < b) {
		char c = *a++;
		if (c == '&') {
			size_t k = entity(a, b, &c);
			if (!k)
				return NULL;
			a += k;
		}
		if (n + 1 < len)
			out[n++] = c;
	}
	out[n] = '\0';
	return next;
}
