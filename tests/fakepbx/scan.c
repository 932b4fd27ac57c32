/*
 * scan.c — find the recordings on the disk, keep the ones a filter wants.
 *
 * Owns the walk over DIR: its YYYYMMDD folders (the default layout) or,
 * with --any-folder, every chain of non-dot folders and the top of DIR,
 * never following a symlink. Each file is stat'ed; its duration comes from
 * the duration cache or its WAV header. Only reads the disk.
 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wavcache.h"

/* --any-folder: folders deeper than this are not entered */
#define SCAN_DEPTH 16

static int store_push(struct store_list *list, const struct store_rec *rec)
{
	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 256;
		struct store_rec *r = realloc(list->recs, cap * sizeof *r);
		if (!r)
			return -1;
		list->recs = r;
		list->cap = cap;
	}
	list->recs[list->n++] = *rec;
	return 0;
}

/* Fill rec->size and rec->duration for dayfd/fn. One stat when the
 * duration is cached; else open (never following links) and read the
 * header. Returns 0, or -1 when fn is not a regular file (any more). */
static int store_stat_duration(int dayfd, const char *fn, const char *path,
			       struct store_rec *rec)
{
	struct stat st;
	if (fstatat(dayfd, fn, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return -1;
	rec->size = (uint64_t)st.st_size;
	if (wcache_get(path, &st, &rec->duration))
		return 0;
	int fd = openat(dayfd, fn, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return -1; /* vanished or swapped for something else meanwhile */
	}
	rec->size = (uint64_t)st.st_size;
	store_wav_duration(fd, rec->size, &rec->duration);
	close(fd);
	wcache_put(path, &st, rec->duration);
	return 0;
}

/* Scan one YYYYMMDD folder. Returns 0, or -1 on allocation failure. */
static int store_scan_day(int dayfd, const char *day, const struct store_filter *f,
			  struct store_list *out)
{
	DIR *d = fdopendir(dayfd);
	if (!d) {
		close(dayfd);
		return 0;
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *fn = de->d_name;
		size_t fl = strlen(fn);
		if (fn[0] == '.' || fl < 27 || memcmp(fn, day, 8) != 0 ||
		    strcmp(fn + fl - 4, ".wav") != 0)
			continue;
		char path[STORE_PATH_MAX];
		int n = snprintf(path, sizeof path, "%s/%s", day, fn);
		if (n < 0 || (size_t)n >= sizeof path)
			continue;
		struct store_rec rec;
		if (store_parse_path(path, false, &rec) < 0)
			continue;
		if (f && f->prekeep && !f->prekeep(&rec, f->arg)) {
			store_rec_clear(&rec);
			continue;
		}
		if (store_stat_duration(dirfd(d), fn, path, &rec) < 0 ||
		    (f && f->keep && !f->keep(&rec, f->arg))) {
			store_rec_clear(&rec);
			continue;
		}
		if (store_push(out, &rec) < 0) {
			store_rec_clear(&rec);
			rc = -1;
			break;
		}
	}
	closedir(d);
	return rc;
}

/* Keep fn (in folder fd, recording path path) if it is one the filter
 * wants. Returns 0, or -1 on allocation failure. */
static int scan_file(int fd, const char *fn, const char *path, const struct store_filter *f,
		     struct store_list *out)
{
	struct store_rec rec;
	if (store_parse_path(path, true, &rec) < 0)
		return 0;
	if ((f->prekeep && !f->prekeep(&rec, f->arg)) ||
	    store_stat_duration(fd, fn, path, &rec) < 0 || (f->keep && !f->keep(&rec, f->arg))) {
		store_rec_clear(&rec);
		return 0;
	}
	if (store_push(out, &rec) < 0) {
		store_rec_clear(&rec);
		return -1;
	}
	return 0;
}

/* --any-folder: walk folder fd (recording paths start with pre, "" at the
 * top of DIR). Files count at the top and in YYYYMMDD folders; every
 * non-dot folder is entered, none through a symlink. Returns 0, or -1 on
 * allocation failure. */
static int scan_walk(int fd, const char *pre, int depth, const struct store_filter *f,
		     struct store_list *out)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	size_t plen = strlen(pre);
	bool files = depth == 0 || (plen >= 9 && (plen == 9 || pre[plen - 10] == '/') &&
				    strspn(pre + plen - 9, "0123456789") == 8);
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		const char *fn = de->d_name;
		if (fn[0] == '.')
			continue;
		unsigned char type = de->d_type;
		struct stat st;
		if (type == DT_UNKNOWN)
			type = fstatat(dirfd(d), fn, &st, AT_SYMLINK_NOFOLLOW) < 0 ? DT_UNKNOWN
			       : S_ISDIR(st.st_mode)				   ? DT_DIR
			       : S_ISREG(st.st_mode)				   ? DT_REG
										   : DT_UNKNOWN;
		char path[STORE_PATH_MAX];
		int n = snprintf(path, sizeof path, "%s%s%s", pre, fn, type == DT_DIR ? "/" : "");
		if (n < 0 || (size_t)n >= sizeof path)
			continue;
		if (type == DT_DIR && depth < SCAN_DEPTH) {
			int sub = openat(dirfd(d), fn, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				rc = scan_walk(sub, path, depth + 1, f, out);
		} else if (type == DT_REG && files) {
			rc = scan_file(dirfd(d), fn, path, f, out);
		}
	}
	closedir(d);
	return rc;
}

int store_scan(const char *dir, const struct store_filter *f, struct store_list *out)
{
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "fakepbx: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (f && f->any) {
		int fd = dup(dirfd(d));
		closedir(d);
		return fd < 0 ? 0 : scan_walk(fd, "", 0, f, out);
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *day = de->d_name;
		if (strlen(day) != 8 || !store_valid_date(day))
			continue;
		if (f && f->day_lo[0] && strcmp(day, f->day_lo) < 0)
			continue;
		if (f && f->day_hi[0] && strcmp(day, f->day_hi) > 0)
			continue;
		int dayfd = openat(dirfd(d), day, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dayfd < 0)
			continue;
		if (store_scan_day(dayfd, day, f, out) < 0) {
			rc = -1;
			break;
		}
	}
	closedir(d);
	return rc;
}

static int store_cmp_newest(const void *a, const void *b)
{
	const struct store_rec *x = a, *y = b;
	int c = strcmp(y->calldate, x->calldate);
	return c ? c : strcmp(y->path, x->path);
}

void store_sort_newest(struct store_list *list)
{
	if (list->n > 1)
		qsort(list->recs, list->n, sizeof list->recs[0], store_cmp_newest);
}

void store_truncate(struct store_list *list, size_t from)
{
	for (size_t i = from; i < list->n; i++)
		store_rec_clear(&list->recs[i]);
	if (from < list->n)
		list->n = from;
}

void store_list_free(struct store_list *list)
{
	store_truncate(list, 0);
	free(list->recs);
	list->recs = NULL;
	list->n = list->cap = 0;
}

