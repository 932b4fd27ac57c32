/* store.c — the archive folder: opening folders without following links, and every write as a
 * commit (temp in .state/tmp, fsync, rename, folder fsync). Temps live in one folder of ours so
 * that cleaning up after a crash costs one readdir, not a walk of years of archive. */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "marker.h"
#include "base/failpoint.h"
#include "base/fdio.h"

#define TMP_DIR ".state/tmp"
#define TMP_SUFFIX ".nexo-tmp"

struct store {
	int rootfd;
	int tmpfd;
	char *root;
	unsigned seq;
	unsigned lane;             /* names this handle's temps apart from other lanes' */
	unsigned char *spare_buf;  /* a write buffer kept for the next file */
	int readonly;              /* STORE_READ: nothing is created, written or removed */
	/* The folder of the last file begun, kept open: a batch writes mostly into one day. */
	char cached_rel[64];
	int cached_fd;
};

#define WRITE_BUFFER (1u << 20)

struct store_file {
	struct store *s;
	int fd;
	int dirfd;
	unsigned char *buf;  /* writes gather here: few, large write() calls */
	size_t buffered;
	char tmp[64];
	char name[256];
	char reldir[64];     /* the folder it goes to, for store_commit_new()'s questions */
};

static void close_quietly(int fd)
{
	if (fd >= 0)
		close(fd);
}

unsigned store_clean_temps(struct store *s)
{
	int fd = dup(s->tmpfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	size_t sl = strlen(TMP_SUFFIX);
	unsigned removed = 0;

	if (!d) {
		close_quietly(fd);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l > sl && strcmp(e->d_name + l - sl, TMP_SUFFIX) == 0 &&
		    unlinkat(s->tmpfd, e->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

/* A name that stays inside its folder. */
static int plain_name(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* A writer running as root into an archive someone else owns would leave root's files, which
 * that user's later runs could not replace: refused, naming the owner. */
static int owner_ok(const struct store *s, const struct stat *st, char *err, size_t errlen)
{
	struct passwd *pw;

	if (geteuid() != 0 || st->st_uid == 0)
		return 1;
	pw = getpwuid(st->st_uid);
	if (pw)
		snprintf(err, errlen, "archive folder %s belongs to %s; as root, this would leave "
			 "files %s cannot change: run it as that user (runuser -u %s -- nexo-archive "
			 "...) or through its systemd unit", s->root, pw->pw_name, pw->pw_name,
			 pw->pw_name);
	else
		snprintf(err, errlen, "archive folder %s belongs to uid %lu; as root, this would "
			 "leave files that user cannot change: run it as that user", s->root,
			 (unsigned long)st->st_uid);
	return 0;
}

struct store *store_open(const char *root, enum store_mode mode, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof *s);
	struct stat st;

	if (!s || !(s->root = strdup(root))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->tmpfd = s->cached_fd = -1;
	s->readonly = mode == STORE_READ;
	/* Never created here: a missing root is an unmounted disk or a typo, not a new archive. */
	s->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->rootfd < 0) {
		if (errno == ENOENT)
			snprintf(err, errlen, "archive folder %s does not exist (is its disk mounted?); "
				 "nothing is created: make it with 'nexo-archive init'", root);
		else
			snprintf(err, errlen, "archive folder %s: %s", root, strerror(errno));
		store_close(s);
		return NULL;
	}
	if (marker_check(s->rootfd, root, err, errlen) != 0 || fstat(s->rootfd, &st) != 0 ||
	    (!s->readonly && !owner_ok(s, &st, err, errlen))) {
		store_close(s);
		return NULL;
	}
	if (!s->readonly && (s->tmpfd = store_open_dir(s, TMP_DIR, 1, err, errlen)) < 0) {
		store_close(s);
		return NULL;
	}
	return s;
}

int store_readonly(const struct store *s)
{
	return s->readonly;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	close_quietly(s->cached_fd);
	close_quietly(s->tmpfd);
	close_quietly(s->rootfd);
	free(s->spare_buf);
	free(s->root);
	free(s);
}

int store_root_fd(const struct store *s)
{
	return s->rootfd;
}

const char *store_root_path(const struct store *s)
{
	return s->root;
}

int store_open_dir(struct store *s, const char *reldir, int create, char *err, size_t errlen)
{
	char part[256];
	const char *p = reldir;
	int fd = dup(s->rootfd);

	if (fd < 0) {
		snprintf(err, errlen, "dup: %s", strerror(errno));
		return -1;
	}
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		int next;

		if (n == 0 || n >= sizeof part || (n <= 2 && strncmp(p, "..", n) == 0)) {
			close(fd);
			snprintf(err, errlen, "bad folder name in '%s'", reldir);
			errno = EINVAL;
			return -1;
		}
		memcpy(part, p, n);
		part[n] = '\0';
		next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create && !s->readonly) {
			if (mkdirat(fd, part, 0750) != 0 && errno != EEXIST) {
				int e = errno;
				snprintf(err, errlen, "cannot create %s/%s (in %s): %s", s->root, reldir,
					 part, strerror(e));
				close(fd);
				errno = e;
				return -1;
			}
			/* The new entry is durable only once its parent is. */
			if (fsync(fd) != 0) {
				int e = errno;
				snprintf(err, errlen, "fsync of %s/%s: %s", s->root, reldir,
					 strerror(e));
				close(fd);
				errno = e;
				return -1;
			}
			next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			int e = errno;
			snprintf(err, errlen, "cannot open %s/%s: %s%s", s->root, reldir, strerror(e),
				 e == ELOOP || e == ENOTDIR ? " (a symlink or file is in the way)" : "");
			close(fd);
			errno = e;
			return -1;
		}
		close(fd);
		fd = next;
		p += n;
		if (*p == '/')
			p++;
	}
	return fd;
}

/* An fd of `reldir` for the caller to close, through a one-entry cache of the last folder
 * (a batch writes mostly into one day): a dup, so that files in flight keep their folder
 * whatever the cache holds next. */
static int folder_fd(struct store *s, const char *reldir, char *err, size_t errlen)
{
	int fd;

	if (s->cached_fd < 0 || strcmp(s->cached_rel, reldir) != 0) {
		fd = store_open_dir(s, reldir, 1, err, errlen);
		if (fd < 0)
			return -1;
		if (strlen(reldir) >= sizeof s->cached_rel)
			return fd;
		close_quietly(s->cached_fd);
		s->cached_fd = fd;
		memcpy(s->cached_rel, reldir, strlen(reldir) + 1);
	}
	fd = dup(s->cached_fd);
	if (fd < 0)
		snprintf(err, errlen, "dup: %s", strerror(errno));
	return fd;
}

struct store_file *store_begin(struct store *s, const char *reldir, const char *name,
			       char *err, size_t errlen)
{
	struct store_file *f;

	if (s->readonly) {
		snprintf(err, errlen, "%s/%s: the archive is open read-only", reldir, name);
		errno = EROFS;
		return NULL;
	}
	f = calloc(1, sizeof *f);
	if (!f || strlen(name) >= sizeof f->name || !plain_name(name)) {
		free(f);
		snprintf(err, errlen, "'%s': not a plain file name, too long, or out of memory",
			 name);
		return NULL;
	}
	f->s = s;
	f->fd = -1;
	f->buf = s->spare_buf ? s->spare_buf : malloc(WRITE_BUFFER);
	s->spare_buf = NULL;
	if (!f->buf) {
		free(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(f->name, name, strlen(name) + 1);
	snprintf(f->reldir, sizeof f->reldir, "%s", reldir);
	f->dirfd = folder_fd(s, reldir, err, errlen);
	if (f->dirfd < 0) {
		s->spare_buf = f->buf;
		free(f);
		return NULL;
	}
	snprintf(f->tmp, sizeof f->tmp, "%ld.%u.%u" TMP_SUFFIX, (long)getpid(), s->lane, s->seq++);
	f->fd = openat(s->tmpfd, f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		       0640);
	if (f->fd < 0) {
		snprintf(err, errlen, "cannot create a temp file in %s/" TMP_DIR ": %s", s->root,
			 strerror(errno));
		close(f->dirfd);
		s->spare_buf = f->buf;
		free(f);
		return NULL;
	}
	return f;
}

/* Hands the buffer to the kernel. (Starting writeback early with sync_file_range after each
 * flush was measured: it doubled the system time here; the fsync at commit does it once.) */
static int flush(struct store_file *f, char *err, size_t errlen)
{
	int injected;

	if (!f->buffered)
		return 0;
	if ((injected = FAILPOINT("store.write")) != 0)
		errno = injected;
	if (injected || fd_write_all(f->fd, f->buf, f->buffered) != 0) {
		snprintf(err, errlen, "writing %s: %s", f->name, strerror(errno));
		return -1;
	}
	f->buffered = 0;
	return 0;
}

int store_write(struct store_file *f, const void *buf, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = buf;

	while (len > 0) {
		size_t n = WRITE_BUFFER - f->buffered < len ? WRITE_BUFFER - f->buffered : len;
		memcpy(f->buf + f->buffered, p, n);
		f->buffered += n;
		p += n;
		len -= n;
		if (f->buffered == WRITE_BUFFER && flush(f, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* Gives the write buffer back for the next file (the store's thread only). */
static void return_buffer(struct store_file *f)
{
	if (!f->buf)
		return;
	if (!f->s->spare_buf)
		f->s->spare_buf = f->buf;
	else
		free(f->buf);
	f->buf = NULL;
}

static void release(struct store_file *f)
{
	close_quietly(f->fd);
	close(f->dirfd);
	return_buffer(f);
	free(f);
}

int store_split_file(const char *file, char *dir, size_t dirlen, const char **name)
{
	const char *slash = strrchr(file, '/');

	if (!slash || file[0] == '/' || strstr(file, "..") || (size_t)(slash - file) >= dirlen ||
	    !slash[1])
		return -1;
	memcpy(dir, file, (size_t)(slash - file));
	dir[slash - file] = '\0';
	*name = slash + 1;
	return 0;
}

void store_set_lane(struct store *s, unsigned lane)
{
	s->lane = lane;
}

int store_finish_writing(struct store_file *f, char *err, size_t errlen)
{
	if (flush(f, err, errlen) != 0)
		return -1;
	return_buffer(f);
	/* Start the writeback now: the fsync at commit, later and in another thread, then
	 * finds little left to wait for. */
	sync_file_range(f->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	return 0;
}

int store_open_temp(const struct store_file *f)
{
	return openat(f->s->tmpfd, f->tmp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* The part of a commit before the rename: buffered bytes out, fsync, close. Returns 0, or -1
 * with *step naming what failed (errno set). */
static int make_durable(struct store_file *f, const char **step, char *err, size_t errlen)
{
	int injected;

	if (flush(f, err, errlen) != 0) {
		*step = NULL;
		return -1;
	}
	*step = "fsync";
	if ((injected = FAILPOINT("store.fsync")) != 0)
		errno = injected;
	if (injected || fsync(f->fd) != 0)
		return -1;
	*step = "close";
	if (close(f->fd) != 0) {
		f->fd = -1;
		return -1;
	}
	f->fd = -1;
	*step = "rename";
	if ((injected = FAILPOINT("store.rename")) != 0) {
		errno = injected;
		return -1;
	}
	return 0;
}

/* The part after the rename: the folder's fsync. Frees `f`. Returns 0 or -1 (`err` set). */
static int sync_folder(struct store_file *f, char *err, size_t errlen)
{
	int injected;

	if ((injected = FAILPOINT("store.dirfsync")) != 0)
		errno = injected;
	if (injected || fsync(f->dirfd) != 0) {
		/* The name may or may not survive a crash; the manifest will not claim it, and a
		 * later run fetches the recording again. */
		snprintf(err, errlen, "fsync of the folder of %s: %s", f->name, strerror(errno));
		release(f);
		return -1;
	}
	FAILPOINT_DIR_SYNCED(f->dirfd);
	release(f);
	return 0;
}

static int commit_failed(struct store_file *f, const char *step, char *err, size_t errlen)
{
	if (step)
		snprintf(err, errlen, "%s %s: %s", step, f->name, strerror(errno));
	unlinkat(f->s->tmpfd, f->tmp, 0);
	release(f);
	return -1;
}

int store_commit(struct store_file *f, char *err, size_t errlen)
{
	const char *step;

	if (make_durable(f, &step, err, errlen) != 0)
		return commit_failed(f, step, err, errlen);
	FAILPOINT_RENAME_BEGIN(f->s->tmpfd, f->tmp, f->dirfd, f->name);
	if (renameat(f->s->tmpfd, f->tmp, f->dirfd, f->name) != 0)
		return commit_failed(f, "rename", err, errlen);
	return sync_folder(f, err, errlen);
}

/* rename(2) that fails with EEXIST rather than replace: renameat2(RENAME_NOREPLACE), or, on a
 * file system without it, link + unlink (which cannot replace either). Returns 0 or -1. */
static int rename_new(int fromfd, const char *from, int tofd, const char *to)
{
	if (renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
		return -1;
	if (linkat(fromfd, from, tofd, to, 0) != 0)
		return -1;
	unlinkat(fromfd, from, 0);
	return 0;
}

int store_commit_new(struct store_file *f, const struct store_naming *naming, char *used,
		     size_t usedlen, char *err, size_t errlen)
{
	const char *step;

	if (make_durable(f, &step, err, errlen) != 0)
		return commit_failed(f, step, err, errlen);
	for (unsigned attempt = 0;; attempt++) {
		if (attempt >= STORE_NAME_ATTEMPTS ||
		    naming->name(naming->ctx, attempt, f->name, sizeof f->name) != 0) {
			snprintf(err, errlen, "no free name in %s for a new file (last tried %s)",
				 f->reldir, f->name);
			return commit_failed(f, NULL, err, errlen);
		}
		struct stat st;
		if (fstatat(f->dirfd, f->name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			continue; /* taken: never replaced, the next name */
		if (errno != ENOENT)
			return commit_failed(f, "stat of the target of", err, errlen);
		FAILPOINT_RENAME_BEGIN(f->s->tmpfd, f->tmp, f->dirfd, f->name);
		if (rename_new(f->s->tmpfd, f->tmp, f->dirfd, f->name) == 0)
			break;
		if (errno != EEXIST)
			return commit_failed(f, "rename", err, errlen);
		/* taken since the stat (another lane): the next name */
	}
	snprintf(used, usedlen, "%s", f->name);
	return sync_folder(f, err, errlen);
}

void store_abandon(struct store_file *f)
{
	if (!f)
		return;
	unlinkat(f->s->tmpfd, f->tmp, 0);
	release(f);
}

int store_put(struct store *s, const char *reldir, const char *name, const void *data,
	      size_t len, char *err, size_t errlen)
{
	struct store_file *f = store_begin(s, reldir, name, err, errlen);

	if (!f)
		return -1;
	if (store_write(f, data, len, err, errlen) != 0) {
		store_abandon(f);
		return -1;
	}
	return store_commit(f, err, errlen);
}

int store_remove(struct store *s, const char *reldir, const char *name, char *err,
		 size_t errlen)
{
	int fd, rc = 0;

	if (!plain_name(name) || s->readonly) {
		snprintf(err, errlen, "'%s': %s", name,
			 s->readonly ? "the archive is open read-only" : "not a plain file name");
		return -1;
	}
	fd = folder_fd(s, reldir, err, errlen);
	if (fd < 0)
		return -1;
	if (unlinkat(fd, name, 0) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove %s/%s: %s", reldir, name, strerror(errno));
		rc = -1;
	} else if (fsync(fd) != 0) {
		snprintf(err, errlen, "fsync of %s: %s", reldir, strerror(errno));
		rc = -1;
	}
	close(fd);
	return rc;
}

int store_open_regular(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

ssize_t store_read_regular(int dirfd, const char *name, void *buf, size_t cap)
{
	int fd = store_open_regular(dirfd, name), e;
	size_t got = 0;
	ssize_t n = 0;

	if (fd < 0)
		return -1;
	while (got < cap && (n = read(fd, (char *)buf + got, cap - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	e = errno;
	close(fd);
	errno = e;
	return n < 0 ? -1 : (ssize_t)got;
}

const char *store_open_error(int e)
{
	return e == EINVAL ? "not a regular file" : strerror(e);
}

int store_put_file(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	char tmp[4200], dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, dfd;

	if (strlen(path) >= sizeof dir) {
		snprintf(err, errlen, "%.64s...: path too long", path);
		return -1;
	}
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	if (slash == path)
		snprintf(dir, sizeof dir, "/");
	snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fd_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
}
