/*
 * clock.c — the PBX's clock: the real one or a file's, shifted as told.
 *
 * Owns --clock-file (read on every call, so a test harness moves time by
 * renaming a new file into place), --clock-offset and --zone-offset. A
 * clock file that cannot be read or parsed gives the real clock and one
 * stderr line per run of failures (the next success re-arms the message).
 */
#include "clock.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *clock_file;
static int64_t clock_offset, clock_zone_off;
static atomic_bool clock_failing;

void clock_setup(const char *file, int64_t offset, int64_t zone)
{
	clock_file = file;
	clock_offset = offset;
	clock_zone_off = zone;
}

/* "[-]digits[.digits]" with optional blanks around; -1 when not that. */
static int clock_parse(const char *s, double *out)
{
	const char *p = s;
	while (isspace((unsigned char)*p))
		p++;
	const char *num = p;
	if (*p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	const char *end = p;
	while (isspace((unsigned char)*p))
		p++;
	if (*p)
		return -1;
	char *stop;
	errno = 0;
	double v = strtod(num, &stop);
	if (errno || stop != end || !(v > -1e15 && v < 1e15))
		return -1;
	*out = v;
	return 0;
}

/* The clock file's value; -1 (message printed once per run of failures). */
static int clock_read_file(double *out)
{
	char buf[64];
	const char *why = "unparseable";
	ssize_t n = -1;
	int fd = open(clock_file, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
	}
	if (n < 0)
		why = strerror(errno);
	else if (n < (ssize_t)sizeof buf - 1) {
		buf[n] = '\0';
		if (clock_parse(buf, out) == 0) {
			atomic_store(&clock_failing, false);
			return 0;
		}
	}
	if (!atomic_exchange(&clock_failing, true))
		fprintf(stderr, "fakepbx: --clock-file %s: %s; using the real clock\n", clock_file,
			why);
	return -1;
}

double clock_true_now(void)
{
	double v;
	if (clock_file && clock_read_file(&v) == 0)
		return v;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t clock_unix(void)
{
	double v = clock_true_now();
	int64_t s = (int64_t)v; /* towards zero; floor it (no libm) */
	if ((double)s > v)
		s--;
	return s + clock_offset;
}

int64_t clock_zone(void)
{
	return clock_zone_off;
}

void clock_local(int64_t t, struct tm *out)
{
	time_t tt = (time_t)(t + clock_zone_off);
	if (!localtime_r(&tt, out))
		memset(out, 0, sizeof *out);
}

void clock_local_now(struct tm *out)
{
	clock_local(clock_unix(), out);
}

bool clock_owns_date(void)
{
	return clock_file != NULL || clock_offset != 0;
}
