/* metrics.c — see metrics.h. Names follow Prometheus' conventions: a counter ends in _total
 * (the report's totals, kept across runs), times are _seconds since the epoch, sizes _bytes;
 * every series carries pbx="NAME" (the config file's name). */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "archive/store.h"
#include "base/log.h"

struct text {
	char *buf;
	size_t len, cap;
	int oom;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = 1;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		char *p = realloc(t->buf, t->cap * 2 + (size_t)n);
		if (!p) {
			t->oom = 1;
			return;
		}
		t->buf = p;
		t->cap = t->cap * 2 + (size_t)n;
	}
}

/* One metric of one series: its HELP and TYPE, then the sample. */
static void metric(struct text *t, const char *name, const char *type, const char *help,
		   const char *pbx, double v)
{
	put(t, "# HELP nexo_archive_%s %s\n# TYPE nexo_archive_%s %s\n", name, help, name, type);
	put(t, "nexo_archive_%s{pbx=\"%s\"} %.17g\n", name, pbx, v);
}

/* One metric with an `outcome` label per listed key of `from`. */
static void by_outcome(struct text *t, const char *name, const char *type, const char *help,
		       const char *pbx, struct json_object *from, const char *const *keys,
		       size_t n)
{
	put(t, "# HELP nexo_archive_%s %s\n# TYPE nexo_archive_%s %s\n", name, help, name, type);
	for (size_t i = 0; i < n; i++)
		put(t, "nexo_archive_%s{pbx=\"%s\",outcome=\"%s\"} %lld\n", name, pbx, keys[i],
		    (long long)report_int(from, keys[i], 0));
}

char *metrics_format(struct json_object *rep)
{
	static const char *const run_keys[] = { "archived", "already_had", "missing", "failed",
						"deleted", "not_started", "invalid", "unavailable",
						"growing" };
	static const char *const total_keys[] = { "archived", "failed", "missing", "deleted" };
	struct text t = { malloc(4096), 0, 4096, 0 };
	struct json_object *v, *counts = NULL, *totals = NULL;
	char pbx[256];
	size_t o = 0;

	if (!t.buf)
		return NULL;
	/* A label value escapes backslash, quote and newline (the exposition format). */
	const char *name = json_object_object_get_ex(rep, "pbx", &v) ? json_object_get_string(v) : "";
	for (; *name && o + 3 < sizeof pbx; name++) {
		if (*name == '\\' || *name == '"' || *name == '\n')
			pbx[o++] = '\\';
		pbx[o++] = *name == '\n' ? 'n' : *name;
	}
	pbx[o] = '\0';
	json_object_object_get_ex(rep, "counts", &counts);
	json_object_object_get_ex(rep, "totals", &totals);
	metric(&t, "last_run_timestamp_seconds", "gauge", "When the last run ended.", pbx,
	       (double)report_int(rep, "end_unix", 0));
	if (report_int(rep, "last_success.end_unix", -1) >= 0)
		metric(&t, "last_success_timestamp_seconds", "gauge",
		       "When the last successful run (exit 0) ended.", pbx,
		       (double)report_int(rep, "last_success.end_unix", 0));
	metric(&t, "last_run_exit_code", "gauge", "The last run's exit code (0 success, 1 partial).",
	       pbx, (double)report_int(rep, "exit_code", 0));
	metric(&t, "last_run_duration_seconds", "gauge", "How long the last run took.", pbx,
	       json_object_object_get_ex(rep, "seconds", &v) ? json_object_get_double(v) : 0);
	metric(&t, "last_run_bytes", "gauge", "Bytes the last run archived.", pbx,
	       (double)report_int(rep, "bytes", 0));
	by_outcome(&t, "last_run_recordings", "gauge", "Recordings of the last run, by outcome.",
		   pbx, counts, run_keys, sizeof run_keys / sizeof *run_keys);
	metric(&t, "partial_runs_in_a_row", "gauge",
	       "Nightly runs in a row that ended partial ([sync] partial_alarm).", pbx,
	       (double)report_int(rep, "partial_runs_in_a_row", 0));
	metric(&t, "runs_total", "counter",
	       "Reports written since the archive's first: runs, backfills, reconciles and watch "
	       "batches.", pbx,
	       (double)report_int(totals, "runs", 0));
	by_outcome(&t, "recordings_total", "counter",
		   "Recordings since the archive's first report, by outcome.", pbx, totals,
		   total_keys, sizeof total_keys / sizeof *total_keys);
	metric(&t, "archived_bytes_total", "counter",
	       "Bytes archived since the archive's first report.", pbx,
	       (double)report_int(totals, "bytes", 0));
	/* The archive as a whole (report_add_archive): absent when the report has none (a run
	 * that did not hold the lock). The oldest recording only on the PBX: absent when none. */
	if (json_object_object_get_ex(rep, "archive", &v) && v) {
		struct json_object *a = v, *old;
		metric(&t, "local_recordings", "gauge",
		       "Stored recording files held in the local archive now.", pbx,
		       (double)report_int(a, "recordings_local", 0));
		metric(&t, "local_bytes", "gauge", "Bytes of the recording files held locally now.",
		       pbx, (double)report_int(a, "bytes_local", 0));
		metric(&t, "only_on_pbx_recordings", "gauge",
		       "Recordings the PBX listed that the archive does not hold yet (in progress "
		       "included).", pbx,
		       (double)(report_int(a, "only_on_pbx", 0) + report_int(a, "in_progress", 0)));
		/* "open_dates", not "days_open": promtool reads a _days name as a time unit. */
		metric(&t, "open_dates", "gauge",
		       "Call dates (days) not listed through yet, with recordings only on the PBX, "
		       "or with [cdr] archive a CDR not sealed yet.", pbx, (double)report_int(a, "days_open", 0));
		if (json_object_object_get_ex(a, "oldest_on_pbx_unix", &old) && old)
			metric(&t, "oldest_only_on_pbx_timestamp_seconds", "gauge",
			       "Call start of the oldest recording still only on the PBX.", pbx,
			       (double)json_object_get_int64(old));
	}
	if (t.oom) {
		free(t.buf);
		return NULL;
	}
	return t.buf;
}

int metrics_write(const char *path, struct json_object *report, char *err, size_t errlen)
{
	char *text = metrics_format(report);
	int rc;

	if (!text) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	/* store_put_file's temp does not end in .prom: the collector reads *.prom only. */
	rc = store_put_file(path, text, strlen(text), err, errlen);
	free(text);
	return rc;
}
