/* headlog.h — manifest/heads/history.jsonl: one line per head ever written, chained like the
 * manifest days ("prev" is the SHA-256 of the line before; of "" for the first), so the heads
 * removed over time (only the newest two are kept) stay accounted for, and a head file taken
 * away shows against a history that names a newer one. Appended with one write + fsync; a
 * torn tail is cut before the next append. */
#ifndef NEXO_HEADLOG_H
#define NEXO_HEADLOG_H

#include <stddef.h>
#include "crypto/hash.h"

struct store;

/* What a line says of one head (its "prev" is the file's business). */
struct headlog_line {
	unsigned long long seq;
	char sha256[SHA256_HEX_LEN + 1];  /* of the head's file */
	char time[32];                    /* when it was written */
	size_t days;                      /* days it lists */
	int is_signed;
};

/* The last whole line. Returns 0, 1 when there is no history, -1 when it cannot be read or
 * its last line is not a history line (`why` set). */
int headlog_tip(struct store *s, struct headlog_line *tip, char *why, size_t whylen);

/* Appends the line of a head just written. Returns 0, or -1 (printed). */
int headlog_append(struct store *s, const struct headlog_line *l);

/* When the history ends before head `l` (a run stopped between writing the head and its
 * line), appends l's line. Returns 0, or -1 (printed). */
int headlog_catch_up(struct store *s, const struct headlog_line *l);

/* Checks the whole history against the newest head `l`: each line's "prev" chains, seqs
 * grow, and the last line is `l`'s. Returns 0 fine, 1 there is no history, 2 broken (`why`
 * says where), -1 unreadable (`why` set). */
int headlog_check(struct store *s, const struct headlog_line *l, char *why, size_t whylen);

#endif
