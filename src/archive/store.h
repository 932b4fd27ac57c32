/* store.h — the archive directory on disk: date-tree folders and durable, atomic writes.
 *
 * Every file is written as a commit: a temp file in ARCHIVE/.state/tmp/ (O_EXCL|O_NOFOLLOW),
 * write, fsync, rename into place, fsync the target folder. A crash leaves either the old state
 * or the new one, plus at most some temp files, which only we create there and store_open()
 * removes. Folders are opened relative to the archive root with O_NOFOLLOW, so a symlink planted
 * inside the archive cannot redirect a write. Knows nothing about HTTP or manifests. */
#ifndef NEXO_STORE_H
#define NEXO_STORE_H

#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

struct store;
struct store_file;

enum store_mode {
	STORE_WRITE, /* a writer: .state/ and .state/tmp/ are made when missing */
	STORE_READ,  /* a reader (verify, find, a dry run): nothing is created, written or removed:
		      * store_open_dir() creates no folder, store_begin()/store_put()/store_remove()
		      * fail */
};

/* Opens the archive root, which must exist and carry the marker `nexo-archive init` writes
 * (marker.h): a missing or unmarked folder is refused, never created. A writer running as root
 * into an archive another user owns is refused too (its files would be root's). Returns the
 * store, or NULL with `err` set. */
struct store *store_open(const char *root, enum store_mode mode, char *err, size_t errlen);

/* Whether it was opened STORE_READ. */
int store_readonly(const struct store *s);

/* Removes the temp files a crashed run left in .state/tmp/. Only for the holder of the run
 * lock: another run's temps are its files in flight. Returns how many were removed. */
unsigned store_clean_temps(struct store *s);
void store_close(struct store *s); /* NULL is a no-op */

int store_root_fd(const struct store *s);
const char *store_root_path(const struct store *s);

/* Opens folder `reldir` ("2021/05/07", "manifest", ".state"), each component relative to the
 * previous one without following symlinks; with `create` (ignored by a STORE_READ store),
 * missing components are made (0750) and their parents fsynced. Returns an fd the caller closes, or -1 with `err` set (for a
 * missing folder without `create`: errno ENOENT). */
int store_open_dir(struct store *s, const char *reldir, int create, char *err, size_t errlen);

/* Opens `name` in folder `dirfd` for reading, as a regular file only: a symlink is not
 * followed, and a FIFO or device (which could hang a run holding the lock) is refused without
 * blocking. Returns the fd, or -1 with errno set (ENOENT when absent; EINVAL when not a
 * regular file). */
int store_open_regular(int dirfd, const char *name);

/* Reads at most `cap` bytes of `name` (opened as store_open_regular() does) into `buf`.
 * Returns how many, or -1 with errno set (ENOENT when absent). */
ssize_t store_read_regular(int dirfd, const char *name, void *buf, size_t cap);

/* What an open or read of store_open_regular()/store_read_regular() failing with errno `e`
 * means, for a message ("not a regular file" for EINVAL). */
const char *store_open_error(int e);

/* A manifest `file` ("YYYY/MM/DD/name") split into its folder (into `dir`) and its name
 * (*name points into `file`); refuses what could leave the archive (absolute, "..", no
 * folder, no name). Returns 0 or -1. */
int store_split_file(const char *file, char *dir, size_t dirlen, const char **name);

/* Several handles on one archive write at once (one per download lane, each in its own
 * threads): each gets its own lane number, which keeps their temp names apart. */
void store_set_lane(struct store *s, unsigned lane);

/* Starts writing `name` (a plain file name: no '/', not "." or "..") in `reldir` (created
 * when missing). Returns a handle, or NULL with `err`
 * set. Nothing is visible under the final name until store_commit(). */
struct store_file *store_begin(struct store *s, const char *reldir, const char *name,
			       char *err, size_t errlen);

/* Appends bytes. Returns 0, or -1 with `err` naming the file and errno (ENOSPC, EIO, ...). */
int store_write(struct store_file *f, const void *buf, size_t len, char *err, size_t errlen);

/* Writes out what is buffered and gives the write buffer back to the store, in the thread
 * that began the file. After this, only store_open_temp(), store_commit() and store_abandon()
 * may follow, and they may run in another thread (the store itself is not thread-safe; a
 * finished file no longer touches it). Returns 0, or -1 with `err` set (then abandon it). */
int store_finish_writing(struct store_file *f, char *err, size_t errlen);

/* A new read-only fd of the file being written (its temp), to read it back before it is
 * committed. Returns the fd (the caller closes it), or -1 with errno set. */
int store_open_temp(const struct store_file *f);

/* Makes it durable and visible: fsync, close, rename over `name`, fsync the folder. Always
 * frees `f`. Returns 0, or -1 with `err` set and the temp removed (a failed fsync is not
 * retried: its pages may already be marked clean). */
int store_commit(struct store_file *f, char *err, size_t errlen);

/* How store_commit_new() names a new file of the archive (a recording). */
struct store_naming {
	/* The `attempt`-th candidate name (0 first) into `out`. Returns 0, or -1 when there is
	 * none left. */
	int (*name)(void *ctx, unsigned attempt, char *out, size_t outlen);
	void *ctx;
};

#define STORE_NAME_ATTEMPTS 64

/* store_commit() for a new file of the archive, which never replaces anything: the rename is
 * renameat2(RENAME_NOREPLACE) (link + unlink where the file system lacks it) to the first
 * candidate name that is free. (What an interrupted run committed and never recorded is
 * removed before the next run writes: leftover.h.) The name used is copied to `used`. Always
 * frees `f`. Returns 0, or -1 with `err` set (the temp removed). */
int store_commit_new(struct store_file *f, const struct store_naming *naming, char *used,
		     size_t usedlen, char *err, size_t errlen);

/* Drops an unfinished file: its temp is removed. NULL is a no-op. Always frees `f`. */
void store_abandon(struct store_file *f);

/* Removes `reldir/name` (not following links) and fsyncs the folder. Returns 0, or -1 with
 * `err` set; a name already gone counts as removed. */
int store_remove(struct store *s, const char *reldir, const char *name, char *err,
		 size_t errlen);

/* Writes `len` bytes as the file `path` outside the archive (a witness, a metrics file) the
 * way the archive writes its own: a temp beside it ("PATH.PID.tmp": no suffix a reader
 * globs), fsync, rename over `path`, folder fsync. Returns 0, or -1 with `err` naming the file
 * and the errno text (the temp removed). */
int store_put_file(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* Writes `len` bytes as `reldir/name` in one commit. Returns 0, or -1 with `err` set. */
int store_put(struct store *s, const char *reldir, const char *name, const void *data,
	      size_t len, char *err, size_t errlen);

#endif
