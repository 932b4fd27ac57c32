/* metrics.h — the run report (report.h) as Prometheus text for node-exporter's textfile
 * collector: [report] prometheus_file, replaced atomically at the end of every run (a temp
 * beside it that does not end in .prom, fsync, rename, folder fsync), so the collector never
 * reads half a file. Only formats and writes; the numbers are the report's. */
#ifndef NEXO_METRICS_H
#define NEXO_METRICS_H

#include <stddef.h>

struct json_object;

/* The metrics text of `report`, malloc'd (NUL-terminated); NULL out of memory. */
char *metrics_format(struct json_object *report);

/* Writes metrics_format(report) to `path`. Returns 0, or -1 with `err` set. */
int metrics_write(const char *path, struct json_object *report, char *err, size_t errlen);

#endif
