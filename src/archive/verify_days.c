/* verify_days.c — which days the audit looks at: those with a manifest, a signature, a date
 * folder or a place in the head, within range; strays of the date tree (verify_internal.h).
 * Only lists: judges no entry. */
#include "verify_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"
#include "store.h"
#include "base/grow.h"
#include "base/log.h"
#include "base/pbxtime.h"

int verify_in_range(const struct verify_options *o, const char *day)
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

int verify_days_add(struct days *d, const char *day, int has)
{
	for (size_t i = 0; i < d->n; i++) {
		if (strcmp(d->v[i].day, day) == 0) {
			d->v[i].has |= has;
			return 0;
		}
	}
	struct day_item *p = grow_for_one(d->v, &d->cap, d->n, sizeof *d->v);

	if (!p)
		return -1;
	d->v = p;
	snprintf(d->v[d->n].day, sizeof d->v[d->n].day, "%s", day);
	d->v[d->n++].has = has;
	return 0;
}

static int cmp_day(const void *a, const void *b)
{
	return strcmp(((const struct day_item *)a)->day, ((const struct day_item *)b)->day);
}

void verify_days_sort(struct days *d)
{
	if (d->n)
		qsort(d->v, d->n, sizeof *d->v, cmp_day);
}

const char *verify_type_name(mode_t m)
{
	return S_ISLNK(m) ? "a symbolic link" : S_ISDIR(m) ? "a folder" : S_ISFIFO(m) ? "a FIFO"
	       : S_ISSOCK(m) ? "a socket" : S_ISCHR(m) || S_ISBLK(m) ? "a device" : "not a file";
}

DIR *verify_open_sub(int dirfd, const char *rel)
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
		verify_finding(c, path, "unexpected entry in the date tree (%s)",
			       S_ISREG(st.st_mode) ? "a file" : verify_type_name(st.st_mode));
	else
		verify_finding(c, path, "unexpected entry in the date tree");
}

/* Lists YYYY/MM/DD folders within range into `d`, reporting strays inside year and month
 * folders that fall in the range. Returns 0, or -1 (printed). */
static int list_folders(struct vctx *c, struct days *d)
{
	int root = store_root_fd(c->s);
	DIR *rd = verify_open_sub(root, ".");
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
		yd = verify_open_sub(root, y->d_name);
		if (!yd) {
			if (errno == ENOTDIR || errno == ELOOP)
				stray(c, root, "", y->d_name);
			else
				verify_finding(c, y->d_name, "cannot list: %s", strerror(errno));
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
			md = verify_open_sub(dirfd(yd), mo->d_name);
			if (!md) {
				if (errno == ENOTDIR || errno == ELOOP)
					stray(c, dirfd(yd), y->d_name, mo->d_name);
				else
					verify_finding(c, rel, "cannot list: %s", strerror(errno));
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
					if (verify_in_range(c->o, day))
						stray(c, dirfd(md), rel, da->d_name);
					continue;
				}
				if (verify_in_range(c->o, day) &&
				    verify_days_add(d, day, HAS_FOLDER) != 0)
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

	if (verify_in_range(l->c->o, day) && verify_days_add(l->d, day, HAS_MANIFEST) != 0)
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
		if (verify_in_range(c->o, day) && verify_days_add(d, day, HAS_SIGNATURE) != 0)
			c->oom = 1;
	}
	closedir(md);
}

int verify_days_list(struct vctx *c, struct manifest *m, struct days *d)
{
	struct day_list_ctx l = { c, d };

	if (manifest_each_day(m, add_manifest_day, &l) != 0)
		return -1;
	list_signatures(c, d);
	return list_folders(c, d);
}
