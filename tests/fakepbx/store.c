/*
 * store.c — parse recording names and WAV headers, scan the disk.
 *
 * Owns the one definition of "what is a recording path" (used both for the
 * listing and to validate paths a client asks to download or delete) and of
 * how a duration is derived from a WAV header. It only reads the disk; the
 * CGIs that delete or stream files live elsewhere.
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

const char *const store_calltypes[5] = {
	"Inbound", "Outbound", "Internal", "CallBack", "Conference",
};

/* Longest "YYYYMMDD/" + file name we accept: NAME_MAX plus the folder. */
#define STORE_PATH_MAX 300

static bool store_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int store_num(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static bool store_valid_date(const char *ymd)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (!store_digits(ymd, 8))
		return false;
	int y = store_num(ymd, 4), m = store_num(ymd + 4, 2), d = store_num(ymd + 6, 2);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
}

/* A src/dst/trunk field: printable ASCII without the separators. Spaces
 * and parentheses occur in real names ("620(202)", "102 *97"). */
static bool store_field_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e || c == '/' || c == '-' || c == '\\')
			return false;
	}
	return true;
}

int store_parse_path(const char *path, struct store_rec *rec)
{
	size_t len = strlen(path);
	/* "YYYYMMDD/YYYYMMDD-HHMMSS-U-T-s-d.wav" is at least 36 bytes */
	if (len < 36 || len >= STORE_PATH_MAX || path[0] == '/' || strstr(path, ".."))
		return -1;
	if (path[8] != '/' || !store_valid_date(path))
		return -1;
	const char *name = path + 9;
	if (memcmp(name, path, 8) != 0 || name[8] != '-' || !store_digits(name + 9, 6) ||
	    name[15] != '-')
		return -1;
	int hh = store_num(name + 9, 2), mi = store_num(name + 11, 2), ss = store_num(name + 13, 2);
	if (hh > 23 || mi > 59 || ss > 59)
		return -1;
	if (strcmp(path + len - 4, ".wav") != 0)
		return -1;

	/* Split the rest, up to ".wav", at '-': unixtime, type, fields. */
	const char *p = name + 16, *end = path + len - 4;
	const char *part[6];
	size_t plen[6], np = 0;
	while (p <= end) {
		const char *dash = memchr(p, '-', (size_t)(end - p));
		const char *stop = dash ? dash : end;
		if (np == 6)
			return -1;
		part[np] = p;
		plen[np++] = (size_t)(stop - p);
		p = stop + 1;
	}
	if (np < 4 || plen[0] == 0 || plen[0] > 19 || !store_digits(part[0], plen[0]))
		return -1;
	const char *type = NULL;
	for (size_t i = 0; i < 5; i++)
		if (strlen(store_calltypes[i]) == plen[1] &&
		    memcmp(store_calltypes[i], part[1], plen[1]) == 0)
			type = store_calltypes[i];
	if (!type)
		return -1;
	size_t nfields = strcmp(type, "Internal") == 0 ? 2 : 3;
	if (np != 2 + nfields)
		return -1;
	for (size_t i = 2; i < np; i++)
		if (!store_field_ok(part[i], plen[i]))
			return -1;
	if (!rec)
		return 0;

	memset(rec, 0, sizeof *rec);
	char *buf = malloc(len + 1 + plen[2] + 1 + plen[3] + 1 + (nfields == 3 ? plen[4] + 1 : 1));
	if (!buf)
		return -1;
	char *w = buf;
	memcpy(w, path, len + 1);
	rec->path = w;
	w += len + 1;
	const char *fields[3];
	for (size_t i = 0; i < nfields; i++) {
		memcpy(w, part[2 + i], plen[2 + i]);
		w[plen[2 + i]] = '\0';
		fields[i] = w;
		w += plen[2 + i] + 1;
	}
	if (nfields == 3) {
		rec->trunk = fields[0];
		rec->src = fields[1];
		rec->dst = fields[2];
	} else {
		*w = '\0';
		rec->trunk = w;
		rec->src = fields[0];
		rec->dst = fields[1];
	}
	rec->calltype = type;
	char *cd = rec->calldate;
	memcpy(cd, name, 4);
	cd[4] = '-';
	memcpy(cd + 5, name + 4, 2);
	cd[7] = '-';
	memcpy(cd + 8, name + 6, 2);
	cd[10] = ' ';
	memcpy(cd + 11, name + 9, 2);
	cd[13] = ':';
	memcpy(cd + 14, name + 11, 2);
	cd[16] = ':';
	memcpy(cd + 17, name + 13, 2);
	cd[19] = '\0';
	int64_t ut = 0;
	for (size_t i = 0; i < plen[0]; i++)
		ut = ut * 10 + (part[0][i] - '0');
	rec->unixtime = ut;
	return 0;
}

void store_rec_clear(struct store_rec *rec)
{
	free(rec->path);
	rec->path = NULL;
}

static uint32_t store_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Copy n header bytes at off from the first-read block, or pread them
 * when a chunk lies beyond it (big LIST chunks before "data"). */
static int store_wav_get(int fd, const unsigned char *head, size_t nhead, uint64_t off,
			 unsigned char *dst, size_t n)
{
	if (off + n <= nhead) {
		memcpy(dst, head + off, n);
		return 0;
	}
	ssize_t r = pread(fd, dst, n, (off_t)off);
	return r == (ssize_t)n ? 0 : -1;
}

int store_wav_data_chunk(int fd, uint64_t fsize, uint64_t *off, uint32_t *byte_rate)
{
	unsigned char head[512], b[16];
	ssize_t nhead = pread(fd, head, sizeof head, 0);
	*byte_rate = 0;
	if (nhead < 12 || memcmp(head, "RIFF", 4) != 0 || memcmp(head + 8, "WAVE", 4) != 0)
		return -1;
	uint64_t at = 12;
	/* Walk the chunks; a bounded number keeps a hostile file from looping. */
	for (int guard = 0; guard < 64 && at + 8 <= fsize; guard++) {
		if (store_wav_get(fd, head, (size_t)nhead, at, b, 8) < 0)
			return -1;
		uint32_t csize = store_le32(b + 4);
		if (memcmp(b, "fmt ", 4) == 0) {
			if (csize < 16 || store_wav_get(fd, head, (size_t)nhead, at + 8, b, 16) < 0)
				return -1;
			*byte_rate = store_le32(b + 8);
		} else if (memcmp(b, "data", 4) == 0) {
			*off = at;
			return 0;
		}
		at += 8 + (uint64_t)csize + (csize & 1);
	}
	return -1;
}

int store_wav_duration(int fd, uint64_t fsize, uint32_t *secs)
{
	uint64_t off;
	uint32_t byte_rate;
	unsigned char b[8];
	*secs = 0;
	if (store_wav_data_chunk(fd, fsize, &off, &byte_rate) < 0 || byte_rate == 0 ||
	    pread(fd, b, 8, (off_t)off) != 8)
		return -1;
	uint64_t data = store_le32(b + 4), avail = fsize - (off + 8);
	if (data > avail) /* still-recording or truncated file */
		data = avail;
	*secs = (uint32_t)((data + byte_rate / 2) / byte_rate);
	return 0;
}

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
		if (store_parse_path(path, &rec) < 0)
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

int store_scan(const char *dir, const struct store_filter *f, struct store_list *out)
{
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "fakepbx: %s: %s\n", dir, strerror(errno));
		return -1;
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

int store_paths_add(struct store_paths *paths, const char *joined)
{
	const char *p = joined;
	while (*p) {
		const char *semi = strchr(p, ';');
		size_t n = semi ? (size_t)(semi - p) : strlen(p);
		char *one = strndup(p, n);
		if (!one)
			return -1;
		/* duplicates are kept, as `tar cf - a a` would: a 1 MiB URL
		 * holds ~16,000 paths, too many for a quadratic check */
		bool keep = store_parse_path(one, NULL) == 0;
		if (keep && paths->n == paths->cap) {
			size_t cap = paths->cap ? paths->cap * 2 : 16;
			char **v = realloc(paths->v, cap * sizeof *v);
			if (!v) {
				free(one);
				return -1;
			}
			paths->v = v;
			paths->cap = cap;
		}
		if (keep)
			paths->v[paths->n++] = one;
		else
			free(one);
		p += n;
		if (*p == ';')
			p++;
	}
	return 0;
}

void store_paths_free(struct store_paths *paths)
{
	for (size_t i = 0; i < paths->n; i++)
		free(paths->v[i]);
	free(paths->v);
	paths->v = NULL;
	paths->n = paths->cap = 0;
}
