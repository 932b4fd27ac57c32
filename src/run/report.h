/* report.h — what one run did, as one JSON object (docs/last-run.schema.json): written
 * atomically to ARCHIVE/.state/last-run.json at the end of every run, backfill, reconcile and
 * watch batch, printed by `--json` instead of the summary line, and what the metrics file
 * (metrics.h), the ping hooks (ping.h) and `status` read. Builds and stores the object; decides
 * nothing about the run. */
#ifndef NEXO_REPORT_H
#define NEXO_REPORT_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct json_object;
struct manifest;
struct run;
struct store;

#define REPORT_FORMAT "nexo-archive-run/1"
#define REPORT_FILE "last-run.json" /* in .state/ */
#define REPORT_MAX (1u << 20)
#define REPORT_RUNS_KEPT 20 /* the "runs" history: this run and the ones before */

/* What the job knows of the run besides its tallies. */
struct report_info {
	const char *command;   /* "run", "backfill", "reconcile", "watch" */
	int64_t started;       /* host clock, epoch seconds */
	int64_t ended;
	double seconds;        /* as the summary line says */
	int exit_code;
	int dry_run;
	long partials;         /* partial runs in a row after this one (nightly runs), else -1 */
	unsigned long warnings_before; /* log_warning_count() when it began: its warnings are
					* those logged since (a watch batch); 0: the process's */
};

/* The days this run archived recordings into: [{"day","archived","bytes"}], read from the
 * manifest's changed days (entries archived at or after `since`, epoch seconds). Call before
 * the manifest is closed. Returns a new array (empty when nothing), NULL out of memory. */
struct json_object *report_days(struct manifest *m, int64_t since);

/* The report of `r` (its tallies, r->no_delete, the last warnings from log.h), `days` (taken;
 * NULL: none) and `previous` (the last report, or NULL: its last_success and totals carry on).
 * Its "runs" array is this run's line followed by the previous report's, REPORT_RUNS_KEPT at
 * most (the calendar's "last runs"). Returns a new object, or NULL out of memory. */
struct json_object *report_build(const struct run *r, const struct report_info *info,
				 struct json_object *days, struct json_object *previous);

/* The archive-wide figures (coverage.h) as the report's "archive" object: recordings and
 * bytes held locally, recordings only on the PBX / in progress / vanished, the oldest of
 * those still on the PBX (its call start, and as epoch seconds through the PBX's zone's
 * current offset), days open. Reads the archive (cheap: coverage's per-day cache). Returns 0,
 * or -1 (printed as a warning: the report goes without it). */
int report_add_archive(struct json_object *rep, struct store *s, const struct config *cfg);

/* For a run that did not hold the lock (it may not read the archive as a whole): `previous`'s
 * "archive" figures and partial-run count, as the last run that held it found them, so the
 * metrics file carries them on rather than dropping them. */
void report_carry_archive(struct json_object *rep, struct json_object *previous);

/* Replaces .state/last-run.json with `o` (one line), atomically. Returns 0, or -1 (printed:
 * the archive cannot be written, and the run says so with its exit code). */
int report_save(struct store *s, struct json_object *o);

/* Reads .state/last-run.json. Returns the object, or NULL when there is none or it does not
 * parse as a report of this format (`why`, when not NULL, says which). */
struct json_object *report_load(struct store *s, char *why, size_t whylen);

/* What an exit code means, in a few words ("success", "partial", ...). */
const char *report_exit_meaning(int code);

/* The PBX's name, as the reports and metrics give it: its config file's without ".conf", as
 * the systemd units name instances (/etc/nexo-archive/office.conf: "office"). */
void report_pbx_name(const char *config_path, char *out, size_t outlen);

/* The integer member `key` of `o` (at `path` "a.b" one level deep), or `dflt`. */
int64_t report_int(struct json_object *o, const char *key, int64_t dflt);

#endif
