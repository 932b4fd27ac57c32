/* hold.h — legal holds: recordings that prune must keep and forget must not erase.
 *
 * Holds live in the archive itself, as ARCHIVE/holds.json (a JSON array, rewritten whole and
 * atomically through store.c), so they travel with the archive and its backups. A hold names
 * recordings by a phone number (the entry's src or dst), by a range of call days, or by a glob
 * over the manifest's `file` or `pbx_path`. Removing a hold does not delete it: it is marked
 * removed (by whom, when), so the file is the audit trail of every hold ever placed. This module
 * owns the file's format and the matching rules; it never takes the run lock (the caller does)
 * and never prints: errors come back in `err`. */
#ifndef NEXO_HOLD_H
#define NEXO_HOLD_H

#include <stddef.h>

struct store;
struct manifest_entry;
struct holds;

#define HOLDS_FILE "holds.json"
#define HOLDS_FILE_MAX (16u << 20) /* a longer holds.json is refused */
#define HOLD_ID_MAX 16
#define HOLD_VALUE_MAX 512         /* a number or a glob */
#define HOLD_TEXT_MAX 1024         /* reason */
#define HOLD_WHO_MAX 256
#define HOLD_TIME_LEN 20           /* "2026-11-26T02:30:12Z" */

enum hold_kind {
	HOLD_NUMBER, /* `value`: src or dst is it, or carries it in parentheses ("620(202)") */
	HOLD_RANGE,  /* `from`..`to`: the call's day ("YYYY-MM-DD") is within, inclusive */
	HOLD_PATH,   /* `value`: fnmatch(value, file or pbx_path, 0) */
};

struct hold {
	char id[HOLD_ID_MAX];                  /* "h1", "h2", ...: never reused */
	enum hold_kind kind;
	char value[HOLD_VALUE_MAX];            /* HOLD_NUMBER, HOLD_PATH */
	char from[11], to[11];                 /* HOLD_RANGE */
	char reason[HOLD_TEXT_MAX];
	char who[HOLD_WHO_MAX];                /* "alice", or "root (sudo by alice)" */
	char created[HOLD_TIME_LEN + 1];       /* UTC, ISO 8601 */
	int removed;                           /* 1: no longer in force (kept for the record) */
	char removed_by[HOLD_WHO_MAX];
	char removed_at[HOLD_TIME_LEN + 1];
};

/* Reads ARCHIVE/holds.json (a missing file is an empty set). Returns the set for holds_free, or
 * NULL with `err` set when the file cannot be read or is malformed (a hold we cannot read is
 * a hold we cannot honour: callers that delete must stop). */
struct holds *holds_load(struct store *s, char *err, size_t errlen);

/* An empty set, as for an archive without holds.json. NULL when out of memory. */
struct holds *holds_new(void);
void holds_free(struct holds *h); /* NULL is a no-op */

/* Every hold ever placed, removed ones included, in the order they were added. */
size_t holds_count(const struct holds *h);
const struct hold *holds_at(const struct holds *h, size_t i);

/* The first hold in force that covers `e`, or NULL when none does. */
const struct hold *hold_match(const struct holds *h, const struct manifest_entry *e);

/* Whether `hold` (in force or not) covers `e`. */
int hold_covers(const struct hold *hold, const struct manifest_entry *e);

/* Adds a hold of `kind`: `value` is the number or the glob (NULL for a range), `from` and `to`
 * the days of a range ("YYYY-MM-DD", from <= to; NULL otherwise). The id, `who` (as given:
 * see holds_whoami) and the creation time are set here. Returns the new hold (valid until the
 * set changes or is freed), or NULL with `err` set (a malformed value, a missing reason, out
 * of memory). Nothing reaches the disk before holds_save(). */
const struct hold *holds_add(struct holds *h, enum hold_kind kind, const char *value,
			     const char *from, const char *to, const char *reason,
			     const char *who, char *err, size_t errlen);

/* Marks hold `id` removed by `who`, now. Returns 0, 1 when no hold has that id, 2 when it was
 * already removed (nothing changes then). */
int holds_remove(struct holds *h, const char *id, const char *who);

/* Writes the whole set as ARCHIVE/holds.json in one commit (temp, fsync, rename, fsync).
 * Returns 0, or -1 with `err` set (the old file is then intact). */
int holds_save(const struct holds *h, struct store *s, char *err, size_t errlen);

/* The set as the JSON text holds_save writes (malloc'd, NUL-terminated; the caller frees it),
 * or NULL when out of memory. */
char *holds_to_json(const struct holds *h);

/* Who is acting, for the record: the name of the real uid (getpwuid; the number if it has no
 * name), plus " (sudo by NAME)" when $SUDO_USER is set. */
void holds_whoami(char *out, size_t outlen);

/* The kind's name in holds.json: "number", "range", "path". */
const char *hold_kind_name(enum hold_kind kind);

#endif
