/*
 * tarstream.c — build tar (or bare WAV) download responses on the fly.
 *
 * Owns what goes into a download: the entries, their data, the tar faults
 * (entries added, doubled, swapped for links or devices, WAV headers that
 * lie, streams cut short or reset). Sizes are taken when the request
 * arrives, so Content-Length is exact; the data is read from the files
 * only while libmicrohttpd sends, straight into its buffer. The byte
 * layout of headers is tarfmt.c's. It never writes or deletes recordings.
 */
#include "tarstream.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "clock.h"
#include "live.h"
#include "store.h"
#include "tarfmt.h"

#define TARS_READ (256 * 1024)  /* libmicrohttpd's buffer per tar response */
#define TARS_EXTRA_ENTRIES 8    /* room for the entries faults add */
#define TARS_LIE_BYTES 160000u  /* wav-lying-header: 10 s of audio that isn't there */

/* Bytes of an entry's data overwritten (or xor-ed) while it streams. */
struct tars_patch {
	uint64_t off;
	unsigned char bytes[4];
	unsigned char len;
	bool xor;
};

struct tars_entry {
	struct tarfmt_meta m;
	char *name;       /* owns m.name */
	char *src;        /* path under the data dir the data comes from, or NULL */
	bool blob;        /* the data is the built-in tiny WAV */
	struct tars_patch patch[3];
	size_t npatch;
};

enum tars_phase { TARS_HEADER, TARS_DATA, TARS_PAD, TARS_TRAILER, TARS_DONE };
enum tars_cut { TARS_CUT_NONE, TARS_CUT_CLOSE, TARS_CUT_RESET };

struct tars_stream {
	int dirfd;
	bool any;                    /* --any-folder paths */
	struct tars_entry *e;
	size_t n;                    /* entries (all freed by tars_destroy) */
	size_t nsend;                /* entries sent (tar-cut-boundary: 1) */
	size_t idx;
	enum tars_phase phase;
	unsigned char hdr[TARFMT_HDR_MAX];
	size_t hdr_len, hdr_off;
	int fd;                      /* current file, -1 when none */
	uint64_t done;               /* data bytes of the current entry sent */
	size_t zeros_left;           /* padding or trailer still to send */
	bool trailer;                /* end with two zero blocks */
	uint64_t produced;
	uint64_t limit;              /* stop after this many bytes... */
	enum tars_cut cut;           /* ...and then close or reset */
	int sock;                    /* the connection, for reset-mid-body */
	unsigned char blob[TARFMT_BLOB_SIZE];
	struct http_logtag tag;
	/* tar-gzip: the tar goes through deflate on its way out */
	bool gz, gz_in_done, gz_done;
	z_stream z;
	unsigned char *raw;
};

#define TARS_GZ_RAW (64u << 10)

static void tars_close_file(struct tars_stream *st)
{
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
}

static void tars_apply_patches(const struct tars_entry *e, uint64_t at, char *buf, size_t n)
{
	for (size_t i = 0; i < e->npatch; i++)
		for (size_t k = 0; k < e->patch[i].len; k++) {
			uint64_t off = e->patch[i].off + k;
			if (off < at || off >= at + n)
				continue;
			unsigned char *b = (unsigned char *)buf + (off - at);
			*b = e->patch[i].xor ? *b ^ e->patch[i].bytes[k] : e->patch[i].bytes[k];
		}
}

/* Copy up to room bytes of the current entry's data into buf. A file that
 * vanished or shrank since the request is padded with zeros, one that grew
 * is cut: the sizes promised in the headers and Content-Length stand. */
static size_t tars_data(struct tars_stream *st, char *buf, size_t room)
{
	const struct tars_entry *e = &st->e[st->idx];
	uint64_t left = e->m.size - st->done;
	size_t want = left < room ? (size_t)left : room;
	size_t got = 0;
	if (e->blob) {
		memcpy(buf, st->blob + st->done, want);
		got = want;
	}
	while (e->src && st->fd >= 0 && got < want) {
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
	tars_apply_patches(e, st->done, buf, want);
	st->done += want;
	return want;
}

/* Fill buf with up to max bytes of the tar. */
static size_t tars_fill(struct tars_stream *st, char *buf, size_t max)
{
	size_t filled = 0;
	while (filled < max && st->phase != TARS_DONE) {
		size_t room = max - filled, n;
		switch (st->phase) {
		case TARS_HEADER:
			if (st->hdr_off == st->hdr_len) {
				if (st->idx == st->nsend) {
					st->phase = st->trailer ? TARS_TRAILER : TARS_DONE;
					st->zeros_left = 2 * TARFMT_BLOCK;
					break;
				}
				const struct tars_entry *e = &st->e[st->idx];
				st->hdr_len = tarfmt_header(st->hdr, &e->m);
				st->hdr_off = 0;
				st->done = 0;
				if (e->src)
					st->fd = store_openat(st->dirfd, e->src, st->any,
							      O_RDONLY);
			}
			n = st->hdr_len - st->hdr_off < room ? st->hdr_len - st->hdr_off : room;
			memcpy(buf + filled, st->hdr + st->hdr_off, n);
			st->hdr_off += n;
			filled += n;
			if (st->hdr_off == st->hdr_len)
				st->phase = TARS_DATA;
			break;
		case TARS_DATA:
			if (st->done == st->e[st->idx].m.size) {
				tars_close_file(st);
				st->zeros_left = (size_t)(tarfmt_padded(st->done) - st->done);
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
	return filled;
}

/* tar-gzip: the next compressed bytes. */
static ssize_t tars_read_gz(struct tars_stream *st, char *buf, size_t max)
{
	st->z.next_out = (unsigned char *)buf;
	st->z.avail_out = (uInt)max;
	while (st->z.avail_out == max && !st->gz_done) {
		if (st->z.avail_in == 0 && !st->gz_in_done) {
			size_t n = tars_fill(st, (char *)st->raw, TARS_GZ_RAW);
			st->z.next_in = st->raw;
			st->z.avail_in = (uInt)n;
			st->gz_in_done = n == 0;
		}
		int rc = deflate(&st->z, st->gz_in_done ? Z_FINISH : Z_NO_FLUSH);
		if (rc == Z_STREAM_END)
			st->gz_done = true;
		else if (rc != Z_OK && rc != Z_BUF_ERROR)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	size_t out = max - st->z.avail_out;
	st->produced += out;
	return out ? (ssize_t)out : MHD_CONTENT_READER_END_OF_STREAM;
}

static ssize_t tars_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct tars_stream *st = cls;
	(void)pos;
	if (st->gz)
		return tars_read_gz(st, buf, max);
	if (st->produced >= st->limit) {
		if (st->cut == TARS_CUT_NONE)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (st->cut == TARS_CUT_RESET)
			http_reset_socket(st->sock);
		return MHD_CONTENT_READER_END_WITH_ERROR; /* libmicrohttpd closes */
	}
	if (max > st->limit - st->produced)
		max = (size_t)(st->limit - st->produced);
	size_t filled = tars_fill(st, buf, max);
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
	if (st->gz)
		deflateEnd(&st->z);
	free(st->raw);
	free(st);
}

static void tars_free(void *cls)
{
	struct tars_stream *st = cls;
	http_log(&st->tag, MHD_HTTP_OK, st->produced);
	tars_destroy(st);
}

/* Append an entry; src (data from that file) and link may be NULL. */
static struct tars_entry *tars_add(struct tars_stream *st, char type, const char *name,
				   const char *src, uint64_t size, int64_t mtime)
{
	struct tars_entry *e = &st->e[st->n++]; /* counted even on failure: freed later */
	memset(e, 0, sizeof *e);
	e->name = strdup(name);
	e->src = src ? strdup(src) : NULL;
	e->m = (struct tarfmt_meta){ e->name, type, size, mtime, NULL, 0, 0, 0 };
	return e->name && (!src || e->src) ? e : NULL;
}

/* The entry name for a recording path under --tar-names (base: the last
 * component, whatever the folders). */
static void tars_name(const struct fpx_config *cfg, const char *path, char out[320])
{
	const char *slash = strrchr(path, '/');
	snprintf(out, 320, "%s%s", cfg->tar_names == FPX_TAR_DOTSLASH ? "./" : "",
		 cfg->tar_names == FPX_TAR_BASE && slash ? slash + 1 : path);
}

static void tars_le32(unsigned char *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

/* wav-lying-header / wav-zero-header: patch the RIFF and data sizes. */
static void tars_wav_patch(struct tars_stream *st, struct tars_entry *e, bool zero)
{
	uint64_t off;
	uint32_t rate;
	int fd = store_openat(st->dirfd, e->src, st->any, O_RDONLY);
	int rc = fd >= 0 ? store_wav_data_chunk(fd, e->m.size, &off, &rate) : -1;
	if (fd >= 0)
		close(fd);
	if (rc < 0 || off + 8 > e->m.size)
		return; /* not a WAV: nothing to lie about */
	uint32_t riff = zero ? 0 : (uint32_t)(e->m.size - 8 + TARS_LIE_BYTES);
	uint32_t data = zero ? 0 : (uint32_t)(e->m.size - off - 8 + TARS_LIE_BYTES);
	e->patch[e->npatch] = (struct tars_patch){ .off = 4, .len = 4 };
	tars_le32(e->patch[e->npatch++].bytes, riff);
	e->patch[e->npatch] = (struct tars_patch){ .off = off + 4, .len = 4 };
	tars_le32(e->patch[e->npatch++].bytes, data);
}

/* The first file of the tar, with the faults that bend it: a lying WAV
 * header, a second copy one byte off, or links/a device in its place. */
static int tars_add_first(struct tars_stream *st, const struct fpx_config *cfg,
			  struct http_req *r, const char *path, const struct stat *sb)
{
	char name[320];
	tars_name(cfg, path, name);
	uint64_t size = (uint64_t)sb->st_size;
	int64_t mtime = sb->st_mtim.tv_sec;
	bool sym = http_fault(r, FAULT_TAR_SYMLINK) != NULL;
	bool hard = http_fault(r, FAULT_TAR_HARDLINK) != NULL;
	bool dev = http_fault(r, FAULT_TAR_DEVICE) != NULL;
	struct tars_entry *e;
	if (sym || hard || dev) {
		/* harmless targets: a client that follows them writes next to
		 * the archive, where a test can see it */
		if (sym) {
			if (!(e = tars_add(st, '2', name, NULL, 0, mtime)))
				return -1;
			e->m.link = "../fakepbx-symlink-target.wav";
		}
		if (hard) {
			if (!(e = tars_add(st, '1', name, path, size, mtime)))
				return -1;
			e->m.link = "fakepbx-hardlink-target.wav";
			e->m.pax = 1;
		}
		if (dev) {
			if (!(e = tars_add(st, '3', name, NULL, 0, mtime)))
				return -1;
			e->m.devmajor = 1; /* /dev/null */
			e->m.devminor = 3;
		}
		return 0;
	}
	const struct fault_inst *over = http_fault(r, FAULT_TAR_OVERSIZE);
	if (!(e = tars_add(st, '0', name, path, size + (over ? (uint64_t)over->value << 20 : 0),
			   mtime)))
		return -1;
	if (http_fault(r, FAULT_WAV_LYING_HEADER))
		tars_wav_patch(st, e, false);
	else if (http_fault(r, FAULT_WAV_ZERO_HEADER))
		tars_wav_patch(st, e, true);
	if (size > 0 && http_fault(r, FAULT_TAR_DUPLICATE)) {
		struct tars_entry *dup = tars_add(st, '0', name, path, size, mtime);
		if (!dup)
			return -1;
		memcpy(dup->patch, e->patch, sizeof e->patch);
		dup->npatch = e->npatch;
		dup->patch[dup->npatch++] = (struct tars_patch){ size - 1, { 0xff }, 1, true };
	}
	return 0;
}

/* Offset of entry i's data in the tar (i < st->n). */
static uint64_t tars_data_offset(const struct tars_stream *st, size_t i)
{
	uint64_t at = 0;
	unsigned char scratch[TARFMT_HDR_MAX];
	for (size_t k = 0; k < i; k++)
		at += tarfmt_header(scratch, &st->e[k].m) + tarfmt_padded(st->e[k].m.size);
	return at + tarfmt_header(scratch, &st->e[i].m);
}

/* Decide Content-Length and where the cut faults (at most one) end the
 * stream; returns Content-Length. */
static uint64_t tars_plan_end(struct tars_stream *st, struct http_req *r)
{
	uint64_t total = 2 * TARFMT_BLOCK;
	unsigned char scratch[TARFMT_HDR_MAX];
	for (size_t i = 0; i < st->n; i++)
		total += tarfmt_header(scratch, &st->e[i].m) + tarfmt_padded(st->e[i].m.size);
	st->limit = total;
	st->trailer = true;
	if (http_fault(r, FAULT_RESET_MID_BODY)) {
		st->limit = total / 2;
		st->cut = TARS_CUT_RESET;
		st->sock = http_req_socket(r);
	} else if (st->n > 0 && http_fault(r, FAULT_TAR_CUT_MID)) {
		size_t i = st->n > 1 ? 1 : 0;
		st->limit = tars_data_offset(st, i) + st->e[i].m.size / 2;
		st->cut = TARS_CUT_CLOSE;
	} else if (st->n > 0 && http_fault(r, FAULT_TAR_CUT_BOUNDARY)) {
		st->nsend = 1;
		st->trailer = false;
		total = tars_data_offset(st, 0) + tarfmt_padded(st->e[0].m.size);
		st->limit = total;
	}
	return total;
}

static void tars_disposition(struct http_reply *rep)
{
	static const char *const mon[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	clock_local_now(&tm);
	char v[96];
	snprintf(v, sizeof v, "attachment; filename=\"AutoMonitor-%04d%s%02d.%02d%02d%02d.tar\"",
		 tm.tm_year + 1900, mon[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
	http_reply_header(rep, MHD_HTTP_HEADER_CONTENT_DISPOSITION, v);
}

/* --bare-single: the file itself; libmicrohttpd sends it from the fd. */
static struct http_reply tars_bare(int dirfd, const char *path, bool any)
{
	int fd = store_openat(dirfd, path, any, O_RDONLY);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		if (fd >= 0)
			close(fd);
		return http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "file vanished");
	}
	struct http_reply rep = http_reply_fd(MHD_HTTP_OK, "audio/x-wav", fd, (uint64_t)sb.st_size);
	char v[320];
	const char *slash = strrchr(path, '/');
	snprintf(v, sizeof v, "attachment; filename=\"%s\"", slash ? slash + 1 : path);
	http_reply_header(&rep, MHD_HTTP_HEADER_CONTENT_DISPOSITION, v);
	return rep;
}

/* Count this answer for the live recordings it serves (exists[i]). */
static void tars_note_live(const struct store_paths *paths, const bool *exists)
{
	if (!live_any())
		return;
	const char **served = calloc(paths->n + 1, sizeof *served);
	size_t n = 0;
	for (size_t i = 0; served && i < paths->n; i++)
		if (exists[i])
			served[n++] = paths->v[i];
	if (served)
		live_note(served, n);
	free(served);
}

/* The file a fault picks ("the first file") is picked once: the first one of the first tar,
 * then that same file in every tar that asks for it. A PBX that cannot read a file, or sends
 * it bent, does so each time, not to whichever file a request names first: a tar without it
 * is whole. */
struct victim {
	pthread_mutex_t lock;
	char path[320];
};
static struct victim omitted = { PTHREAD_MUTEX_INITIALIZER, "" }; /* omit-one */
static struct victim bent = { PTHREAD_MUTEX_INITIALIZER, "" };    /* the first-file faults */

static bool tars_is_victim(struct victim *v, const char *path)
{
	bool is;
	pthread_mutex_lock(&v->lock);
	if (!v->path[0])
		snprintf(v->path, sizeof v->path, "%s", path);
	is = strcmp(v->path, path) == 0;
	pthread_mutex_unlock(&v->lock);
	return is;
}

/* The tar's entries: faults' extras, then the existing requested files
 * (exists[i] is cleared for the one that omit-one leaves out). */
static int tars_plan(struct tars_stream *st, const struct fpx_config *cfg, struct http_req *r,
		     const struct store_paths *paths, bool *exists)
{
	int64_t now = clock_unix();
	struct tars_entry *e;
	if (http_fault(r, FAULT_EVIL_NAMES)) {
		static const char *const evil[2] = { "../x.wav", "/tmp/x.wav" };
		for (size_t i = 0; i < 2; i++) {
			if (!(e = tars_add(st, '0', evil[i], NULL, TARFMT_BLOB_SIZE, now)))
				return -1;
			e->blob = true;
		}
		if (!(e = tars_add(st, '2', "20210101/link.wav", NULL, 0, now)))
			return -1;
		e->m.link = "/etc/passwd";
	}
	if (http_fault(r, FAULT_TAR_EXTRA)) {
		char name[320];
		tars_name(cfg, "20210101/20210101-000000-1609459200-Inbound-1-100-200.wav", name);
		if (!(e = tars_add(st, '0', name, NULL, TARFMT_BLOB_SIZE, now)))
			return -1;
		e->blob = true;
	}
	bool to_bend = true; /* the first-file faults' file not met yet */
	int omit = -1; /* -1 not asked yet, then 0 or 1: whether omit-one acts on this tar */
	for (size_t i = 0; i < paths->n; i++) {
		if (!exists[i])
			continue;
		if (omit < 0)
			omit = http_fault(r, FAULT_OMIT_ONE) != NULL;
		if (omit && tars_is_victim(&omitted, paths->v[i])) {
			omit = 0;
			exists[i] = false; /* not served */
			continue;
		}
		struct stat sb;
		if (store_statat(st->dirfd, paths->v[i], st->any, &sb) < 0)
			memset(&sb, 0, sizeof sb); /* vanished meanwhile: an empty entry */
		if (to_bend && tars_is_victim(&bent, paths->v[i])) {
			to_bend = false;
			if (tars_add_first(st, cfg, r, paths->v[i], &sb) < 0)
				return -1;
			continue;
		}
		char name[320];
		tars_name(cfg, paths->v[i], name);
		if (!tars_add(st, '0', name, paths->v[i], (uint64_t)sb.st_size, sb.st_mtim.tv_sec))
			return -1;
	}
	return 0;
}

/* tar-gzip: deflate at level 1 (a run of zeros shrinks a thousandfold: the bomb a client
 * must not inflate unasked). */
static int tars_gzip_start(struct tars_stream *st)
{
	st->raw = malloc(TARS_GZ_RAW);
	if (!st->raw || deflateInit2(&st->z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	st->gz = true;
	return 0;
}

struct http_reply tars_handle(const struct fpx_config *cfg, struct http_req *r)
{
	struct store_paths paths = { 0 };
	const char *v;
	int rc = 0;
	if (cfg->download_key != FPX_KEY_WAVFILES && (v = http_param(r, "wavefiles", HTTP_SRC_ANY)))
		rc |= store_paths_add(&paths, v, cfg->any_folder);
	if (cfg->download_key != FPX_KEY_WAVEFILES && (v = http_param(r, "wavfiles", HTTP_SRC_ANY)))
		rc |= store_paths_add(&paths, v, cfg->any_folder);
	struct tars_stream *st = calloc(1, sizeof *st);
	bool *exists = calloc(paths.n + 1, sizeof *exists);
	if (rc < 0 || !st || !exists ||
	    !(st->e = calloc(paths.n + TARS_EXTRA_ENTRIES, sizeof *st->e))) {
		free(st);
		free(exists);
		store_paths_free(&paths);
		return http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	st->fd = -1;
	st->sock = -1;
	st->any = cfg->any_folder;
	tarfmt_blob(st->blob);
	/* a missing data dir is just an empty PBX: the tar has no entries */
	st->dirfd = open(cfg->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	size_t existing = 0;
	const char *only = NULL;
	for (size_t i = 0; st->dirfd >= 0 && i < paths.n; i++) {
		struct stat sb;
		exists[i] = store_statat(st->dirfd, paths.v[i], st->any, &sb) == 0 &&
			    S_ISREG(sb.st_mode);
		if (exists[i]) {
			existing++;
			only = paths.v[i];
		}
	}
	struct http_reply rep;
	if (cfg->bare_single && existing == 1) {
		rep = tars_bare(st->dirfd, only, st->any);
		tars_destroy(st);
	} else if (tars_plan(st, cfg, r, &paths, exists) < 0) {
		tars_destroy(st);
		rep = http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	} else {
		st->nsend = st->n;
		uint64_t total = tars_plan_end(st, r);
		const struct fault_inst *gz = http_fault(r, FAULT_TAR_GZIP);
		if (gz && tars_gzip_start(st) != 0) {
			tars_destroy(st);
			rep = http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		} else {
			rep = http_reply_stream(MHD_HTTP_OK, "application/x-tar",
						gz ? MHD_SIZE_UNKNOWN : total, TARS_READ, tars_read,
						st, tars_free, &st->tag);
			tars_disposition(&rep);
			if (gz && gz->value == 1)
				http_reply_header(&rep, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
		}
	}
	if (rep.status == MHD_HTTP_OK)
		tars_note_live(&paths, exists);
	free(exists);
	store_paths_free(&paths);
	return rep;
}
