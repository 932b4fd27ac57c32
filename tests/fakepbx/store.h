/*
 * store.h — the PBX's recording disk as the fake sees it.
 *
 * DIR/YYYYMMDD/YYYYMMDD-HHMMSS-unixtime-CallType-trunk-src-dst.wav, where
 * Internal calls have no trunk field. The folders are re-read on every
 * request, so a test can add or delete files under a running server; only
 * durations are cached, and only while a file's stat is unchanged.
 * Files whose name does not match, dot files and files whose date does
 * not match their folder are not recordings.
 */
#ifndef FAKEPBX_STORE_H
#define FAKEPBX_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The call types, as they appear in names and in the listing. */
extern const char *const store_calltypes[5];

struct store_rec {
	char *path;            /* "YYYYMMDD/name.wav"; one allocation that also
	                          holds trunk, src and dst */
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
	char day_lo[9];
	char day_hi[9];
	bool (*prekeep)(const struct store_rec *rec, void *arg);
	bool (*keep)(const struct store_rec *rec, void *arg);
	void *arg;
};

/*
 * Parse a request or disk path "YYYYMMDD/name.wav". When rec is non-NULL
 * it is filled (rec->path is a new allocation the caller frees with
 * store_rec_clear(); duration and size are left 0).
 * Returns 0 when path is a well-formed recording path, -1 when it is not
 * (no message: hostile input is just ignored) or allocation failed.
 */
int store_parse_path(const char *path, struct store_rec *rec);

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
 * paths (no "..", no leading '/') and append them in order (duplicates
 * too).
 * Returns 0 ok, -1 on allocation failure.
 */
int store_paths_add(struct store_paths *paths, const char *joined);

/* Free all paths. */
void store_paths_free(struct store_paths *paths);

#endif
