/* manifest_internal.h — what manifest.c (the handle, and each day loaded into an index) shares
 * with manifest_append.c (queueing lines and committing them): the handle, a day's state, and
 * the index operations a commit applies. Not a contract for any other module; that is
 * manifest.h. */
#ifndef NEXO_MANIFEST_INTERNAL_H
#define NEXO_MANIFEST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "manifest.h"

struct change;

struct manifest_day {
	char name[11];
	struct manifest_entry *entries;
	size_t n, cap;
	uint32_t *slots;        /* open addressing: entry index + 1, 0 = empty */
	size_t nslots;
	off_t good_len;         /* bytes of whole, valid lines in the file */
	int torn;               /* the file has a torn tail beyond good_len */
	int exists;
	int changed;            /* appended to by this handle */
	int unsigned_lines;     /* appended to since manifest_each_unsigned() last saw it */
	int guarded;            /* the append guard said: 0 not asked yet, 1 go on, -1 refused */
	size_t lines;           /* whole lines in the file */
	int broken;             /* unreadable or corrupt: said once, then refused quietly */
	char error[256];        /* why it is broken */
	char last_hash[SHA256_HEX_LEN + 1];    /* hash of the last committed line */
	char pending_hash[SHA256_HEX_LEN + 1]; /* ... of the last queued line */
	struct manifest_day_cdr cdr; /* its "cdr_archived" / "cdr_deleted" lines */
	char *pending;          /* queued lines, '\n'-terminated */
	size_t pending_len, pending_cap, pending_lines;
	struct manifest_day *next;
};

struct manifest {
	struct store *store;
	int dirfd;
	struct sha256 *hash;
	struct manifest_day *days;
	struct change *changes;
	size_t nchanges, capchanges;
	int (*guard)(void *ctx, const char *day); /* manifest_set_append_guard() */
	void *guard_ctx;
	void (*committed)(void *ctx, struct manifest *m); /* manifest_set_commit_hook() */
	void *committed_ctx;
};

/* The events of enum manifest_mark's lines, by mark. */
extern const char *const manifest_mark_event[4];

/* The hex SHA-256 of one line (without its newline): what the next line's "prev" names. */
void manifest_line_hash(struct manifest *m, const char *line, size_t len,
			char out[SHA256_HEX_LEN + 1]);

/* The day's state ("YYYY-MM-DD"), loading it on first use. Returns it, or NULL when it cannot
 * be loaded (printed once; manifest_day_error() says why). */
struct manifest_day *manifest_get_day(struct manifest *m, const char *day);

/* Forgets every loaded day (and its queued lines): the next use reloads from the files. */
void manifest_drop_days(struct manifest *m);

/* The day's latest entry for `pbx_path`, or NULL. */
struct manifest_entry *manifest_day_find(struct manifest_day *d, const char *pbx_path);

/* The day's entry for `pbx_path` whose file is `file` (any version), or NULL. */
struct manifest_entry *manifest_day_find_file(struct manifest_day *d, const char *pbx_path,
					      const char *file);

/* Adds `e` as the latest entry of e->pbx_path (earlier versions stay). Returns 0 or -1 (out of
 * memory). */
int manifest_day_put(struct manifest_day *d, const struct manifest_entry *e);

/* A "cdr_archived" or "cdr_deleted" line `o` (its `event`) → the day's CDR state `st`; other
 * events change nothing. */
void manifest_day_cdr_apply(struct manifest_day_cdr *st, const char *event,
			    struct json_object *o);

#endif
