/* verify_internal.h — what verify.c (the walk: day by day, entry by entry), verify_days.c (which
 * days there are to look at) and verify_heads.c (signatures, the head and the witness) share:
 * the audit's state. Not a public header: nothing outside archive/verify*.c includes it. */
#ifndef NEXO_VERIFY_INTERNAL_H
#define NEXO_VERIFY_INTERNAL_H

#include <dirent.h>
#include <stddef.h>
#include <sys/types.h>

#include "head.h"
#include "verify.h"
#include "wav.h"

struct manifest;

/* A sorted list of day names ("YYYY-MM-DD") with what exists for each. */
enum { HAS_MANIFEST = 1, HAS_SIGNATURE = 2, HAS_FOLDER = 4, HAS_HEAD = 8 };
struct day_item {
	char day[11];
	int has;
};

struct days {
	struct day_item *v;
	size_t n, cap;
};

struct vctx {
	struct store *s;
	const struct verify_options *o;
	verify_finding_fn fn;
	void *fnctx;
	struct verify_report *rep;
	struct sha256 *hash;
	unsigned char *buf;
	unsigned long index;         /* live entries seen so far: the sampling counter */
	const char **files;          /* the current day's entries' files, sorted */
	size_t nfiles, capfiles;
	char dir[16];                /* the folder `dirfd` is open on */
	int dirfd;
	int dir_missing;
	struct wav_check wav;        /* deep: the plaintext's WAV check */
	struct head head;            /* the newest head (seq 0: none usable) */
	int oom;
};

/* Counts a finding and hands it to the caller's callback: `path` relative to the archive root,
 * the reason formatted from `fmt`. */
void verify_finding(struct vctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- verify_days.c: the days to look at ---- */

/* Whether `day` ("YYYY-MM-DD") lies within the options' from/to bounds. */
int verify_in_range(const struct verify_options *o, const char *day);

/* Adds `has` (HAS_*) to `day` in `d`, adding the day when it is new. 0, or -1 out of memory. */
int verify_days_add(struct days *d, const char *day, int has);

/* Sorts `d` by day. */
void verify_days_sort(struct days *d);

/* What a file of mode `m` that is no regular file is, in words ("a symbolic link"). */
const char *verify_type_name(mode_t m);

/* Opens `rel` under dirfd as a folder, without following links. NULL with errno otherwise. */
DIR *verify_open_sub(int dirfd, const char *rel);

/* Lists into `d` (unsorted) the days within range that have a manifest (from `m`), a
 * signature or a YYYY/MM/DD folder, reporting strays of the date tree as findings; sets
 * c->oom when out of memory. Returns 0, or -1 when the manifest or the archive root cannot be
 * listed (printed). */
int verify_days_list(struct vctx *c, struct manifest *m, struct days *d);

/* ---- verify_heads.c: signatures, the head across days, the witness ---- */

/* Checks the day's minisign signature with c->o->pk, and that its trusted comment names the
 * day's line count and last line. Findings only. */
void verify_check_signature(struct vctx *c, const char *day);

/* The day against the newest head (c->head): a day the head lists may grow, never shrink or
 * change. Findings only. */
void verify_check_head_day(struct vctx *c, const char *day);

/* Loads the newest head into c->head, checks it and its history (and the witness, when one is
 * given), and adds its days to `d`. Findings only; c->oom set when out of memory. */
void verify_check_heads(struct vctx *c, struct days *d);

#endif
