/* recname.c — see recname.h. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "recname.h"

static int is_day(const char *s, size_t len)
{
	if (len != 8)
		return 0;
	for (size_t i = 0; i < 8; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int recname_key(const char *name, char *out, size_t outlen)
{
	const char *slash = strrchr(name, '/');
	const char *start = slash ? slash + 1 : name;
	size_t len;

	while (*start == ' ' || *start == '\t')
		start++;
	len = strlen(start);
	while (len > 0 && isspace((unsigned char)start[len - 1]))
		len--;
	if (len >= 4 && strncasecmp(start + len - 4, ".wav", 4) == 0)
		len -= 4;
	if (len == 0 || len >= outlen)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)start[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			return -1;
	}
	if (memmem(start, len, "..", 2) != NULL)
		return -1;
	memcpy(out, start, len);
	out[len] = '\0';
	return 0;
}

int recname_to_pbx_path(const char *name, char *out, size_t outlen)
{
	char key[256];
	const char *slash = strrchr(name, '/');
	char day[9] = "";

	if (recname_key(name, key, sizeof key) != 0)
		return -1;
	if (slash != NULL) {
		const char *dir_end = slash, *dir = slash;
		while (dir > name && dir[-1] != '/')
			dir--;
		if (is_day(dir, (size_t)(dir_end - dir)))
			memcpy(day, dir, 8);
	}
	if (day[0] == '\0' && strlen(key) > 8 && key[8] == '-' && is_day(key, 8))
		memcpy(day, key, 8);
	if (day[0] == '\0')
		return -1;
	if ((size_t)snprintf(out, outlen, "%s/%s.wav", day, key) >= outlen)
		return -1;
	return 0;
}
