/*
 * bound.c — parse startdate/enddate and compare calls with them.
 *
 * Owns the readings of a minute bound (--start-bound inclusive|exclusive,
 * --end-bound through|minute|exclusive), so that 20053 and 9006/9005/9004
 * compare alike. The echo in json_obj_filter keeps the minute form the
 * client sent (date-only: 00:00 / 23:59) under every reading.
 */
#include "bound.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

#include "clock.h"

/* "YYYY-MM-DD", "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS" ('T' or ' ' at
 * 10): the length (10, 16, 19), or -1. */
static int bound_shape(const char *in)
{
	static const char pat[] = "dddd-dd-dd dd:dd:dd";
	size_t n = strlen(in);
	if (n != 10 && n != 16 && n != 19)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char want = pat[i];
		if (want == 'd' ? !isdigit((unsigned char)in[i])
				: !(in[i] == want || (i == 10 && in[i] == 'T')))
			return -1;
	}
	return (int)n;
}

/* One bound: the echo and the 19-character comparison value. A date alone
 * is 00:00 (23:59 in the echo of an end); a minute is :00, or :59 for an
 * end read `through` (date alone: 23:59:59); explicit seconds stay. */
static int bound_one(const char *in, bool is_end, enum fpx_end_bound reading, char echo[17],
		     char cmp[20])
{
	echo[0] = cmp[0] = '\0';
	if (!in || !in[0])
		return 0;
	int n = bound_shape(in);
	if (n < 0)
		return -1;
	bool through = is_end && reading == FPX_END_THROUGH;
	memcpy(echo, in, 10);
	memcpy(cmp, in, 10);
	if (n == 10) {
		memcpy(echo + 10, is_end ? " 23:59" : " 00:00", 6);
		memcpy(cmp + 10, through ? " 23:59:59" : " 00:00:00", 9);
	} else {
		memcpy(echo + 10, in + 10, 6);
		memcpy(cmp + 10, in + 10, 6);
		if (n == 19)
			memcpy(cmp + 16, in + 16, 3);
		else
			memcpy(cmp + 16, through ? ":59" : ":00", 3);
	}
	echo[10] = cmp[10] = ' ';
	echo[16] = '\0';
	cmp[19] = '\0';
	return 0;
}

const char *bound_parse(const struct fpx_config *cfg, const char *start, const char *end,
			struct bound_q *q)
{
	char today_lo[17], today_hi[17];
	memset(q, 0, sizeof *q);
	if (bound_one(start, false, cfg->end_bound, q->start, q->lo) < 0)
		return "startdate";
	if (bound_one(end, true, cfg->end_bound, q->end, q->hi) < 0)
		return "enddate";
	if (!q->start[0] && !q->end[0]) { /* the guide: both empty means today */
		struct tm tm;
		clock_local_now(&tm);
		strftime(today_lo, sizeof today_lo, "%Y-%m-%d 00:00", &tm);
		strftime(today_hi, sizeof today_hi, "%Y-%m-%d 23:59", &tm);
		bound_one(today_lo, false, cfg->end_bound, q->start, q->lo);
		bound_one(today_hi, true, cfg->end_bound, q->end, q->hi);
	}
	q->lo_strict = cfg->start_bound == FPX_START_EXCLUSIVE;
	q->hi_strict = cfg->end_bound == FPX_END_EXCLUSIVE;
	return NULL;
}

bool bound_in(const struct bound_q *q, const char *calldate)
{
	if (q->lo[0]) {
		int c = strcmp(calldate, q->lo);
		if (c < 0 || (c == 0 && q->lo_strict))
			return false;
	}
	if (q->hi[0]) {
		int c = strcmp(calldate, q->hi);
		if (c > 0 || (c == 0 && q->hi_strict))
			return false;
	}
	return true;
}

void bound_days(const struct bound_q *q, char lo[9], char hi[9])
{
	const char *src[2] = { q->lo, q->hi };
	char *dst[2] = { lo, hi };
	for (int i = 0; i < 2; i++) {
		dst[i][0] = '\0';
		if (!src[i][0])
			continue;
		memcpy(dst[i], src[i], 4);
		memcpy(dst[i] + 4, src[i] + 5, 2);
		memcpy(dst[i] + 6, src[i] + 8, 2);
		dst[i][8] = '\0';
	}
}
