/* recpath.h — a PBX recording path → where it lives in the archive. Pure.
 *
 * The PBX names recordings "YYYYMMDD/YYYYMMDD-HHMMSS-unixtime-Type-[trunk-]src-dst.wav". The
 * path is hostile input: it decides a local file name. Only two things of it are used: the base
 * name, which must be printable ASCII without '/', '\\', control characters or a leading '.',
 * end in ".wav" and be at most 200 bytes; and the day, taken from the folder holding the file
 * when that is a real "YYYYMMDD" date, else from the name's "YYYYMMDD-" prefix (a path with
 * neither is refused). Folders above it are tolerated (a PBX may list its full disk path) but
 * never used, and a ".." anywhere is refused. */
#ifndef NEXO_RECPATH_H
#define NEXO_RECPATH_H

#include <stddef.h>

#define RECPATH_NAME_MAX 200

struct recpath {
	char day[11];                     /* "YYYY-MM-DD" */
	char dir[11];                     /* "YYYY/MM/DD" */
	char name[RECPATH_NAME_MAX + 1];  /* base name, e.g. "20210329-...-820(102).wav" */
};

/* Returns 0 with `out` filled, -1 with `err` naming what is wrong. */
int recpath_parse(const char *pbx_path, struct recpath *out, char *err, size_t errlen);

/* The base name of a PBX path (after the last '/'); points into `pbx_path`. */
const char *recpath_basename(const char *pbx_path);

#endif
