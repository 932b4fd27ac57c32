/* mansig.h — minisign signatures of manifest day files: manifest/DAY.jsonl.minisig.
 *
 * A signature covers the whole day file as it is on disk; its trusted comment names the file,
 * its line count and the SHA-256 of its last line (the head of its hash chain), so an auditor
 * with `minisign -V` alone learns which state of the file was signed. Written atomically
 * through store.c after every run (or prune, or forget) that changed the file. */
#ifndef NEXO_MANSIG_H
#define NEXO_MANSIG_H

#include <stddef.h>

struct store;
struct manifest;
struct minisign_secret;
struct minisign_public;

/* Signs every day file `m` appended to. Returns the number of files that could not be signed
 * (each reported), 0 when all were. */
int mansig_sign_changed(struct store *s, struct manifest *m, const struct minisign_secret *k);

/* Checks manifest/DAY.jsonl against manifest/DAY.jsonl.minisig. Returns 0 valid (the trusted
 * comment copied into `tc` when not NULL), 1 missing signature, 2 invalid (`why` says how),
 * -1 when the files cannot be read (`why` set). */
int mansig_verify_day(struct store *s, const char *day, const struct minisign_public *pk,
		      char *tc, size_t tclen, char *why, size_t whylen);

/* Before a run appends to day `day`: its present signature, if it has one, must still verify
 * over the lines it was made for (its trusted comment names how many; lines appended after
 * them, as a crashed run leaves them, are the next signature's), under one of the `n` keys of
 * `pk` (the run's own, then keys rotated out). A day whose signed part was changed, cut or
 * swapped, or signed by a key none of them is, is not appended to and not signed again: that
 * would bless the change. Returns 0 go on (also when unsigned), 2 refused (`why` says why),
 * -1 when the files cannot be read (`why` set). */
int mansig_check_append(struct store *s, const char *day, const struct minisign_public *const *pk,
			size_t n, char *why, size_t whylen);

#endif
