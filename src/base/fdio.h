/* fdio.h — the two file-descriptor chores every writer repeats: write all of a buffer, and
 * make a new name durable by syncing the folder that holds it. */
#ifndef NEXO_FDIO_H
#define NEXO_FDIO_H

#include <stddef.h>

/* write() of all `len` bytes to `fd`, resuming after EINTR and short writes. Returns 0, or -1
 * with errno set (EIO when the kernel takes nothing without saying why). */
int fd_write_all(int fd, const void *buf, size_t len);

/* fsync of the folder that holds `path` ("." for a bare name), so a file just created or
 * renamed there survives a crash. A filesystem that cannot sync folders (EINVAL) counts as
 * done. Returns 0, or -1 with errno set. */
int fsync_parent(const char *path);

#endif
