/* cmd_report.c — see cmd_report.h. Builds the report object (docs/report.schema.json) from
 * coverage.h and the run report, then prints it or hands it to calendar.h. */
#include "cmd_report.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "archive/coverage.h"
#include "archive/store.h"
#include "base/config.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "base/pbxtime.h"
#include "crypto/minisign.h"
#include "run/report.h"

#define REPORT_OBJECT_FORMAT "nexo-archive-report/1"

static void add(json_object *o, const char *key, unsigned long long v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

static json_object *chain_json(const struct coverage *c)
{
	static const char *const words[] = { "ok", "none", "untrusted" };
	json_object *o = json_object_new_object(), *h = json_object_new_object(),
		    *d = json_object_new_object();

	if (!o || !h || !d) {
		json_object_put(o);
		json_object_put(h);
		json_object_put(d);
		return NULL;
	}
	json_object_object_add(h, "state", json_object_new_string(
		c->head.state >= 0 && c->head.state <= 2 ? words[c->head.state] : "unreadable"));
	add(h, "seq", c->head.seq);
	json_object_object_add(h, "time", json_object_new_string(c->head.time));
	json_object_object_add(h, "signed", json_object_new_boolean(c->head.is_signed));
	json_object_object_add(h, "why", json_object_new_string(c->head.state ? c->head.why : ""));
	for (int i = COVERAGE_CHAIN_OK; i < COVERAGE_CHAIN_NONE; i++)
		add(d, coverage_chain_name((enum coverage_chain)i), c->chain_days[i]);
	json_object_object_add(o, "head", h);
	json_object_object_add(o, "days", d);
	json_object_object_add(o, "note", json_object_new_string(
		"checked: the newest head (and its signature with [signing] public_key_file) and "
		"each day's line count and last line against it; `nexo-archive verify` checks "
		"every line's chain, every signature, the heads' history and every file's hash"));
	return o;
}

/* The last runs: the run report's "runs" history, or its one run when it predates it. */
static json_object *runs_json(struct store *s)
{
	json_object *rep = report_load(s, NULL, 0), *r = NULL, *out;

	if (rep && json_object_object_get_ex(rep, "runs", &r) && json_object_is_type(r, json_type_array))
		out = json_object_get(r);
	else if ((out = json_object_new_array()) && rep)
		json_object_array_add(out, json_object_get(rep));
	json_object_put(rep);
	return out;
}

static json_object *build(const struct config *cfg, struct store *s, const struct coverage *c)
{
	json_object *o = json_object_new_object(), *days = json_object_new_array(), *t, *a;
	char name[256], now[PBXTIME_UTC_LEN + 1];

	if (!o || !days) {
		json_object_put(o);
		json_object_put(days);
		return NULL;
	}
	report_pbx_name(cfg->path, name, sizeof name);
	pbxtime_utc_stamp(now);
	json_object_object_add(o, "format", json_object_new_string(REPORT_OBJECT_FORMAT));
	json_object_object_add(o, "pbx", json_object_new_string(name));
	json_object_object_add(o, "generated", json_object_new_string(now));
	json_object_object_add(o, "from", json_object_new_string(c->from));
	json_object_object_add(o, "to", json_object_new_string(c->to));
	for (size_t i = 0; i < c->n; i++)
		json_object_array_add(days, coverage_day_json(&c->days[i]));
	json_object_object_add(o, "days", days);
	t = coverage_day_json(&c->total);
	if (t)
		json_object_object_del(t, "day");
	json_object_object_add(o, "totals", t);
	a = json_object_new_object();
	if (a) {
		add(a, "days_with_data", c->days_with_data);
		add(a, "recordings_local", c->all.c.files);
		add(a, "bytes_local", c->all.c.bytes);
		add(a, "archived", c->all.c.archived);
		add(a, "only_on_pbx", c->all.only_on_pbx);
		add(a, "in_progress", c->all.in_progress);
		add(a, "vanished", c->all.vanished);
		add(a, "days_open", c->days_open);
		json_object_object_add(a, "listed_through", c->listed_through[0]
				       ? json_object_new_string(c->listed_through) : NULL);
		json_object_object_add(a, "oldest_on_pbx", c->oldest_pending[0]
				       ? json_object_new_string(c->oldest_pending) : NULL);
	}
	json_object_object_add(o, "archive", a);
	json_object_object_add(o, "chain", chain_json(c));
	json_object_object_add(o, "runs", runs_json(s));
	a = json_object_new_object();
	if (a) {
		add(a, "recounted_days", c->recounted);
		json_object_object_add(a, "state", json_object_new_string(
			c->cache_state == 0 ? "used" : c->cache_state == 1 ? "none" : "ignored"));
	}
	json_object_object_add(o, "cache", a);
	return o;
}

int cmd_report(const struct config *cfg, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "html", required_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct coverage_opts co = { NULL, NULL, cfg->cdr.archive, cfg->sync.lookback, NULL, 0 };
	struct minisign_public *pk = NULL;
	const char *html = NULL;
	int json = 0, c, rc = EXIT_STORAGE;
	struct coverage cov;
	struct store *s = NULL;
	json_object *rep = NULL;
	char err[512];

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': html = optarg; break;
		case 'j': json = 1; break;
		case 'f': co.from = optarg; break;
		case 't': co.to = optarg; break;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc || !html == !json) {
		log_error("usage: report (--html FILE | --json) [--from YYYY-MM-DD] [--to YYYY-MM-DD]");
		return EXIT_USAGE;
	}
	if ((co.from && !coverage_valid_day(co.from)) || (co.to && !coverage_valid_day(co.to)) ||
	    (co.from && co.to && strcmp(co.from, co.to) > 0)) {
		log_error("report: --from and --to are days YYYY-MM-DD, --from not after --to");
		return EXIT_USAGE;
	}
	if (cfg->signing.public_key_file) {
		pk = minisign_public_load(cfg->signing.public_key_file, err, sizeof err);
		if (!pk) {
			log_error("[signing] public_key_file: %s", err);
			return EXIT_USAGE;
		}
		co.pk = (const struct minisign_public *const *)&pk;
		co.npk = 1;
	}
	/* A writer only for the cache (.state/coverage.json); a reader that may not write
	 * (another user's archive, a read-only copy) counts every day each time. */
	s = store_open(cfg->archive.dir, STORE_WRITE, err, sizeof err);
	if (!s)
		s = store_open(cfg->archive.dir, STORE_READ, err, sizeof err);
	if (!s) {
		log_error("%s", err);
		goto out;
	}
	if (coverage_build(s, &co, &cov, err, sizeof err) != 0) {
		log_error("report: %s", err);
		goto out;
	}
	rep = build(cfg, s, &cov);
	coverage_free(&cov);
	if (!rep) {
		log_error("out of memory");
		goto out;
	}
	if (json) {
		puts(json_object_to_json_string_ext(rep, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
		rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_STORAGE;
	} else {
		size_t len;
		char *page = calendar_html(rep, &len);
		if (!page) {
			log_error("out of memory");
			goto out;
		}
		if (store_put_file(html, page, len, err, sizeof err) != 0)
			log_error("report: %s", err);
		else
			rc = EXIT_OK;
		free(page);
	}
out:
	json_object_put(rep);
	store_close(s);
	minisign_public_free(pk);
	return rc;
}
