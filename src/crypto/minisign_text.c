/* minisign_text.c — reading minisign's text files, for keys and signatures alike: lines,
 * prefixes, base64 that must make an exact record size, key ids as minisign prints them. */
#include <string.h>

#include "minisign_internal.h"
#include "base/log.h"

int ms_ready(char *err, size_t errlen)
{
	if (sodium_init() < 0) {
		err_set(err, errlen, "libsodium cannot start");
		return -1;
	}
	return 0;
}

/* The next line of `c` without its "\n" and one "\r" before it. Returns 1 for a line ended
 * by "\n", 0 for a last line without one, -1 at the end of the text. */
int ms_next_line(struct cursor *c, const char **line, size_t *len)
{
	const char *nl;
	int ended;

	if (c->p >= c->end)
		return -1;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	ended = nl != NULL;
	if (!nl)
		nl = c->end;
	*line = c->p;
	*len = (size_t)(nl - c->p);
	if (*len > 0 && (*line)[*len - 1] == '\r')
		(*len)--;
	c->p = ended ? nl + 1 : nl;
	return ended;
}

/* 1 when nothing but line ends remain. */
int ms_only_blank(const struct cursor *c)
{
	for (const char *q = c->p; q < c->end; q++)
		if (*q != '\n' && *q != '\r')
			return 0;
	return 1;
}

int ms_has_prefix(const char *line, size_t len, const char *prefix, size_t plen)
{
	return len >= plen && memcmp(line, prefix, plen) == 0;
}

/* Decodes padded standard base64 that must make exactly `want` bytes. Returns 0 or -1. */
int ms_b64_exact(unsigned char *out, size_t want, const char *b64, size_t len)
{
	size_t got = 0;
	const char *stop = NULL;

	if (len != B64_LEN(want))
		return -1;
	if (sodium_base642bin(out, want, b64, len, NULL, &got, &stop,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return got == want && stop == b64 + len ? 0 : -1;
}

/* Key ids print as minisign prints them: the 8 bytes as a little-endian number, in hex. */
void ms_keyid_hex(const unsigned char keynum[KEYNUM_LEN], char hex[MINISIGN_KEYID_HEX_LEN + 1])
{
	static const char digits[] = "0123456789ABCDEF";

	for (int i = 0; i < KEYNUM_LEN; i++) {
		hex[2 * i] = digits[keynum[KEYNUM_LEN - 1 - i] >> 4];
		hex[2 * i + 1] = digits[keynum[KEYNUM_LEN - 1 - i] & 15];
	}
	hex[MINISIGN_KEYID_HEX_LEN] = '\0';
}
