/* mansig.c — signing and checking manifest day files with minisign keys. */
#include "mansig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "jsonfield.h"
#include "manifest.h"
#include "store.h"
#include "base/clock.h"
#include "base/log.h"
#include "crypto/hash.h"
#include "crypto/minisign.h"

struct sign_ctx {
	struct store *store;
	const struct minisign_secret *key;
	unsigned long long head;
	int dirfd;
};

static int sign_day(void *ctx, const char *day, size_t lines, const char *last_hash)
{
	struct sign_ctx *c = ctx;
	char name[32], sig_name[48], tc[256], err[512];
	char *sig = NULL;
	size_t len = 0;
	int fd, rc = 0;

	snprintf(name, sizeof name, "%s.jsonl", day);
	snprintf(sig_name, sizeof sig_name, "%s.minisig", name);
	snprintf(tc, sizeof tc, "timestamp:%lld\tfile:%s\tlines:%zu\tlast:%s\thead:%llu",
		 (long long)clock_unix(), name, lines, last_hash, c->head);
	fd = store_open_regular(c->dirfd, name);
	if (fd < 0) {
		log_error("cannot sign manifest/%s: %s", name, strerror(errno));
		return 1;
	}
	if (minisign_sign_fd(c->key, fd, tc, NULL, &sig, &len, err, sizeof err) != 0) {
		log_error("cannot sign manifest/%s: %s", name, err);
		rc = 1;
	} else if (store_put(c->store, "manifest", sig_name, sig, len, err, sizeof err) != 0) {
		log_error("cannot write manifest/%s: %s", sig_name, err);
		rc = 1;
	}
	close(fd);
	free(sig);
	return rc;
}

int mansig_sign_changed(struct store *s, struct manifest *m, const struct minisign_secret *k,
			unsigned long long head)
{
	struct sign_ctx c = { s, k, head, -1 };
	char err[512];
	int failed;

	c.dirfd = store_open_dir(s, "manifest", 1, err, sizeof err);
	if (c.dirfd < 0) {
		log_error("%s", err);
		return 1;
	}
	failed = manifest_each_unsigned(m, sign_day, &c);
	close(c.dirfd);
	return failed;
}

int mansig_verify_day(struct store *s, const char *day, const struct minisign_public *pk,
		      char *tc, size_t tclen, char *why, size_t whylen)
{
	enum { SIG_MAX = MINISIGN_SIG_TEXT_MAX + 1 };
	char name[32], sig_name[48], sig[SIG_MAX];
	int dirfd, fd, rc;
	ssize_t n;

	snprintf(name, sizeof name, "%s.jsonl", day);
	snprintf(sig_name, sizeof sig_name, "%s.minisig", name);
	dirfd = store_open_dir(s, "manifest", 0, why, whylen);
	if (dirfd < 0)
		return -1;
	/* One byte past the cap lets minisign_verify_fd name an oversized signature file. */
	n = store_read_regular(dirfd, sig_name, sig, sizeof sig);
	if (n < 0) {
		int e = errno;
		close(dirfd);
		snprintf(why, whylen, "manifest/%s: %s", sig_name, store_open_error(e));
		return e == ENOENT ? 1 : -1;
	}
	fd = store_open_regular(dirfd, name);
	close(dirfd);
	if (fd < 0) {
		snprintf(why, whylen, "cannot read manifest/%s or its signature: %s", name,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rc = minisign_verify_fd(pk, fd, sig, (size_t)n, tc, tclen, why, whylen);
	close(fd);
	return rc == 0 ? 0 : rc == 1 ? 2 : -1;
}

/* The line count a signature's trusted comment names ("lines:N"), read before the signature
 * is checked (the check then covers it); -1 when it names none (then the whole file). */
static long signed_lines(const char *sig, size_t len)
{
	static const char key[] = "\tlines:";
	char text[MINISIGN_SIG_TEXT_MAX + 1], *tc, *at, *end;
	long n;

	memcpy(text, sig, len < sizeof text - 1 ? len : sizeof text - 1);
	text[len < sizeof text - 1 ? len : sizeof text - 1] = '\0';
	tc = strstr(text, "\ntrusted comment: ");
	at = tc ? strstr(tc, key) : NULL;
	if (!at)
		return -1;
	n = strtol(at + sizeof key - 1, &end, 10);
	return end != at + sizeof key - 1 && n >= 0 ? n : -1;
}

/* The byte offset just past line `lines` of `fd`; -1 when the file holds fewer lines. */
static int64_t offset_after_lines(int fd, long lines)
{
	char buf[65536];
	int64_t off = 0;
	long seen = 0;
	ssize_t n;

	if (lines == 0)
		return 0;
	while ((n = pread(fd, buf, sizeof buf, (off_t)off)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n' && ++seen == lines)
				return off + i + 1;
		off += n;
	}
	return -1;
}

/* One line after a day's signed part: only an "archived" line whose file is there, of its
 * size and hash, is what a run stopped between a commit and its signature leaves and what a
 * later run may sign: a fact the file itself proves. Any other line (a "forgotten", "pruned",
 * "unavailable" or "pbx_deleted" mark) could hide a recording, and nothing but the key vouches
 * for it. Returns 0, or 2 with `why` set. */
static int tail_line_ok(struct store *s, struct sha256 *h, const char *line, size_t len,
			long at, const char *name, char *why, size_t whylen)
{
	json_tokener *tok = json_tokener_new();
	json_object *o = tok ? json_tokener_parse_ex(tok, line, (int)len) : NULL, *v;
	const char *event, *file, *want;
	char dir[64], hex[SHA256_HEX_LEN + 1], err[256];
	const char *base;
	uint64_t size = 0;
	int64_t listed;
	int dfd, rc = 2;

	event = jsonfield_str(o, "event");
	file = jsonfield_str(o, "file");
	want = jsonfield_str(o, "stored_sha256") ? jsonfield_str(o, "stored_sha256")
						  : jsonfield_str(o, "sha256");
	listed = o && json_object_object_get_ex(o, "size", &v) ? json_object_get_int64(v) : -1;
	if (!event || strcmp(event, "archived") != 0) {
		snprintf(why, whylen, "manifest/%s line %ld, after the signed lines, is a \"%s\" line: "
			 "only the key vouches for such a line", name, at, event ? event : "?");
	} else if (!file || !want || store_split_file(file, dir, sizeof dir, &base) != 0 ||
		   (dfd = store_open_dir(s, dir, 0, err, sizeof err)) < 0) {
		snprintf(why, whylen, "manifest/%s line %ld, after the signed lines, names no file of "
			 "the archive", name, at);
	} else {
		int hrc = sha256_file_at(h, dfd, base, hex, &size);
		close(dfd);
		if (hrc != 0 || strcmp(hex, want) != 0 || (int64_t)size != listed)
			snprintf(why, whylen, "manifest/%s line %ld, after the signed lines, names a file "
				 "that is missing or not what it says", name, at);
		else
			rc = 0;
	}
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
	return rc;
}

/* The lines of `fd` after byte `from` (line numbers from `first`), each tail_line_ok(). */
static int tail_ok(struct store *s, int fd, int64_t from, long first, const char *name,
		   char *why, size_t whylen)
{
	enum { LINE_MAX_BYTES = 65536 };
	struct sha256 *h = sha256_new();
	char *line = malloc(LINE_MAX_BYTES + 1), buf[8192];
	size_t used = 0;
	long at = first;
	ssize_t n;
	int rc = 0;

	if (!h || !line) {
		snprintf(why, whylen, "out of memory");
		rc = -1;
	}
	while (rc == 0 && (n = pread(fd, buf, sizeof buf, (off_t)from)) > 0) {
		for (ssize_t i = 0; i < n && rc == 0; i++) {
			if (buf[i] != '\n') {
				if (used < LINE_MAX_BYTES)
					line[used] = buf[i];
				used++;
				continue;
			}
			rc = used > LINE_MAX_BYTES ? 2 : tail_line_ok(s, h, line, used, ++at, name,
									   why, whylen);
			if (used > LINE_MAX_BYTES)
				snprintf(why, whylen, "manifest/%s: a line after the signed ones is too "
					 "long", name);
			used = 0;
		}
		from += n;
	}
	sha256_free(h);
	free(line);
	return rc;
}

/* The newest head a signature's trusted comment names ("head:K"); 0 when it names none. */
static unsigned long long tc_head(const char *tc)
{
	const char *at = strstr(tc, "\thead:");

	return at ? strtoull(at + 6, NULL, 10) : 0;
}

int mansig_check_append(struct store *s, const char *day, const struct minisign_public *const *pk,
			size_t npk, int head, unsigned long long head_seq, char *why, size_t whylen)
{
	enum { SIG_MAX = MINISIGN_SIG_TEXT_MAX + 1 };
	char name[32], sig_name[48], sig[SIG_MAX], tc[MINISIGN_TRUSTED_MAX + 1];
	int dirfd, fd, rc;
	int64_t len = -1;
	long lines;
	ssize_t n = 0;

	snprintf(name, sizeof name, "%s.jsonl", day);
	snprintf(sig_name, sizeof sig_name, "%s.minisig", name);
	dirfd = store_open_dir(s, "manifest", 0, why, whylen);
	if (dirfd < 0)
		return errno == ENOENT ? 0 : -1;
	n = store_read_regular(dirfd, sig_name, sig, sizeof sig);
	if (n < 0) {
		int e = errno;
		close(dirfd);
		snprintf(why, whylen, "manifest/%s: %s", sig_name, store_open_error(e));
		return e == ENOENT ? 0 : -1; /* never signed: nothing to keep true */
	}
	fd = store_open_regular(dirfd, name);
	close(dirfd);
	if (fd < 0) {
		snprintf(why, whylen, "manifest/%s is signed, but it or its signature cannot be read",
			 name);
		if (fd >= 0)
			close(fd);
		return 2;
	}
	lines = signed_lines(sig, (size_t)n);
	if (lines >= 0 && (len = offset_after_lines(fd, lines)) < 0) {
		close(fd);
		snprintf(why, whylen, "manifest/%s holds fewer lines than its signature covers (%ld)",
			 name, lines);
		return 2;
	}
	/* The key that made it decides; the others only say "not mine". */
	rc = 1;
	snprintf(why, whylen, "manifest/%s is signed by a key that is neither ours nor a "
		 "previous_public_key_file", sig_name);
	for (size_t i = 0; i < npk && rc == 1; i++) {
		char whose[512] = "";
		rc = minisign_verify_fd_prefix(pk[i], fd, len, sig, (size_t)n, tc, sizeof tc, whose,
					       sizeof whose);
		if (rc != 1 || !strstr(whose, "key id mismatch")) {
			snprintf(why, whylen, "%s", whose);
			break;
		}
	}
	if (rc == 0 && head && tc_head(tc) > head_seq) {
		snprintf(why, whylen, "its signature names head %llu, newer than the newest head %llu "
			 "(heads removed or rolled back)", tc_head(tc), head_seq);
		rc = 1;
	}
	/* Lines after the signed part: a run stopped before it signed, or an insider. */
	if (rc == 0 && len >= 0)
		rc = tail_ok(s, fd, len, lines, name, why, whylen) == 0 ? 0 : 1;
	close(fd);
	return rc == 0 ? 0 : rc == 1 ? 2 : -1;
}

unsigned long long mansig_newest_head_named(struct store *s, char day[11])
{
	enum { SIG_MAX = MINISIGN_SIG_TEXT_MAX + 1 };
	char err[256], sig[SIG_MAX];
	int fd = store_open_dir(s, "manifest", 0, err, sizeof err), dfd;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	unsigned long long best = 0;
	struct dirent *e;

	day[0] = '\0';
	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	dfd = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		ssize_t n;
		const char *tc;
		unsigned long long k;

		if (strlen(e->d_name) != 24 || strcmp(e->d_name + 10, ".jsonl.minisig") != 0)
			continue;
		n = store_read_regular(dfd, e->d_name, sig, sizeof sig - 1);
		if (n <= 0)
			continue;
		sig[n] = '\0';
		tc = strstr(sig, "\ntrusted comment: ");
		k = tc ? tc_head(tc) : 0;
		if (k > best) {
			best = k;
			memcpy(day, e->d_name, 10);
			day[10] = '\0';
		}
	}
	closedir(d);
	return best;
}
