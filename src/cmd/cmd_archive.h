/* cmd_archive.h — the commands that work on the archive alone, without the PBX: verify,
 * prune, hold and forget. Each takes the loaded config and the argv of its command (argv[0] is
 * the command's name; options are parsed with getopt_long after resetting optind), prints its
 * own output (findings and summaries on stdout, messages through log.c on stderr) and returns
 * the exit code for main to return; none of them exits.
 *
 * Exit codes: 0 ok; 1 findings or partial (verify found something, forget refused or found
 * nothing, prune skipped an unusable day); 2 usage or config error; 3 the run lock is held;
 * 6 the archive cannot be read or written. -h/--help prints the command's usage on stdout and
 * returns 0.
 *
 * Written in cmd_verify.c (verify), cmd_prune.c (prune, forget) and cmd_hold.c (hold); what
 * they share is in cmd_archive.c (cmd_archive_internal.h).
 *
 * Note for main: a global --dry-run before the command is main's; `prune` takes its own
 * `--dry-run` after the command name, so main must not swallow it silently (refuse a global
 * --dry-run with prune/forget/hold, or pass it on in argv). */
#ifndef NEXO_CMD_ARCHIVE_H
#define NEXO_CMD_ARCHIVE_H

struct config;

/* nexo-archive verify [--from DAY] [--to DAY] [--deep] [-i IDENTITY]... [--json]
 *                     [--sample PERCENT]
 * Audits the archive (see verify.h): prints each finding as "PATH: reason" (escaped), then
 * "verify: N days, N files checked (N hashed), N findings"; with --json one object
 * {"days","files","hashed","findings":[{"path","reason"}...],"signatures_checked"} instead.
 * Signatures are checked with [signing] public_key_file when set (else a warning says they
 * were not). -i (age identity files, for .age files) requires --deep. --sample PERCENT
 * (1-100) hashes a rotating subset, advancing ARCHIVE/.state/verify-sample (an error is
 * printed when it cannot be written, e.g. on a read-only copy; the exit code is that of the
 * audit). Takes no lock.
 * Returns 0 clean, 1 findings, 2 usage/config (bad DAY, unreadable key or identity), 6 the
 * archive is missing or its manifest folder unreadable. */
int cmd_verify(const struct config *cfg, int argc, char **argv);

/* nexo-archive prune [--dry-run]
 * Removes archived files of calls before today (PBX clock) minus [retention]
 * archive_keep_days, except those a hold covers (see prune.h); prints each held one as
 * "FILE: held by hold ID: reason", with --dry-run each due one as "would prune FILE (N bytes)",
 * then "prune: N pruned, N held, N bytes freed" ("dry run: prune: ..." with --dry-run).
 * Re-signs changed days with [signing] secret_key_file when set. Takes the run lock.
 * Returns 0 done, 1 a manifest day could not be used (skipped), 2 archive_keep_days is off or
 * below archive_min_days (or usage/key error), 3 lock held, 6 storage error. */
int cmd_prune(const struct config *cfg, int argc, char **argv);

/* nexo-archive hold add (--number EXT | --from DAY --to DAY | --path GLOB) --reason TEXT
 * nexo-archive hold remove ID
 * nexo-archive hold list [--json]
 * Places, removes (keeping it on record as removed) or lists legal holds (ARCHIVE/holds.json,
 * see hold.h). add prints "added hold ID"; remove prints "removed hold ID"; list prints one
 * line per hold (removed ones too, marked so), or with --json the holds.json array. add and
 * remove take the run lock. Returns 0 ok, 1 remove of an unknown or already removed id,
 * 2 usage error, 3 lock held, 6 holds.json unreadable or unwritable. */
int cmd_hold(const struct config *cfg, int argc, char **argv);

/* nexo-archive forget PATH --reason TEXT
 * Erases one recording (PATH: its manifest `file`, also given as ARCHIVE/file or ./file, or
 * its `pbx_path`) from the archive: refused
 * while a hold covers it; else the file is removed, a "forgotten" line with the reason is
 * appended to its day's manifest, and the day is re-signed when [signing] secret_key_file is
 * set. Prints "forgotten FILE"; warns when the PBX may still hold its copy. Takes the run lock.
 * Returns 0 forgotten (or already was), 1 held or not in the manifest, 2 usage error, 3 lock
 * held, 6 storage error or an unusable manifest day. */
int cmd_forget(const struct config *cfg, int argc, char **argv);

/* nexo-archive restore --to DIR [--from DAY] [--until DAY]
 * Rebuilds a local archive from the [offsite] bucket alone (cmd_offsite.c): every object whose
 * name is an archive's (date folders, manifest/, cdr/; the newest version of each), of the days
 * asked for (heads and history always), written under DIR (new or empty) as temp + fsync +
 * rename. Prints "restore: N objects (B bytes) into DIR, N failed, N skipped". Takes no lock;
 * writes nothing to the bucket. Returns 0, 1 some objects failed, 2 usage or no [offsite],
 * 4 the bucket cannot be reached, 5 it refused the keys, 6 DIR cannot be written. */
int cmd_restore(const struct config *cfg, int argc, char **argv);

#endif
