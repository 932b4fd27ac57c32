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

#include "naming.h"
#include "recpath.h"
#include "sealed.h"
#include "store.h"
#include "base/failpoint.h"
#include "crypto/age.h"

struct job {
	struct age_writer *w;
	struct store_file *file;  /* written and finished, not yet committed */
	struct file_naming naming;
	char name[RECPATH_FILE_MAX]; /* its preferred name, for messages */
	unsigned char wire[SHA256_LEN];
	unsigned char stored[SHA256_LEN];
	struct sealed *out;
	struct job *next;
};

struct readback {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;   /* a job queued or finished, or stop */
	struct job *head, *tail;
	int queued;               /* waiting or being checked */
	int failed;               /* since the last drain */
	int stop;
};

/* The check, then the commit; runs in the worker, touching only the job and its file. */
static void check(struct job *j)
{
	unsigned char plain[SHA256_LEN];
	char err[256];
	int fd = store_open_temp(j->file), rc = -1;

	if (fd < 0) {
		snprintf(j->out->why, sizeof j->out->why, "cannot read back %s: %s", j->name,
			 strerror(errno));
	} else if (age_writer_verify(j->w, fd, plain, NULL, err, sizeof err) != 0) {
		snprintf(j->out->why, sizeof j->out->why, "read-back of %s failed: %s", j->name,
			 err);
	} else if (FAILPOINT("readback.check") != 0) {
		snprintf(j->out->why, sizeof j->out->why, "read-back of %s failed: injected",
			 j->name);
	} else if (sodium_memcmp(plain, j->wire, SHA256_LEN) != 0) {
		snprintf(j->out->why, sizeof j->out->why,
			 "read-back of %s: the decrypted audio does not hash to what arrived",
			 j->name);
	} else {
		rc = 0;
	}
	if (fd >= 0)
		close(fd);
	age_writer_free(j->w); /* wipes the file key */
	/* Only a file that passed gets its name: one that did not is never left for a manifest
	 * to name, and the recording is fetched again. */
	if (rc != 0) {
		store_abandon(j->file);
	} else {
		struct store_naming sn = naming_for_store(&j->naming);
		char used[RECPATH_FILE_MAX];

		if (store_commit_new(j->file, &sn, used, sizeof used, err, sizeof err) != 0) {
			snprintf(j->out->why, sizeof j->out->why, "%s", err);
			rc = -1;
		} else {
			sha256_to_hex(j->stored, j->out->stored_sha256);
			snprintf(j->out->file, sizeof j->out->file, "%s/%s", j->naming.where.dir,
				 used);
		}
	}
	j->out->failed = rc != 0;
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
		check(j);
		pthread_mutex_lock(&rb->lock);
		rb->failed += j->out->failed;
		rb->queued--;
		free(j);
		pthread_cond_broadcast(&rb->changed);
	}
	pthread_mutex_unlock(&rb->lock);
	return NULL;
}

struct readback *readback_new(char *err, size_t errlen)
{
	struct readback *rb = calloc(1, sizeof *rb);

	if (!rb) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
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

int readback_submit(struct readback *rb, struct age_writer *w, struct store_file *file,
		    const struct file_naming *naming, const unsigned char wire[SHA256_LEN],
		    const unsigned char stored[SHA256_LEN], struct sealed *out)
{
	struct job *j = calloc(1, sizeof *j);

	if (!j) {
		age_writer_free(w);
		store_abandon(file);
		return -1;
	}
	j->w = w;
	j->file = file;
	j->naming = *naming;
	naming_first(naming, j->name, sizeof j->name);
	memcpy(j->wire, wire, SHA256_LEN);
	memcpy(j->stored, stored, SHA256_LEN);
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
