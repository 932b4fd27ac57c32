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
/* An archive file name: the base name, a version and path tag (recpath_file_name), ".age". */
#define RECPATH_FILE_MAX (RECPATH_NAME_MAX + 40)

struct recpath {
	char day[11];                     /* "YYYY-MM-DD" */
	char dir[11];                     /* "YYYY/MM/DD" */
	char name[RECPATH_NAME_MAX + 1];  /* base name, e.g. "20210329-...-820(102).wav" */
	int canonical;                    /* the path is exactly "YYYYMMDD/<name>" (the guide's
					   * form), its folder giving the day */
};

/* Returns 0 with `out` filled, -1 with `err` naming what is wrong. */
int recpath_parse(const char *pbx_path, struct recpath *out, char *err, size_t errlen);

/* The archive file name (in folder `rp->dir`) of version `version` (1, 2, ...) of the recording
 * at `pbx_path`, `suffix` (".age" or "") appended. Two different (path, version) pairs never get
 * the same name from the same `attempt`, so a commit that never replaces a recorded file can
 * always find one: `attempt` 0 is the preferred name, each later one another; the commit takes
 * the next when a name is taken.
 *  - the guide's form ("YYYYMMDD/NAME.wav", rp->canonical), attempt 0: "NAME.wav" for version
 *    1, "NAME.vN.wav" for version N;
 *  - any other path (more folders, a bare name), or attempt 1: "NAME.pHHHHHHHH[.vN].wav", the
 *    tag being 8 hex digits of a hash of the whole path;
 *  - attempt K >= 2: "NAME.pHHHHHHHH[.vN]-K.wav".
 * Returns 0, or -1 when `out` is too small. */
int recpath_file_name(const struct recpath *rp, const char *pbx_path, unsigned version,
		      unsigned attempt, const char *suffix, char *out, size_t outlen);

/* The base name of a PBX path (after the last '/'); points into `pbx_path`. */
const char *recpath_basename(const char *pbx_path);

#endif
