/* recpath.c — PBX recording path → archive folder and file name; the gate every local name
 * passes through. */
#include "recpath.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* "YYYYMMDD" with a real calendar date → "YYYY-MM-DD" and "YYYY/MM/DD". */
static int parse_day(const char *s, struct recpath *out)
{
	static const int dm[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y = 0, m, d;

	for (int i = 0; i < 8; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	for (int i = 0; i < 4; i++)
		y = y * 10 + (s[i] - '0');
	m = (s[4] - '0') * 10 + (s[5] - '0');
	d = (s[6] - '0') * 10 + (s[7] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > dm[m - 1])
		return -1;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	snprintf(out->day, sizeof out->day, "%.4s-%.2s-%.2s", s, s + 4, s + 6);
	snprintf(out->dir, sizeof out->dir, "%.4s/%.2s/%.2s", s, s + 4, s + 6);
	return 0;
}

const char *recpath_basename(const char *pbx_path)
{
	const char *slash = strrchr(pbx_path, '/');

	return slash ? slash + 1 : pbx_path;
}

int recpath_parse(const char *pbx_path, struct recpath *out, char *err, size_t errlen)
{
	const char *name = recpath_basename(pbx_path);
	size_t dirlen = (size_t)(name - pbx_path), len = strlen(name);

	if (len == 0 || len > RECPATH_NAME_MAX) {
		snprintf(err, errlen, "file name is empty or longer than %d bytes", RECPATH_NAME_MAX);
		return -1;
	}
	if (name[0] == '.') {
		snprintf(err, errlen, "file name starts with '.'");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x20 || c >= 0x7f || c == '\\') {
			snprintf(err, errlen, "file name has a control, non-ASCII or '\\' byte");
			return -1;
		}
	}
	if (len < 5 || strcmp(name + len - 4, ".wav") != 0) {
		snprintf(err, errlen, "file name does not end in .wav");
		return -1;
	}
	for (const char *p = pbx_path; p < name;) {
		size_t c = strcspn(p, "/");
		if (c == 2 && p[0] == '.' && p[1] == '.') {
			snprintf(err, errlen, "'..' in the path");
			return -1;
		}
		p += c + 1;
	}
	/* The day: from the folder holding the file ("YYYYMMDD/", the PBX's layout; deeper
	 * paths such as a full disk path are tolerated), else from the name's "YYYYMMDD-". */
	out->canonical = 0;
	if (dirlen >= 9 && (dirlen == 9 || name[-10] == '/') && parse_day(name - 9, out) == 0) {
		out->canonical = dirlen == 9;
	} else if (!(len >= 9 && name[8] == '-' && parse_day(name, out) == 0)) {
		snprintf(err, errlen, "neither its folder nor its name starts with a YYYYMMDD date");
		return -1;
	}
	memcpy(out->name, name, len + 1);
	return 0;
}

int recpath_file_name(const struct recpath *rp, const char *pbx_path, unsigned version,
		      unsigned attempt, const char *suffix, char *out, size_t outlen)
{
	size_t stem = strlen(rp->name) - 4; /* without ".wav" */
	char tag[12] = "", ver[16] = "", again[16] = "";
	uint32_t h = 2166136261u; /* FNV-1a: a short, stable tag, not a security measure */
	int n;

	for (const char *p = pbx_path; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	if (!rp->canonical || attempt >= 1)
		snprintf(tag, sizeof tag, ".p%08x", (unsigned)h);
	if (version > 1)
		snprintf(ver, sizeof ver, ".v%u", version);
	if (attempt >= 2)
		snprintf(again, sizeof again, "-%u", attempt);
	n = snprintf(out, outlen, "%.*s%s%s%s.wav%s", (int)stem, rp->name, tag, ver, again, suffix);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
