/* cmd_report.h — `nexo-archive report`: the coverage calendar (one self-contained HTML page)
 * and the same numbers as JSON (docs/report.schema.json).
 *
 * Reads only the archive: no PBX traffic, no run lock (a run may be going on; its torn last
 * line is skipped). The numbers come from archive/coverage.h (per-day, cached in
 * .state/coverage.json against the signed head), the last runs from .state/last-run.json. */
#ifndef NEXO_CMD_REPORT_H
#define NEXO_CMD_REPORT_H

struct config;

/* report (--html FILE | --json) [--from DAY] [--to DAY]. Writes FILE atomically (temp beside
 * it, fsync, rename) or prints one JSON object on stdout. Returns 0, 2 on a usage error, 6
 * when the archive cannot be read or FILE cannot be written (printed). */
int cmd_report(const struct config *cfg, int argc, char **argv);

#endif
