/* sealq.c — a ring of events between the download (main thread) and the sealing worker. */
#include "sealq.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unpack.h"

enum kind { EV_BEGIN, EV_DATA, EV_END };

struct event {
	enum kind kind;
	size_t idx;
	int64_t size;      /* EV_BEGIN */
	int complete;      /* EV_END */
	size_t len;        /* EV_DATA */
	unsigned char *buf;
};

struct sealq {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct event ring[SEALQ_SLOTS];
	size_t head, count;   /* next event to handle; events queued (incl. the one in hand) */
	int busy;             /* the worker holds an event */
	int failed;           /* a handler returned -1 in this batch */
	int stop;
	const struct unpack_sink *work;
	void *ctx;
};

static void *worker(void *arg)
{
	struct sealq *q = arg;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct event *e;
		int rc = 0;

		while (q->count == 0 && !q->stop)
			pthread_cond_wait(&q->changed, &q->lock);
		if (q->count == 0)
			break;
		e = &q->ring[q->head];
		q->busy = 1;
		if (!q->failed) {
			pthread_mutex_unlock(&q->lock);
			if (e->kind == EV_BEGIN)
				rc = q->work->begin(q->ctx, e->idx, e->size);
			else if (e->kind == EV_DATA)
				rc = q->work->data(q->ctx, e->idx, e->buf, e->len);
			else
				rc = q->work->end(q->ctx, e->idx, e->complete);
			pthread_mutex_lock(&q->lock);
		}
		if (rc != 0)
			q->failed = 1;
		q->busy = 0;
		q->head = (q->head + 1) % SEALQ_SLOTS;
		q->count--;
		pthread_cond_broadcast(&q->changed);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

struct sealq *sealq_new(char *err, size_t errlen)
{
	struct sealq *q = calloc(1, sizeof *q);

	if (!q)
		goto oom;
	for (int i = 0; i < SEALQ_SLOTS; i++)
		if (!(q->ring[i].buf = malloc(SEALQ_BUFFER)))
			goto oom;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->changed, NULL);
	if (pthread_create(&q->thread, NULL, worker, q) != 0) {
		snprintf(err, errlen, "cannot start the sealing thread");
		pthread_cond_destroy(&q->changed);
		pthread_mutex_destroy(&q->lock);
		for (int i = 0; i < SEALQ_SLOTS; i++)
			free(q->ring[i].buf);
		free(q);
		return NULL;
	}
	return q;
oom:
	if (q)
		for (int i = 0; i < SEALQ_SLOTS; i++)
			free(q->ring[i].buf);
	free(q);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

void sealq_free(struct sealq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = 1;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL); /* it empties the ring first */
	pthread_cond_destroy(&q->changed);
	pthread_mutex_destroy(&q->lock);
	for (int i = 0; i < SEALQ_SLOTS; i++)
		free(q->ring[i].buf);
	free(q);
}

void sealq_start(struct sealq *q, const struct unpack_sink *work, void *ctx)
{
	pthread_mutex_lock(&q->lock);
	q->work = work;
	q->ctx = ctx;
	q->failed = 0;
	pthread_mutex_unlock(&q->lock);
}

/* Claims the next free slot (waiting while the ring is full). Returns it with the lock held,
 * or NULL (lock released) when a handler failed. */
static struct event *claim(struct sealq *q)
{
	pthread_mutex_lock(&q->lock);
	while (q->count == SEALQ_SLOTS && !q->failed)
		pthread_cond_wait(&q->changed, &q->lock);
	if (q->failed) {
		pthread_mutex_unlock(&q->lock);
		return NULL;
	}
	return &q->ring[(q->head + q->count) % SEALQ_SLOTS];
}

static void publish(struct sealq *q)
{
	q->count++;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
}

int sealq_begin(struct sealq *q, size_t idx, int64_t size)
{
	struct event *e = claim(q);

	if (!e)
		return -1;
	e->kind = EV_BEGIN;
	e->idx = idx;
	e->size = size;
	publish(q);
	return 0;
}

int sealq_data(struct sealq *q, size_t idx, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		size_t n = len < SEALQ_BUFFER ? len : SEALQ_BUFFER;
		struct event *e = claim(q);

		if (!e)
			return -1;
		/* The slot is ours until published: the worker only reads queued ones. */
		e->kind = EV_DATA;
		e->idx = idx;
		e->len = n;
		memcpy(e->buf, p, n);
		publish(q);
		p += n;
		len -= n;
	}
	return 0;
}

int sealq_end(struct sealq *q, size_t idx, int complete)
{
	struct event *e = claim(q);

	if (!e)
		return -1;
	e->kind = EV_END;
	e->idx = idx;
	e->complete = complete;
	publish(q);
	return 0;
}

int sealq_drain(struct sealq *q)
{
	int failed;

	pthread_mutex_lock(&q->lock);
	while (q->count > 0)
		pthread_cond_wait(&q->changed, &q->lock);
	failed = q->failed;
	pthread_mutex_unlock(&q->lock);
	return failed ? -1 : 0;
}
