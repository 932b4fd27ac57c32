/* units.c — see units.h. */
#include "units.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define MAX_DURATION (366LL * 86400)

/* Digits, optionally ".digits" (at most 6 after the point): the value in millionths into
 * *micro; *end past it. Returns 0, or -1 when no digits or too large. */
static int parse_decimal(const char *s, int64_t *micro, const char **end)
{
	int64_t whole = 0, frac = 0, scale = 1000000;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (*p - '0');
		if (whole > UNITS_RATE_MAX)
			return -1;
	}
	if (*p == '.') {
		const char *digits = ++p;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (p - digits >= 6)
				return -1;
			scale /= 10;
			frac += (*p - '0') * scale;
		}
		if (p == digits)
			return -1;
	}
	*micro = whole * 1000000 + frac;
	*end = p;
	return 0;
}

int units_parse_rate(const char *text, int64_t *out)
{
	int64_t micro, unit = 1, v;
	const char *end;

	if (!strcmp(text, "0") || !strcmp(text, "off")) {
		*out = 0;
		return 0;
	}
	if (parse_decimal(text, &micro, &end) != 0)
		return -1;
	switch (*end) {
	case 'k': case 'K':
		unit = 1024;
		end++;
		break;
	case 'm': case 'M':
		unit = 1024 * 1024;
		end++;
		break;
	case 'g': case 'G':
		unit = 1024 * 1024 * 1024;
		end++;
		break;
	}
	if (*end || micro / 1000000 > UNITS_RATE_MAX / unit)
		return -1;
	v = micro / 1000000 * unit + micro % 1000000 * unit / 1000000;
	if (v < UNITS_RATE_MIN || v > UNITS_RATE_MAX)
		return -1;
	*out = v;
	return 0;
}

int units_parse_duration(const char *text, int64_t *out)
{
	static const struct {
		char c;
		int64_t seconds;
	} units[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
	const char *p = text;
	int64_t total = 0;
	size_t next = 0;

	if (!strcmp(text, "0") || !strcmp(text, "off")) {
		*out = 0;
		return 0;
	}
	if (!*p)
		return -1;
	while (*p) {
		int64_t n = 0;
		const char *digits = p;

		for (; *p >= '0' && *p <= '9'; p++) {
			n = n * 10 + (*p - '0');
			if (n > MAX_DURATION)
				return -1;
		}
		if (p == digits)
			return -1;
		/* Largest unit first, each once: "30m1h" is a typo, not an hour and a half. */
		while (next < sizeof units / sizeof *units && units[next].c != *p)
			next++;
		if (next == sizeof units / sizeof *units)
			return -1;
		total += n * units[next++].seconds;
		if (total > MAX_DURATION)
			return -1;
		p++;
	}
	*out = total;
	return 0;
}

int units_parse_clock(const char *text, int *out)
{
	size_t hlen = strspn(text, "0123456789");
	int h, m;

	if (hlen < 1 || hlen > 2 || text[hlen] != ':' || strspn(text + hlen + 1, "0123456789") != 2 ||
	    text[hlen + 3] != '\0')
		return -1;
	h = hlen == 1 ? text[0] - '0' : (text[0] - '0') * 10 + (text[1] - '0');
	m = (text[hlen + 1] - '0') * 10 + (text[hlen + 2] - '0');
	if (h > 23 || m > 59)
		return -1;
	*out = h * 60 + m;
	return 0;
}

int64_t units_until_clock(int64_t now, int minute_of_day)
{
	time_t t = (time_t)now, at;
	struct tm today, tm;

	localtime_r(&t, &today);
	for (int day = 0;; day++) {
		tm = today;
		tm.tm_mday += day; /* mktime carries it over month and year ends */
		tm.tm_hour = minute_of_day / 60;
		tm.tm_min = minute_of_day % 60;
		tm.tm_sec = 0;
		tm.tm_isdst = -1; /* the zone's rule for that day, not today's */
		at = mktime(&tm);
		if (at > t)
			return (int64_t)(at - t);
	}
}

void units_format_bytes(uint64_t bytes, char *out, size_t outlen)
{
	static const char *const name[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int i = -1;

	if (bytes < 1024) {
		snprintf(out, outlen, "%llu B", (unsigned long long)bytes);
		return;
	}
	while (v >= 1024 && i < 3) {
		v /= 1024;
		i++;
	}
	snprintf(out, outlen, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, name[i]);
}

void units_format_duration(int64_t seconds, char *out, size_t outlen)
{
	long long s = seconds < 0 ? 0 : (long long)seconds;

	if (s < 60)
		snprintf(out, outlen, "%lld s", s);
	else if (s < 3600)
		snprintf(out, outlen, "%lld min", s / 60);
	else if (s < 86400)
		snprintf(out, outlen, "%lld h %02lld min", s / 3600, s % 3600 / 60);
	else
		snprintf(out, outlen, "%lld d %02lld h", s / 86400, s % 86400 / 3600);
}
