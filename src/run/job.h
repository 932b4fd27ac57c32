/* job.h — the run and backfill pipelines: list → plan → fetch → unpack → seal → store → record,
 * then retention. Wires the stages (the top of src/run/: it only calls down); parses no bytes
 * itself. */
#ifndef NEXO_JOB_H
#define NEXO_JOB_H

#include "base/config.h"
#include "base/exitcode.h"

struct job_options {
	int dry_run;
	int backfill;            /* one window, checkpoint untouched */
	pbx_minute from, to;     /* backfill window */
};

/* Runs the job. Prints the summary line on stdout. Returns an enum exit_code. */
int job_run(const struct config *cfg, const struct job_options *opt);

#endif
