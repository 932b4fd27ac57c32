/* head.c — the head across manifest days on disk (head.h): reading the newest one, checking a
 * day against it, and writing the next (signature first, then the head, then its history line).
 * The file format is head_format.c's. */
#include "head.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "headlog.h"
#include "manifest.h"
#include "mansig.h"
#include "store.h"
#include "base/clock.h"
#include "base/fdio.h"
#include "base/log.h"
#include "crypto/minisign.h"

#define HEADS_DIR "manifest/heads"
#define SEQ_DIGITS 12

/* ---- a day against the head ---- */

/* One pass over manifest/DAY.jsonl: its line count, the hash of line `want` (0: none) and of
 * its last line. Returns 0, 1 missing, -1 unreadable (why set). */
static int scan_day(struct store *s, const char *day, unsigned long want, unsigned long *lines,
		    char want_hash[SHA256_HEX_LEN + 1], char last_hash[SHA256_HEX_LEN + 1],
		    char *why, size_t whylen)
{
	char name[32], buf[65536], err[256];
	struct sha256 *cur = sha256_new();
	unsigned char d[SHA256_LEN];
	unsigned long n = 0;
	int dirfd, fd, rc = -1;
	ssize_t r;

	*lines = 0;
	want_hash[0] = last_hash[0] = '\0';
	snprintf(name, sizeof name, "%s.jsonl", day);
	if (!cur) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	dirfd = store_open_dir(s, "manifest", 0, err, sizeof err);
	if (dirfd < 0) {
		rc = errno == ENOENT ? 1 : -1;
		snprintf(why, whylen, "manifest/: %s", err);
		goto out;
	}
	fd = store_open_regular(dirfd, name);
	close(dirfd);
	if (fd < 0) {
		rc = errno == ENOENT ? 1 : -1;
		snprintf(why, whylen, "manifest/%s: %s", name, store_open_error(errno));
		goto out;
	}
	sha256_start(cur);
	while ((r = read(fd, buf, sizeof buf)) > 0) {
		size_t from = 0;
		for (size_t i = 0; i < (size_t)r; i++) {
			if (buf[i] != '\n')
				continue;
			sha256_update(cur, buf + from, i - from);
			sha256_finish(cur, d);
			sha256_to_hex(d, last_hash);
			if (++n == want)
				memcpy(want_hash, last_hash, SHA256_HEX_LEN + 1);
			sha256_start(cur);
			from = i + 1;
		}
		sha256_update(cur, buf + from, (size_t)r - from);
	}
	if (r < 0)
		snprintf(why, whylen, "cannot read manifest/%s: %s", name, strerror(errno));
	else
		rc = n ? 0 : 1;
	/* A torn tail (no newline) is no line: the next run cuts it. */
	*lines = n;
	close(fd);
out:
	sha256_free(cur);
	return rc;
}

int head_day_tip(struct store *s, const char *day, unsigned long *lines,
		 char last[SHA256_HEX_LEN + 1], char *why, size_t whylen)
{
	char unused[SHA256_HEX_LEN + 1];

	return scan_day(s, day, 0, lines, unused, last, why, whylen);
}

int head_check_day(struct store *s, const struct head_day *d, char *why, size_t whylen)
{
	char at[SHA256_HEX_LEN + 1], last[SHA256_HEX_LEN + 1];
	unsigned long lines;
	int rc = scan_day(s, d->day, d->lines, &lines, at, last, why, whylen);

	if (rc < 0)
		return -1;
	if (rc == 1) {
		snprintf(why, whylen, "missing, but the head lists it with %lu lines", d->lines);
		return 2;
	}
	if (lines < d->lines) {
		snprintf(why, whylen, "holds %lu lines, the head says %lu (cut, or rolled back)",
			 lines, d->lines);
		return 2;
	}
	if (strcmp(at, d->last) != 0) {
		snprintf(why, whylen, "line %lu is not the one the head names (rewritten, or rolled "
			 "back)", d->lines);
		return 2;
	}
	return 0;
}

static int note_changed(void *ctx, const char *day, size_t lines, const char *last_hash)
{
	return head_note_day(ctx, day, (unsigned long)lines, last_hash);
}

int head_note_changed(struct head *h, struct manifest *m)
{
	return manifest_each_changed(m, note_changed, h) != 0 ? -1 : 0;
}

/* Days with a manifest file that the head does not list: the first head of an archive, or a
 * day a crashed run began. They enter at their state on disk. */
static int adopt_untracked(struct store *s, struct head *h)
{
	char err[256], why[512], last[SHA256_HEX_LEN + 1];
	int fd = store_open_dir(s, "manifest", 0, err, sizeof err);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	int rc = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0; /* no manifest yet: no days */
	}
	while ((e = readdir(d)) != NULL && rc == 0) {
		char day[11];
		unsigned long lines;

		if (!manifest_is_day_file(e->d_name))
			continue;
		memcpy(day, e->d_name, 10);
		day[10] = '\0';
		if (head_find(h, day))
			continue;
		switch (head_day_tip(s, day, &lines, last, why, sizeof why)) {
		case 0:
			rc = head_note_day(h, day, lines, last);
			break;
		case 1:
			break; /* empty: nothing to vouch for */
		default:
			log_error("%s", why);
			rc = -1;
		}
	}
	closedir(d);
	return rc;
}

/* ---- files ---- */

static void seq_name(unsigned long long seq, const char *suffix, char *out, size_t outlen)
{
	snprintf(out, outlen, "%0*llu.json%s", SEQ_DIGITS, seq, suffix);
}

/* SEQ of "SEQ.json" (`sig`: "SEQ.json.minisig"); 0 when `name` is neither. */
static unsigned long long name_seq(const char *name, int sig)
{
	const char *suffix = sig ? ".json.minisig" : ".json";
	unsigned long long v = 0;

	if (strlen(name) != SEQ_DIGITS + strlen(suffix) || strcmp(name + SEQ_DIGITS, suffix) != 0)
		return 0;
	for (int i = 0; i < SEQ_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(name[i] - '0');
	}
	return v;
}

/* The highest SEQ of a head file, and whether any signature exists. -1 when the folder
 * cannot be read, 0 when it is missing (both set to 0). */
static int newest_seq(struct store *s, unsigned long long *seq, int *any_sig, char *why,
		      size_t whylen)
{
	int fd = store_open_dir(s, HEADS_DIR, 0, why, whylen);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	*seq = 0;
	*any_sig = 0;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return fd < 0 && errno == ENOENT ? 0 : -1;
	}
	while ((e = readdir(d)) != NULL) {
		unsigned long long v = name_seq(e->d_name, 0);
		if (v > *seq)
			*seq = v;
		if (name_seq(e->d_name, 1))
			*any_sig = 1;
	}
	closedir(d);
	return 0;
}

/* Reads head `seq` (and checks its signature under one of `pk`). 0, 2 untrusted, -1. */
static int read_head(struct store *s, unsigned long long seq, const struct minisign_public *const *pk,
		     size_t npk, int unsigned_ok, struct head *h, char *why, size_t whylen)
{
	enum { SIG_MAX = MINISIGN_SIG_TEXT_MAX + 1 };
	char name[40], sig_name[48], sig[SIG_MAX], err[512] = "", *buf = NULL;
	unsigned char d[SHA256_LEN];
	struct sha256 *hash = NULL;
	struct stat st;
	ssize_t slen, got;
	int dirfd, fd = -1, rc = -1;

	seq_name(seq, "", name, sizeof name);
	seq_name(seq, ".minisig", sig_name, sizeof sig_name);
	dirfd = store_open_dir(s, HEADS_DIR, 0, why, whylen);
	if (dirfd < 0)
		return -1;
	fd = store_open_regular(dirfd, name);
	slen = store_read_regular(dirfd, sig_name, sig, sizeof sig);
	if (slen < 0 && errno != ENOENT) {
		snprintf(why, whylen, "manifest/heads/%s: %s", sig_name, store_open_error(errno));
		goto out;
	}
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(why, whylen, "manifest/heads/%s: %s", name, store_open_error(errno));
		goto out;
	}
	if (st.st_size > HEAD_FILE_MAX || !(buf = malloc((size_t)st.st_size + 1)) ||
	    !(hash = sha256_new())) {
		snprintf(why, whylen, "manifest/heads/%s: %s", name,
			 st.st_size > HEAD_FILE_MAX ? "too large for a head" : "out of memory");
		rc = st.st_size > HEAD_FILE_MAX ? 2 : -1;
		goto out;
	}
	got = pread(fd, buf, (size_t)st.st_size, 0);
	if (got != st.st_size) {
		snprintf(why, whylen, "cannot read manifest/heads/%s: %s", name,
			 got < 0 ? strerror(errno) : "short read");
		goto out;
	}
	rc = 2;
	if (slen < 0) {
		if (npk && !unsigned_ok) {
			snprintf(why, whylen, "manifest/heads/%s has no signature", name);
			goto out;
		}
	} else if (npk) {
		int v = 1;
		for (size_t i = 0; i < npk && v == 1; i++) {
			v = minisign_verify_fd(pk[i], fd, sig, (size_t)slen, NULL, 0, err, sizeof err);
			if (v == 1 && !strstr(err, "key id mismatch"))
				break;
		}
		if (v != 0) {
			snprintf(why, whylen, "manifest/heads/%s: its signature does not verify (%s)",
				 name, err);
			goto out;
		}
	}
	if (head_parse(buf, (size_t)st.st_size, h, err, sizeof err) != 0) {
		snprintf(why, whylen, "manifest/heads/%s: %s", name, err);
		goto out;
	}
	if (h->seq != seq) {
		snprintf(why, whylen, "manifest/heads/%s says it is head %llu", name, h->seq);
		head_release(h);
		goto out;
	}
	h->is_signed = slen >= 0 && npk;
	sha256_start(hash);
	sha256_update(hash, buf, (size_t)st.st_size);
	sha256_finish(hash, d);
	sha256_to_hex(d, h->sha256);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	close(dirfd);
	sha256_free(hash);
	free(buf);
	return rc;
}

int head_load(struct store *s, const struct minisign_public *const *pk, size_t npk,
	      int unsigned_ok, struct head *h, char *why, size_t whylen)
{
	struct headlog_line tip;
	unsigned long long seq, named;
	char day[11];
	int any_sig, rc, trc;

	memset(h, 0, sizeof *h);
	why[0] = '\0';
	if (newest_seq(s, &seq, &any_sig, why, whylen) != 0)
		return -1;
	trc = headlog_tip(s, &tip, why, whylen);
	if (trc < 0)
		return -1;
	if (seq == 0) {
		if (trc == 0) {
			snprintf(why, whylen, "the head history names head %llu, but manifest/heads/ "
				 "holds no head (removed?)", tip.seq);
			return 2;
		}
		/* Days signed since heads began name the head they were signed under. */
		if ((named = mansig_newest_head_named(s, day)) > 0) {
			snprintf(why, whylen, "there is no head, but the signature of manifest/%s.jsonl "
				 "names head %llu (heads removed?)", day, named);
			return 2;
		}
		return 1;
	}
	/* Signatures once made are not given up: an unsigned head among signed ones, or where
	 * day signatures name heads, is not ours. */
	if (unsigned_ok && npk && !any_sig && (named = mansig_newest_head_named(s, day)) > 0)
		unsigned_ok = 0;
	rc = read_head(s, seq, pk, npk, unsigned_ok && !any_sig, h, why, whylen);
	if (rc != 0)
		return rc;
	if (trc == 0 && (tip.seq > h->seq || (tip.seq == h->seq && strcmp(tip.sha256, h->sha256)))) {
		snprintf(why, whylen, tip.seq > h->seq ?
			 "the head history names head %llu, newer than the newest head file %llu "
			 "(heads removed: a rollback?)" :
			 "head %llu is not the one the head history recorded (replaced?)",
			 tip.seq, h->seq);
		head_release(h);
		return 2;
	}
	return 0;
}

static void as_line(const struct head *h, struct headlog_line *l)
{
	l->seq = h->seq;
	memcpy(l->sha256, h->sha256, sizeof l->sha256);
	snprintf(l->time, sizeof l->time, "%s", h->time);
	l->days = h->n;
	l->is_signed = h->is_signed;
}

int head_check_named(struct store *s, const struct head *h, char *why, size_t whylen)
{
	char day[11];
	unsigned long long named = mansig_newest_head_named(s, day);

	if (named <= h->seq)
		return 0;
	snprintf(why, whylen, "the signature of manifest/%s.jsonl names head %llu, newer than the "
		 "newest head %llu (heads removed or rolled back)", day, named, h->seq);
	return 2;
}

int head_check_history(struct store *s, const struct head *h, char *why, size_t whylen)
{
	struct headlog_line l;

	as_line(h, &l);
	return headlog_check(s, &l, why, whylen);
}

/* The signature of `buf`, made through a memory file (minisign signs an fd). */
static int sign_buf(const struct minisign_secret *k, const char *buf, size_t len, const char *tc,
		    char **sig, size_t *siglen, char *err, size_t errlen)
{
	int fd = memfd_create("nexo-head", MFD_CLOEXEC), rc;

	if (fd < 0 || fd_write_all(fd, buf, len) != 0) {
		snprintf(err, errlen, "memory file: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rc = minisign_sign_fd(k, fd, tc, NULL, sig, siglen, err, errlen);
	close(fd);
	return rc;
}

/* Removes heads (and signatures) older than `keep_from`. Failures only cost disk space. */
static void remove_old(struct store *s, unsigned long long keep_from)
{
	char err[256];
	int fd = store_open_dir(s, HEADS_DIR, 0, err, sizeof err);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	int removed = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		unsigned long long v = name_seq(e->d_name, 0);
		if (!v)
			v = name_seq(e->d_name, 1);
		if (v && v < keep_from && unlinkat(dirfd(d), e->d_name, 0) == 0)
			removed = 1;
	}
	if (removed)
		(void)fsync(dirfd(d));
	closedir(d);
}

int head_write(struct store *s, struct head *h, const struct minisign_secret *k)
{
	char name[40], sig_name[48], tc[256], err[512];
	char prev_sha[SHA256_HEX_LEN + 1], *buf, *sig = NULL;
	unsigned char d[SHA256_LEN];
	struct sha256 *hash;
	size_t len, siglen = 0;
	struct tm tm;
	time_t now = (time_t)clock_unix();
	struct headlog_line l;
	int rc = -1, written = 0;

	as_line(h, &l);
	if (h->seq && headlog_catch_up(s, &l) != 0)
		return -1;
	if (adopt_untracked(s, h) != 0)
		return -1;
	if (h->seq && !h->dirty && (h->is_signed || !k))
		return 0;
	if (!h->seq && h->n)
		log_warn("the archive had no head: head 1 takes its %zu days as they are on disk (the "
			 "first run of a version with heads; were heads removed, a witness shows it)",
			 h->n);
	memcpy(prev_sha, h->sha256, sizeof prev_sha);
	h->seq++;
	memcpy(h->prev, prev_sha, sizeof h->prev);
	gmtime_r(&now, &tm);
	strftime(h->time, sizeof h->time, "%Y-%m-%dT%H:%M:%SZ", &tm);
	buf = head_format(h, &len);
	hash = sha256_new();
	if (!buf || !hash) {
		log_error("out of memory writing head %llu", h->seq);
		goto out;
	}
	sha256_start(hash);
	sha256_update(hash, buf, len);
	sha256_finish(hash, d);
	sha256_to_hex(d, h->sha256);
	seq_name(h->seq, "", name, sizeof name);
	seq_name(h->seq, ".minisig", sig_name, sizeof sig_name);
	snprintf(tc, sizeof tc, "timestamp:%lld\tfile:heads/%s\tseq:%llu\tdays:%zu",
		 (long long)now, name, h->seq, h->n);
	/* The signature first: a head file without one was never written by a signing run. */
	if (k && (sign_buf(k, buf, len, tc, &sig, &siglen, err, sizeof err) != 0 ||
		  store_put(s, HEADS_DIR, sig_name, sig, siglen, err, sizeof err) != 0)) {
		log_error("cannot sign head %llu: %s", h->seq, err);
		goto out;
	}
	if (store_put(s, HEADS_DIR, name, buf, len, err, sizeof err) != 0) {
		log_error("cannot write manifest/heads/%s: %s", name, err);
		goto out;
	}
	written = 1;
	h->is_signed = k != NULL;
	h->dirty = 0;
	as_line(h, &l);
	if (headlog_append(s, &l) != 0)
		goto out; /* the next head_write catches the history up */
	remove_old(s, h->seq - 1);
	rc = 0;
out:
	if (!written) {
		h->seq--; /* not written: the next attempt reuses the number */
		memcpy(h->sha256, prev_sha, sizeof prev_sha);
		h->dirty = 1;
	}
	sha256_free(hash);
	free(sig);
	free(buf);
	return rc;
}

int head_read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	ssize_t got;

	*buf = NULL;
	*len = 0;
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > HEAD_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", path, fd < 0 ? strerror(errno) :
			 st.st_size > HEAD_FILE_MAX ? "too large for a head" : "not a regular file");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*buf = malloc((size_t)st.st_size + 1);
	got = *buf ? pread(fd, *buf, (size_t)st.st_size, 0) : -1;
	close(fd);
	if (got != st.st_size) {
		snprintf(err, errlen, "cannot read %s", path);
		free(*buf);
		*buf = NULL;
		return -1;
	}
	*len = (size_t)got;
	return 0;
}

int head_save_copy(const struct head *h, const char *path, char *err, size_t errlen)
{
	size_t len;
	char *buf = head_format(h, &len);
	int rc;

	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = store_put_file(path, buf, len, err, errlen);
	free(buf);
	return rc;
}
