/* verify.c — the archive audit: walks manifest days and date folders in step, day by day, with
 * one manifest handle per day so that memory stays that of one day however old the archive.
 * Which days there are is verify_days.c's; signatures, the head and the witness are
 * verify_heads.c's (verify_internal.h). Here: each day's entries, files and folder, and the
 * sample offset. */
#include "verify_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "head.h"
#include "manifest.h"
#include "store.h"
#include "wav.h"
#include "base/log.h"
#include "crypto/age.h"
#include "crypto/hash.h"

#define READ_BUF (256u << 10)
#define SAMPLE_FILE "verify-sample"

void verify_finding(struct vctx *c, const char *path, const char *fmt, ...)
{
	char reason[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	c->rep->findings++;
	c->fn(c->fnctx, path, reason);
}

/* ---- one entry ---- */

/* The folder fd for `dir`, kept while entries stay in it. -1 when it does not exist. */
static int folder(struct vctx *c, const char *dir)
{
	char err[256];

	if (c->dir[0] && strcmp(c->dir, dir) == 0)
		return c->dir_missing ? -1 : c->dirfd;
	if (c->dirfd >= 0)
		close(c->dirfd);
	snprintf(c->dir, sizeof c->dir, "%s", dir);
	c->dirfd = store_open_dir(c->s, dir, 0, err, sizeof err);
	c->dir_missing = c->dirfd < 0;
	return c->dirfd;
}

static int plain_out(void *ctx, const void *buf, size_t len)
{
	struct vctx *c = ctx;

	sha256_update(c->hash, buf, len);
	wav_check_feed(&c->wav, buf, len);
	return 0;
}

static int is_age(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && strcmp(name + n - 4, ".age") == 0;
}

/* Hashes (and when deep, decrypts or WAV-checks) the open file `fd`. */
static void check_content(struct vctx *c, const struct manifest_entry *e, int fd)
{
	const char *want = e->stored_sha256[0] ? e->stored_sha256 : e->sha256;
	int age = is_age(e->file), wav_here = c->o->deep && !age;
	unsigned char d[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1], err[256];
	struct wav_info info;
	ssize_t r;

	c->rep->hashed++;
	sha256_start(c->hash);
	wav_check_init(&c->wav);
	while ((r = read(fd, c->buf, READ_BUF)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			verify_finding(c, e->file, "cannot read: %s", strerror(errno));
			sha256_finish(c->hash, d);
			return;
		}
		sha256_update(c->hash, c->buf, (size_t)r);
		if (wav_here)
			wav_check_feed(&c->wav, c->buf, (size_t)r);
	}
	sha256_finish(c->hash, d);
	sha256_to_hex(d, hex);
	if (strcmp(hex, want) != 0) {
		verify_finding(c, e->file, "SHA-256 %.16s... differs from the manifest's %.16s... "
			       "(changed or damaged)", hex, want);
		return;
	}
	if (wav_here && wav_check_finish(&c->wav, &info, err, sizeof err) != 0)
		verify_finding(c, e->file, "not a valid WAV: %s", err);
	if (!c->o->deep || !age)
		return;
	if (!c->o->ids || age_identities_count(c->o->ids) == 0) {
		c->rep->not_decrypted++;
		return;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		verify_finding(c, e->file, "cannot rewind: %s", strerror(errno));
		return;
	}
	sha256_start(c->hash);
	wav_check_init(&c->wav);
	if (age_decrypt(fd, c->o->ids, plain_out, c, err, sizeof err) != AGE_OK) {
		sha256_finish(c->hash, d);
		verify_finding(c, e->file, "cannot decrypt: %s", err);
		return;
	}
	sha256_finish(c->hash, d);
	sha256_to_hex(d, hex);
	if (strcmp(hex, e->sha256) != 0)
		verify_finding(c, e->file, "decrypts, but the audio's SHA-256 %.16s... differs "
			       "from the manifest's %.16s...", hex, e->sha256);
	else if (wav_check_finish(&c->wav, &info, err, sizeof err) != 0)
		verify_finding(c, e->file, "decrypts, but is not a valid WAV: %s", err);
}

static int check_entry(void *ctx, const struct manifest_entry *e)
{
	struct vctx *c = ctx;
	char dir[sizeof e->file];
	const char *name;
	struct stat st;
	unsigned long i;
	int dfd, fd;

	if (e->unavailable)
		return 0; /* never delivered: it names no file */
	if (c->nfiles == c->capfiles) {
		size_t cap = c->capfiles ? c->capfiles * 2 : 256;
		const char **p = realloc(c->files, cap * sizeof *p);
		if (!p) {
			c->oom = 1;
			return 1;
		}
		c->files = p;
		c->capfiles = cap;
	}
	c->files[c->nfiles++] = e->file;
	if (store_split_file(e->file, dir, sizeof c->dir, &name) != 0) {
		verify_finding(c, e->file[0] ? e->file : e->pbx_path,
			       "the manifest names a file outside the date tree");
		return 0;
	}
	dfd = folder(c, dir);
	/* An offloaded file ([retention] local_keep_days) lives offsite (verify --offsite checks
	 * it there); a local copy put back by `restore` is checked like any other. */
	if (e->offloaded && !e->pruned && !e->forgotten &&
	    (dfd < 0 || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0))
		return 0;
	if (e->pruned || e->forgotten) {
		if (dfd >= 0 && fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			verify_finding(c, e->file, "still present, but the manifest says it was %s",
				       e->forgotten ? "forgotten (erased)" : "pruned");
		return 0;
	}
	c->rep->files++;
	i = c->index++;
	fd = dfd >= 0 ? openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) : -1;
	if (fd < 0) {
		int e2 = dfd >= 0 ? errno : ENOENT;
		if (e2 == ENOENT)
			verify_finding(c, e->file, "missing (the manifest says it is archived)");
		else if (e2 == ELOOP)
			verify_finding(c, e->file, "is a symbolic link, not the archived file");
		else
			verify_finding(c, e->file, "cannot open: %s", strerror(e2));
		return 0;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		verify_finding(c, e->file, "not a regular file");
	} else if ((uint64_t)st.st_size != e->size) {
		verify_finding(c, e->file, "size %llu, the manifest says %llu",
			       (unsigned long long)st.st_size, (unsigned long long)e->size);
	} else if (c->o->sample_every <= 1 || (i + c->o->sample_offset) % c->o->sample_every == 0) {
		check_content(c, e, fd);
	}
	close(fd);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every entry of the day's folder must be a file one of the day's entries names. */
static void check_folder(struct vctx *c, const char *day)
{
	char dir[16], path[512];
	int fd;
	DIR *d;
	struct dirent *e;

	snprintf(dir, sizeof dir, "%.4s/%.2s/%.2s", day, day + 5, day + 8);
	fd = folder(c, dir);
	d = fd >= 0 ? verify_open_sub(fd, ".") : NULL;
	if (!d) {
		verify_finding(c, dir, "cannot list: %s", strerror(errno));
		return;
	}
	if (c->nfiles) /* qsort's array may not be NULL */
		qsort(c->files, c->nfiles, sizeof *c->files, cmp_str);
	while ((e = readdir(d)) != NULL) {
		const char *key = path;
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue; /* gone meanwhile */
		if (bsearch(&key, c->files, c->nfiles, sizeof *c->files, cmp_str))
			continue; /* an entry's file: check_entry has judged it */
		if (!S_ISREG(st.st_mode))
			verify_finding(c, path, "not a regular file (%s)",
				       verify_type_name(st.st_mode));
		else
			verify_finding(c, path, "not named by any manifest entry");
	}
	closedir(d);
}

/* A sealed CDR archive day: both files there, with the hashes its "cdr_archived" line names. */
static void check_cdr_files(struct vctx *c, struct manifest *m, const char *day)
{
	struct manifest_day_cdr st;
	char err[256], name[32], path[48], hex[SHA256_HEX_LEN + 1];
	uint64_t size;
	int dfd;

	if (manifest_day_cdr(m, day, &st) != 0 || !st.archived)
		return;
	dfd = store_open_dir(c->s, "cdr", 0, err, sizeof err);
	for (int i = 0; i < 2; i++) {
		const char *want = i ? st.csv_sha256 : st.jsonl_sha256;
		snprintf(name, sizeof name, "%s.%s", day, i ? "csv" : "jsonl");
		snprintf(path, sizeof path, "cdr/%s", name);
		if (dfd < 0 || sha256_file_at(c->hash, dfd, name, hex, &size) != 0)
			verify_finding(c, path,
				       "missing or unreadable, but sealed in the manifest");
		else if (strcmp(hex, want) != 0)
			verify_finding(c, path, "altered: its SHA-256 is not the one sealed in "
				       "the manifest");
	}
	if (dfd >= 0)
		close(dfd);
}

static void check_day(struct vctx *c, const struct day_item *it)
{
	char path[64], err[256];
	const char *why;
	struct manifest *m = NULL;
	int usable = 1;

	c->rep->days++;
	c->nfiles = 0;
	snprintf(path, sizeof path, "manifest/%s.jsonl", it->day);
	if (!(it->has & HAS_MANIFEST)) {
		if ((it->has & HAS_SIGNATURE) && !(it->has & HAS_HEAD))
			verify_finding(c, path, "missing, but its signature is there (deleted?)");
	} else if (!(m = manifest_open(c->s, err, sizeof err))) {
		verify_finding(c, path, "cannot be read: %s", err);
		usable = 0;
	} else if (manifest_each_entry(m, it->day, check_entry, c) != 0) {
		why = c->oom ? "out of memory" : manifest_day_error(m, it->day);
		/* manifest.c's text starts with the file's name: the finding names it already. */
		if (strncmp(why, path, strlen(path)) == 0 && !strncmp(why + strlen(path), ": ", 2))
			why += strlen(path) + 2;
		verify_finding(c, path, "%s", why);
		usable = 0;
	}
	if (usable && m)
		check_cdr_files(c, m, it->day);
	if ((it->has & HAS_MANIFEST) && c->o->pk)
		verify_check_signature(c, it->day);
	if (it->has & HAS_HEAD)
		verify_check_head_day(c, it->day);
	/* A day whose manifest cannot be used names no file: one finding says it all. */
	if (usable && (it->has & HAS_FOLDER))
		check_folder(c, it->day);
	manifest_close(m);
}

int verify_archive(struct store *s, const struct verify_options *o, verify_finding_fn fn,
		   void *ctx, struct verify_report *rep)
{
	struct vctx c;
	struct days d = { NULL, 0, 0 };
	struct manifest *m;
	char err[256];
	int rc = -1;

	memset(rep, 0, sizeof *rep);
	memset(&c, 0, sizeof c);
	c.s = s;
	c.o = o;
	c.fn = fn;
	c.fnctx = ctx;
	c.rep = rep;
	c.dirfd = -1;
	rep->signatures_checked = o->pk != NULL;
	c.hash = sha256_new();
	c.buf = malloc(READ_BUF);
	m = manifest_open(s, err, sizeof err);
	if (!m) {
		log_error("%s", err);
		goto out;
	}
	if (!c.hash || !c.buf) {
		log_error("out of memory");
		goto out;
	}
	if (verify_days_list(&c, m, &d) != 0)
		goto out;
	verify_check_heads(&c, &d);
	if (c.oom) {
		log_error("out of memory listing days");
		goto out;
	}
	verify_days_sort(&d);
	for (size_t i = 0; i < d.n; i++) {
		check_day(&c, &d.v[i]);
		if (c.oom) {
			log_error("out of memory checking %s", d.v[i].day);
			goto out;
		}
	}
	/* A clean audit of every day moves the witness on to the head it saw. */
	if (o->witness && !rep->findings && c.head.seq && !o->from && !o->to &&
	    head_save_copy(&c.head, o->witness, err, sizeof err) != 0)
		log_error("cannot update the witness: %s", err);
	rc = 0;
out:
	head_release(&c.head);
	manifest_close(m);
	if (c.dirfd >= 0)
		close(c.dirfd);
	free(c.files);
	free(c.buf);
	free(d.v);
	sha256_free(c.hash);
	return rc;
}

unsigned long verify_sample_every(unsigned percent)
{
	if (percent == 0 || percent >= 100)
		return 1;
	return (200ul / percent + 1) / 2;
}

unsigned long verify_sample_offset(struct store *s)
{
	char err[256], buf[32], *end;
	unsigned long v;
	ssize_t n;
	int dfd = store_open_dir(s, ".state", 0, err, sizeof err), fd;

	if (dfd < 0)
		return 0;
	fd = store_open_regular(dfd, SAMPLE_FILE);
	close(dfd);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n')) {
		log_warn("%s/.state/" SAMPLE_FILE " is not a number; starting from 0",
			 store_root_path(s));
		return 0;
	}
	return v;
}

int verify_sample_advance(struct store *s, unsigned long offset)
{
	char err[256], buf[32];
	int n = snprintf(buf, sizeof buf, "%lu\n", offset + 1);

	if (store_put(s, ".state", SAMPLE_FILE, buf, (size_t)n, err, sizeof err) != 0) {
		log_error("cannot write the sample offset: %s", err);
		return -1;
	}
	return 0;
}
