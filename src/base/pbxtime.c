/* pbxtime.c — naive PBX minutes: parsing, formatting, "now" in the PBX's zone. */
#include "pbxtime.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 ? 28 + leap : dm[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's
 * days_from_civil), so no libc time zone state is involved. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

int pbxtime_parse(const char *t, pbx_minute *out)
{
	int y, mo, d, h, mi, s;
	size_t len = strlen(t);

	if (len != 16 && len != 19)
		return -1;
	if (digits(t, 4, &y) || t[4] != '-' || digits(t + 5, 2, &mo) || t[7] != '-' ||
	    digits(t + 8, 2, &d) || t[10] != ' ' || digits(t + 11, 2, &h) || t[13] != ':' ||
	    digits(t + 14, 2, &mi))
		return -1;
	if (len == 19 && (t[16] != ':' || digits(t + 17, 2, &s) || s > 59))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59)
		return -1;
	*out = (days_from_civil(y, mo, d) * 24 + h) * 60 + mi;
	return 0;
}

void pbxtime_format(pbx_minute m, char out[PBXTIME_MINUTE_LEN + 1])
{
	int64_t days = m / 1440, rem = m % 1440;
	int y, mo, d;

	if (rem < 0) {
		rem += 1440;
		days--;
	}
	char buf[64];

	civil_from_days(days, &y, &mo, &d);
	snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d", y % 10000, mo, d, (int)(rem / 60),
		 (int)(rem % 60));
	memcpy(out, buf, PBXTIME_MINUTE_LEN);
	out[PBXTIME_MINUTE_LEN] = '\0';
}

pbx_minute pbxtime_now(const char *tz)
{
	time_t now = (time_t)clock_unix();
	struct tm tm;
	char *saved = NULL;

	if (tz && *tz) {
		const char *old = getenv("TZ");
		saved = old ? strdup(old) : NULL;
		setenv("TZ", tz, 1);
		tzset();
	}
	localtime_r(&now, &tm);
	if (tz && *tz) {
		if (saved)
			setenv("TZ", saved, 1);
		else
			unsetenv("TZ");
		tzset();
		free(saved);
	}
	return (days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * 24 + tm.tm_hour) *
		       60 + tm.tm_min;
}

int pbxtime_zone_known(const char *tz)
{
	const char *dir = getenv("TZDIR");
	char path[4096], magic[4];
	struct stat st;
	int fd, ok;

	if (!strcmp(tz, "UTC") || !strcmp(tz, "GMT"))
		return 1;
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return -1;
	if (tz[0] == '/' || strstr(tz, "..") ||
	    snprintf(path, sizeof path, "%s/%s", dir, tz) >= (int)sizeof path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && read(fd, magic, 4) == 4 &&
	     memcmp(magic, "TZif", 4) == 0;
	close(fd);
	return ok;
}

int pbxtime_parse_span(const char *text, pbx_minute *out)
{
	char *end;
	long long v;

	if (*text < '0' || *text > '9')
		return -1;
	v = strtoll(text, &end, 10);
	if (end == text || v < 0 || v > 100LL * 366 * 1440)
		return -1;
	if (*end == '\0' || strcmp(end, "m") == 0)
		*out = v;
	else if (strcmp(end, "h") == 0)
		*out = v * 60;
	else if (strcmp(end, "d") == 0)
		*out = v * 1440;
	else if (strcmp(end, "w") == 0)
		*out = v * 7 * 1440;
	else
		return -1;
	return 0;
}

void pbxtime_utc_stamp(char out[PBXTIME_UTC_LEN + 1])
{
	time_t t = (time_t)clock_unix();
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, PBXTIME_UTC_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int pbxtime_utc_parse(const char *text, int64_t *out)
{
	struct tm tm = { 0 };
	char z = 0;
	int n = 0;

	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z, &n) != 7 || z != 'Z' ||
	    text[n] != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (int64_t)timegm(&tm);
	return 0;
}
