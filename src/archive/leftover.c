/* leftover.c — notes of the days a run writes into, and the sweep after an interrupted run
 * (leftover.h). .state/writing holds one "YYYY-MM-DD" line per day. */
#include "leftover.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"
#include "store.h"
#include "base/fdio.h"
#include "base/grow.h"
#include "base/log.h"

#define NOTES "writing"
#define MAX_NOTES_BYTES (1u << 20)

struct leftovers {
	struct store *s;
	char (*days)[11]; /* noted by this run */
	size_t n, cap;
};

struct leftovers *leftovers_new(struct store *s)
{
	struct leftovers *lo = calloc(1, sizeof *lo);

	if (!lo)
		log_error("out of memory");
	else
		lo->s = s;
	return lo;
}

void leftovers_free(struct leftovers *lo)
{
	if (!lo)
		return;
	free(lo->days);
	free(lo);
}

int leftovers_note(struct leftovers *lo, const char *day)
{
	char err[512], line[12];
	char (*days)[11];
	int dfd, fd, rc = 0;

	for (size_t i = 0; i < lo->n; i++)
		if (strcmp(lo->days[i], day) == 0)
			return 0;
	days = grow_for_one(lo->days, &lo->cap, lo->n, sizeof *lo->days);
	if (!days) {
		log_error("out of memory");
		return -1;
	}
	lo->days = days;
	dfd = store_open_dir(lo->s, ".state", 1, err, sizeof err);
	if (dfd < 0) {
		log_error("%s", err);
		return -1;
	}
	/* O_NONBLOCK: a FIFO at the name fails (ENXIO) instead of hanging the run. */
	fd = openat(dfd, NOTES, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		    0640);
	snprintf(line, sizeof line, "%.10s\n", day);
	if (fd < 0 || fd_write_all(fd, line, 11) != 0 || fsync(fd) != 0 ||
	    (lo->n == 0 && fsync(dfd) != 0)) {
		log_error("cannot note the day %s in %s/.state/" NOTES ": %s", day,
			  store_root_path(lo->s), strerror(errno));
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	close(dfd);
	if (rc == 0)
		memcpy(lo->days[lo->n++], day, 11);
	return rc;
}

struct claimed {
	const char **files;
	size_t n, cap;
	int oom;
};

static int collect(void *ctx, const struct manifest_entry *e)
{
	struct claimed *c = ctx;
	const char **p;

	if (e->unavailable)
		return 0;
	p = grow_for_one(c->files, &c->cap, c->n, sizeof *c->files);
	if (!p) {
		c->oom = 1;
		return 1;
	}
	c->files = p;
	c->files[c->n++] = e->file;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Removes the files of `day`'s folder that no line of the day names. Returns how many, or -1. */
static long sweep_day(struct store *s, struct manifest *m, const char *day)
{
	struct claimed c = { 0 };
	char dir[11], err[512], file[64 + 256];
	const char *key = file;
	struct dirent *de;
	long removed = 0;
	DIR *d;
	int fd;

	snprintf(dir, sizeof dir, "%.4s/%.2s/%.2s", day, day + 5, day + 8);
	fd = store_open_dir(s, dir, 0, err, sizeof err);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (manifest_each_entry(m, day, collect, &c) != 0 || c.oom) {
		/* A day that cannot be read: nothing of it is touched (verify names it). */
		free(c.files);
		close(fd);
		return c.oom ? -1 : 0;
	}
	if (c.n)
		qsort(c.files, c.n, sizeof *c.files, by_name);
	d = fdopendir(fd);
	if (!d) {
		free(c.files);
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		if (de->d_name[0] == '.' ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		snprintf(file, sizeof file, "%s/%s", dir, de->d_name);
		if (c.n && bsearch(&key, c.files, c.n, sizeof *c.files, by_name))
			continue;
		if (store_remove(s, dir, de->d_name, err, sizeof err) != 0) {
			log_warn("%s", err);
			continue;
		}
		log_info("removed %s: an interrupted run committed it and never recorded it (the PBX "
			 "still holds that recording)", file);
		removed++;
	}
	closedir(d);
	free(c.files);
	return removed;
}

long leftovers_sweep(struct store *s, struct manifest *m,
		     void (*noted)(void *ctx, const char *day), void *ctx)
{
	char err[512], *buf, *line, *save = NULL;
	long removed = 0;
	int dfd;
	ssize_t n;

	dfd = store_open_dir(s, ".state", 1, err, sizeof err);
	if (dfd < 0) {
		log_error("%s", err);
		return -1;
	}
	buf = malloc(MAX_NOTES_BYTES + 1);
	n = buf ? store_read_regular(dfd, NOTES, buf, MAX_NOTES_BYTES) : -1;
	close(dfd);
	if (n < 0) {
		int e = buf ? errno : ENOMEM;
		free(buf);
		if (e == ENOENT)
			return 0;
		log_error("cannot read %s/.state/" NOTES ": %s", store_root_path(s),
			  store_open_error(e));
		return -1;
	}
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[32];
		snprintf(name, sizeof name, "%.20s.jsonl", line);
		if (!manifest_is_day_file(name))
			continue; /* a torn last line, or not ours */
		long k = sweep_day(s, m, line);
		if (k < 0) {
			free(buf);
			log_error("cannot look for unrecorded files in the folder of %s", line);
			return -1;
		}
		removed += k;
		if (noted)
			noted(ctx, line);
	}
	free(buf);
	return removed;
}

int leftovers_done(struct leftovers *lo, int clean)
{
	char err[512];
	int dfd;

	if (!lo || lo->n == 0 || !clean)
		return 0;
	dfd = store_open_dir(lo->s, ".state", 0, err, sizeof err);
	if (dfd < 0 || (unlinkat(dfd, NOTES, 0) != 0 && errno != ENOENT) || fsync(dfd) != 0) {
		log_error("cannot remove %s/.state/" NOTES ": %s", store_root_path(lo->s),
			  strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	close(dfd);
	lo->n = 0;
	return 0;
}
