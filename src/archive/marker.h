/* marker.h — what makes a folder an archive: ROOT/.nexo-archive, written by `nexo-archive init`,
 * naming the archive's format version. Nothing else ever creates an archive root: a folder that
 * is missing (a NAS that did not mount) or unmarked (a typo in [archive] dir) is refused, so a
 * run never fills the wrong disk. Knows nothing of what is inside the archive. */
#ifndef NEXO_MARKER_H
#define NEXO_MARKER_H

#include <stddef.h>

#define MARKER_NAME ".nexo-archive"
#define MARKER_FORMAT 1 /* the layout docs/manifest.md describes */

/* Creates `root` when missing (with its parents, mode 0750) and the marker in it when absent
 * (mode 0640; written, fsynced, renamed into place, the folder fsynced). Returns 1 when it wrote
 * the marker, 0 when the folder was an archive already (its marker checked), -1 with `err` set. */
int marker_create(const char *root, char *err, size_t errlen);

/* Checks the marker in the open archive folder `rootfd` (`root` names it in messages). Returns
 * 0, or -1 with `err` set: absent (the message says to run `nexo-archive init`), not a regular
 * file, unreadable, or a format this version does not know. */
int marker_check(int rootfd, const char *root, char *err, size_t errlen);

#endif
