/*
 * wavcache.h — remembered WAV durations, so a re-scan of 100,000
 * recordings costs one stat per file instead of open+read+close.
 *
 * An entry is only trusted while the file's inode, size, mtime and ctime
 * are unchanged, so a test that rewrites, truncates or replaces a file
 * (even in place) is seen at once. Thread-safe.
 */
#ifndef FAKEPBX_WAVCACHE_H
#define FAKEPBX_WAVCACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* True (and *secs set) when path was stored with the same identity as st. */
bool wcache_get(const char *path, const struct stat *st, uint32_t *secs);

/* Remember secs for path as described by st; on allocation failure the
 * entry is just not cached. */
void wcache_put(const char *path, const struct stat *st, uint32_t secs);

/* Forget everything and free the table (at shutdown). */
void wcache_clear(void);

#endif
