/* report.c — see report.h. The counters are the tally's, named as the summary line names
 * them; "not_started" is what a stop left (the tally's `left`). */
#include "report.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "archive/coverage.h"
#include "archive/manifest.h"
#include "archive/store.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "base/pbxtime.h"
#include "base/stop.h"

void report_pbx_name(const char *config_path, char *out, size_t outlen)
{
	const char *base = strrchr(config_path, '/');
	size_t n;

	snprintf(out, outlen, "%s", base ? base + 1 : config_path);
	n = strlen(out);
	if (n > 5 && !strcmp(out + n - 5, ".conf"))
		out[n - 5] = '\0';
}

const char *report_exit_meaning(int code)
{
	switch (code) {
	case EXIT_OK: return "success";
	case EXIT_PARTIAL: return "partial";
	case EXIT_USAGE: return "usage or config error";
	case EXIT_LOCKED: return "another run holds the lock";
	case EXIT_UNREACHABLE: return "PBX unreachable";
	case EXIT_LOGIN: return "PBX refused the login";
	case EXIT_STORAGE: return "archive error";
	case EXIT_PARTIAL_ALARM: return "partial runs in a row";
	}
	return "unknown";
}

int64_t report_int(struct json_object *o, const char *key, int64_t dflt)
{
	struct json_object *v;
	const char *dot = strchr(key, '.');

	if (dot) {
		char head[64];
		snprintf(head, sizeof head, "%.*s", (int)(dot - key), key);
		if (!json_object_object_get_ex(o, head, &v))
			return dflt;
		return report_int(v, dot + 1, dflt);
	}
	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return dflt;
	return json_object_get_int64(v);
}

struct day_count {
	struct json_object *arr;
	int64_t since;
	unsigned long archived;
	uint64_t bytes;
};

static int name_day(void *ctx, const char *day, size_t lines, const char *last)
{
	struct json_object *o = json_object_new_object();

	(void)lines;
	(void)last;
	if (!o)
		return -1;
	json_object_object_add(o, "day", json_object_new_string(day));
	return json_object_array_add(((struct day_count *)ctx)->arr, o) == 0 ? 0 : -1;
}

static int count_entry(void *ctx, const struct manifest_entry *e)
{
	struct day_count *dc = ctx;

	if (!e->unavailable && e->archived_at >= dc->since) {
		dc->archived++;
		dc->bytes += e->size;
	}
	return 0;
}

struct json_object *report_days(struct manifest *m, int64_t since)
{
	struct day_count dc = { json_object_new_array(), since, 0, 0 };
	struct json_object *out = json_object_new_array();

	if (!dc.arr || !out || (m && manifest_each_changed(m, name_day, &dc) != 0)) {
		json_object_put(dc.arr);
		json_object_put(out);
		return NULL;
	}
	for (size_t i = 0; i < json_object_array_length(dc.arr); i++) {
		struct json_object *o = json_object_array_get_idx(dc.arr, i), *v;
		json_object_object_get_ex(o, "day", &v);
		dc.archived = 0;
		dc.bytes = 0;
		if (manifest_each_entry(m, json_object_get_string(v), count_entry, &dc) != 0 ||
		    !dc.archived)
			continue;
		json_object_object_add(o, "archived", json_object_new_int64((int64_t)dc.archived));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)dc.bytes));
		json_object_array_add(out, json_object_get(o));
	}
	json_object_put(dc.arr);
	return out;
}

static void iso(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void add_int(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

/* The summary line's counters, and the lines after it, by the summary's names. */
static struct json_object *counts(const struct run *r)
{
	const struct tally *t = &r->t;
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	add_int(o, "listed", t->listed);
	add_int(o, "archived", r->dry_run ? 0 : t->archived);
	add_int(o, "already_had", t->already);
	add_int(o, "missing", t->missing);
	add_int(o, "failed", t->failed);
	add_int(o, "deleted", t->deleted);
	add_int(o, "not_started", t->left);
	add_int(o, "refused", t->refused);
	add_int(o, "skipped_names", t->skipped_names);
	add_int(o, "blocked", t->blocked);
	add_int(o, "invalid", t->invalid);
	add_int(o, "unavailable", t->unavailable);
	add_int(o, "short_audio", t->short_audio);
	add_int(o, "growing", t->growing);
	add_int(o, "kept", t->kept);
	add_int(o, "deferred", t->deferred);
	add_int(o, "unconfirmed", t->unconfirmed);
	add_int(o, "oversized", t->oversized);
	add_int(o, "capped_minutes", t->capped_minutes);
	add_int(o, "cdr_missing", t->cdr_missing);
	add_int(o, "cdr_late", t->cdr_late);
	add_int(o, "cdr_witnessed", t->cdr_witnessed);
	add_int(o, "cdr_errors", t->cdr_errors);
	add_int(o, "cdr_sealed", t->cdr_sealed);
	add_int(o, "cdr_deleted", t->cdr_deleted);
	add_int(o, "cdr_stuck", t->cdr_stuck);
	if (r->dry_run) {
		add_int(o, "would_fetch", t->would_fetch);
		add_int(o, "would_delete", t->would_delete);
	}
	return o;
}

/* Runs, recordings and bytes since the first report: counters for the metrics file. */
static struct json_object *totals(const struct run *r, struct json_object *previous)
{
	struct json_object *o = json_object_new_object(), *p = NULL;
	static const char *const keys[] = { "runs", "archived", "bytes", "failed", "missing",
					    "deleted" };
	uint64_t add[] = { 1, r->t.archived, r->t.bytes, r->t.failed, r->t.missing,
			   r->t.deleted };

	if (!o)
		return NULL;
	if (previous)
		json_object_object_get_ex(previous, "totals", &p);
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		int64_t was = report_int(p, keys[i], 0);
		add_int(o, keys[i], (uint64_t)(was > 0 ? was : 0) + (r->dry_run ? 0 : add[i]));
	}
	return o;
}

/* This run's line of the "runs" history, then the previous report's lines. */
static struct json_object *runs(struct json_object *now, struct json_object *previous)
{
	static const char *const keys[] = { "command", "start", "end", "end_unix", "exit_code",
					    "status", "bytes" };
	struct json_object *arr = json_object_new_array(), *line = json_object_new_object(), *v,
			   *counts_now, *old;

	if (!arr || !line) {
		json_object_put(arr);
		json_object_put(line);
		return NULL;
	}
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (json_object_object_get_ex(now, keys[i], &v))
			json_object_object_add(line, keys[i], json_object_get(v));
	if (json_object_object_get_ex(now, "counts", &counts_now))
		for (size_t i = 0; i < 4; i++) {
			static const char *const c[] = { "archived", "failed", "missing",
							 "deleted" };
			add_int(line, c[i], (uint64_t)report_int(counts_now, c[i], 0));
		}
	json_object_array_add(arr, line);
	if (previous && json_object_object_get_ex(previous, "runs", &old) &&
	    json_object_is_type(old, json_type_array))
		for (size_t i = 0; i < json_object_array_length(old) &&
				   json_object_array_length(arr) < REPORT_RUNS_KEPT; i++)
			json_object_array_add(arr, json_object_get(json_object_array_get_idx(old, i)));
	return arr;
}

/* The last run, backfill or reconcile: this one, or (a watch batch) the one the previous
 * report names, so that a batch after a failed nightly run does not hide it from `status`.
 * NULL (JSON null) when there was none yet. */
static struct json_object *last_job(struct json_object *now, const struct report_info *info,
				    struct json_object *previous)
{
	static const char *const keys[] = { "command", "end", "end_unix", "exit_code" };
	struct json_object *o, *v;

	if (strcmp(info->command, "watch") == 0) {
		if (previous && json_object_object_get_ex(previous, "last_job", &v) &&
		    json_object_is_type(v, json_type_object))
			return json_object_get(v);
		return NULL;
	}
	if (!(o = json_object_new_object()))
		return NULL;
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (json_object_object_get_ex(now, keys[i], &v))
			json_object_object_add(o, keys[i], json_object_get(v));
	return o;
}

static const char *status_word(int code)
{
	if (stop_reason() == STOP_SIGNAL)
		return "stopped";
	if (code == EXIT_OK)
		return "success";
	return code == EXIT_PARTIAL ? "partial" : "failed";
}

struct json_object *report_build(const struct run *r, const struct report_info *info,
				 struct json_object *days, struct json_object *previous)
{
	struct json_object *o = json_object_new_object(), *w, *last, *del, *ls;
	const char *recent[LOG_RECENT_MAX];
	size_t nrecent = log_recent(recent, LOG_RECENT_MAX);
	char t[32], name[256];
	int deleting = r->cfg->retention.delete_from_pbx || r->cfg->cdr.delete_from_pbx;

	if (!o) {
		json_object_put(days);
		return NULL;
	}
	report_pbx_name(r->cfg->path, name, sizeof name);
	json_object_object_add(o, "format", json_object_new_string(REPORT_FORMAT));
	json_object_object_add(o, "command", json_object_new_string(info->command));
	json_object_object_add(o, "pbx", json_object_new_string(name));
	iso(info->started, t);
	json_object_object_add(o, "start", json_object_new_string(t));
	add_int(o, "start_unix", (uint64_t)info->started);
	iso(info->ended, t);
	json_object_object_add(o, "end", json_object_new_string(t));
	add_int(o, "end_unix", (uint64_t)info->ended);
	json_object_object_add(o, "seconds", json_object_new_double(info->seconds));
	add_int(o, "exit_code", (uint64_t)info->exit_code);
	json_object_object_add(o, "exit_meaning",
			       json_object_new_string(report_exit_meaning(info->exit_code)));
	json_object_object_add(o, "status", json_object_new_string(status_word(info->exit_code)));
	json_object_object_add(o, "stopped_by",
			       stop_reason() == STOP_SIGNAL ? json_object_new_string("signal")
			       : stop_reason() == STOP_BUDGET ? json_object_new_string("time budget")
							       : NULL);
	json_object_object_add(o, "dry_run", json_object_new_boolean(info->dry_run));
	json_object_object_add(o, "counts", counts(r));
	add_int(o, "bytes", r->dry_run ? r->t.would_bytes : r->t.bytes);
	add_int(o, "not_started_bytes", r->t.left_bytes);
	json_object_object_add(o, "days", days ? days : json_object_new_array());
	w = json_object_new_object();
	last = json_object_new_array();
	if (w && last) {
		/* Its own warnings only: a watch batch's are those since the batch began, not
		 * the watch process's (an AMI outage hours before). */
		unsigned long total = log_warning_count(), own = total - info->warnings_before;
		size_t first = 0;

		if (info->warnings_before > total)
			own = 0;
		if (nrecent > own)
			first = nrecent - (size_t)own;
		add_int(w, "count", own);
		for (size_t i = first; i < nrecent; i++)
			json_object_array_add(last, json_object_new_string(recent[i]));
		json_object_object_add(w, "last", last);
	}
	json_object_object_add(o, "warnings", w);
	del = json_object_new_object();
	if (del) {
		json_object_object_add(del, "configured", json_object_new_boolean(deleting));
		json_object_object_add(del, "allowed", json_object_new_boolean(deleting &&
									      !r->no_delete));
		json_object_object_add(del, "why_not",
				       !deleting ? json_object_new_string("not configured ([retention] "
									  "and [cdr] delete_from_pbx "
									  "are off)")
				       : r->no_delete ? json_object_new_string(r->no_delete) : NULL);
	}
	json_object_object_add(o, "deletions", del);
	add_int(o, "partial_runs_in_a_row", (uint64_t)(info->partials > 0 ? info->partials : 0));
	/* The last success: this run, or the one the previous report names (a watch batch covers
	 * one window, not the PBX: never a success of its own). */
	ls = NULL;
	if (info->exit_code == EXIT_OK && !info->dry_run && strcmp(info->command, "watch") != 0) {
		ls = json_object_new_object();
		if (ls) {
			json_object_object_add(ls, "command", json_object_new_string(info->command));
			iso(info->ended, t);
			json_object_object_add(ls, "end", json_object_new_string(t));
			add_int(ls, "end_unix", (uint64_t)info->ended);
		}
	} else if (previous && json_object_object_get_ex(previous, "last_success", &ls)) {
		ls = json_object_get(ls);
	}
	json_object_object_add(o, "last_success", ls);
	json_object_object_add(o, "last_job", last_job(o, info, previous));
	json_object_object_add(o, "totals", totals(r, previous));
	json_object_object_add(o, "runs", runs(o, previous));
	return o;
}

int report_add_archive(struct json_object *rep, struct store *s, const struct config *cfg)
{
	struct coverage_opts co = { NULL, NULL, cfg->cdr.archive, cfg->sync.lookback, NULL, 0 };
	struct coverage c;
	struct json_object *a;
	char err[512];
	pbx_minute m;

	if (coverage_build(s, &co, &c, err, sizeof err) != 0) {
		log_warn("the report's archive figures: %s", err);
		return -1;
	}
	a = json_object_new_object();
	if (!a) {
		coverage_free(&c);
		return -1;
	}
	add_int(a, "recordings_local", c.all.c.files);
	add_int(a, "bytes_local", c.all.c.bytes);
	add_int(a, "only_on_pbx", c.all.only_on_pbx);
	add_int(a, "in_progress", c.all.in_progress);
	add_int(a, "vanished", c.all.vanished);
	add_int(a, "days_open", c.days_open);
	json_object_object_add(a, "oldest_on_pbx", c.oldest_pending[0]
			       ? json_object_new_string(c.oldest_pending) : NULL);
	if (c.oldest_pending[0] && pbxtime_parse(c.oldest_pending, &m) == 0) {
		/* Naive PBX time → epoch through the zone's offset now (an hour off across a DST
		 * change: fine for an alarm on age). */
		int64_t offset = pbxtime_now(cfg->pbx.timezone) * 60 - clock_unix() / 60 * 60;
		int sec = 0;
		if (strlen(c.oldest_pending) >= 19)
			sec = (c.oldest_pending[17] - '0') * 10 + (c.oldest_pending[18] - '0');
		json_object_object_add(a, "oldest_on_pbx_unix",
				       json_object_new_int64(m * 60 + sec - offset));
	} else {
		json_object_object_add(a, "oldest_on_pbx_unix", NULL);
	}
	coverage_free(&c);
	json_object_object_add(rep, "archive", a);
	return 0;
}

void report_carry_archive(struct json_object *rep, struct json_object *previous)
{
	static const char *const keys[] = { "archive", "partial_runs_in_a_row" };
	struct json_object *v;

	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (json_object_object_get_ex(previous, keys[i], &v) && v)
			json_object_object_add(rep, keys[i], json_object_get(v));
}

int report_save(struct store *s, struct json_object *o)
{
	char err[512], *text;
	const char *j = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(j);
	int rc;

	text = malloc(len + 2);
	if (!text) {
		log_error("cannot write .state/" REPORT_FILE ": out of memory");
		return -1;
	}
	memcpy(text, j, len);
	text[len] = '\n';
	rc = store_put(s, ".state", REPORT_FILE, text, len + 1, err, sizeof err);
	free(text);
	if (rc != 0)
		log_error("cannot write .state/" REPORT_FILE ": %s", err);
	return rc;
}

struct json_object *report_load(struct store *s, char *why, size_t whylen)
{
	char err[512], *buf;
	struct json_object *o = NULL, *f;
	ssize_t n;
	int dfd = store_open_dir(s, ".state", 0, err, sizeof err);

	if (dfd < 0) {
		err_set(why, whylen, "no .state folder: no run has finished yet");
		return NULL;
	}
	buf = malloc(REPORT_MAX + 1);
	n = buf ? store_read_regular(dfd, REPORT_FILE, buf, REPORT_MAX) : -1;
	close(dfd);
	if (n < 0) {
		if (errno == ENOENT)
			err_set(why, whylen, "no .state/" REPORT_FILE ": no run has finished yet");
		else
			err_set(why, whylen, ".state/" REPORT_FILE ": %s", store_open_error(errno));
	} else {
		buf[n] = '\0';
		o = json_tokener_parse(buf);
		if (!o || !json_object_object_get_ex(o, "format", &f) ||
		    strcmp(json_object_get_string(f), REPORT_FORMAT) != 0) {
			err_set(why, whylen, ".state/" REPORT_FILE " is not a run report");
			json_object_put(o);
			o = NULL;
		}
	}
	free(buf);
	return o;
}
