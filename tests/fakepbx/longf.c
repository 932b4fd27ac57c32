/*
 * longf.c — build the long cosmetic values of --long-fields.
 *
 * Pure string work, no state: the same value and length always give the
 * same bytes. The pad holds a comma, so CSV quoting is exercised.
 */
#include "longf.h"

#include <stdlib.h>
#include <string.h>

static const char longf_pad[] = "0123456789abcdef,";

char *longf_make(const char *v, size_t n)
{
	size_t vl = strlen(v);
	if (vl >= n)
		return strdup(v);
	char *out = malloc(n + 1);
	if (!out)
		return NULL;
	const char *parts[4] = { v, " <sip:", v, "@pbx.example.invalid;tag=" };
	size_t len = 0;
	for (size_t i = 0; i < 4 && len < n - 1; i++) {
		size_t k = strlen(parts[i]);
		if (k > n - 1 - len)
			k = n - 1 - len;
		memcpy(out + len, parts[i], k);
		len += k;
	}
	for (size_t i = 0; len < n - 1; i++)
		out[len++] = longf_pad[i % (sizeof longf_pad - 1)];
	out[len++] = '>';
	out[len] = '\0';
	return out;
}
