/* listing_bench.c — how long listing_parse() takes over a large 20053 answer, and how much
 * memory it needs. Part of `make bench` (tests/bench/run.sh builds it against build/libnexo.a).
 *
 *   listing_bench [ROWS]      (default 40000: LISTING_MAX_ROWS, the most one listing holds)
 *
 * Synthesizes, in memory, an answer in the shape fakepbx and the vendor guide use
 * ({"json_array_recordings":[rows],"json_obj_filter":{...,"totalcount":N}}, values as strings),
 * then parses it once. Prints one line of key=value pairs on stdout:
 *
 *   rows=40000 bytes=7288894 gen_s=0.109 parse_s=0.291 rss_before_kib=10240 rss_after_kib=32896
 *
 * rss_before_kib is the peak RSS with the answer built but not parsed (the answer itself is held
 * by the real client too: pbx.c reads it whole); rss_after_kib is the peak after parsing. Run it
 * under /usr/bin/time -v for the process's own view. Exit 0 only when every row was read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "pbx/listing.h"

static const char *const calltypes[] = { "Inbound", "Outbound", "Internal", "CallBack",
					 "Conference" };

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Appends a row like fakepbx's, with a distinct path per index. */
static size_t put_row(char *p, size_t room, long i, long n)
{
	/* Calls spread over the 100 days before 2021-05-07, newest first (as the PBX lists). */
	long long base = 1620345600LL; /* 2021-05-07 00:00:00 UTC */
	long long t = base - (long long)(i * (8640000LL / (n ? n : 1)));
	time_t tt = (time_t)t;
	struct tm tm;
	char day[16], stamp[32], date[32], dst[16];
	const char *type = calltypes[i % 5];
	const char *trunk = i % 5 == 2 ? "" : (i % 3 == 0 ? "44" : "96");
	int inbound = i % 5 == 0;

	gmtime_r(&tt, &tm);
	strftime(day, sizeof day, "%Y%m%d", &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(dst, sizeof dst, inbound ? "620(%ld)" : "%ld", 200 + i % 7);
	return (size_t)snprintf(
		p, room,
		"%s{\"calldate\":\"%s\",\"src\":\"%ld\",\"dst\":\"%s\",\"trunk\":\"%s\","
		"\"duration\":\"%ld\",\"calltype\":\"%s\",\"path\":\"%s/%s-%lld-%s-%s%s%ld-%s.wav\"}",
		i ? ",\n" : "\n", date, 500 + i % 70, dst, trunk, 1 + i % 600, type, day, stamp, t,
		type, trunk, *trunk ? "-" : "", 500 + i % 70, dst);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : LISTING_MAX_ROWS;
	size_t cap, len = 0;
	char *buf, err[256];
	struct listing l;
	double t0, t1, t2;
	long before, after;
	int rc;

	if (n < 1 || n > 10000000) {
		fprintf(stderr, "usage: listing_bench [ROWS 1..10000000]\n");
		return 2;
	}
	cap = (size_t)n * 320 + 4096;
	buf = malloc(cap);
	if (!buf) {
		fprintf(stderr, "listing_bench: out of memory\n");
		return 1;
	}
	t0 = now_s();
	len += (size_t)snprintf(buf + len, cap - len, "{\"json_array_recordings\":[");
	for (long i = 0; i < n; i++)
		len += put_row(buf + len, cap - len, i, n);
	len += (size_t)snprintf(buf + len, cap - len,
				"\n],\"json_obj_filter\":{\"startdate\":\"2021-01-27 00:00\","
				"\"enddate\":\"2021-05-07 23:59\",\"totalcount\":\"%ld\"}}\n", n);
	t1 = now_s();
	before = peak_rss_kib();

	listing_init(&l);
	rc = listing_parse(buf, len, &l, err, sizeof err);
	t2 = now_s();
	after = peak_rss_kib();

	printf("rows=%zu bytes=%zu gen_s=%.3f parse_s=%.3f rss_before_kib=%ld rss_after_kib=%ld "
	       "skipped=%zu totalcount=%lld\n",
	       l.n, len, t1 - t0, t2 - t1, before, after, l.skipped, l.totalcount);
	if (rc != LISTING_OK) {
		fprintf(stderr, "listing_bench: listing_parse failed (%d): %s\n", rc, err);
		return 1;
	}
	if (l.n != (size_t)n || l.skipped || l.totalcount != n) {
		fprintf(stderr, "listing_bench: read %zu of %ld rows (%zu skipped)\n", l.n, n,
			l.skipped);
		return 1;
	}
	listing_free(&l);
	free(buf);
	return 0;
}
