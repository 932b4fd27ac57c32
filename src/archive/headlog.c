/* headlog.c — the heads' history file (headlog.h). */
#include "headlog.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "base/log.h"

#define HEADS_DIR "manifest/heads"
#define HISTORY "history.jsonl"
#define LINE_MAX_LEN 1024 /* a history line is ~250 bytes */

static void hash_hex(const char *buf, size_t len, char hex[SHA256_HEX_LEN + 1])
{
	struct sha256 *h = sha256_new();
	unsigned char d[SHA256_LEN];

	if (!h) {
		hex[0] = '\0';
		return;
	}
	sha256_start(h);
	sha256_update(h, buf, len);
	sha256_finish(h, d);
	sha256_to_hex(d, hex);
	sha256_free(h);
}

/* Parses one history line into `out`, its "prev" into `prev`. Returns 0 or -1. */
static int parse_line(const char *line, size_t len, struct headlog_line *out,
		      char prev[SHA256_HEX_LEN + 1])
{
	json_tokener *tok = json_tokener_new();
	json_object *o = tok ? json_tokener_parse_ex(tok, line, (int)len) : NULL, *v;
	int rc = -1;

	if (!o || json_tokener_get_parse_end(tok) != len || !json_object_is_type(o, json_type_object))
		goto out;
	if (!json_object_object_get_ex(o, "seq", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 1)
		goto out;
	out->seq = (unsigned long long)json_object_get_int64(v);
	if (!json_object_object_get_ex(o, "sha256", &v) || !json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) != SHA256_HEX_LEN)
		goto out;
	memcpy(out->sha256, json_object_get_string(v), SHA256_HEX_LEN + 1);
	if (!json_object_object_get_ex(o, "prev", &v) || !json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) != SHA256_HEX_LEN)
		goto out;
	memcpy(prev, json_object_get_string(v), SHA256_HEX_LEN + 1);
	rc = 0;
out:
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
	return rc;
}

/* Opens the history for reading: the fd, or -1 (errno ENOENT when there is none). */
static int open_history(struct store *s, char *why, size_t whylen)
{
	int dirfd = store_open_dir(s, HEADS_DIR, 0, why, whylen), fd;

	if (dirfd < 0)
		return -1;
	fd = store_open_regular(dirfd, HISTORY);
	if (fd < 0) {
		int e = errno;
		snprintf(why, whylen, "manifest/heads/" HISTORY ": %s", store_open_error(e));
		errno = e;
	}
	close(dirfd);
	return fd;
}

/* The last whole line of `fd` into `line` (NUL-terminated), and the length of the file up to
 * its end (a torn tail after it excluded). Returns 0, 1 no whole line, -1 error. */
static int last_line(int fd, char line[LINE_MAX_LEN + 1], size_t *linelen, off_t *whole_end)
{
	char buf[2 * LINE_MAX_LEN + 2];
	struct stat st;
	off_t from;
	ssize_t n;
	ssize_t end = -1, start;

	*whole_end = 0;
	if (fstat(fd, &st) != 0)
		return -1;
	from = st.st_size > (off_t)sizeof buf ? st.st_size - (off_t)sizeof buf : 0;
	n = pread(fd, buf, sizeof buf, from);
	if (n < 0)
		return -1;
	for (ssize_t i = n - 1; i >= 0; i--) {
		if (buf[i] == '\n') {
			end = i;
			break;
		}
	}
	if (end < 0)
		return n > 0 && from > 0 ? -1 : 1; /* a line longer than any we write */
	*whole_end = from + end + 1;
	for (start = end; start > 0 && buf[start - 1] != '\n'; start--)
		;
	if (start == 0 && from > 0)
		return -1;
	if (end - start > LINE_MAX_LEN)
		return -1;
	*linelen = (size_t)(end - start);
	memcpy(line, buf + start, *linelen);
	line[*linelen] = '\0';
	return 0;
}

int headlog_tip(struct store *s, struct headlog_line *tip, char *why, size_t whylen)
{
	char line[LINE_MAX_LEN + 1], prev[SHA256_HEX_LEN + 1];
	size_t len;
	off_t end;
	int fd = open_history(s, why, whylen), rc;

	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	rc = last_line(fd, line, &len, &end);
	close(fd);
	if (rc == 1)
		return 1;
	if (rc < 0 || parse_line(line, len, tip, prev) != 0) {
		snprintf(why, whylen, "manifest/heads/" HISTORY ": its last line is not a head's "
			 "history line");
		return -1;
	}
	return 0;
}

int headlog_append(struct store *s, const struct headlog_line *h)
{
	char line[LINE_MAX_LEN + 1], prev[SHA256_HEX_LEN + 1], out[LINE_MAX_LEN + 1], err[512];
	size_t len = 0;
	off_t end = 0;
	int dirfd, fd, rc, n;
	struct stat st;

	dirfd = store_open_dir(s, HEADS_DIR, 1, err, sizeof err);
	if (dirfd < 0) {
		log_error("%s", err);
		return -1;
	}
	fd = openat(dirfd, HISTORY, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0640);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_error("cannot open manifest/heads/" HISTORY ": %s",
			  fd < 0 ? strerror(errno) : "not a regular file");
		goto fail;
	}
	rc = last_line(fd, line, &len, &end);
	if (rc < 0) {
		log_error("manifest/heads/" HISTORY ": cannot find its last line");
		goto fail;
	}
	if (rc == 1)
		hash_hex("", 0, prev);
	else
		hash_hex(line, len, prev);
	if (end != st.st_size && ftruncate(fd, end) != 0) { /* a torn tail */
		log_error("cannot cut the torn tail of manifest/heads/" HISTORY ": %s", strerror(errno));
		goto fail;
	}
	n = snprintf(out, sizeof out, "{\"seq\":%llu,\"time\":\"%s\",\"file\":\"heads/%012llu.json\","
		     "\"sha256\":\"%s\",\"days\":%zu,\"signed\":%s,\"prev\":\"%s\"}\n", h->seq,
		     h->time, h->seq, h->sha256, h->days, h->is_signed ? "true" : "false", prev);
	if (pwrite(fd, out, (size_t)n, end) != n || fsync(fd) != 0 ||
	    (st.st_size == 0 && fsync(dirfd) != 0)) {
		log_error("cannot append to manifest/heads/" HISTORY ": %s", strerror(errno));
		goto fail;
	}
	close(fd);
	close(dirfd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	close(dirfd);
	return -1;
}

int headlog_catch_up(struct store *s, const struct headlog_line *h)
{
	struct headlog_line tip;
	char why[512];
	int rc = headlog_tip(s, &tip, why, sizeof why);

	if (rc < 0) {
		log_error("%s", why);
		return -1;
	}
	if (rc == 1 || tip.seq < h->seq)
		return headlog_append(s, h);
	return 0;
}

int headlog_check(struct store *s, const struct headlog_line *h, char *why, size_t whylen)
{
	char buf[65536], line[LINE_MAX_LEN + 1], prev[SHA256_HEX_LEN + 1], want[SHA256_HEX_LEN + 1];
	struct headlog_line cur;
	unsigned long long last_seq = 0, n = 0;
	size_t used = 0;
	ssize_t r;
	int fd = open_history(s, why, whylen), rc = 0;

	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	memset(&cur, 0, sizeof cur);
	hash_hex("", 0, want);
	while (rc == 0 && (r = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < r && rc == 0; i++) {
			if (buf[i] != '\n') {
				if (used < LINE_MAX_LEN)
					line[used] = buf[i];
				used++;
				continue;
			}
			n++;
			if (used > LINE_MAX_LEN || parse_line(line, used, &cur, prev) != 0) {
				snprintf(why, whylen, "line %llu is not a history line", n);
				rc = 2;
			} else if (strcmp(prev, want) != 0) {
				snprintf(why, whylen, "line %llu does not chain to the line before "
					 "(lines removed or changed)", n);
				rc = 2;
			} else if (cur.seq <= last_seq) {
				snprintf(why, whylen, "line %llu names head %llu after head %llu", n,
					 cur.seq, last_seq);
				rc = 2;
			}
			last_seq = cur.seq;
			hash_hex(line, used, want);
			used = 0;
		}
	}
	close(fd);
	if (rc)
		return rc;
	if (r < 0) {
		snprintf(why, whylen, "cannot read manifest/heads/" HISTORY ": %s", strerror(errno));
		return -1;
	}
	if (n == 0)
		return 1;
	if (cur.seq != h->seq || strcmp(cur.sha256, h->sha256) != 0) {
		snprintf(why, whylen, cur.seq > h->seq ?
			 "it ends with head %llu, newer than the newest head %llu (heads removed: a "
			 "rollback?)" : "it ends with head %llu, not with the newest head %llu",
			 cur.seq, h->seq);
		return 2;
	}
	return 0;
}
