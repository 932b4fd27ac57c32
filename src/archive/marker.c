/* marker.c — ROOT/.nexo-archive: "nexo-archive archive\nformat N\n". Read with the store's
 * rules (no symlink followed, regular files only) and written the way every file of the archive
 * is (temp, fsync, rename, folder fsync), by hand: the store opens archives through this module,
 * so this one does not call it back. */
#include "marker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#define MARKER_MAX 256
#define MARKER_TMP ".nexo-archive.tmp"

/* mkdir -p: the root's parents are the operator's choice (they may sit behind symlinks). */
static int make_path(const char *root)
{
	char buf[4096];
	size_t len = strlen(root);

	if (len == 0 || len >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, root, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

int marker_check(int rootfd, const char *root, char *err, size_t errlen)
{
	char buf[MARKER_MAX + 1];
	const char *line;
	struct stat st;
	ssize_t n;
	int fd = openat(rootfd, MARKER_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	long format;

	if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
		errno = EINVAL;
	} else if (fd < 0 && errno == ELOOP) {
		errno = EINVAL;
	}
	if (fd < 0) {
		if (errno == ENOENT)
			snprintf(err, errlen, "%s is not a nexo-archive archive (it has no %s); make it "
				 "one with 'nexo-archive init' (an archive of an older version too)",
				 root, MARKER_NAME);
		else
			snprintf(err, errlen, "%s/%s: %s", root, MARKER_NAME,
				 errno == EINVAL ? "not a regular file" : strerror(errno));
		return -1;
	}
	n = read(fd, buf, MARKER_MAX);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s/%s: %s", root, MARKER_NAME, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	line = strstr(buf, "\nformat ");
	format = line ? strtol(line + 8, NULL, 10) : 0;
	if (strncmp(buf, "nexo-archive archive\n", 21) != 0 || format < 1) {
		snprintf(err, errlen, "%s/%s is not a marker this program wrote", root, MARKER_NAME);
		return -1;
	}
	if (format > MARKER_FORMAT) {
		snprintf(err, errlen, "%s is an archive of format %ld, newer than this version knows "
			 "(%d): upgrade nexo-archive", root, format, MARKER_FORMAT);
		return -1;
	}
	return 0;
}

/* Writes the marker into `rootfd` as a commit. Returns 0, or -1 with errno set. */
static int write_marker(int rootfd)
{
	char text[64];
	int n = snprintf(text, sizeof text, "nexo-archive archive\nformat %d\n", MARKER_FORMAT);
	int fd = openat(rootfd, MARKER_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
			0640);

	if (fd < 0)
		return -1;
	if (write(fd, text, (size_t)n) != n || fsync(fd) != 0) {
		int e = errno;
		close(fd);
		unlinkat(rootfd, MARKER_TMP, 0);
		errno = e;
		return -1;
	}
	if (close(fd) != 0 || renameat(rootfd, MARKER_TMP, rootfd, MARKER_NAME) != 0 ||
	    fsync(rootfd) != 0)
		return -1;
	return 0;
}

int marker_create(const char *root, char *err, size_t errlen)
{
	int rootfd, rc;

	if (make_path(root) != 0 ||
	    (rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "archive folder %s: %s", root, strerror(errno));
		return -1;
	}
	if (faccessat(rootfd, MARKER_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		rc = marker_check(rootfd, root, err, errlen);
		close(rootfd);
		return rc;
	}
	rc = write_marker(rootfd);
	if (rc != 0)
		snprintf(err, errlen, "cannot write %s/%s: %s", root, MARKER_NAME, strerror(errno));
	close(rootfd);
	return rc == 0 ? 1 : -1;
}
