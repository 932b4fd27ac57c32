/* cmd_status.c — see cmd_status.h. The worst finding decides the state; the line names it
 * (and the perfdata always carries the numbers). */
#include "cmd_status.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "archive/head.h"
#include "archive/state.h"
#include "archive/store.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/log.h"
#include "base/units.h"
#include "crypto/minisign.h"
#include "run/report.h"

enum { ST_OK, ST_WARNING, ST_CRITICAL, ST_UNKNOWN };

struct verdict {
	int state;
	char why[600];
};

/* Keeps the worst finding (UNKNOWN ranks below CRITICAL: the archive is known broken). */
static void note(struct verdict *v, int state, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note(struct verdict *v, int state, const char *fmt, ...)
{
	static const int rank[] = { 0, 1, 3, 2 };
	va_list ap;

	if (rank[state] <= rank[v->state])
		return;
	v->state = state;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof v->why, fmt, ap);
	va_end(ap);
}

/* The newest head, and its newest day's tip against it. */
static void check_head(const struct config *cfg, struct store *s, struct verdict *v)
{
	struct minisign_public *pk = NULL;
	struct head h;
	char why[512];
	int rc;

	if (cfg->signing.public_key_file &&
	    !(pk = minisign_public_load(cfg->signing.public_key_file, why, sizeof why))) {
		note(v, ST_UNKNOWN, "[signing] public_key_file: %s", why);
		return;
	}
	rc = head_load(s, (const struct minisign_public *const *)&pk, pk ? 1 : 0, 1, &h, why,
		       sizeof why);
	if (rc == 2 || rc < 0)
		note(v, ST_CRITICAL, "the manifest head: %s", why);
	if (rc == 0 && h.n > 0 && head_check_day(s, &h.days[h.n - 1], why, sizeof why) != 0)
		note(v, ST_CRITICAL, "manifest day %s: %s", h.days[h.n - 1].day, why);
	if (rc == 0)
		head_release(&h);
	minisign_public_free(pk);
}

int cmd_status(const struct config *cfg, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "warning-age", required_argument, NULL, 'w' },
		{ "critical-age", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const word[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	int64_t warn_age = 26 * 3600, crit_age = 50 * 3600, age = -1;
	struct verdict v = { ST_OK, "" };
	struct json_object *rep = NULL, *counts = NULL, *jv;
	struct store *s;
	char err[512], a[32];
	long partials = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if ((c != 'w' && c != 'c') ||
		    units_parse_duration(optarg, c == 'w' ? &warn_age : &crit_age) != 0) {
			printf("NEXO-ARCHIVE UNKNOWN - usage: status [--warning-age D] "
			       "[--critical-age D] (D: 26h, 2d, 90m)\n");
			return ST_UNKNOWN;
		}
	}
	if (optind != argc) {
		printf("NEXO-ARCHIVE UNKNOWN - status takes --warning-age and --critical-age only\n");
		return ST_UNKNOWN;
	}
	s = store_open(cfg->archive.dir, STORE_READ, err, sizeof err);
	if (!s) {
		printf("NEXO-ARCHIVE CRITICAL - %s\n", err);
		return ST_CRITICAL;
	}
	rep = report_load(s, err, sizeof err);
	if (!rep)
		note(&v, ST_UNKNOWN, "%s", err);
	if (state_read_partials(s, &partials) != 0)
		note(&v, ST_CRITICAL, ".state/partials is not a count");
	if (cfg->sync.partial_alarm > 0 && partials >= cfg->sync.partial_alarm)
		note(&v, ST_CRITICAL, "%ld partial runs in a row ([sync] partial_alarm = %d)", partials,
		     cfg->sync.partial_alarm);
	check_head(cfg, s, &v);
	if (rep) {
		int64_t code = report_int(rep, "exit_code", 0);
		int64_t last = report_int(rep, "last_success.end_unix", -1);

		if (last >= 0)
			age = clock_unix() - last;
		units_format_duration(age > 0 ? age : 0, a, sizeof a);
		if (last < 0)
			note(&v, ST_CRITICAL, "no successful run yet (the last: exit %lld, %s)",
			     (long long)code, report_exit_meaning((int)code));
		else if (age > crit_age)
			note(&v, ST_CRITICAL, "the last successful run ended %s ago", a);
		else if (age > warn_age)
			note(&v, ST_WARNING, "the last successful run ended %s ago", a);
		if (code > 1)
			note(&v, ST_WARNING, "the last %s exited %lld (%s)",
			     json_object_object_get_ex(rep, "command", &jv) ? json_object_get_string(jv)
									   : "run",
			     (long long)code, report_exit_meaning((int)code));
		/* A watch batch's report is the newest: the last run's exit is in last_job. */
		int64_t job = report_int(rep, "last_job.exit_code", -1);
		if (job > 1 && json_object_object_get_ex(rep, "command", &jv) &&
		    strcmp(json_object_get_string(jv), "watch") == 0)
			note(&v, ST_WARNING, "the last run before the watch's batches exited %lld (%s)",
			     (long long)job, report_exit_meaning((int)job));
		if (v.state == ST_OK)
			snprintf(v.why, sizeof v.why, "last success %s ago, the last %s exited %lld (%s)",
				 a, json_object_object_get_ex(rep, "command", &jv)
					    ? json_object_get_string(jv) : "run",
				 (long long)code, report_exit_meaning((int)code));
		json_object_object_get_ex(rep, "counts", &counts);
	}
	printf("NEXO-ARCHIVE %s - %s | last_success_age=%llds;%lld;%lld;0 partial_runs=%ld;;%d;0 "
	       "archived=%lld failed=%lld missing=%lld not_started=%lld\n",
	       word[v.state], v.why, (long long)(age >= 0 ? age : 0), (long long)warn_age,
	       (long long)crit_age, partials, cfg->sync.partial_alarm,
	       (long long)report_int(counts, "archived", 0), (long long)report_int(counts, "failed", 0),
	       (long long)report_int(counts, "missing", 0),
	       (long long)report_int(counts, "not_started", 0));
	json_object_put(rep);
	store_close(s);
	return v.state;
}
