/*
 * generate.c — synthesize a PBX recording disk for tests and demos.
 *
 * Owns the deterministic PRNG and the WAV writer. Everything derives from
 * the seed, so two runs with the same options produce identical bytes
 * (tests can compare hashes). Audio is a per-file tone plus noise, so no
 * two files share content. Only ever writes below the given directory.
 */
#include "generate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cdr.h"
#include "clock.h"
#include "store.h"

#define GEN_RATE 8000
#define GEN_CHUNK (64 * 1024)

static const char *const gen_trunks[] = { "42", "44", "96" };
static const char *const gen_exts[] = { "202", "204", "205", "102", "105" };
static const char *const gen_outside[] = { "506", "513", "569", "155", "9506" };

/* splitmix64: tiny, good enough, and identical on every platform */
uint64_t gen_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t gen_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(gen_next(s) % n);
}

#define GEN_PICK(s, arr) ((arr)[gen_below((s), sizeof(arr) / sizeof((arr)[0]))])

static void gen_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* One sample of a tone: a parabola per half period (no libm needed). */
static int gen_tone(uint32_t phase)
{
	int32_t h = (int32_t)(phase >> 16 & 0x7fff); /* 0..32767 within a half period */
	int32_t v = (int32_t)((int64_t)4 * h * (32768 - h) / 32768); /* 0..32768 */
	return (phase & 0x80000000u) ? -v : v;
}

static int gen_write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int gen_wav(int dayfd, const char *name, uint32_t secs, uint64_t *rng, uint64_t *bytes)
{
	char tmp[300];
	snprintf(tmp, sizeof tmp, ".%s.%ld.tmp", name, (long)getpid());
	int fd = openat(dayfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "fakepbx: %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	unsigned char *buf = malloc(GEN_CHUNK);
	uint32_t data = secs * GEN_RATE * 2;
	if (!buf)
		goto fail;
	memcpy(buf, "RIFF", 4);
	gen_le32(buf + 4, 36 + data);
	memcpy(buf + 8, "WAVEfmt ", 8);
	gen_le32(buf + 16, 16);
	gen_le32(buf + 20, 1 | 1u << 16);            /* PCM, mono */
	gen_le32(buf + 24, GEN_RATE);
	gen_le32(buf + 28, GEN_RATE * 2);            /* byte rate */
	gen_le32(buf + 32, 2 | 16u << 16);           /* block align, bits */
	memcpy(buf + 36, "data", 4);
	gen_le32(buf + 40, data);
	if (gen_write_all(fd, buf, 44) < 0)
		goto fail;

	/* tone of 300..999 Hz: phase step = f * 2^32 / rate */
	uint32_t step = (uint32_t)(((uint64_t)(300 + gen_below(rng, 700)) << 32) / GEN_RATE);
	uint32_t phase = 0;
	uint64_t noise = gen_next(rng) | 1; /* xorshift must not start at 0 */
	for (uint32_t left = data; left > 0;) {
		uint32_t n = left < GEN_CHUNK ? left : GEN_CHUNK;
		for (uint32_t i = 0; i < n; i += 2) {
			noise ^= noise << 13, noise ^= noise >> 7, noise ^= noise << 17;
			int v = gen_tone(phase) / 4 + (int)(noise & 0x7ff) - 1024;
			phase += step;
			buf[i] = (unsigned char)(v & 0xff);
			buf[i + 1] = (unsigned char)((v >> 8) & 0xff);
		}
		if (gen_write_all(fd, buf, n) < 0)
			goto fail;
		left -= n;
	}
	free(buf);
	buf = NULL;
	/* no fsync: these are throw-away fixtures; rename still makes each
	 * file appear whole to a server scanning the same directory */
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(dayfd, tmp, dayfd, name) < 0)
		goto fail;
	*bytes += 44 + (uint64_t)data;
	return 0;
fail:
	fprintf(stderr, "fakepbx: writing %s: %s\n", name, strerror(errno));
	free(buf);
	if (fd >= 0)
		close(fd);
	unlinkat(dayfd, tmp, 0);
	return -1;
}

void gen_parties(uint64_t *rng, const char *type, char *src, char *dst, size_t n,
			const char **trunk)
{
	const char *ext = GEN_PICK(rng, gen_exts);
	*trunk = GEN_PICK(rng, gen_trunks);
	if (strcmp(type, "Inbound") == 0) {
		snprintf(src, n, "%s", GEN_PICK(rng, gen_outside));
		if (gen_below(rng, 2))
			snprintf(dst, n, "620(%s)", ext);
		else
			snprintf(dst, n, "%s", ext);
	} else if (strcmp(type, "Outbound") == 0) {
		snprintf(src, n, "%s", ext);
		snprintf(dst, n, "%s", GEN_PICK(rng, gen_outside));
	} else if (strcmp(type, "Internal") == 0) {
		const char *other = GEN_PICK(rng, gen_exts);
		if (strcmp(other, ext) == 0)
			other = strcmp(ext, "202") == 0 ? "204" : "202";
		snprintf(src, n, "%s", ext);
		snprintf(dst, n, "%s", other);
		*trunk = NULL;
	} else if (strcmp(type, "CallBack") == 0) {
		snprintf(src, n, "%s", gen_below(rng, 2) ? ext : GEN_PICK(rng, gen_outside));
		snprintf(dst, n, "820(%s)", GEN_PICK(rng, gen_exts));
	} else { /* Conference */
		snprintf(src, n, "%s", ext);
		snprintf(dst, n, "6300");
	}
}

static int gen_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* per_day distinct, sorted seconds of the day. */
static void gen_times(uint64_t *rng, uint32_t *t, int k)
{
	for (int i = 0; i < k; i++)
		t[i] = gen_below(rng, 86400);
	qsort(t, (size_t)k, sizeof t[0], gen_cmp_u32);
	for (int i = 1; i < k; i++)
		if (t[i] <= t[i - 1])
			t[i] = t[i - 1] + 1;
	uint32_t limit = 86399;
	for (int i = k - 1; i >= 0 && t[i] > limit; i--, limit--)
		t[i] = limit;
}

static int gen_mkdir(int atfd, const char *path)
{
	if (mkdirat(atfd, path, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "fakepbx: mkdir %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The CDRs of a --generate run. They draw from their own random stream,
 * so the recordings stay byte for byte what they were before CDRs existed. */
struct gen_cdrs {
	uint64_t rng;
	uint64_t qrng;         /* the queue waits' own stream */
	int queue_percent, queue_max;
	unsigned long seq;
	struct cdr_list rows;
	int rc; /* -1 once memory ran out */
};

static void gen_cdr_add(struct gen_cdrs *c, const struct cdr_call *call)
{
	struct cdr_row row;
	if (c->rc == 0 && (cdr_from_call(call, &row) < 0 || cdr_list_push(&c->rows, &row) < 0))
		c->rc = -1;
}

/* The CDR of a recording answered at `answer` (sod seconds after midnight). */
static void gen_cdr_recorded(struct gen_cdrs *c, long long answer, uint32_t sod, uint32_t secs,
			     const char *type, const char *src, const char *dst,
			     const char *trunk, const char *path)
{
	unsigned ring = 1 + gen_below(&c->rng, 8);
	if (ring > sod) /* the ringing starts on the recording's day */
		ring = sod;
	/* A queue's wait before the ringing, from its own stream (so --queue-percent 0 leaves
	 * every CDR as it was); it may start the call the day before. */
	if (c->queue_percent > 0 && gen_below(&c->qrng, 100) < (uint32_t)c->queue_percent)
		ring += 1 + gen_below(&c->qrng, (uint32_t)c->queue_max);
	struct cdr_call call = { answer - ring, ring, secs, type, src, dst, trunk, "ANSWERED",
				 path, c->seq++, 0 };
	gen_cdr_add(c, &call);
}

/* Calls of one day that left no recording: NO ANSWER, BUSY, ANSWERED with
 * recording disabled, FAILED, in turn. */
static void gen_cdr_unrecorded(struct gen_cdrs *c, const struct tm *day, int per_day)
{
	static const char *const disp[4] = { "NO ANSWER", "BUSY", "ANSWERED", "FAILED" };
	for (int j = 0; j < per_day / 4 + 4; j++) {
		uint32_t sod = gen_below(&c->rng, 86400);
		struct tm tm = *day;
		tm.tm_hour = (int)(sod / 3600);
		tm.tm_min = (int)(sod / 60 % 60);
		tm.tm_sec = (int)(sod % 60);
		tm.tm_isdst = -1;
		const char *type = store_calltypes[c->seq % 5], *trunk;
		char src[16], dst[16];
		gen_parties(&c->rng, type, src, dst, sizeof src, &trunk);
		struct cdr_call call = { (long long)mktime(&tm), 0, 0, type, src, dst, trunk,
					 disp[j % 4], NULL, c->seq++, 0 };
		if (j % 4 == 0)
			call.ring = 10 + gen_below(&c->rng, 21);
		else if (j % 4 == 1)
			call.ring = 1 + gen_below(&c->rng, 3);
		else if (j % 4 == 2)
			call.ring = 1 + gen_below(&c->rng, 8), call.billsec = 1 + gen_below(&c->rng, 20);
		gen_cdr_add(c, &call);
	}
}

/* Merge the new rows into dir/cdr.jsonl: a row whose UniqueID is there
 * already is not added twice, so the same run twice gives the same file. */
static int gen_cdr_save(const char *dir, struct gen_cdrs *c, size_t *nrows)
{
	struct cdr_list all = { 0 };
	int rc = c->rc < 0 ? -1 : cdr_load(dir, &all);
	for (size_t i = 0; rc == 0 && i < c->rows.n; i++)
		rc = cdr_list_push(&all, &c->rows.v[i]);
	c->rows.n = 0; /* the rows moved to all, or were freed */
	if (rc == 0) {
		cdr_list_sort(&all, false);
		size_t w = 0;
		for (size_t i = 0; i < all.n; i++) {
			if (w > 0 && strcmp(all.v[w - 1].f[CDR_UNIQUEID], all.v[i].f[CDR_UNIQUEID]) == 0)
				cdr_row_clear(&all.v[i]);
			else
				all.v[w++] = all.v[i];
		}
		all.n = w;
		rc = cdr_save(dir, &all);
		*nrows = all.n;
	} else if (c->rc < 0) {
		fprintf(stderr, "fakepbx: CDRs: out of memory\n");
	}
	cdr_list_free(&all);
	return rc;
}

static int gen_day(int dirfd, const struct gen_opts *o, const struct tm *day, uint32_t *t,
		   uint64_t *rng, size_t *count, uint64_t *bytes, struct gen_cdrs *cdrs)
{
	char ymd[16];
	if (day->tm_year < 70 || day->tm_year > 8099 ||
	    strftime(ymd, sizeof ymd, "%Y%m%d", day) != 8) {
		fprintf(stderr, "fakepbx: date out of range (years 1970..9999)\n");
		return -1;
	}
	if (gen_mkdir(dirfd, ymd) < 0)
		return -1;
	int dayfd = openat(dirfd, ymd, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dayfd < 0) {
		fprintf(stderr, "fakepbx: %s: %s\n", ymd, strerror(errno));
		return -1;
	}
	gen_times(rng, t, o->per_day);
	int rc = 0;
	for (int i = 0; i < o->per_day && rc == 0; i++) {
		struct tm tm = *day;
		tm.tm_hour = (int)(t[i] / 3600);
		tm.tm_min = (int)(t[i] / 60 % 60);
		tm.tm_sec = (int)(t[i] % 60);
		tm.tm_isdst = -1;
		struct tm norm = tm;
		long long unixtime = (long long)mktime(&norm);
		const char *type = store_calltypes[*count % 5];
		char src[16], dst[16], stamp[32], name[200];
		const char *trunk;
		gen_parties(rng, type, src, dst, sizeof src, &trunk);
		strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
		snprintf(name, sizeof name, "%s-%lld-%s-%s%s%s-%s.wav", stamp, unixtime, type,
			 trunk ? trunk : "", trunk ? "-" : "", src, dst);
		uint32_t span = (uint32_t)(o->max_seconds - o->min_seconds + 1);
		uint32_t secs = (uint32_t)o->min_seconds + gen_below(rng, span);
		rc = gen_wav(dayfd, name, secs, rng, bytes);
		if (rc == 0) {
			(*count)++;
			char path[220];
			snprintf(path, sizeof path, "%s/%s", ymd, name);
			gen_cdr_recorded(cdrs, unixtime, t[i], secs, type, src, dst, trunk, path);
		}
	}
	close(dayfd);
	if (rc == 0)
		gen_cdr_unrecorded(cdrs, day, o->per_day);
	return rc;
}

int gen_run(const struct gen_opts *o)
{
	struct tm first = { 0 };
	if (o->start) {
		int y, m, d;
		char extra;
		if (sscanf(o->start, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || m < 1 ||
		    m > 12 || d < 1 || d > 31) {
			fprintf(stderr, "fakepbx: --start wants YYYY-MM-DD, not '%s'\n", o->start);
			return -1;
		}
		first.tm_year = y - 1900;
		first.tm_mon = m - 1;
		first.tm_mday = d;
	} else {
		clock_local_now(&first); /* the PBX's today (--clock-file etc.) */
		first.tm_mday -= o->days;
	}
	if (gen_mkdir(AT_FDCWD, o->dir) < 0)
		return -1;
	int dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint32_t *t = calloc((size_t)o->per_day, sizeof *t);
	if (dirfd < 0 || !t) {
		fprintf(stderr, "fakepbx: %s: %s\n", o->dir, strerror(errno));
		if (dirfd >= 0)
			close(dirfd);
		free(t);
		return -1;
	}
	uint64_t rng = o->seed, bytes = 0;
	size_t count = 0, ncdrs = 0;
	int rc = 0;
	struct gen_cdrs cdrs = { .rng = o->seed ^ 0x6364722e6a736f6eULL,
				 .qrng = o->seed ^ 0x7175657565000000ULL,
				 .queue_percent = o->queue_percent,
				 .queue_max = o->queue_max > 0 ? o->queue_max : 1 };
	for (int d = 0; d < o->days && rc == 0; d++) {
		/* noon, so mktime's normalisation never trips over a DST change */
		struct tm day = first;
		day.tm_mday += d;
		day.tm_hour = 12;
		day.tm_min = day.tm_sec = 0;
		day.tm_isdst = -1;
		mktime(&day);
		rc = gen_day(dirfd, o, &day, t, &rng, &count, &bytes, &cdrs);
	}
	free(t);
	close(dirfd);
	printf("fakepbx: wrote %zu files, %llu bytes under %s\n", count,
	       (unsigned long long)bytes, o->dir);
	if (gen_cdr_save(o->dir, &cdrs, &ncdrs) < 0)
		rc = -1;
	else
		printf("fakepbx: %s/%s holds %zu CDRs\n", o->dir, CDR_FILE, ncdrs);
	cdr_list_free(&cdrs.rows);
	return rc;
}
