/*
 * store.h — the PBX's recording disk as the fake sees it.
 *
 * DIR/YYYYMMDD/YYYYMMDD-HHMMSS-unixtime-CallType-trunk-src-dst.wav, where
 * Internal calls have no trunk field. The folders are re-read on every
 * request, so a test can add or delete files under a running server; only
 * durations are cached, and only while a file's stat is unchanged.
 * Files whose name does not match, dot files and files whose date does
 * not match their folder are not recordings. With --any-folder ("any"
 * below) a recording may also sit at the end of any chain of non-dot
 * folders whose last one is its YYYYMMDD ("x/y/20240105/name.wav"), or
 * bare at the top of DIR ("name.wav"); symlinks are never followed then.
 */
#ifndef FAKEPBX_STORE_H
#define FAKEPBX_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Longest recording path accepted ("YYYYMMDD/" + name, or any folders). */
#define STORE_PATH_MAX 300

/* The call types, as they appear in names and in the listing. */
extern const char *const store_calltypes[5];

struct store_rec {
	char *path;            /* "YYYYMMDD/name.wav" (any: as found under DIR); one
	                          allocation that also holds trunk, src and dst */
	const char *trunk;     /* "" for Internal */
	const char *src;
	const char *dst;
	const char *calltype;  /* one of store_calltypes */
	char calldate[20];     /* "YYYY-MM-DD HH:MM:SS" */
	int64_t unixtime;
	uint32_t duration;     /* seconds, rounded; 0 for unreadable headers */
	uint64_t size;         /* file size in bytes */
};

struct store_list {
	struct store_rec *recs;
	size_t n;
	size_t cap;
};

/* Which recordings a scan keeps. day_lo/day_hi ("YYYYMMDD", "" = open)
 * let the scan skip whole folders; prekeep() sees each parsed name before
 * the file is touched (size and duration still 0), keep() sees it with
 * size and duration; each returns true to keep it (NULL keeps all). */
struct store_filter {
	bool any;              /* --any-folder layout (day_lo/day_hi then unused) */
	char day_lo[9];
	char day_hi[9];
	bool (*prekeep)(const struct store_rec *rec, void *arg);
	bool (*keep)(const struct store_rec *rec, void *arg);
	void *arg;
};

/* True when ymd starts with 8 digits that are a real date "YYYYMMDD". */
bool store_valid_date(const char *ymd);

/*
 * Parse a request or disk path "YYYYMMDD/name.wav" (any: also the
 * --any-folder forms; never absolute, never "..", never a dot folder).
 * When rec is non-NULL it is filled (rec->path is a new allocation the
 * caller frees with store_rec_clear(); duration and size are left 0).
 * Returns 0 when path is a well-formed recording path, -1 when it is not
 * (no message: hostile input is just ignored) or allocation failed.
 */
int store_parse_path(const char *path, bool any, struct store_rec *rec);

/* Free what store_parse_path() allocated in rec. */
void store_rec_clear(struct store_rec *rec);

/*
 * Duration in seconds (data bytes / byte rate, rounded) of the RIFF/WAVE
 * file open on fd whose size is fsize. Returns 0 ok, -1 when the header is
 * not a usable WAV (then *secs is 0).
 */
int store_wav_duration(int fd, uint64_t fsize, uint32_t *secs);

/*
 * Find the "data" chunk of the RIFF/WAVE file open on fd (size fsize):
 * *off gets the offset of its 8-byte chunk header, *byte_rate the fmt
 * chunk's byte rate (0 when no fmt chunk came first). Returns 0 ok, -1
 * when the file is not RIFF/WAVE or has no data chunk.
 */
int store_wav_data_chunk(int fd, uint64_t fsize, uint64_t *off, uint32_t *byte_rate);

/*
 * Scan dir and append the recordings that pass filter to out.
 * Returns 0 ok (a missing dir is an empty store), -1 on allocation failure
 * or when dir cannot be read (message printed).
 */
int store_scan(const char *dir, const struct store_filter *filter,
	       struct store_list *out);

/* Sort newest first (by calldate, then path, both descending). */
void store_sort_newest(struct store_list *list);

/* Free the records from index from on and shrink list->n to from. */
void store_truncate(struct store_list *list, size_t from);

/* Free every record and the array; list is empty and reusable. */
void store_list_free(struct store_list *list);

/* A list of request paths ("a;b;c" values of wavefiles/wavfiles). */
struct store_paths {
	char **v;
	size_t n;
	size_t cap;
};

/*
 * Split a ';'-joined value, keep the parts that are well-formed recording
 * paths (store_parse_path with any) and append them in order (duplicates
 * too).
 * Returns 0 ok, -1 on allocation failure.
 */
int store_paths_add(struct store_paths *paths, const char *joined, bool any);

/* Free all paths. */
void store_paths_free(struct store_paths *paths);

/*
 * The folder holding path's last component, opened below dirfd one
 * component at a time without following symlinks or entering dot folders
 * (create: missing folders are made, mode 0755); *base points into path at
 * the last component. Returns a new fd, or -1 (errno set).
 */
int store_parent(int dirfd, const char *path, bool create, const char **base);

/* openat/fstatat/unlinkat of a recording path below dirfd, never following
 * a symlink in its last component (any: nor in its folders, see
 * store_parent). openat adds O_NOFOLLOW | O_CLOEXEC to flags. */
int store_openat(int dirfd, const char *path, bool any, int flags);
int store_statat(int dirfd, const char *path, bool any, struct stat *st);
int store_unlinkat(int dirfd, const char *path, bool any);

#endif
