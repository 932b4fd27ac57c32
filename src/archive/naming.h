/* naming.h — what a new recording's archive file is called, and which names are taken.
 *
 * A recording is stored under recpath_file_name(): its base name for the guide's path form and
 * first version, a tagged name otherwise, so two PBX paths (or two versions of one) never share
 * a file. The commit (store_commit_new) never replaces a file a manifest line names: it asks
 * `recorded` about a taken name and moves on to the next candidate. Filled by the run for each
 * entry; copied by the sealer and the read-back, which commit. */
#ifndef NEXO_NAMING_H
#define NEXO_NAMING_H

#include "recpath.h"
#include "store.h"
#include "pbx/recording.h"

struct file_naming {
	struct recpath where;             /* day, folder, base name */
	char pbx_path[REC_PATH_MAX];
	unsigned version;                 /* 1, 2, ... of this path */
	const char *suffix;               /* ".age" or "" (static strings) */
	/* Whether `reldir/name` is recorded by the manifest (see store_naming); NULL: every taken
	 * name counts as recorded. */
	int (*recorded)(void *ctx, const char *reldir, const char *name);
	void *recorded_ctx;
};

/* The store_naming that asks `n` (which must outlive the commit). */
struct store_naming naming_for_store(struct file_naming *n);

/* The preferred name (attempt 0) into `out`. Returns 0, or -1 when it does not fit. */
int naming_first(const struct file_naming *n, char *out, size_t outlen);

#endif
