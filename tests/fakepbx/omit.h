/*
 * omit.h — recordings the listing leaves out (--list-omit, --list-omit-path):
 * a PBX whose database is out of step with its disk.
 */
#ifndef FAKEPBX_OMIT_H
#define FAKEPBX_OMIT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Fix the set once, at start: the n oldest recordings now on dir (by the
 * name's time, then path; any: the --any-folder layout) and the given
 * paths. Returns 0, or -1 (message printed).
 */
int omit_setup(const char *dir, bool any, long n, const char *const *paths, size_t npaths);

/* True when 20053 must not list path. */
bool omit_has(const char *path);

/* Free the set. */
void omit_free(void);

#endif
