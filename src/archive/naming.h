/* naming.h — what a new recording's archive file is called, and which names are taken.
 *
 * A recording is stored under recpath_file_name(): its base name for the guide's path form and
 * first version, a tagged name otherwise. The commit (store_commit_new) never replaces a file:
 * a taken name (another path whose name happens to look the same, a file committed earlier in
 * the run) moves it on to the next candidate. Filled by the sealer for each entry; copied by the
 * read-back, which commits encrypted files. */
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
};

/* The store_naming that asks `n` (which must outlive the commit). */
struct store_naming naming_for_store(struct file_naming *n);

/* The preferred name (attempt 0) into `out`. Returns 0, or -1 when it does not fit. */
int naming_first(const struct file_naming *n, char *out, size_t outlen);

#endif
