/* cdrfile.c — see cdrfile.h. */
#include "cdrfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "base/log.h"
#include "crypto/hash.h"
#include "pbx/cdr.h"

/* pbx_cdr()'s judge of a 9005 answer: CSV text, kept as it came. A JSON object or an HTML page
 * where CSV was expected is a dead session. */
int cdrfile_take_csv(void *ctx, const char *body, size_t len)
{
	struct cdrfile_buf *b = ctx;
	size_t i = 0;

	while (i < len && (body[i] == ' ' || body[i] == '\r' || body[i] == '\n' || body[i] == '\t'))
		i++;
	if (i < len && (body[i] == '{' || body[i] == '<'))
		return 1;
	free(b->p);
	b->len = 0;
	if (!(b->p = malloc(len ? len : 1))) {
		log_error("out of memory");
		return -1;
	}
	memcpy(b->p, body, len);
	b->len = len;
	return 0;
}

/* Reads cdr/`name` whole. Returns 1 read, 0 absent, -1 error (printed). */
int cdrfile_read(struct store *s, const char *name, struct cdrfile_buf *out)
{
	char err[256];
	struct stat st;
	int dfd = store_open_dir(s, "cdr", 0, err, sizeof err), fd = -1, rc = -1;

	out->p = NULL;
	out->len = 0;
	if (dfd < 0)
		return errno == ENOENT ? 0 : (log_error("%s", err), -1);
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		rc = errno == ENOENT ? 0 : -1;
		if (rc < 0)
			log_error("cannot read cdr/%s: %s", name, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)CDRFILE_MAX) {
		log_error("cdr/%s is not a CDR file of ours (not a regular file, or too large)", name);
		goto out;
	}
	out->p = malloc((size_t)st.st_size + 1);
	if (!out->p) {
		log_error("out of memory");
		goto out;
	}
	while (out->len < (size_t)st.st_size) {
		ssize_t n = read(fd, out->p + out->len, (size_t)st.st_size - out->len);
		if (n <= 0) {
			log_error("cannot read cdr/%s: %s", name, n ? strerror(errno) : "cut short");
			free(out->p);
			out->p = NULL;
			goto out;
		}
		out->len += (size_t)n;
	}
	out->p[out->len] = '\0';
	rc = 1;
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	return rc;
}

/* An archived DAY.jsonl (one 9006 row per line) → rows, by parsing it as the array it is
 * line by line. Returns 0, or -1 (printed). */
int cdrfile_parse_jsonl(const char *day, const struct cdrfile_buf *in, struct cdr_list *out)
{
	struct cdrfile_buf arr = { malloc(in->len + 2), 0 };
	char err[256];
	int rc;

	if (!arr.p) {
		log_error("out of memory");
		return -1;
	}
	arr.p[arr.len++] = '[';
	for (size_t i = 0; i < in->len; i++) {
		char ch = in->p[i];
		/* Lines end in '\n' and hold no raw newline (JSON escapes it): each is a row. */
		if (ch == '\n')
			ch = i + 1 < in->len ? ',' : ' ';
		arr.p[arr.len++] = ch;
	}
	arr.p[arr.len++] = ']';
	cdr_list_free(out);
	rc = cdr_parse(arr.p, arr.len, out, err, sizeof err);
	free(arr.p);
	if (rc != CDR_OK) {
		log_error("cdr/%s.jsonl is not a CDR file of ours: %s", day, err);
		return -1;
	}
	return 0;
}

static int by_time(const void *x, const void *y)
{
	const struct cdr *a = x, *b = y;
	int c = strcmp(a->calldate, b->calldate);

	return c ? c : strcmp(a->uniqueid, b->uniqueid);
}

/* The rows as DAY.jsonl: sorted by call start then UniqueID, so the same rows always give
 * the same bytes. Returns 0 or -1. */
int cdrfile_render_jsonl(struct cdr_list *l, struct cdrfile_buf *out)
{
	char line[CDR_JSONL_MAX];
	size_t cap = 0;

	qsort(l->rows, l->count, sizeof *l->rows, by_time);
	out->p = NULL;
	out->len = 0;
	for (size_t i = 0; i < l->count; i++) {
		int n = cdr_row_jsonl(&l->rows[i], line, sizeof line);
		if (n < 0)
			goto oom;
		if (out->len + (size_t)n + 1 > cap) {
			cap = (out->len + (size_t)n + 1) * 2;
			char *p = realloc(out->p, cap);
			if (!p)
				goto oom;
			out->p = p;
		}
		memcpy(out->p + out->len, line, (size_t)n);
		out->len += (size_t)n;
	}
	return 0;
oom:
	free(out->p);
	out->p = NULL;
	log_error("out of memory");
	return -1;
}

struct row_digest {
	unsigned char d[SHA256_LEN];
};

static int by_digest(const void *x, const void *y)
{
	return memcmp(x, y, SHA256_LEN);
}

/* Each row's identity: the SHA-256 of its whole JSONL line (a UniqueID is not one: Asterisk
 * repeats it across the legs of a call). Sorted. NULL when out of memory. */
static struct row_digest *digests(struct sha256 *h, const struct cdr_list *l)
{
	struct row_digest *v = malloc((l->count ? l->count : 1) * sizeof *v);
	char line[CDR_JSONL_MAX];

	for (size_t i = 0; v && i < l->count; i++) {
		int n = cdr_row_jsonl(&l->rows[i], line, sizeof line);
		if (n < 0) {
			free(v);
			return NULL;
		}
		sha256_start(h);
		sha256_update(h, line, (size_t)n);
		sha256_finish(h, v[i].d);
	}
	if (v)
		qsort(v, l->count, sizeof *v, by_digest);
	return v;
}

long cdrfile_rows_lacking(const struct cdr_list *have, const struct cdr_list *want)
{
	struct sha256 *h = sha256_new();
	struct row_digest *a = h ? digests(h, have) : NULL, *b = h ? digests(h, want) : NULL;
	long lacking = -1;

	if (a && b) {
		size_t i = 0, j = 0;
		lacking = 0;
		while (j < want->count) {
			int c = i < have->count ? by_digest(&a[i], &b[j]) : 1;
			if (c == 0) {
				i++;
				j++;
			} else if (c < 0) {
				i++;
			} else {
				lacking++;
				j++;
			}
		}
	} else {
		log_error("out of memory");
	}
	free(a);
	free(b);
	sha256_free(h);
	return lacking;
}

/* Writes cdr/`name` when its bytes differ from what is there. Returns 0 or -1 (printed). */
int cdrfile_put_if_changed(struct store *s, const char *name, const struct cdrfile_buf *data,
			   const struct cdrfile_buf *old, char *err, size_t errlen)
{
	if (old->p && old->len == data->len && memcmp(old->p, data->p, data->len) == 0)
		return 0;
	return store_put(s, "cdr", name, data->p, data->len, err, errlen);
}

