/* offsiteq.c — .state/offsite, the set of days whose offsite copy is not yet whole (see
 * offsiteq.h): one name a line. */
#include "offsiteq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "base/log.h"

#define QUEUE_MAX (1u << 20) /* 60,000 days and more */

static int valid_name(const char *s, size_t n)
{
	if (n == strlen(OFFSITEQ_HEADS) && memcmp(s, OFFSITEQ_HEADS, n) == 0)
		return 1;
	if (n != 10)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return 0;
	return 1;
}

int offsiteq_add(struct offsiteq *q, const char *name)
{
	size_t lo = 0, hi = q->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(q->names[mid], name);
		if (c == 0)
			return 0;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		void *grown = realloc(q->names, cap * sizeof *q->names);
		if (!grown) {
			log_error("out of memory");
			return -1;
		}
		q->names = grown;
		q->cap = cap;
	}
	memmove(q->names + lo + 1, q->names + lo, (q->n - lo) * sizeof *q->names);
	snprintf(q->names[lo], sizeof q->names[lo], "%s", name);
	q->n++;
	return 0;
}

void offsiteq_remove(struct offsiteq *q, const char *name)
{
	for (size_t i = 0; i < q->n; i++) {
		if (strcmp(q->names[i], name) == 0) {
			memmove(q->names + i, q->names + i + 1, (q->n - i - 1) * sizeof *q->names);
			q->n--;
			return;
		}
	}
}

void offsiteq_free(struct offsiteq *q)
{
	free(q->names);
	memset(q, 0, sizeof *q);
}

int offsiteq_load(struct store *s, struct offsiteq *q)
{
	char *buf = malloc(QUEUE_MAX + 1);
	int dirfd;
	ssize_t n;

	offsiteq_free(q);
	if (!buf) {
		log_error("out of memory");
		return -1;
	}
	dirfd = store_open_dir(s, ".state", 1, NULL, 0);
	n = dirfd >= 0 ? store_read_regular(dirfd, "offsite", buf, QUEUE_MAX) : -1;
	int e = errno;
	if (dirfd >= 0)
		close(dirfd);
	if (n < 0) {
		free(buf);
		if (e == ENOENT)
			return 0;
		log_error("cannot read .state/offsite: %s", store_open_error(e));
		return -1;
	}
	buf[n] = '\0';
	for (char *line = buf, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break; /* a torn last line: the rest is found again from the manifest */
		*nl = '\0';
		if (valid_name(line, (size_t)(nl - line)) && offsiteq_add(q, line) != 0) {
			free(buf);
			return -1;
		}
	}
	free(buf);
	return 1;
}

int offsiteq_save(struct store *s, const struct offsiteq *q)
{
	char *text = malloc(q->n * 17 + 1), err[512];
	size_t len = 0;

	if (!text) {
		log_error("out of memory");
		return -1;
	}
	for (size_t i = 0; i < q->n; i++)
		len += (size_t)snprintf(text + len, 18, "%s\n", q->names[i]);
	int rc = store_put(s, ".state", "offsite", text, len, err, sizeof err);
	if (rc != 0)
		log_error("cannot write .state/offsite: %s", err);
	free(text);
	return rc;
}
