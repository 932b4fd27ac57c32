/* verify.c — the archive audit: walks manifest days and date folders in step, day by day, with
 * one manifest handle per day so that memory stays that of one day however old the archive. */
#include "verify.h"

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
#include "mansig.h"
#include "store.h"
#include "wav.h"
#include "base/log.h"
#include "base/pbxtime.h"
#include "crypto/age.h"
#include "crypto/hash.h"
#include "crypto/minisign.h"

#define READ_BUF (256u << 10)
#define SAMPLE_FILE "verify-sample"

/* A sorted list of day names ("YYYY-MM-DD") with what exists for each. */
enum { HAS_MANIFEST = 1, HAS_SIGNATURE = 2, HAS_FOLDER = 4, HAS_HEAD = 8 };
struct day_item {
	char day[11];
	int has;
};

struct days {
	struct day_item *v;
	size_t n, cap;
};

struct vctx {
	struct store *s;
	const struct verify_options *o;
	verify_finding_fn fn;
	void *fnctx;
	struct verify_report *rep;
	struct sha256 *hash;
	unsigned char *buf;
	unsigned long index;         /* live entries seen so far: the sampling counter */
	const char **files;          /* the current day's entries' files, sorted */
	size_t nfiles, capfiles;
	char dir[16];                /* the folder `dirfd` is open on */
	int dirfd;
	int dir_missing;
	struct wav_check wav;        /* deep: the plaintext's WAV check */
	struct head head;            /* the newest head (seq 0: none usable) */
	int oom;
};

static void finding(struct vctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void finding(struct vctx *c, const char *path, const char *fmt, ...)
{
	char reason[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	c->rep->findings++;
	c->fn(c->fnctx, path, reason);
}

static int in_range(const struct verify_options *o, const char *day)
{
	return (!o->from || strcmp(day, o->from) >= 0) && (!o->to || strcmp(day, o->to) <= 0);
}

static int all_digits(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* "YYYY-MM-DD" names a day of the calendar (not 2021-02-30). */
static int real_day(const char *day)
{
	char buf[32];
	pbx_minute m;

	snprintf(buf, sizeof buf, "%s 00:00", day);
	return pbxtime_parse(buf, &m) == 0;
}

static int days_add(struct days *d, const char *day, int has)
{
	for (size_t i = 0; i < d->n; i++) {
		if (strcmp(d->v[i].day, day) == 0) {
			d->v[i].has |= has;
			return 0;
		}
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct day_item *p = realloc(d->v, cap * sizeof *p);
		if (!p)
			return -1;
		d->v = p;
		d->cap = cap;
	}
	snprintf(d->v[d->n].day, sizeof d->v[d->n].day, "%s", day);
	d->v[d->n++].has = has;
	return 0;
}

static int cmp_day(const void *a, const void *b)
{
	return strcmp(((const struct day_item *)a)->day, ((const struct day_item *)b)->day);
}

static const char *type_name(mode_t m)
{
	return S_ISLNK(m) ? "a symbolic link" : S_ISDIR(m) ? "a folder" : S_ISFIFO(m) ? "a FIFO"
	       : S_ISSOCK(m) ? "a socket" : S_ISCHR(m) || S_ISBLK(m) ? "a device" : "not a file";
}

/* Opens `rel` under dirfd as a folder, without following links. -1 with errno otherwise. */
static DIR *open_sub(int dirfd, const char *rel)
{
	int fd = openat(dirfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (fd >= 0 && !d)
		close(fd);
	return d;
}

/* Reports an entry of the date tree that is no year, month or day folder. */
static void stray(struct vctx *c, int dirfd, const char *rel, const char *name)
{
	struct stat st;
	char path[512];

	snprintf(path, sizeof path, "%s%s%s", rel, *rel ? "/" : "", name);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
		finding(c, path, "unexpected entry in the date tree (%s)",
			S_ISREG(st.st_mode) ? "a file" : type_name(st.st_mode));
	else
		finding(c, path, "unexpected entry in the date tree");
}

/* Lists YYYY/MM/DD folders within range into `d`, reporting strays inside year and month
 * folders that fall in the range. Returns 0, or -1 (printed). */
static int list_folders(struct vctx *c, struct days *d)
{
	int root = store_root_fd(c->s);
	DIR *rd = open_sub(root, ".");
	struct dirent *y;

	if (!rd) {
		log_error("cannot list %s: %s", store_root_path(c->s), strerror(errno));
		return -1;
	}
	while ((y = readdir(rd)) != NULL) {
		char lo[5] = "0000", hi[5] = "9999";
		DIR *yd;
		struct dirent *mo;

		if (!all_digits(y->d_name, 4))
			continue; /* .state, manifest, holds.json: not the date tree */
		if (c->o->from)
			memcpy(lo, c->o->from, 4);
		if (c->o->to)
			memcpy(hi, c->o->to, 4);
		if (strcmp(y->d_name, lo) < 0 || strcmp(y->d_name, hi) > 0)
			continue;
		yd = open_sub(root, y->d_name);
		if (!yd) {
			if (errno == ENOTDIR || errno == ELOOP)
				stray(c, root, "", y->d_name);
			else
				finding(c, y->d_name, "cannot list: %s", strerror(errno));
			continue;
		}
		while ((mo = readdir(yd)) != NULL) {
			char rel[16];
			DIR *md;
			struct dirent *da;

			if (!strcmp(mo->d_name, ".") || !strcmp(mo->d_name, ".."))
				continue;
			if (!all_digits(mo->d_name, 2) || strcmp(mo->d_name, "01") < 0 ||
			    strcmp(mo->d_name, "12") > 0) {
				stray(c, dirfd(yd), y->d_name, mo->d_name);
				continue;
			}
			snprintf(rel, sizeof rel, "%.4s/%.2s", y->d_name, mo->d_name);
			md = open_sub(dirfd(yd), mo->d_name);
			if (!md) {
				if (errno == ENOTDIR || errno == ELOOP)
					stray(c, dirfd(yd), y->d_name, mo->d_name);
				else
					finding(c, rel, "cannot list: %s", strerror(errno));
				continue;
			}
			while ((da = readdir(md)) != NULL) {
				char day[16];
				struct stat st;

				if (!strcmp(da->d_name, ".") || !strcmp(da->d_name, ".."))
					continue;
				snprintf(day, sizeof day, "%.4s-%.2s-%.2s", y->d_name, mo->d_name,
					 da->d_name);
				if (!all_digits(da->d_name, 2) || !real_day(day) ||
				    fstatat(dirfd(md), da->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
				    !S_ISDIR(st.st_mode)) {
					if (in_range(c->o, day))
						stray(c, dirfd(md), rel, da->d_name);
					continue;
				}
				if (in_range(c->o, day) && days_add(d, day, HAS_FOLDER) != 0)
					c->oom = 1;
			}
			closedir(md);
		}
		closedir(yd);
	}
	closedir(rd);
	return 0;
}

struct day_list_ctx {
	struct vctx *c;
	struct days *d;
};

static int add_manifest_day(void *ctx, const char *day)
{
	struct day_list_ctx *l = ctx;

	if (in_range(l->c->o, day) && days_add(l->d, day, HAS_MANIFEST) != 0)
		l->c->oom = 1;
	return 0;
}

/* Signatures "YYYY-MM-DD.jsonl.minisig" in manifest/, so that one left without its day file
 * (a deleted day) is noticed. */
static void list_signatures(struct vctx *c, struct days *d)
{
	char err[256];
	int fd = store_open_dir(c->s, "manifest", 0, err, sizeof err);
	DIR *md = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!md) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(md)) != NULL) {
		char day[11];

		if (strlen(e->d_name) != 24 || strcmp(e->d_name + 10, ".jsonl.minisig") != 0)
			continue;
		memcpy(day, e->d_name, 10);
		day[10] = '\0';
		if (in_range(c->o, day) && days_add(d, day, HAS_SIGNATURE) != 0)
			c->oom = 1;
	}
	closedir(md);
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
			finding(c, e->file, "cannot read: %s", strerror(errno));
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
		finding(c, e->file, "SHA-256 %.16s... differs from the manifest's %.16s... "
			"(changed or damaged)", hex, want);
		return;
	}
	if (wav_here && wav_check_finish(&c->wav, &info, err, sizeof err) != 0)
		finding(c, e->file, "not a valid WAV: %s", err);
	if (!c->o->deep || !age)
		return;
	if (!c->o->ids || age_identities_count(c->o->ids) == 0) {
		c->rep->not_decrypted++;
		return;
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		finding(c, e->file, "cannot rewind: %s", strerror(errno));
		return;
	}
	sha256_start(c->hash);
	wav_check_init(&c->wav);
	if (age_decrypt(fd, c->o->ids, plain_out, c, err, sizeof err) != AGE_OK) {
		sha256_finish(c->hash, d);
		finding(c, e->file, "cannot decrypt: %s", err);
		return;
	}
	sha256_finish(c->hash, d);
	sha256_to_hex(d, hex);
	if (strcmp(hex, e->sha256) != 0)
		finding(c, e->file, "decrypts, but the audio's SHA-256 %.16s... differs from the "
			"manifest's %.16s...", hex, e->sha256);
	else if (wav_check_finish(&c->wav, &info, err, sizeof err) != 0)
		finding(c, e->file, "decrypts, but is not a valid WAV: %s", err);
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
		finding(c, e->file[0] ? e->file : e->pbx_path,
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
			finding(c, e->file, "still present, but the manifest says it was %s",
				e->forgotten ? "forgotten (erased)" : "pruned");
		return 0;
	}
	c->rep->files++;
	i = c->index++;
	fd = dfd >= 0 ? openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC) : -1;
	if (fd < 0) {
		int e2 = dfd >= 0 ? errno : ENOENT;
		if (e2 == ENOENT)
			finding(c, e->file, "missing (the manifest says it is archived)");
		else if (e2 == ELOOP)
			finding(c, e->file, "is a symbolic link, not the archived file");
		else
			finding(c, e->file, "cannot open: %s", strerror(e2));
		return 0;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		finding(c, e->file, "not a regular file");
	} else if ((uint64_t)st.st_size != e->size) {
		finding(c, e->file, "size %llu, the manifest says %llu",
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
	d = fd >= 0 ? open_sub(fd, ".") : NULL;
	if (!d) {
		finding(c, dir, "cannot list: %s", strerror(errno));
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
			finding(c, path, "not a regular file (%s)", type_name(st.st_mode));
		else
			finding(c, path, "not named by any manifest entry");
	}
	closedir(d);
}

/* The value of `key` ("lines:", "last:") in a trusted comment, into `out`. 0 or -1. */
static int tc_field(const char *tc, const char *key, char *out, size_t outlen)
{
	const char *at = strstr(tc, key);
	size_t n;

	if (!at)
		return -1;
	at += strlen(key);
	n = strcspn(at, "\t");
	if (n == 0 || n >= outlen)
		return -1;
	memcpy(out, at, n);
	out[n] = '\0';
	return 0;
}

static void check_signature(struct vctx *c, const char *day)
{
	char why[512], path[64], tc[MINISIGN_TRUSTED_MAX + 1], lines_tc[24], last_tc[80];
	char last[SHA256_HEX_LEN + 1], count[24];
	unsigned long lines;
	int rc = mansig_verify_day(c->s, day, c->o->pk, tc, sizeof tc, why, sizeof why);

	snprintf(path, sizeof path, "manifest/%s.jsonl.minisig", day);
	if (rc == 1)
		finding(c, path, "missing: the manifest day is not signed");
	else if (rc == 2)
		finding(c, path, "does not verify: %s", why);
	else if (rc < 0)
		finding(c, path, "cannot be checked: %s", why);
	if (rc != 0)
		return;
	/* What the signer says it signed must be what is there (an auditor reads the comment). */
	if (tc_field(tc, "\tlines:", lines_tc, sizeof lines_tc) != 0 ||
	    tc_field(tc, "\tlast:", last_tc, sizeof last_tc) != 0) {
		finding(c, path, "its trusted comment names no line count and last line");
		return;
	}
	if (head_day_tip(c->s, day, &lines, last, why, sizeof why) < 0) {
		finding(c, path, "cannot be compared with its day: %s", why);
		return;
	}
	snprintf(count, sizeof count, "%lu", lines);
	if (strcmp(count, lines_tc) != 0 || strcmp(last, last_tc) != 0)
		finding(c, path, "its trusted comment says %s lines ending in %.16s..., the day "
			"holds %s ending in %.16s...", lines_tc, last_tc, count, last);
}

/* The day against the newest head: a day the head lists may grow, never shrink or change. */
static void check_head_day(struct vctx *c, const char *day)
{
	const struct head_day *hd = head_find(&c->head, day);
	char why[512], path[64];
	int rc;

	if (!hd)
		return;
	snprintf(path, sizeof path, "manifest/%s.jsonl", day);
	rc = head_check_day(c->s, hd, why, sizeof why);
	if (rc == 2)
		finding(c, path, "%s (head %llu)", why, c->head.seq);
	else if (rc < 0)
		finding(c, path, "cannot be checked against the head: %s", why);
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
			finding(c, path, "missing or unreadable, but sealed in the manifest");
		else if (strcmp(hex, want) != 0)
			finding(c, path, "altered: its SHA-256 is not the one sealed in the manifest");
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
			finding(c, path, "missing, but its signature is there (deleted?)");
	} else if (!(m = manifest_open(c->s, err, sizeof err))) {
		finding(c, path, "cannot be read: %s", err);
		usable = 0;
	} else if (manifest_each_entry(m, it->day, check_entry, c) != 0) {
		why = c->oom ? "out of memory" : manifest_day_error(m, it->day);
		/* manifest.c's text starts with the file's name: the finding names it already. */
		if (strncmp(why, path, strlen(path)) == 0 && !strncmp(why + strlen(path), ": ", 2))
			why += strlen(path) + 2;
		finding(c, path, "%s", why);
		usable = 0;
	}
	if (usable && m)
		check_cdr_files(c, m, it->day);
	if ((it->has & HAS_MANIFEST) && c->o->pk)
		check_signature(c, it->day);
	if (it->has & HAS_HEAD)
		check_head_day(c, it->day);
	/* A day whose manifest cannot be used names no file: one finding says it all. */
	if (usable && (it->has & HAS_FOLDER))
		check_folder(c, it->day);
	manifest_close(m);
}

/* ---- the head across days ---- */

/* The auditor's witness (a copy of the newest head a clean verify saw, kept off the archive):
 * the head here may have grown since, never gone back or forked. */
static void check_witness(struct vctx *c)
{
	struct head w;
	char err[512], why[512], *buf = NULL, hex[SHA256_HEX_LEN + 1];
	unsigned char dg[SHA256_LEN];
	const char *wp = c->o->witness;
	size_t len = 0;
	int rc = head_read_file(wp, &buf, &len, err, sizeof err);

	if (rc == 1)
		return; /* a first verify: nothing witnessed yet */
	if (rc != 0 || head_parse(buf, len, &w, err, sizeof err) != 0) {
		finding(c, wp, "the witness cannot be used: %s", err);
		free(buf);
		return;
	}
	sha256_start(c->hash);
	sha256_update(c->hash, buf, len);
	sha256_finish(c->hash, dg);
	sha256_to_hex(dg, hex);
	free(buf);
	if (c->head.seq == 0) {
		finding(c, "manifest/heads", "the witness saw head %llu; there is none here now",
			w.seq);
	} else if (w.seq > c->head.seq) {
		finding(c, "manifest/heads", "rolled back: the witness saw head %llu, the newest here "
			"is %llu", w.seq, c->head.seq);
	} else if (w.seq == c->head.seq && strcmp(hex, c->head.sha256) != 0) {
		finding(c, "manifest/heads", "head %llu is not the one the witness saw (replaced)",
			w.seq);
	} else if (w.seq < c->head.seq) {
		for (size_t i = 0; i < w.n; i++) {
			const struct head_day *now = head_find(&c->head, w.days[i].day);
			char path[64];

			if (!in_range(c->o, w.days[i].day))
				continue;
			snprintf(path, sizeof path, "manifest/%s.jsonl", w.days[i].day);
			if (!now || now->lines < w.days[i].lines)
				finding(c, path, "the witness saw %lu lines in head %llu; head %llu %s",
					w.days[i].lines, w.seq, c->head.seq,
					now ? "says fewer" : "does not list the day");
			else if (head_check_day(c->s, &w.days[i], why, sizeof why) != 0)
				finding(c, path, "%s (as the witness saw it in head %llu)", why, w.seq);
		}
	}
	head_release(&w);
}

/* Loads the newest head, checks it and its history, and adds its days to `d`. */
static void check_heads(struct vctx *c, struct days *d)
{
	const struct minisign_public *pk[1] = { c->o->pk };
	char why[512];
	int rc = head_load(c->s, pk, c->o->pk ? 1 : 0, 0, &c->head, why, sizeof why);

	if (rc == 1) {
		if (d->n)
			finding(c, "manifest/heads", "no head: days can be removed or rolled back "
				"unseen (the next run writes one)");
	} else if (rc != 0) {
		finding(c, "manifest/heads", "%s", why);
	} else {
		c->rep->head_seq = c->head.seq;
		if (c->o->pk && !c->head.is_signed)
			finding(c, "manifest/heads", "the newest head is not signed");
		rc = head_check_history(c->s, &c->head, why, sizeof why);
		if (rc == 1)
			finding(c, "manifest/heads/history.jsonl", "missing");
		else if (rc != 0)
			finding(c, "manifest/heads/history.jsonl", "%s", why);
		if (head_check_named(c->s, &c->head, why, sizeof why) != 0)
			finding(c, "manifest/heads", "%s", why);
		for (size_t i = 0; i < c->head.n; i++)
			if (in_range(c->o, c->head.days[i].day) &&
			    days_add(d, c->head.days[i].day, HAS_HEAD) != 0)
				c->oom = 1;
	}
	if (c->o->witness)
		check_witness(c);
}

int verify_archive(struct store *s, const struct verify_options *o, verify_finding_fn fn,
		   void *ctx, struct verify_report *rep)
{
	struct vctx c;
	struct days d = { NULL, 0, 0 };
	struct day_list_ctx l = { &c, &d };
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
	if (manifest_each_day(m, add_manifest_day, &l) != 0)
		goto out;
	list_signatures(&c, &d);
	if (list_folders(&c, &d) != 0)
		goto out;
	check_heads(&c, &d);
	if (c.oom) {
		log_error("out of memory listing days");
		goto out;
	}
	if (d.n)
		qsort(d.v, d.n, sizeof *d.v, cmp_day);
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
