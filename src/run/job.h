/* job.h — the run and backfill pipelines: list → plan → fetch → unpack → seal → store → record,
 * then retention. Wires the stages; parses no bytes itself. */
#ifndef NEXO_JOB_H
#define NEXO_JOB_H

#include "config.h"

/* Exit codes (docs/operations.md and --help list them). */
enum exit_code {
	EXIT_OK = 0,          /* everything listed is archived (and retention, if on, done) */
	EXIT_PARTIAL = 1,     /* something is left for the next run (missing, failed, unconfirmed) */
	EXIT_USAGE = 2,       /* bad command line or config */
	EXIT_LOCKED = 3,      /* another run holds the archive's lock */
	EXIT_UNREACHABLE = 4, /* PBX unreachable (connect, DNS, TLS) */
	EXIT_LOGIN = 5,       /* PBX refused the login */
	EXIT_STORAGE = 6,     /* the archive cannot be written or read (disk, manifest, state) */
};

struct job_options {
	int dry_run;
	int backfill;            /* one window, checkpoint untouched */
	pbx_minute from, to;     /* backfill window */
};

/* Runs the job. Prints the summary line on stdout. Returns an enum exit_code. */
int job_run(const struct config *cfg, const struct job_options *opt);

#endif
