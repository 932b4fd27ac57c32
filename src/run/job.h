/* job.h — the run and backfill pipelines: list → plan → fetch → unpack → seal → store → record,
 * then retention. Wires the stages (the top of src/run/: it only calls down); parses no bytes
 * itself. */
#ifndef NEXO_JOB_H
#define NEXO_JOB_H

#include "base/config.h"
#include "base/exitcode.h"

struct job_options {
	int dry_run;
	int backfill;            /* one span, checkpoint untouched, nothing deleted */
	int reconcile;           /* the same, month by month against the manifest (reconcile.h) */
	pbx_minute from, to;     /* their span (reconcile: to < 0 is the PBX's now + 1 day) */
	int stop_at;             /* --stop-at: minute of the host's day to stop at; -1 none */
	int json;                /* --json: the report (report.h) on stdout, no summary line */
};

/* Runs the job. Its time budget is [sync] max_duration (set from --max-duration too) and
 * opt->stop_at, whichever ends first; at the budget it stops as stop.h says. Prints the
 * summary line on stdout (with -q only when the run is not a success; with --json the report
 * instead), writes the report (.state/last-run.json) once it held the lock, and tells the
 * monitoring ([report]: metrics file, pings, on_failure) whatever the outcome. Returns an enum
 * exit_code. */
int job_run(const struct config *cfg, const struct job_options *opt);

#endif
