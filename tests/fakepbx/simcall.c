/*
 * simcall.c — add a call to the served disk while the fake runs
 * (--simulate-calls, SIGUSR1).
 *
 * Owns the order "recording on disk, then CDR row", so that whoever hears
 * of the call (AMI, a listing) can already fetch both. It reuses the
 * generator's WAV writer and parties; it never talks to a client.
 */
#include "simcall.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "generate.h"
#include "store.h"

/* Open dir/ymd, creating it. Returns the fd, or -1 (message printed). */
static int simcall_dayfd(const char *dir, const char *ymd)
{
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int dayfd = -1;
	if (dirfd >= 0 && (mkdirat(dirfd, ymd, 0755) == 0 || errno == EEXIST))
		dayfd = openat(dirfd, ymd, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dayfd < 0)
		fprintf(stderr, "fakepbx: simulated call: %s/%s: %s\n", dir, ymd, strerror(errno));
	if (dirfd >= 0)
		close(dirfd);
	return dayfd;
}

/* The queue wait the next call asks for (--queue-file): the file's whole number of seconds
 * (0..SIMCALL_QUEUE_MAX, blanks and a newline around are fine), then the file is removed, so
 * it applies to one call. No file: 0. A bad one is removed too and gives 0 (message printed). */
static unsigned simcall_queue_wait(const char *file)
{
	char buf[64], *end;
	if (!file)
		return 0;
	FILE *f = fopen(file, "r");
	if (!f) {
		if (errno != ENOENT)
			fprintf(stderr, "fakepbx: --queue-file %s: %s; the call does not queue\n", file,
				strerror(errno));
		return 0;
	}
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (unlink(file) < 0)
		fprintf(stderr, "fakepbx: --queue-file %s: cannot remove it: %s\n", file,
			strerror(errno));
	errno = 0;
	long v = strtol(buf, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	if (errno || end == buf || *end || v < 0 || v > SIMCALL_QUEUE_MAX || n == sizeof buf - 1) {
		fprintf(stderr, "fakepbx: --queue-file %s: not a number of seconds in 0..%d; the call "
			"does not queue\n", file, SIMCALL_QUEUE_MAX);
		return 0;
	}
	return (unsigned)v;
}

int simcall_add(const char *dir, struct cdr_store *cdrs, struct simcall_state *st,
		const char *queue_file, struct cdr_row *row)
{
	int64_t now = clock_unix(); /* the PBX's clock, its zone for the name */
	unsigned wait = simcall_queue_wait(queue_file);
	struct tm tm;
	clock_local(now, &tm);
	char ymd[16], stamp[32], src[16], dst[16], name[200], path[220];
	strftime(ymd, sizeof ymd, "%Y%m%d", &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	const char *type = store_calltypes[st->n % 5], *trunk;
	bool recorded = st->n % 4 != 3;
	gen_parties(&st->rng, type, src, dst, sizeof src, &trunk);
	struct cdr_call call = { now, 0, 0, type, src, dst, trunk, "ANSWERED", NULL, st->seq,
				 clock_zone() };
	if (recorded) {
		int dayfd = simcall_dayfd(dir, ymd);
		if (dayfd < 0)
			return -1;
		/* two calls in one second may draw the same parties: draw again */
		for (int i = 0; i < 50; i++) {
			snprintf(name, sizeof name, "%s-%lld-%s-%s%s%s-%s.wav", stamp, (long long)now,
				 type, trunk ? trunk : "", trunk ? "-" : "", src, dst);
			if (faccessat(dayfd, name, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
				break;
			gen_parties(&st->rng, type, src, dst, sizeof src, &trunk);
		}
		uint64_t bytes = 0;
		call.billsec = 2 + gen_below(&st->rng, 5);
		call.ring = 1 + gen_below(&st->rng, 5);
		int rc = gen_wav(dayfd, name, call.billsec, &st->rng, &bytes);
		if (rc == 0 && clock_owns_date()) {
			/* written by the PBX's clock (--clock-file/--clock-offset): its
			 * tar entry carries that time */
			struct timespec ts[2] = { { (time_t)now, 0 }, { (time_t)now, 0 } };
			utimensat(dayfd, name, ts, AT_SYMLINK_NOFOLLOW);
		}
		close(dayfd);
		if (rc < 0)
			return -1;
		snprintf(path, sizeof path, "%s/%s", ymd, name);
		call.recpath = path;
	} else {
		call.disposition = "NO ANSWER";
		call.ring = 10 + gen_below(&st->rng, 21);
	}
	/* A queue's wait comes before the ringing: the call started that much earlier, its
	 * recording (named at the answer, now) does not move. */
	call.ring += wait;
	call.start -= call.ring;
	st->n++;
	st->seq++;
	if (cdr_from_call(&call, row) < 0) {
		fprintf(stderr, "fakepbx: simulated call: out of memory\n");
		return -1;
	}
	if (cdr_store_append(cdrs, row) < 0) {
		cdr_row_clear(row);
		return -1;
	}
	if (wait) {
		struct tm ts;
		char started[32];
		clock_local(call.start, &ts);
		strftime(started, sizeof started, "%Y-%m-%d %H:%M:%S", &ts);
		fprintf(stderr, "fakepbx: call queued %u s: started %s\n", wait, started);
	}
	fprintf(stderr, "fakepbx: call added: %s %s -> %s %s\n", type, src, dst,
		recorded ? path : "(not recorded)");
	return 0;
}
