/* cmd_status.h — `nexo-archive status`: one line for Nagios, Icinga or Zabbix in the
 * Monitoring Plugins convention (NEXO-ARCHIVE OK|WARNING|CRITICAL|UNKNOWN - ... | perfdata;
 * exit 0/1/2/3), from the archive alone: the last run's report (run/report.h), the partial-run
 * count, the newest head and the tip of its newest day. Sends nothing to the PBX. */
#ifndef NEXO_CMD_STATUS_H
#define NEXO_CMD_STATUS_H

struct config;

/* status [--warning-age D] [--critical-age D]. Returns 0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN (also for a usage error, as the convention wants). */
int cmd_status(const struct config *cfg, int argc, char **argv);

#endif
