/* mansig.c — signing and checking manifest day files with minisign keys. */
#include "mansig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "manifest.h"
#include "store.h"
#include "base/clock.h"
#include "base/log.h"
#include "crypto/minisign.h"

struct sign_ctx {
	struct store *store;
	const struct minisign_secret *key;
	int dirfd;
	int failed;
};

static int sign_day(void *ctx, const char *day, size_t lines, const char *last_hash)
{
	struct sign_ctx *c = ctx;
	char name[32], sig_name[48], tc[256], err[512];
	char *sig = NULL;
	size_t len = 0;
	int fd;

	snprintf(name, sizeof name, "%s.jsonl", day);
	snprintf(sig_name, sizeof sig_name, "%s.minisig", name);
	snprintf(tc, sizeof tc, "timestamp:%lld\tfile:%s\tlines:%zu\tlast:%s",
		 (long long)clock_unix(), name, lines, last_hash);
	fd = store_open_regular(c->dirfd, name);
	if (fd < 0) {
		log_error("cannot sign manifest/%s: %s", name, strerror(errno));
		c->failed++;
		return 0;
	}
	if (minisign_sign_fd(c->key, fd, tc, NULL, &sig, &len, err, sizeof err) != 0) {
		log_error("cannot sign manifest/%s: %s", name, err);
		c->failed++;
	} else if (store_put(c->store, "manifest", sig_name, sig, len, err, sizeof err) != 0) {
		log_error("cannot write manifest/%s: %s", sig_name, err);
		c->failed++;
	}
	close(fd);
	free(sig);
	return 0;
}

int mansig_sign_changed(struct store *s, struct manifest *m, const struct minisign_secret *k)
{
	struct sign_ctx c = { s, k, -1, 0 };
	char err[512];

	c.dirfd = store_open_dir(s, "manifest", 1, err, sizeof err);
	if (c.dirfd < 0) {
		log_error("%s", err);
		return 1;
	}
	manifest_each_changed(m, sign_day, &c);
	close(c.dirfd);
	return c.failed;
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

int mansig_check_append(struct store *s, const char *day, const struct minisign_public *const *pk,
			size_t npk, char *why, size_t whylen)
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
	close(fd);
	return rc == 0 ? 0 : rc == 1 ? 2 : -1;
}
