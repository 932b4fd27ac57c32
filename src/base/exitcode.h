/* exitcode.h — the program's exit codes: one small table (docs/operations.md and --help list
 * it). Only main exits; every layer returns one of these up to it. */
#ifndef NEXO_EXITCODE_H
#define NEXO_EXITCODE_H

enum exit_code {
	EXIT_OK = 0,          /* everything listed is archived (and retention, if on, done) */
	EXIT_PARTIAL = 1,     /* something is left for the next run (missing, failed, unconfirmed) */
	EXIT_USAGE = 2,       /* bad command line or config */
	EXIT_LOCKED = 3,      /* another run holds the archive's lock */
	EXIT_UNREACHABLE = 4, /* PBX unreachable (connect, DNS, TLS) */
	EXIT_LOGIN = 5,       /* PBX refused the login */
	EXIT_STORAGE = 6,     /* the archive cannot be written or read (disk, manifest, state) */
	EXIT_PARTIAL_ALARM = 7, /* partial, and so were the runs before it: [sync] partial_alarm
			       * runs in a row (a unit that accepts 1 fails on this) */
};

#endif
