/* readback.c — the read-back thread of readback.h: a small queue, one worker. */
#include "readback.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "age.h"
#include "recpath.h"
#include "seal.h"
#include "store.h"

struct job {
	struct age_writer *w;
	char dir[16];
	char name[RECPATH_NAME_MAX + 8];
	unsigned char wire[SHA256_LEN];
	struct sealed *out;
	struct job *next;
};

struct readback {
	struct store *store;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;   /* a job queued or finished, or stop */
	struct job *head, *tail;
	int queued;               /* waiting or being checked */
	int failed;               /* since the last drain */
	int stop;
};

/* The check itself; runs in the worker, touching only the job and the file. */
static void check(struct readback *rb, struct job *j)
{
	unsigned char plain[SHA256_LEN], stored[SHA256_LEN];
	char err[256];
	int dfd, fd = -1, rc = -1;

	dfd = store_open_dir(rb->store, j->dir, 0, err, sizeof err);
	if (dfd >= 0)
		fd = openat(dfd, j->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(j->out->why, sizeof j->out->why, "cannot read back %s: %s", j->name,
			 dfd < 0 ? err : strerror(errno));
	} else if (age_writer_verify(j->w, fd, plain, stored, err, sizeof err) != 0) {
		snprintf(j->out->why, sizeof j->out->why, "read-back of %s failed: %s", j->name,
			 err);
	} else if (sodium_memcmp(plain, j->wire, SHA256_LEN) != 0) {
		snprintf(j->out->why, sizeof j->out->why,
			 "read-back of %s: the decrypted audio does not hash to what arrived",
			 j->name);
	} else {
		sha256_to_hex(stored, j->out->stored_sha256);
		rc = 0;
	}
	if (fd >= 0)
		close(fd);
	if (rc != 0) {
		j->out->failed = 1;
		/* Never leave behind a file that did not pass; the recording is fetched again. */
		if (dfd >= 0 && unlinkat(dfd, j->name, 0) == 0)
			fsync(dfd);
	}
	if (dfd >= 0)
		close(dfd);
	age_writer_free(j->w); /* wipes the file key */
}

static void *worker(void *arg)
{
	struct readback *rb = arg;

	pthread_mutex_lock(&rb->lock);
	for (;;) {
		struct job *j;

		while (!rb->head && !rb->stop)
			pthread_cond_wait(&rb->changed, &rb->lock);
		if (!rb->head)
			break;
		j = rb->head;
		rb->head = j->next;
		if (!rb->head)
			rb->tail = NULL;
		pthread_mutex_unlock(&rb->lock);
		check(rb, j);
		pthread_mutex_lock(&rb->lock);
		rb->failed += j->out->failed;
		rb->queued--;
		free(j);
		pthread_cond_broadcast(&rb->changed);
	}
	pthread_mutex_unlock(&rb->lock);
	return NULL;
}

struct readback *readback_new(struct store *s, char *err, size_t errlen)
{
	struct readback *rb = calloc(1, sizeof *rb);

	if (!rb) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rb->store = s;
	pthread_mutex_init(&rb->lock, NULL);
	pthread_cond_init(&rb->changed, NULL);
	if (pthread_create(&rb->thread, NULL, worker, rb) != 0) {
		snprintf(err, errlen, "cannot start the read-back thread");
		pthread_cond_destroy(&rb->changed);
		pthread_mutex_destroy(&rb->lock);
		free(rb);
		return NULL;
	}
	return rb;
}

void readback_free(struct readback *rb)
{
	if (!rb)
		return;
	pthread_mutex_lock(&rb->lock);
	rb->stop = 1;
	pthread_cond_broadcast(&rb->changed);
	pthread_mutex_unlock(&rb->lock);
	pthread_join(rb->thread, NULL); /* the worker empties the queue before it stops */
	pthread_cond_destroy(&rb->changed);
	pthread_mutex_destroy(&rb->lock);
	free(rb);
}

int readback_submit(struct readback *rb, struct age_writer *w, const char *dir, const char *name,
		    const unsigned char wire[SHA256_LEN], struct sealed *out)
{
	struct job *j = calloc(1, sizeof *j);

	if (!j) {
		age_writer_free(w);
		return -1;
	}
	j->w = w;
	snprintf(j->dir, sizeof j->dir, "%s", dir);
	snprintf(j->name, sizeof j->name, "%s", name);
	memcpy(j->wire, wire, SHA256_LEN);
	j->out = out;
	pthread_mutex_lock(&rb->lock);
	while (rb->queued >= READBACK_QUEUE)
		pthread_cond_wait(&rb->changed, &rb->lock);
	if (rb->tail)
		rb->tail->next = j;
	else
		rb->head = j;
	rb->tail = j;
	rb->queued++;
	pthread_cond_broadcast(&rb->changed);
	pthread_mutex_unlock(&rb->lock);
	return 0;
}

int readback_drain(struct readback *rb)
{
	int failed;

	pthread_mutex_lock(&rb->lock);
	while (rb->queued > 0)
		pthread_cond_wait(&rb->changed, &rb->lock);
	failed = rb->failed;
	rb->failed = 0;
	pthread_mutex_unlock(&rb->lock);
	return failed;
}
