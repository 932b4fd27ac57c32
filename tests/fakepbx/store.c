/*
 * store.c — parse recording names, paths and WAV headers; open paths safely.
 *
 * Owns the one definition of "what is a recording path" (used both for the
 * listing and to validate paths a client asks to download or delete), of
 * how a duration is derived from a WAV header, and of how such a path is
 * opened without following symlinks. Scanning the disk is scan.c's.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


const char *const store_calltypes[5] = {
	"Inbound", "Outbound", "Internal", "CallBack", "Conference",
};


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

bool store_valid_date(const char *ymd)
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

/* --any-folder: the folders of path (all but its last component) are
 * non-empty, not dot names, and the last one, if any, is the name's date;
 * a bare name (no folder) needs a valid date of its own. */
static bool store_folders_ok(const char *path, const char *name)
{
	if (name == path)
		return store_valid_date(name);
	for (const char *p = path; p < name;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || p[0] == '.')
			return false;
		p += n + 1;
	}
	const char *day = name - 9;
	return day >= path && (day == path || day[-1] == '/') && store_valid_date(day) &&
	       memcmp(day, name, 8) == 0;
}

int store_parse_path(const char *path, bool any, struct store_rec *rec)
{
	size_t len = strlen(path);
	if (len >= STORE_PATH_MAX || path[0] == '/' || strstr(path, ".."))
		return -1;
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	if (strlen(name) < 27) /* "YYYYMMDD-HHMMSS-U-T-s-d.wav" */
		return -1;
	if (!any && (slash != path + 8 || !store_valid_date(path) || memcmp(name, path, 8) != 0))
		return -1;
	if (any && !store_folders_ok(path, name))
		return -1;
	if (name[8] != '-' || !store_digits(name + 9, 6) || name[15] != '-')
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

int store_paths_add(struct store_paths *paths, const char *joined, bool any)
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
		bool keep = store_parse_path(one, any, NULL) == 0;
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

int store_parent(int dirfd, const char *path, bool create, const char **base)
{
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	int fd = dup(dirfd);
	for (const char *p = path; fd >= 0 && slash && p < slash;) {
		size_t n = strcspn(p, "/");
		char part[STORE_PATH_MAX];
		if (n == 0 || n >= sizeof part || p[0] == '.') {
			close(fd);
			return -1;
		}
		memcpy(part, p, n);
		part[n] = '\0';
		if (create && mkdirat(fd, part, 0755) < 0 && errno != EEXIST) {
			close(fd);
			return -1;
		}
		int next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
		p += n + 1;
	}
	return fd;
}

int store_openat(int dirfd, const char *path, bool any, int flags)
{
	if (!any)
		return openat(dirfd, path, flags | O_NOFOLLOW | O_CLOEXEC);
	const char *base;
	int parent = store_parent(dirfd, path, false, &base);
	if (parent < 0)
		return -1;
	int fd = openat(parent, base, flags | O_NOFOLLOW | O_CLOEXEC);
	close(parent);
	return fd;
}

int store_statat(int dirfd, const char *path, bool any, struct stat *st)
{
	if (!any)
		return fstatat(dirfd, path, st, AT_SYMLINK_NOFOLLOW);
	const char *base;
	int parent = store_parent(dirfd, path, false, &base);
	if (parent < 0)
		return -1;
	int rc = fstatat(parent, base, st, AT_SYMLINK_NOFOLLOW);
	close(parent);
	return rc;
}

int store_unlinkat(int dirfd, const char *path, bool any)
{
	if (!any)
		return unlinkat(dirfd, path, 0);
	const char *base;
	int parent = store_parent(dirfd, path, false, &base);
	if (parent < 0)
		return -1;
	int rc = unlinkat(parent, base, 0);
	int err = errno;
	close(parent);
	errno = err;
	return rc;
}
