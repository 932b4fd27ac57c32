/* failpoint.h — deterministic crashes and I/O errors at named points, for tests.
 *
 * Compiled in only with -DNEXO_FAILPOINTS (the test binary build/test/nexo-archive); in the
 * real program FAILPOINT() is the constant 0 and costs nothing. In a test build:
 *   NEXO_CRASH_AT=label:N      SIGKILL at the N-th time `label` is reached (a crash, no cleanup)
 *   NEXO_FAILPOINT=label:N:ERR the N-th time `label` is reached, the operation fails with errno
 *                              ERR (a number, e.g. 5 for EIO, 28 for ENOSPC)
 *   NEXO_FAILPOINT_LOG=FILE    appends "label N" for every point reached (to plan a crash walk)
 * Labels name the step about to happen: "store.write", "store.fsync", "store.rename",
 * "store.dirfsync", "manifest.append", "manifest.fsync", "checkpoint.write",
 * "retention.delete", "retention.relist", "retention.record". */
#ifndef NEXO_FAILPOINT_H
#define NEXO_FAILPOINT_H

#ifdef NEXO_FAILPOINTS
/* Counts a visit of `label`; crashes when told to. Returns an errno to inject, or 0. */
int failpoint_hit(const char *label);
#define FAILPOINT(label) failpoint_hit(label)
#else
#define FAILPOINT(label) 0
#endif

#endif
