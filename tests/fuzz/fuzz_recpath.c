/* fuzz_recpath.c — recpath_parse (src/archive/recpath.h): a hostile PBX path → a local file name.
 *
 * Input: the whole input is the PBX path (a NUL inside ends it, as it would in C).
 * Invariants on success: name is at most RECPATH_NAME_MAX bytes of printable ASCII without
 * '/' or '\\', is not "." or "..", does not start with '.', ends in ".wav" with something
 * before it, and is the path's base name; the path has no ".." component; dir is
 * "YYYY/MM/DD" and day "YYYY-MM-DD" of the same real date (1970 on), taken from the folder
 * holding the file or from the name's "YYYYMMDD-" prefix. On failure err is a non-empty
 * string. Never a crash. recpath_basename points into its argument, after the last '/'. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "archive/recpath.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	return 0;
}

static int digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int real_date(const char *y4, const char *m2, const char *d2)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y = (y4[0] - '0') * 1000 + (y4[1] - '0') * 100 + (y4[2] - '0') * 10 + (y4[3] - '0');
	int m = (m2[0] - '0') * 10 + (m2[1] - '0'), d = (d2[0] - '0') * 10 + (d2[1] - '0');
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return y >= 1970 && m >= 1 && m <= 12 && d >= 1 && d <= dm[m - 1] + (m == 2 && leap);
}

/* "YYYYMMDD" at s spells the same date as out->dir. */
static int same_day(const char *s, const struct recpath *out)
{
	return memcmp(s, out->dir, 4) == 0 && memcmp(s + 4, out->dir + 5, 2) == 0 &&
	       memcmp(s + 6, out->dir + 8, 2) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_strdup(data, size);
	const char *base = recpath_basename(path);
	const char *slash = strrchr(path, '/');
	struct recpath out;
	char err[128];
	size_t len, plen = strlen(path);
	int rc;

	FUZZ_CHECK(base >= path && base <= path + plen, "basename outside its argument");
	FUZZ_CHECK(base == (slash ? slash + 1 : path), "basename is not after the last '/'");

	memset(&out, 0x5a, sizeof out);
	memset(err, 0, sizeof err);
	rc = recpath_parse(path, &out, err, sizeof err);
	FUZZ_CHECK(rc == 0 || rc == -1, "result %d", rc);
	if (rc != 0) {
		FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof err), "failure without a message");
		free(path);
		return 0;
	}

	FUZZ_CHECK(memchr(out.name, '\0', sizeof out.name) != NULL, "name not NUL-terminated");
	len = strlen(out.name);
	FUZZ_CHECK(len >= 5 && len <= RECPATH_NAME_MAX, "name of %zu bytes", len);
	FUZZ_CHECK(strcmp(out.name, base) == 0, "name \"%s\" is not the base name", out.name);
	FUZZ_CHECK(strchr(out.name, '/') == NULL, "name has a '/'");
	FUZZ_CHECK(out.name[0] != '.', "name starts with '.'");
	FUZZ_CHECK(strcmp(out.name, "..") != 0 && strcmp(out.name, ".") != 0, "name is a dot name");
	FUZZ_CHECK(strcmp(out.name + len - 4, ".wav") == 0, "name does not end in .wav");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)out.name[i];
		FUZZ_CHECK(c >= 0x20 && c < 0x7f && c != '\\', "name byte %zu is 0x%02x", i, c);
	}
	/* No ".." component anywhere in the path (DESIGN: "a '..' anywhere is refused"). */
	for (const char *p = path; *p;) {
		size_t c = strcspn(p, "/");
		FUZZ_CHECK(!(c == 2 && p[0] == '.' && p[1] == '.'), "accepted a '..' component");
		p += c;
		if (*p == '/')
			p++;
	}

	FUZZ_CHECK(strlen(out.dir) == 10 && digits(out.dir, 4) && out.dir[4] == '/' &&
			   digits(out.dir + 5, 2) && out.dir[7] == '/' && digits(out.dir + 8, 2),
		   "dir \"%.11s\" is not YYYY/MM/DD", out.dir);
	FUZZ_CHECK(strlen(out.day) == 10 && memcmp(out.day, out.dir, 4) == 0 &&
			   out.day[4] == '-' && memcmp(out.day + 5, out.dir + 5, 2) == 0 &&
			   out.day[7] == '-' && memcmp(out.day + 8, out.dir + 8, 2) == 0,
		   "day \"%.11s\" does not match dir \"%.11s\"", out.day, out.dir);
	FUZZ_CHECK(real_date(out.dir, out.dir + 5, out.dir + 8), "dir \"%s\" is not a real date",
		   out.dir);
	/* The date comes from the folder holding the file, or else from the name's prefix. */
	{
		size_t dirlen = (size_t)(base - path);
		int from_folder = dirlen >= 9 && (dirlen == 9 || base[-10] == '/') &&
				  digits(base - 9, 8) && base[-1] == '/' && same_day(base - 9, &out);
		int from_name = len > 8 && out.name[8] == '-' && digits(out.name, 8) &&
				same_day(out.name, &out);

		FUZZ_CHECK(from_folder || from_name, "date %s is in neither folder nor name",
			   out.day);
	}
	free(path);
	return 0;
}
