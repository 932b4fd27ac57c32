/* head.h — the signed head across manifest days: manifest/heads/SEQ.json (+ .minisig).
 *
 * A day's signature proves one day; nothing in it says which days exist or how long each
 * was. A head does: every day the archive has, with its line count and the hash of that
 * line (the head of its chain), a sequence number that only grows, and the hash of the head
 * before it. A run writes the next head after it signed the days it changed; the days it did
 * not touch are copied from the previous head, never read back from disk, so a day that was
 * deleted, cut, or rolled back to an older signed state stays a finding (verify) and is never
 * added to again (the run's append guard) whatever its own signature says.
 *
 * Files (docs/manifest.md, "Heads"):
 *   manifest/heads/SEQ.json          the head, SEQ 12 digits; the newest two are kept
 *   manifest/heads/SEQ.json.minisig  its signature, written *before* the head, so a head
 *                                    without one was never ours (or lost it to a person)
 *   manifest/heads/history.jsonl     one chained line per head ever written
 * Signing is optional: without a key heads are written unsigned and still catch a day cut or
 * removed by mistake. */
#ifndef NEXO_HEAD_H
#define NEXO_HEAD_H

#include <stddef.h>
#include "crypto/hash.h"

struct store;
struct manifest;
struct minisign_secret;
struct minisign_public;

#define HEAD_FORMAT "nexo-archive-head/1"
#define HEAD_FILE_MAX (16u << 20) /* 16 MiB: some 180 000 days */

struct head_day {
	char day[11];                     /* "YYYY-MM-DD" */
	unsigned long lines;              /* lines the day held (>= 1) */
	char last[SHA256_HEX_LEN + 1];    /* SHA-256 of line `lines`, without its newline */
};

struct head {
	unsigned long long seq;           /* 0: there is no head (yet) */
	char time[32];                    /* when it was written, UTC, ISO 8601 */
	char prev[SHA256_HEX_LEN + 1];    /* SHA-256 of the previous head's file; "" the first */
	char sha256[SHA256_HEX_LEN + 1];  /* of this head's file, as read or written */
	int is_signed;                    /* it has a signature, and it verified */
	struct head_day *days;            /* sorted by day, unique */
	size_t n, cap;
	int dirty;                        /* days changed since it was loaded */
	unsigned long long newest_seq;    /* the highest SEQ among the files, even unusable */
};

/* Parses a head file's content (`len` bytes, not NUL-terminated) into `h` (zeroed first).
 * Returns 0, or -1 with `err` naming what is wrong: not JSON, another format, a field
 * missing or of the wrong type, a day that is not a calendar day, days out of order or
 * repeated, a line count of 0, a hash that is not 64 hex digits. Free with head_release(). */
int head_parse(const char *buf, size_t len, struct head *h, char *err, size_t errlen);

/* The content of head `h`'s file (what head_parse reads back into the same head), malloc'd,
 * its length in `*len`; NULL when out of memory. */
char *head_format(const struct head *h, size_t *len);

/* Frees what `h` holds and zeroes it (a zeroed head: no head). */
void head_release(struct head *h);

/* The entry of `day`, or NULL when the head does not list it. */
const struct head_day *head_find(const struct head *h, const char *day);

/* Loads the newest head of the archive into `h`. With `npk` > 0 keys its signature must
 * verify under one of them; an unsigned head is accepted only when `npk` is 0 (or, with
 * `unsigned_ok`, always: a run that signs now may follow runs that did not). Returns 0
 * loaded, 1 there is none (h zeroed), 2 the newest head is not to be trusted (`why`: unsigned
 * among signed heads or where day signatures name heads, a bad signature, unparsable, older
 * than the history says: a rollback; or there is none while the history or a day signature
 * names one: heads removed), -1 it cannot be read (`why` set). */
int head_load(struct store *s, const struct minisign_public *const *pk, size_t npk,
	      int unsigned_ok, struct head *h, char *why, size_t whylen);

/* Where day `d->day` stands against its head entry: 0 its file holds line `d->lines` and that
 * line hashes to `d->last` (lines after it are newer than the head); 2 it does not (`why`
 * says how: the file is missing, holds fewer lines, or another line: rewritten or rolled
 * back); -1 it cannot be read (`why` set). */
int head_check_day(struct store *s, const struct head_day *d, char *why, size_t whylen);

/* The line count and last-line hash of manifest/DAY.jsonl as it is on disk. Returns 0, 1 when
 * the file is missing or empty, -1 when it cannot be read (`why` set). */
int head_day_tip(struct store *s, const char *day, unsigned long *lines,
		 char last[SHA256_HEX_LEN + 1], char *why, size_t whylen);

/* Records in `h` the days `m` appended to (their new line counts and last lines). Returns 0,
 * or -1 out of memory (printed). */
int head_note_changed(struct head *h, struct manifest *m);

/* Records day `day` at (`lines`, `last`). Returns 0, or -1 out of memory (printed). */
int head_note_day(struct head *h, const char *day, unsigned long lines, const char *last);

/* Writes the next head when `h` changed (or there was none, or it is unsigned and `k` can
 * sign it): first every manifest day file `h` does not list yet is added at its state on
 * disk (the first head of an archive; a day a crashed run began), then SEQ+1's signature
 * (with `k`; NULL: unsigned), the head, its history line, and the heads older than the
 * previous one are removed. `h` becomes the head written. Returns 0 (also when nothing
 * changed), or -1 with the message printed (the previous head stays the newest). */
int head_write(struct store *s, struct head *h, const struct minisign_secret *k);

/* Reads a head file outside the archive (a witness: `path`, not following a last symlink,
 * regular files only) into a malloc'd `*buf`. Returns 0, 1 when it does not exist, -1 with
 * `err` set. */
int head_read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen);

/* Writes `h` as its head file to `path` outside the archive, atomically (temp beside it,
 * fsync, rename, folder fsync). Returns 0, or -1 with `err` set. */
int head_save_copy(const struct head *h, const char *path, char *err, size_t errlen);

/* Whether any day signature names a head newer than `h` (mansig_newest_head_named): heads
 * removed or rolled back. Reads every day's signature: for verify. Returns 0, or 2 (`why`). */
int head_check_named(struct store *s, const struct head *h, char *why, size_t whylen);

/* Checks manifest/heads/history.jsonl against head `h` (headlog_check). Returns 0 fine, 1 no
 * history, 2 broken (`why`), -1 unreadable (`why`). */
int head_check_history(struct store *s, const struct head *h, char *why, size_t whylen);

#endif
