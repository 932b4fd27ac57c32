/* utf8.c — the strict UTF-8 check (contract in utf8.h). It only reads; escaping what fails
 * for a terminal is log_escape's job. */
#include "utf8.h"

#include <string.h>

size_t utf8_invalid_at(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;

	while (i < len) {
		unsigned char c = s[i], lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			lo = c == 0xe0 ? 0xa0 : lo;
			hi = c == 0xed ? 0x9f : hi;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			lo = c == 0xf0 ? 0x90 : lo;
			hi = c == 0xf4 ? 0x8f : hi;
		} else {
			return i;
		}
		if (len - i <= n || s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t k = 2; k <= n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
		i += n + 1;
	}
	return len;
}

size_t utf8_fit(const char *s, size_t len, size_t cap)
{
	size_t n;

	if (cap == 0)
		return 0;
	n = strnlen(s, len < cap - 1 ? len : cap - 1);
	/* Back off to the start of a character: continuation bytes are 10xxxxxx. */
	while (n > 0 && n < len && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

int utf8_copy_cut(char *out, size_t cap, const char *s)
{
	size_t len = strlen(s), n = utf8_fit(s, len, cap);

	memcpy(out, s, n);
	out[n] = '\0';
	return n < len;
}
