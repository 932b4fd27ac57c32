/* failpoint.h — deterministic crashes and I/O errors at named points, for tests.
 *
 * Compiled in only with -DNEXO_FAILPOINTS (the test binary build/test/nexo-archive); in the
 * real program FAILPOINT() is the constant 0 and costs nothing. In a test build:
 *   NEXO_CRASH_AT=label:N      SIGKILL at the N-th time `label` is reached (a crash, no cleanup)
 *   NEXO_FAILPOINT=label:N:ERR the N-th time `label` is reached, the operation fails with errno
 *                              ERR (a name such as EIO, ENOSPC, EROFS, EDQUOT, or a number)
 *   NEXO_FAILPOINT_LOG=FILE    appends "label N" for every point reached (to plan a crash walk)
 *   NEXO_POWER_LOSS=1          with NEXO_CRASH_AT: before the kill, undo what a power loss
 *                              would: appends not yet fsynced (half kept: a torn tail),
 *                              renames and new files whose folder was not yet fsynced
 * Labels name the step about to happen: "store.write", "store.fsync", "store.rename",
 * "store.dirfsync", "manifest.append", "manifest.fsync", "manifest.sign" (a run's signing of
 * the days a commit appended to), "checkpoint.write",
 * "retention.delete", "retention.relist", "retention.record", "readback.check" (an encrypted
 * file's read-back; the store.* points of an encrypted file's commit run on the read-back
 * thread). */
#ifndef NEXO_FAILPOINT_H
#define NEXO_FAILPOINT_H

#ifdef NEXO_FAILPOINTS
#include <sys/types.h>
/* Counts a visit of `label`; crashes when told to. Returns an errno to inject, or 0. */
int failpoint_hit(const char *label);
/* What is not durable yet, for NEXO_POWER_LOSS: */
void failpoint_rename_begin(int fromdir, const char *from, int todir, const char *to);
void failpoint_append_begin(int dir, const char *name, off_t size_before);
void failpoint_created(int dir, const char *name);
void failpoint_file_synced(int dir, const char *name);
void failpoint_dir_synced(int dir);
#define FAILPOINT(label) failpoint_hit(label)
#define FAILPOINT_RENAME_BEGIN(fd1, a, fd2, b) failpoint_rename_begin(fd1, a, fd2, b)
#define FAILPOINT_APPEND_BEGIN(fd, name, size) failpoint_append_begin(fd, name, size)
#define FAILPOINT_CREATED(fd, name) failpoint_created(fd, name)
#define FAILPOINT_FILE_SYNCED(fd, name) failpoint_file_synced(fd, name)
#define FAILPOINT_DIR_SYNCED(fd) failpoint_dir_synced(fd)
#else
#define FAILPOINT(label) 0
#define FAILPOINT_RENAME_BEGIN(fd1, a, fd2, b) ((void)0)
#define FAILPOINT_APPEND_BEGIN(fd, name, size) ((void)0)
#define FAILPOINT_CREATED(fd, name) ((void)0)
#define FAILPOINT_FILE_SYNCED(fd, name) ((void)0)
#define FAILPOINT_DIR_SYNCED(fd) ((void)0)
#endif

#endif
