/* age_keys.c — age X25519 keys: recipients ("age1...") and identities ("AGE-SECRET-KEY-1...")
 * parsed and checked one by one or from a file, and a new identity written as age-keygen
 * writes it. Identities only ever sit in sodium_malloc memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "age_internal.h"
#include "bech32.h"
#include "base/clock.h"
#include "base/fdio.h"
#include "base/log.h"

#define SECRET_HRP "AGE-SECRET-KEY-"
#define SECRET_KEY_LEN BECH32_ENCODED_LEN(15, AGE_KEY_LEN)

/* Reads a whole key file (cap AGE_KEY_FILE_MAX) into sodium_malloc memory, NUL-terminated.
 * Returns the buffer (free with sodium_free), or NULL with `err` set. */
static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		err_set(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0) {
		err_set(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size > AGE_KEY_FILE_MAX) {
		err_set(err, errlen, "%s: larger than 1 MiB", path);
		goto fail;
	}
	if (!(buf = sodium_malloc((size_t)st.st_size + 1))) {
		err_set(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_set(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0 || (n += (size_t)r) == (size_t)st.st_size)
			break;
	}
	buf[n] = '\0';
	*len = n;
	close(fd);
	return buf;
fail:
	sodium_free(buf);
	close(fd);
	return NULL;
}

/* Calls `fn` on each line of `text` that is neither blank nor a '#' comment, with a trailing
 * CR cut (the line is NUL-terminated in place). Stops at the first non-zero return. */
static int each_line(char *text, size_t len, const char *path,
		     int (*fn)(void *arg, const char *line, const char *where, char *err,
			       size_t errlen),
		     void *arg, char *err, size_t errlen)
{
	char where[600];
	unsigned lineno = 0;
	size_t i = 0;

	while (i < len) {
		char *line = text + i, *lf = memchr(line, '\n', len - i);
		size_t n = lf ? (size_t)(lf - line) : len - i;
		int rc;

		i += n + (lf != NULL);
		lineno++;
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		snprintf(where, sizeof where, "%s:%u", path, lineno);
		if ((rc = fn(arg, line, where, err, errlen)) != 0)
			return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- recipients */

void age_recipients_init(struct age_recipients *r)
{
	memset(r, 0, sizeof *r);
}

void age_recipients_free(struct age_recipients *r)
{
	free(r->keys);
	age_recipients_init(r);
}

size_t age_recipients_count(const struct age_recipients *r)
{
	return r ? r->n : 0;
}

int age_recipients_add(struct age_recipients *r, const char *s, char *err, size_t errlen)
{
	unsigned char key[AGE_KEY_LEN], probe[32], out[32];
	char hrp[16];
	size_t n;
	int rc;

	if (age_sodium_ready(err, errlen) != 0)
		return -1;
	if (strncmp(s, "AGE-SECRET-KEY-", 15) == 0) {
		err_set(err, errlen, "this is a secret key (an identity), not a recipient");
		return -1;
	}
	rc = bech32_decode(s, strlen(s), hrp, sizeof hrp, key, sizeof key, &n);
	if (rc == BECH32_NO_ROOM || (rc == BECH32_OK && strcmp(hrp, "age") != 0)) {
		err_set(err, errlen, "not an X25519 age recipient (\"age1...\"); other types are "
				 "not supported");
		return -1;
	}
	if (rc != BECH32_OK || n != AGE_KEY_LEN) {
		err_set(err, errlen, "malformed age recipient: %s",
		    rc != BECH32_OK ? bech32_strerror(rc) : "not a 32-byte key");
		return -1;
	}
	/* A low-order point would give every file an all-zero shared secret. */
	randombytes_buf(probe, sizeof probe);
	rc = crypto_scalarmult(out, probe, key);
	sodium_memzero(probe, sizeof probe);
	if (rc != 0) {
		err_set(err, errlen, "invalid age recipient: a low-order X25519 point");
		return -1;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 4;
		void *p = realloc(r->keys, cap * sizeof *r->keys);

		if (!p) {
			err_set(err, errlen, "out of memory");
			return -1;
		}
		r->keys = p;
		r->cap = cap;
	}
	memcpy(r->keys[r->n++], key, AGE_KEY_LEN);
	return 0;
}

static int add_recipient_line(void *arg, const char *line, const char *where, char *err,
			      size_t errlen)
{
	char why[200];

	if (age_recipients_add(arg, line, why, sizeof why) != 0) {
		err_set(err, errlen, "%s: %s", where, why);
		return -1;
	}
	return 0;
}

int age_recipients_load_file(struct age_recipients *r, const char *path, char *err,
			     size_t errlen)
{
	size_t before = r->n, len;
	char *text = slurp(path, &len, err, errlen);
	int rc;

	if (!text)
		return -1;
	rc = each_line(text, len, path, add_recipient_line, r, err, errlen);
	sodium_free(text);
	if (rc == 0 && r->n == before) {
		err_set(err, errlen, "%s: no recipients in the file", path);
		rc = -1;
	}
	if (rc != 0)
		r->n = before;
	return rc;
}

/* ---------------------------------------------------------------- identities */

void age_identities_init(struct age_identities *ids)
{
	memset(ids, 0, sizeof *ids);
}

void age_identities_free(struct age_identities *ids)
{
	sodium_free(ids->keys);
	age_identities_init(ids);
}

size_t age_identities_count(const struct age_identities *ids)
{
	return ids ? ids->n : 0;
}

int age_identities_add(struct age_identities *ids, const char *s, char *err, size_t errlen)
{
	struct age_identity *slot;
	char hrp[32];
	size_t n;
	int rc;

	if (age_sodium_ready(err, errlen) != 0)
		return -1;
	if (strncmp(s, "age1", 4) == 0) {
		err_set(err, errlen, "this is a recipient (a public key), not an identity");
		return -1;
	}
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? 2 * ids->cap : 4;
		struct age_identity *p = sodium_malloc(cap * sizeof *p);

		if (!p) {
			err_set(err, errlen, "out of memory (sodium_malloc)");
			return -1;
		}
		if (ids->n)
			memcpy(p, ids->keys, ids->n * sizeof *p);
		sodium_free(ids->keys);
		ids->keys = p;
		ids->cap = cap;
	}
	slot = &ids->keys[ids->n];
	rc = bech32_decode(s, strlen(s), hrp, sizeof hrp, slot->secret, sizeof slot->secret, &n);
	if (rc == BECH32_OK && strcmp(hrp, SECRET_HRP) != 0) {
		err_set(err, errlen, "%s", strncmp(s, "AGE-", 4) == 0 || strncmp(s, "age-", 4) == 0
			? "not an X25519 age identity (\"AGE-SECRET-KEY-1...\", uppercase); "
			  "other types are not supported"
			: "not an age identity");
		rc = -1;
	} else if (rc != BECH32_OK || n != AGE_KEY_LEN) {
		err_set(err, errlen, "malformed age identity: %s",
		    rc != BECH32_OK ? bech32_strerror(rc) : "not a 32-byte key");
		rc = -1;
	} else if (crypto_scalarmult_base(slot->public, slot->secret) != 0) {
		err_set(err, errlen, "invalid age identity");
		rc = -1;
	}
	if (rc != 0) {
		sodium_memzero(slot, sizeof *slot);
		return -1;
	}
	ids->n++;
	return 0;
}

static int add_identity_line(void *arg, const char *line, const char *where, char *err,
			     size_t errlen)
{
	char why[200];

	if (age_identities_add(arg, line, why, sizeof why) != 0) {
		err_set(err, errlen, "%s: %s", where, why);
		return -1;
	}
	return 0;
}

int age_identities_load(struct age_identities *ids, const char *path, char *err, size_t errlen)
{
	size_t before = ids->n, len;
	char *text = slurp(path, &len, err, errlen);
	int rc;

	if (!text)
		return -1;
	rc = each_line(text, len, path, add_identity_line, ids, err, errlen);
	sodium_free(text);
	if (rc == 0 && ids->n == before) {
		err_set(err, errlen, "%s: no identities in the file", path);
		rc = -1;
	}
	if (rc != 0) {
		if (ids->n > before)
			sodium_memzero(&ids->keys[before], (ids->n - before) * sizeof *ids->keys);
		ids->n = before;
	}
	return rc;
}

int age_identities_recipient(const struct age_identities *ids, size_t i,
			     char out[AGE_RECIPIENT_SIZE])
{
	if (i >= ids->n)
		return -1;
	return bech32_encode("age", ids->keys[i].public, AGE_KEY_LEN, out, AGE_RECIPIENT_SIZE) ==
			       BECH32_OK
		       ? 0
		       : -1;
}

/* ---------------------------------------------------------------- keygen */

struct keygen {
	unsigned char secret[AGE_KEY_LEN];
	char line[SECRET_KEY_LEN + 1];
	char text[256];
};

int age_keygen_file(const char *path, char recipient_out[AGE_RECIPIENT_SIZE], char *err,
		    size_t errlen)
{
	unsigned char public[AGE_KEY_LEN];
	char created[40];
	struct keygen *k;
	struct tm tm;
	time_t now = (time_t)clock_unix();
	int to_stdout = !path || strcmp(path, "-") == 0, fd = 1, rc = -1, n;

	if (age_sodium_ready(err, errlen) != 0)
		return -1;
	if (!(k = sodium_malloc(sizeof *k))) {
		err_set(err, errlen, "out of memory (sodium_malloc)");
		return -1;
	}
	randombytes_buf(k->secret, sizeof k->secret);
	if (crypto_scalarmult_base(public, k->secret) != 0 ||
	    bech32_encode("age", public, sizeof public, recipient_out, AGE_RECIPIENT_SIZE) ||
	    bech32_encode(SECRET_HRP, k->secret, sizeof k->secret, k->line, sizeof k->line) ||
	    !gmtime_r(&now, &tm) || !strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
		err_set(err, errlen, "cannot make a key");
		goto out;
	}
	n = snprintf(k->text, sizeof k->text, "# created: %s\n# public key: %s\n%s\n", created,
		     recipient_out, k->line);
	if (n < 0 || (size_t)n >= sizeof k->text) {
		err_set(err, errlen, "cannot make a key");
		goto out;
	}
	if (!to_stdout) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			err_set(err, errlen, "%s: %s", path,
			    errno == EEXIST ? "already exists; not overwritten" : strerror(errno));
			goto out;
		}
	}
	if (fd_write_all(fd, k->text, (size_t)n) != 0 || (!to_stdout && fsync(fd) != 0)) {
		err_set(err, errlen, "%s: %s", to_stdout ? "stdout" : path, strerror(errno));
		if (!to_stdout) {
			close(fd);
			unlink(path);
		}
		goto out;
	}
	if (!to_stdout) {
		if (close(fd) != 0 || fsync_parent(path) != 0) {
			err_set(err, errlen, "%s: %s", path, strerror(errno));
			unlink(path);
			goto out;
		}
	}
	rc = 0;
out:
	sodium_free(k);
	return rc;
}
