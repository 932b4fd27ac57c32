/*
 * pace.c — a content reader that sleeps: stall after the first piece,
 * drip at a fixed rate.
 *
 * Owns the inner read-ahead buffer and the clock of one slowed answer.
 * libmicrohttpd (one thread per connection) asks for more body only when
 * what it was given has been sent, so a sleep here is silence on the wire.
 */
#include "pace.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PACE_NAP_MS 50
#define PACE_BLOCK (64 * 1024)

static atomic_bool pace_stopping;

struct pace {
	struct pace_src src;
	char *ib;            /* read-ahead from the source */
	size_t ilen, ioff;
	uint64_t ipos;       /* source bytes read so far */
	bool ieof;
	uint64_t pos;        /* bytes handed to libmicrohttpd */
	long stall_s;
	bool stall_done;
	bool stall_known;    /* stall_at was decided (after the first block) */
	uint64_t stall_at;
	long drip_bps;
	size_t drip_last;    /* size of the last dripped piece */
};

void pace_stop(void)
{
	atomic_store(&pace_stopping, true);
}

/* Sleep ms milliseconds in naps; false when the server is stopping. */
static bool pace_sleep(uint64_t ms)
{
	while (ms > 0 && !atomic_load(&pace_stopping)) {
		uint64_t nap = ms < PACE_NAP_MS ? ms : PACE_NAP_MS;
		struct timespec ts = { (time_t)(nap / 1000), (long)(nap % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		ms -= nap;
	}
	return !atomic_load(&pace_stopping);
}

/* Refill the read-ahead from the source. Returns 0, or an MHD end code. */
static ssize_t pace_fill(struct pace *p)
{
	const struct pace_src *s = &p->src;
	size_t cap = s->reader ? s->block : PACE_BLOCK;
	ssize_t n;
	if (s->reader) {
		n = s->reader(s->cls, p->ipos, p->ib, cap);
	} else if (p->ipos >= s->size) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		uint64_t left = s->size - p->ipos;
		size_t want = left < cap ? (size_t)left : cap;
		if (s->buf) {
			memcpy(p->ib, s->buf + p->ipos, want);
			n = (ssize_t)want;
		} else {
			n = pread(s->fd, p->ib, want, (off_t)p->ipos);
			if (n <= 0) /* the file shrank: the promised size still stands */
				n = MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
	if (n == MHD_CONTENT_READER_END_OF_STREAM) {
		p->ieof = true;
		return 0;
	}
	if (n < 0)
		return n;
	p->ilen = (size_t)n;
	p->ioff = 0;
	p->ipos += (uint64_t)n;
	if (!p->stall_known) {
		p->stall_known = true;
		p->stall_at = (uint64_t)n / 2 < PACE_STALL_PIECE ? (uint64_t)n / 2 : PACE_STALL_PIECE;
	}
	return 0;
}

static ssize_t pace_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct pace *p = cls;
	(void)pos;
	while (p->ioff == p->ilen && !p->ieof) {
		ssize_t rc = pace_fill(p);
		if (rc < 0)
			return rc;
	}
	if (p->ioff == p->ilen)
		return MHD_CONTENT_READER_END_OF_STREAM;
	size_t n = p->ilen - p->ioff < max ? p->ilen - p->ioff : max;
	if (p->stall_s > 0 && !p->stall_done) {
		if (p->pos >= p->stall_at) {
			if (!pace_sleep((uint64_t)p->stall_s * 1000))
				return MHD_CONTENT_READER_END_WITH_ERROR;
			p->stall_done = true;
		} else if (n > p->stall_at - p->pos) {
			n = (size_t)(p->stall_at - p->pos);
		}
	}
	if (p->drip_bps > 0) {
		size_t piece = p->drip_bps >= 10 ? (size_t)(p->drip_bps / 10) : 1;
		if (p->drip_last > 0 &&
		    !pace_sleep((uint64_t)p->drip_last * 1000 / (uint64_t)p->drip_bps))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (n > piece)
			n = piece;
		p->drip_last = n;
	}
	memcpy(buf, p->ib + p->ioff, n);
	p->ioff += n;
	p->pos += n;
	return (ssize_t)n;
}

static void pace_release(struct pace_src *s)
{
	if (s->free_cls)
		s->free_cls(s->cls);
	free(s->buf);
	if (s->fd >= 0)
		close(s->fd);
	s->free_cls = NULL;
	s->buf = NULL;
	s->fd = -1;
}

static void pace_free(void *cls)
{
	struct pace *p = cls;
	pace_release(&p->src);
	free(p->ib);
	free(p);
}

struct MHD_Response *pace_response(struct pace_src *src, long stall_s, long drip_bps)
{
	struct pace *p = calloc(1, sizeof *p);
	size_t cap = src->reader ? src->block : PACE_BLOCK;
	if (!p || !(p->ib = malloc(cap ? cap : 1))) {
		free(p);
		pace_release(src);
		return NULL;
	}
	p->src = *src;
	p->stall_s = stall_s;
	p->drip_bps = drip_bps;
	struct MHD_Response *resp =
		MHD_create_response_from_callback(src->size, PACE_BLOCK, pace_read, p, pace_free);
	if (!resp)
		pace_free(p);
	return resp;
}
