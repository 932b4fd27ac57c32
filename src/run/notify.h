/* notify.h — tells the monitoring how a job went ([report]): the Prometheus textfile
 * (metrics.h), the ping URL (ping.h: /start, success, /fail), the on_failure command. What
 * goes wrong here is a warning: it never changes a run's exit code. A job ending 0 or 1
 * (partial: the next run picks up) is a success; any other exit is a failure. */
#ifndef NEXO_NOTIFY_H
#define NEXO_NOTIFY_H

struct config;
struct json_object;

/* The start ping, when [report] ping_url is set. */
void notify_start(const struct config *cfg);

/* The end of a job: the metrics file, the success or fail ping (its body: the exit code, the
 * summary's counts, the last warnings), and on a failure [report] on_failure, run by /bin/sh
 * with NEXO_ARCHIVE_REPORT (the report's path, when it was saved: `report_path`, else empty)
 * and NEXO_ARCHIVE_EXIT_CODE in its environment; waited for. `report` NULL: out of memory,
 * nothing is sent. */
void notify_end(const struct config *cfg, struct json_object *report, const char *report_path);

/* The end of a watch batch: the metrics file only. No ping and no on_failure: the watch goes
 * on and retries by itself, and a check that waits for the nightly run's ping must not be fed
 * by a watch's batches. */
void notify_batch(const struct config *cfg, struct json_object *report);

#endif
