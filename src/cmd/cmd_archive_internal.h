/* cmd_archive_internal.h — what the commands on the archive alone (cmd_verify.c, cmd_prune.c,
 * cmd_hold.c, and find.c) share: restarting getopt, usage errors, day arguments, opening the
 * archive, the run lock and the signing keys of the config. Not a contract for any other
 * module; the commands' own is cmd_archive.h. Every function prints its own message. */
#ifndef NEXO_CMD_ARCHIVE_INTERNAL_H
#define NEXO_CMD_ARCHIVE_INTERNAL_H

struct config;
struct minisign_public;
struct minisign_secret;
struct store;

#define CMD_ESC 4096 /* an escaped path or reason: up to 4 bytes per byte */

/* Restarts getopt on a command's argv (optind = 0: see cmd_archive.c). */
void cmd_restart_getopt(void);

/* Prints `usage` on stderr. Returns EXIT_USAGE. */
int cmd_usage_error(const char *usage);

/* Whether `s` is a day "YYYY-MM-DD" (a real date). Returns 1 or 0. */
int cmd_valid_day(const char *s);

/* Opens the archive for writing (they all write: holds, prunes, verify's sample), which must
 * exist and be marked already: these commands never create one. Returns the store (the caller
 * closes it), or NULL (printed: dir not set, missing or unmarked, owned by another user while
 * we are root, store error). */
struct store *cmd_open_archive(const struct config *cfg);

/* Takes the run lock on `s`; `what` ends the message when another process holds it ("... holds
 * the lock on DIR; WHAT later"). Returns the fd to keep (the caller closes it), or
 * -EXIT_LOCKED / -EXIT_STORAGE (printed). */
int cmd_lock(const struct config *cfg, struct store *s, const char *what);

/* [signing] public_key_file, when set. Returns 0 (*pk NULL when unset; else the caller frees
 * it) or -1 (printed). */
int cmd_load_public(const struct config *cfg, struct minisign_public **pk);

/* The keys of a command that changes manifest days: the secret key to re-sign them (*k NULL
 * when unset, with a warning if a public key is set) and, when set, the public key to check a
 * day's signature before touching it. Returns 0 (the caller frees both) or -1 (printed;
 * nothing left loaded). */
int cmd_load_keys(const struct config *cfg, struct minisign_secret **k,
		  struct minisign_public **pk);

/* verify --offsite (cmd_offsite.c): the bucket against the manifests of `s` — every file the
 * manifests record as offsite is listed there with its size (--deep: downloaded and hashed),
 * every file without a confirmed copy is a finding, each day's manifest and signature and the
 * newest head are there as they are here, and a bucket whose newest head is newer than this
 * host's is a rollback finding. Each finding goes to `finding`; *findings counts them. Returns
 * 0, or an exit code (printed): 2 no [offsite], 4 unreachable, 5 keys refused, 6 storage. */
int cmd_verify_offsite(const struct config *cfg, struct store *s, int deep,
		       void (*finding)(void *ctx, const char *path, const char *reason), void *ctx,
		       unsigned long *findings);

#endif
