/* notify.c — see notify.h. */
#include "notify.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "ping.h"
#include "report.h"
#include "base/config.h"
#include "base/exitcode.h"
#include "base/log.h"

void notify_start(const struct config *cfg)
{
	if (cfg->report.ping_url)
		(void)ping_send(cfg->report.ping_url, "/start", "", cfg->report.ping_timeout);
}

/* The ping's body: one line of what happened, then the last warnings; capped. */
static void body(struct json_object *rep, char *out, size_t cap)
{
	static const char *const keys[] = { "listed", "archived", "already_had", "missing",
					    "failed", "deleted", "not_started" };
	struct json_object *counts = NULL, *w = NULL, *last = NULL, *v;
	size_t o;

	json_object_object_get_ex(rep, "counts", &counts);
	o = (size_t)snprintf(out, cap, "nexo-archive %s: exit %lld (%s)",
			     json_object_object_get_ex(rep, "command", &v) ? json_object_get_string(v)
									    : "run",
			     (long long)report_int(rep, "exit_code", 0),
			     report_exit_meaning((int)report_int(rep, "exit_code", 0)));
	for (size_t i = 0; i < sizeof keys / sizeof *keys && o < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s %s %lld", i ? "," : ";", keys[i],
				      (long long)report_int(counts, keys[i], 0));
	if (o < cap)
		o += (size_t)snprintf(out + o, cap - o, ", bytes %lld\n",
				      (long long)report_int(rep, "bytes", 0));
	if (json_object_object_get_ex(rep, "warnings", &w) &&
	    json_object_object_get_ex(w, "last", &last) && o < cap) {
		o += (size_t)snprintf(out + o, cap - o, "warnings: %lld (the last ones follow)\n",
				      (long long)report_int(w, "count", 0));
		for (size_t i = 0; i < json_object_array_length(last) && o < cap; i++)
			o += (size_t)snprintf(out + o, cap - o, "%s\n",
					      json_object_get_string(json_object_array_get_idx(last, i)));
	}
}

static void run_on_failure(const char *cmd, const char *report_path, int code)
{
	char num[16];
	pid_t pid;
	int st;

	snprintf(num, sizeof num, "%d", code);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		log_warn("[report] on_failure: cannot start it");
		return;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		setenv("NEXO_ARCHIVE_REPORT", report_path ? report_path : "", 1);
		setenv("NEXO_ARCHIVE_EXIT_CODE", num, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		log_warn("[report] on_failure exited %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

void notify_batch(const struct config *cfg, struct json_object *rep)
{
	char err[512];

	if (cfg->report.prometheus_file &&
	    metrics_write(cfg->report.prometheus_file, rep, err, sizeof err) != 0)
		log_warn("[report] prometheus_file: %s", err);
}

void notify_end(const struct config *cfg, struct json_object *rep, const char *report_path)
{
	char text[PING_BODY_MAX + 1];
	int code;

	if (!rep)
		return;
	code = (int)report_int(rep, "exit_code", 0);
	notify_batch(cfg, rep);
	if (cfg->report.ping_url) {
		body(rep, text, sizeof text);
		(void)ping_send(cfg->report.ping_url,
				code == EXIT_OK || code == EXIT_PARTIAL ? "" : "/fail", text,
				cfg->report.ping_timeout);
	}
	if (cfg->report.on_failure && code != EXIT_OK && code != EXIT_PARTIAL)
		run_on_failure(cfg->report.on_failure, report_path, code);
}
