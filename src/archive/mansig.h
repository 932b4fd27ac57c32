/* mansig.h — minisign signatures of manifest day files: manifest/DAY.jsonl.minisig.
 *
 * A signature covers the whole day file as it is on disk; its trusted comment names the file,
 * its line count, the SHA-256 of its last line (the head of its hash chain) and the newest
 * head (head.h) the signer had checked, so an auditor with `minisign -V` alone learns which
 * state of the file was signed. Written atomically
 * through store.c after every run (or prune, or forget) that changed the file. */
#ifndef NEXO_MANSIG_H
#define NEXO_MANSIG_H

#include <stddef.h>

struct store;
struct manifest;
struct minisign_secret;
struct minisign_public;

/* Signs every day file `m` appended to since it last signed it (a run signs after each
 * commit). The trusted comment also names `head`: the newest head the signer had checked (a
 * signature naming a head the archive no longer has shows heads removed or rolled back).
 * Returns the number of files that could not be signed (each reported; tried again next
 * time), 0 when all were. */
int mansig_sign_changed(struct store *s, struct manifest *m, const struct minisign_secret *k,
			unsigned long long head);

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
 * would bless the change. Lines after the signed part are signed with the day's next lines only
 * when each is an "archived" line whose file is there with its size and hash (what a run
 * stopped between a commit and its signature leaves); any other such line is refused. With
 * `head`, a signature that names a head newer than `head_seq` (the newest the archive has) is
 * refused too: heads were removed or rolled back. Returns 0 go on (also when unsigned), 2
 * refused (`why` says why), -1 when the files cannot be read (`why` set). */
int mansig_check_append(struct store *s, const char *day, const struct minisign_public *const *pk,
			size_t n, int head, unsigned long long head_seq, char *why, size_t whylen);

/* The highest head any day signature's trusted comment names ("head:K"), read without
 * checking the signatures (a hint, cheap to forge upwards, never downwards without the key);
 * `day` gets the day that names it. 0 when none names a head. */
unsigned long long mansig_newest_head_named(struct store *s, char day[11]);

#endif
