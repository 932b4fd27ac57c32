/*
 * tarstream.c — build tar (or bare WAV) download responses on the fly.
 *
 * Owns the tar format: ustar headers, the prefix split and pax 'x' headers
 * for long names, padding and the end-of-archive blocks. Sizes are taken
 * when the request arrives, so Content-Length is exact; the data is read
 * from the files only while libmicrohttpd sends, straight into its buffer.
 * It never writes or deletes recordings.
 */
#include "tarstream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define TARS_BLOCK 512
#define TARS_READ (256 * 1024)   /* libmicrohttpd's buffer per tar response */
#define TARS_BLOB_DATA 1600      /* 0.1 s of 8 kHz 16-bit audio */
#define TARS_BLOB_SIZE (44 + TARS_BLOB_DATA)

enum tars_kind { TARS_FILE, TARS_BLOB, TARS_SYMLINK };

struct tars_entry {
	enum tars_kind kind;
	char *src;         /* TARS_FILE: path under the data dir */
	char *name;        /* entry name in the archive */
	const char *link;  /* TARS_SYMLINK: target */
	uint64_t size;     /* data bytes promised in the header */
	int64_t mtime;
};

enum tars_phase { TARS_HEADER, TARS_DATA, TARS_PAD, TARS_TRAILER, TARS_DONE };

struct tars_stream {
	int dirfd;
	struct tars_entry *e;
	size_t n, idx;
	enum tars_phase phase;
	unsigned char hdr[3 * TARS_BLOCK]; /* pax header + pax data + ustar header */
	size_t hdr_len, hdr_off;
	int fd;                            /* current file, -1 when none */
	uint64_t done;                     /* data bytes of the current entry sent */
	size_t zeros_left;                 /* padding or trailer still to send */
	uint64_t produced;
	unsigned char blob[TARS_BLOB_SIZE];
	struct http_logtag tag;
};

/* Write v as zero-padded octal in a w-byte field (w-1 digits + NUL), or
 * in GNU base-256 when it does not fit (files of 8 GiB and more). */
static void tars_octal(unsigned char *f, size_t w, uint64_t v)
{
	if (w - 1 < 22 && v >> (3 * (w - 1))) {
		memset(f, 0, w);
		f[0] = 0x80;
		for (size_t i = w - 1; i > 0 && v; i--, v >>= 8)
			f[i] = (unsigned char)(v & 0xff);
		return;
	}
	f[w - 1] = '\0';
	for (size_t i = w - 1; i > 0; i--, v >>= 3)
		f[i - 1] = (unsigned char)('0' + (v & 7));
}

static void tars_checksum(unsigned char *h)
{
	unsigned sum = 0;
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < TARS_BLOCK; i++)
		sum += h[i];
	tars_octal(h + 148, 7, sum);
	h[155] = ' ';
}

static void tars_ustar(unsigned char *h, const char *name, size_t namelen, const char *prefix,
		       size_t prefixlen, char type, uint64_t size, int64_t mtime,
		       const char *link)
{
	memset(h, 0, TARS_BLOCK);
	memcpy(h, name, namelen > 100 ? 100 : namelen);
	tars_octal(h + 100, 8, 0644);
	tars_octal(h + 108, 8, 0);
	tars_octal(h + 116, 8, 0);
	tars_octal(h + 124, 12, size);
	tars_octal(h + 136, 12, mtime > 0 ? (uint64_t)mtime : 0);
	h[156] = (unsigned char)type;
	if (link)
		memcpy(h + 157, link, strlen(link) > 100 ? 100 : strlen(link));
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memcpy(h + 265, "root", 4);
	memcpy(h + 297, "root", 4);
	if (prefixlen)
		memcpy(h + 345, prefix, prefixlen);
	tars_checksum(h);
}

static size_t tars_digits(size_t v)
{
	size_t d = 1;
	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

/* Header block(s) for e into out; returns their length (512 or 1536).
 * Names over 100 bytes use the ustar prefix when they split at a '/',
 * else a pax "path" record (names are < 300 bytes, so it fits a block). */
static size_t tars_header(unsigned char *out, const struct tars_entry *e)
{
	char type = e->kind == TARS_SYMLINK ? '2' : '0';
	size_t len = strlen(e->name);
	if (len <= 100) {
		tars_ustar(out, e->name, len, NULL, 0, type, e->size, e->mtime, e->link);
		return TARS_BLOCK;
	}
	for (size_t i = len - 1; i > 0; i--) {
		if (e->name[i] != '/' || i > 155 || len - i - 1 > 100)
			continue;
		tars_ustar(out, e->name + i + 1, len - i - 1, e->name, i, type, e->size, e->mtime,
			   e->link);
		return TARS_BLOCK;
	}
	size_t body = strlen(" path=") + len + 1, d = 1;
	while (tars_digits(body + d) != d)
		d++;
	size_t rec = body + d;
	tars_ustar(out, "PaxHeader/entry", 15, NULL, 0, 'x', rec, e->mtime, NULL);
	memset(out + TARS_BLOCK, 0, TARS_BLOCK);
	snprintf((char *)out + TARS_BLOCK, TARS_BLOCK, "%zu path=%s\n", rec, e->name);
	tars_ustar(out + 2 * TARS_BLOCK, e->name, len, NULL, 0, type, e->size, e->mtime, e->link);
	return 3 * TARS_BLOCK;
}

static uint64_t tars_padded(uint64_t n)
{
	return (n + TARS_BLOCK - 1) / TARS_BLOCK * TARS_BLOCK;
}

/* A tiny valid WAV (tone) for the evil-names entries: a client that wrote
 * them out would produce a plausible recording, which a test can catch. */
static void tars_make_blob(unsigned char *b)
{
	static const unsigned char head[44] = {
		'R', 'I', 'F', 'F', (36 + TARS_BLOB_DATA) & 0xff, (36 + TARS_BLOB_DATA) >> 8, 0, 0,
		'W', 'A', 'V', 'E', 'f', 'm', 't', ' ', 16, 0, 0, 0, 1, 0, 1, 0,
		0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0,
		'd', 'a', 't', 'a', TARS_BLOB_DATA & 0xff, TARS_BLOB_DATA >> 8, 0, 0,
	};
	memcpy(b, head, sizeof head);
	for (size_t i = 0; i < TARS_BLOB_DATA / 2; i++) {
		int v = (i / 8) % 2 ? 4000 : -4000; /* 500 Hz square wave */
		b[44 + 2 * i] = (unsigned char)(v & 0xff);
		b[45 + 2 * i] = (unsigned char)((v >> 8) & 0xff);
	}
}

static void tars_close_file(struct tars_stream *st)
{
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
}

/* Copy up to room bytes of the current entry's data into buf. A file that
 * vanished or shrank since the request is padded with zeros, one that grew
 * is cut: the sizes promised in the headers and Content-Length stand. */
static size_t tars_data(struct tars_stream *st, char *buf, size_t room)
{
	const struct tars_entry *e = &st->e[st->idx];
	uint64_t left = e->size - st->done;
	size_t want = left < room ? (size_t)left : room;
	size_t got = 0;
	if (e->kind == TARS_BLOB) {
		memcpy(buf, st->blob + st->done, want);
		got = want;
	}
	while (e->kind == TARS_FILE && st->fd >= 0 && got < want) {
		ssize_t r = read(st->fd, buf + got, want - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			tars_close_file(st);
			break;
		}
		got += (size_t)r;
	}
	memset(buf + got, 0, want - got);
	st->done += want;
	return want;
}

static ssize_t tars_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct tars_stream *st = cls;
	size_t filled = 0;
	(void)pos;
	while (filled < max && st->phase != TARS_DONE) {
		size_t room = max - filled, n;
		switch (st->phase) {
		case TARS_HEADER:
			if (st->hdr_off == st->hdr_len) {
				if (st->idx == st->n) {
					st->phase = TARS_TRAILER;
					st->zeros_left = 2 * TARS_BLOCK;
					break;
				}
				const struct tars_entry *e = &st->e[st->idx];
				st->hdr_len = tars_header(st->hdr, e);
				st->hdr_off = 0;
				st->done = 0;
				if (e->kind == TARS_FILE)
					st->fd = openat(st->dirfd, e->src,
							O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			}
			n = st->hdr_len - st->hdr_off < room ? st->hdr_len - st->hdr_off : room;
			memcpy(buf + filled, st->hdr + st->hdr_off, n);
			st->hdr_off += n;
			filled += n;
			if (st->hdr_off == st->hdr_len)
				st->phase = TARS_DATA;
			break;
		case TARS_DATA:
			if (st->done == st->e[st->idx].size) {
				tars_close_file(st);
				st->zeros_left = (size_t)(tars_padded(st->done) - st->done);
				st->phase = TARS_PAD;
				break;
			}
			filled += tars_data(st, buf + filled, room);
			break;
		case TARS_PAD:
		case TARS_TRAILER:
			n = st->zeros_left < room ? st->zeros_left : room;
			memset(buf + filled, 0, n);
			st->zeros_left -= n;
			filled += n;
			if (st->zeros_left == 0) {
				if (st->phase == TARS_PAD) {
					st->idx++;
					st->hdr_len = st->hdr_off = 0;
					st->phase = TARS_HEADER;
				} else {
					st->phase = TARS_DONE;
				}
			}
			break;
		case TARS_DONE:
			break;
		}
	}
	st->produced += filled;
	return filled ? (ssize_t)filled : MHD_CONTENT_READER_END_OF_STREAM;
}

static void tars_destroy(struct tars_stream *st)
{
	tars_close_file(st);
	for (size_t i = 0; i < st->n; i++) {
		free(st->e[i].src);
		free(st->e[i].name);
	}
	free(st->e);
	if (st->dirfd >= 0)
		close(st->dirfd);
	free(st);
}

static void tars_free(void *cls)
{
	struct tars_stream *st = cls;
	http_log(&st->tag, MHD_HTTP_OK, st->produced);
	tars_destroy(st);
}

static int tars_add(struct tars_stream *st, enum tars_kind kind, const char *src,
		    const char *name, uint64_t size, int64_t mtime)
{
	struct tars_entry *e = &st->e[st->n];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->src = src ? strdup(src) : NULL;
	e->name = strdup(name);
	e->size = size;
	e->mtime = mtime;
	if (kind == TARS_SYMLINK)
		e->link = "/etc/passwd";
	st->n++; /* counted even on failure so tars_destroy frees it */
	return e->name && (!src || e->src) ? 0 : -1;
}

static int tars_add_file(struct tars_stream *st, const struct fpx_config *cfg,
			 const char *path, const struct stat *sb)
{
	char name[320];
	snprintf(name, sizeof name, "%s%s", cfg->tar_names == FPX_TAR_DOTSLASH ? "./" : "",
		 cfg->tar_names == FPX_TAR_BASE ? path + 9 : path);
	return tars_add(st, TARS_FILE, path, name, (uint64_t)sb->st_size, sb->st_mtim.tv_sec);
}

static void tars_disposition(struct MHD_Response *resp)
{
	static const char *const mon[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	char v[96];
	snprintf(v, sizeof v, "attachment; filename=\"AutoMonitor-%04d%s%02d.%02d%02d%02d.tar\"",
		 tm.tm_year + 1900, mon[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, v);
}

/* --bare-single: the file itself; MHD sends it from the fd (sendfile). */
static struct http_reply tars_bare(int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		return http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "file vanished");
	}
	struct http_reply rep = { NULL, MHD_HTTP_OK, false, (uint64_t)sb.st_size };
	rep.resp = MHD_create_response_from_fd64((uint64_t)sb.st_size, fd);
	if (!rep.resp) {
		close(fd);
		return rep;
	}
	char v[320];
	snprintf(v, sizeof v, "attachment; filename=\"%s\"", path + 9);
	MHD_add_response_header(rep.resp, MHD_HTTP_HEADER_CONTENT_TYPE, "audio/x-wav");
	MHD_add_response_header(rep.resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, v);
	return rep;
}

struct http_reply tars_handle(const struct fpx_config *cfg, const struct http_req *r)
{
	struct store_paths paths = { 0 };
	const char *v;
	int rc = 0;
	if (cfg->download_key != FPX_KEY_WAVFILES && (v = http_param(r, "wavefiles", HTTP_SRC_ANY)))
		rc |= store_paths_add(&paths, v);
	if (cfg->download_key != FPX_KEY_WAVEFILES && (v = http_param(r, "wavfiles", HTTP_SRC_ANY)))
		rc |= store_paths_add(&paths, v);
	struct tars_stream *st = calloc(1, sizeof *st);
	if (rc < 0 || !st ||
	    !(st->e = calloc(paths.n + 3, sizeof *st->e))) {
		free(st);
		store_paths_free(&paths);
		return http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	st->fd = -1;
	st->tag = *http_req_tag(r);
	tars_make_blob(st->blob);
	/* a missing data dir is just an empty PBX: the tar has no entries */
	st->dirfd = open(cfg->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fault_on(&cfg->faults, FAULT_EVIL_NAMES)) {
		int64_t now = (int64_t)time(NULL);
		rc |= tars_add(st, TARS_BLOB, NULL, "../x.wav", TARS_BLOB_SIZE, now);
		rc |= tars_add(st, TARS_BLOB, NULL, "/tmp/x.wav", TARS_BLOB_SIZE, now);
		rc |= tars_add(st, TARS_SYMLINK, NULL, "20210101/link.wav", 0, now);
	}
	size_t existing = 0;
	const char *only = NULL;
	bool omit = fault_on(&cfg->faults, FAULT_OMIT_ONE);
	for (size_t i = 0; st->dirfd >= 0 && i < paths.n; i++) {
		struct stat sb;
		if (fstatat(st->dirfd, paths.v[i], &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		existing++;
		only = paths.v[i];
		if (omit && existing == 1)
			continue;
		rc |= tars_add_file(st, cfg, paths.v[i], &sb);
	}
	if (cfg->bare_single && existing == 1) {
		struct http_reply rep = tars_bare(st->dirfd, only);
		tars_destroy(st);
		store_paths_free(&paths);
		return rep;
	}
	store_paths_free(&paths);
	if (rc < 0) {
		tars_destroy(st);
		return http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}

	uint64_t total = 2 * TARS_BLOCK;
	for (size_t i = 0; i < st->n; i++) {
		unsigned char scratch[3 * TARS_BLOCK];
		total += tars_header(scratch, &st->e[i]) + tars_padded(st->e[i].size);
	}
	struct http_reply rep = { NULL, MHD_HTTP_OK, true, 0 };
	rep.resp = MHD_create_response_from_callback(total, TARS_READ, tars_read, st, tars_free);
	if (!rep.resp) {
		tars_destroy(st);
		return http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	MHD_add_response_header(rep.resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/x-tar");
	tars_disposition(rep.resp);
	return rep;
}
