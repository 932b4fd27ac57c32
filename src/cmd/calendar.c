/* calendar.c — see calendar.h. Written through a memory stream; the caller stores it. */
#include "calendar.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/coverage.h"

size_t calendar_escape(const char *s, char *out, size_t cap)
{
	size_t o = 0;

	for (; s && *s; s++) {
		const char *rep = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;"
				  : *s == '"' ? "&quot;" : *s == '\'' ? "&#39;" : NULL;
		size_t n = rep ? strlen(rep) : 1;
		if (o + n < cap)
			memcpy(out + o, rep ? rep : s, n);
		o += n;
	}
	if (cap)
		out[o < cap ? o : cap - 1] = '\0';
	return o;
}

/* Writes `s` escaped. */
static void esc(FILE *f, const char *s)
{
	char buf[256];

	for (; s && *s; s++) {
		char one[2] = { *s, 0 };
		calendar_escape(one, buf, sizeof buf);
		fputs(buf, f);
	}
}

static const char *str(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return "";
	return json_object_get_string(v);
}

static long long num(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	return (long long)json_object_get_int64(v);
}

static const char css[] =
	"body{font:14px/1.35 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}"
	"h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.2em 0 .4em}"
	"table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 5px;"
	"vertical-align:top}th{background:#eee;text-align:left}"
	"table.month{margin:0 1em 1em 0;display:inline-table}"
	"table.month td{width:6.2em;height:5.2em;font-size:11px}"
	"td.pad{border:none;background:none}.d{font-weight:bold;font-size:13px}"
	"td.day.data{background:#e8f5e9}td.day.open{background:#fff3cd}"
	"td.day.lost{background:#f8d7da}td.day.mismatch{outline:3px solid #c00;"
	"outline-offset:-3px}td.day.broken{background:#f5c2c7}"
	".mark{color:#c00;font-weight:bold}.k{color:#555}"
	".ok{color:#1b5e20}.bad{color:#b00020;font-weight:bold}"
	"@media print{body{margin:0;font-size:10px}td.day,td.day.data,td.day.open,td.day.lost,"
	"td.day.broken{background:none}td.day.open .d::after{content:' \\2022'}"
	"td.day.lost .d::after,td.day.mismatch .d::after{content:' !'}"
	"table.month{page-break-inside:avoid}}";

/* One count in a cell, when not zero. */
static void part(FILE *f, json_object *d, const char *key, const char *label)
{
	long long n = num(d, key);

	if (n)
		fprintf(f, "<div><span class=\"k\">%s</span> %lld</div>", label, n);
}

static void cell(FILE *f, json_object *d)
{
	static const char *const keys[] = { "archived", "only_on_pbx", "in_progress",
					    "unavailable", "invalid", "pbx_deleted", "held",
					    "forgotten", "pruned", "offloaded", "vanished", "bytes" };
	json_object *cdr;
	int has_cdr = json_object_object_get_ex(d, "cdr_recordings", &cdr) && cdr;
	int mismatch = json_object_get_boolean(json_object_object_get(d, "cdr_mismatch"));
	int unlisted = !json_object_get_boolean(json_object_object_get(d, "listed"));
	int open = num(d, "only_on_pbx") + num(d, "in_progress") > 0 ||
		   (unlisted && num(d, "recordings") > 0);
	int lost = num(d, "vanished") > 0;
	int broken = !strcmp(str(d, "chain"), "broken");
	const char *day = str(d, "day");

	fputs("<td class=\"day", f);
	if (num(d, "recordings") || open || lost)
		fputs(" data", f);
	fprintf(f, "%s%s%s%s\" data-day=\"", open ? " open" : "", lost ? " lost" : "",
		mismatch ? " mismatch" : "", broken ? " broken" : "");
	esc(f, day);
	fputc('"', f);
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		fputs(" data-", f);
		for (const char *k = keys[i]; *k; k++)
			fputc(*k == '_' ? '-' : *k, f);
		fprintf(f, "=\"%lld\"", num(d, keys[i]));
	}
	if (has_cdr)
		fprintf(f, " data-cdr-recordings=\"%lld\"", num(d, "cdr_recordings"));
	else
		fputs(" data-cdr-recordings=\"\"", f);
	fprintf(f, " data-cdr-mismatch=\"%d\" data-listed=\"%d\" data-chain=\"", mismatch,
		!unlisted);
	esc(f, str(d, "chain"));
	fprintf(f, "\"><div class=\"d\">%s</div>", strlen(day) == 10 ? day + 8 : "");
	part(f, d, "archived", "archived");
	part(f, d, "only_on_pbx", "only on PBX");
	part(f, d, "in_progress", "in progress");
	part(f, d, "unavailable", "unavailable");
	part(f, d, "invalid", "invalid");
	part(f, d, "pbx_deleted", "deleted on PBX");
	part(f, d, "held", "held");
	part(f, d, "forgotten", "forgotten");
	part(f, d, "vanished", "vanished");
	if (unlisted)
		fputs("<div class=\"k\">not listed through</div>", f);
	if (has_cdr)
		fprintf(f, "<div><span class=\"k\">CDR</span> %lld%s</div>", num(d, "cdr_recordings"),
			mismatch ? " <span class=\"mark\" title=\"the CDR names another number of "
				   "recordings than the archive knows\">&ne;</span>" : "");
	if (broken)
		fputs("<div class=\"bad\">chain</div>", f);
	fputs("</td>", f);
}

static void months(FILE *f, json_object *days)
{
	size_t n = json_object_array_length(days);
	int col = 0;
	char month[8] = "";

	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(days, i);
		const char *day = str(d, "day");
		if (strncmp(day, month, 7) != 0) {
			if (month[0]) {
				for (; col && col < 7; col++)
					fputs("<td class=\"pad\"></td>", f);
				fputs("</tr></table>\n", f);
			}
			snprintf(month, sizeof month, "%.7s", day);
			fputs("<table class=\"month\" data-month=\"", f);
			esc(f, month);
			fputs("\"><caption>", f);
			esc(f, month);
			fputs("</caption><tr><th>Mon</th><th>Tue</th><th>Wed</th><th>Thu</th><th>Fri</th>"
			      "<th>Sat</th><th>Sun</th></tr><tr>", f);
			for (col = 0; col < coverage_weekday(day); col++)
				fputs("<td class=\"pad\"></td>", f);
		} else if (col == 7) {
			fputs("</tr><tr>", f);
			col = 0;
		}
		cell(f, d);
		col++;
	}
	if (month[0]) {
		for (; col && col < 7; col++)
			fputs("<td class=\"pad\"></td>", f);
		fputs("</tr></table>\n", f);
	}
}

static void row(FILE *f, const char *label, const char *id, long long v)
{
	fprintf(f, "<tr><th>%s</th><td id=\"%s\" data-value=\"%lld\">%lld</td></tr>", label, id, v,
		v);
}

static void totals(FILE *f, json_object *rep)
{
	json_object *t = json_object_object_get(rep, "totals"),
		    *a = json_object_object_get(rep, "archive");

	fputs("<h2>Totals of the range</h2><table class=\"totals\">", f);
	row(f, "archived", "t-archived", num(t, "archived"));
	row(f, "only on the PBX", "t-only-on-pbx", num(t, "only_on_pbx"));
	row(f, "in progress (growing)", "t-in-progress", num(t, "in_progress"));
	row(f, "unavailable", "t-unavailable", num(t, "unavailable"));
	row(f, "invalid (kept flagged)", "t-invalid", num(t, "invalid"));
	row(f, "deleted from the PBX", "t-pbx-deleted", num(t, "pbx_deleted"));
	row(f, "held (legal hold)", "t-held", num(t, "held"));
	row(f, "forgotten", "t-forgotten", num(t, "forgotten"));
	row(f, "vanished from the PBX, never archived", "t-vanished", num(t, "vanished"));
	row(f, "bytes held locally", "t-bytes", num(t, "bytes"));
	fputs("</table><h2>The whole archive</h2><table class=\"archive\">", f);
	row(f, "days with data", "a-days", num(a, "days_with_data"));
	row(f, "recordings held locally", "a-recordings", num(a, "recordings_local"));
	row(f, "bytes held locally", "a-bytes", num(a, "bytes_local"));
	row(f, "days open", "a-days-open", num(a, "days_open"));
	fputs("<tr><th>oldest recording only on the PBX</th><td id=\"a-oldest\">", f);
	esc(f, str(a, "oldest_on_pbx")[0] ? str(a, "oldest_on_pbx") : "none");
	fputs("</td></tr></table>\n", f);
}

static void chain(FILE *f, json_object *rep)
{
	json_object *c = json_object_object_get(rep, "chain"),
		    *h = json_object_object_get(c, "head"), *d = json_object_object_get(c, "days");
	const char *st = str(h, "state");

	fputs("<h2>Manifest chain and signatures</h2><p id=\"chain\" data-state=\"", f);
	esc(f, st);
	fprintf(f, "\" class=\"%s\">head: ", !strcmp(st, "ok") ? "ok" : "bad");
	esc(f, st);
	if (num(h, "seq"))
		fprintf(f, ", sequence %lld, %s, written ", num(h, "seq"),
			json_object_get_boolean(json_object_object_get(h, "signed")) ? "signed"
										     : "unsigned");
	esc(f, str(h, "time"));
	if (str(h, "why")[0]) {
		fputs(" — ", f);
		esc(f, str(h, "why"));
	}
	fprintf(f, "</p><p>days matching the head: %lld; with lines after it: %lld; not in it: "
		   "%lld; <span class=\"%s\">broken: %lld</span>. ",
		num(d, "ok"), num(d, "ahead"), num(d, "unlisted"), num(d, "broken") ? "bad" : "ok",
		num(d, "broken"));
	esc(f, str(c, "note"));
	fputs("</p>\n", f);
}

static void runs(FILE *f, json_object *rep)
{
	json_object *r = json_object_object_get(rep, "runs");
	size_t n = r ? json_object_array_length(r) : 0;

	fputs("<h2>Last runs</h2>", f);
	if (!n) {
		fputs("<p>No run report yet (.state/last-run.json).</p>\n", f);
		return;
	}
	fputs("<table class=\"runs\"><tr><th>ended</th><th>command</th><th>status</th>"
	      "<th>exit</th><th>archived</th><th>failed</th><th>missing</th><th>deleted</th></tr>", f);
	for (size_t i = 0; i < n; i++) {
		json_object *x = json_object_array_get_idx(r, i);
		fputs("<tr class=\"run\"><td>", f);
		esc(f, str(x, "end"));
		fputs("</td><td>", f);
		esc(f, str(x, "command"));
		fputs("</td><td>", f);
		esc(f, str(x, "status"));
		fprintf(f, "</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td></tr>",
			num(x, "exit_code"), num(x, "archived"), num(x, "failed"), num(x, "missing"),
			num(x, "deleted"));
	}
	fputs("</table>\n", f);
}

char *calendar_html(json_object *rep, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width\">"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\"><title>nexo-archive coverage: ", f);
	esc(f, str(rep, "pbx"));
	fprintf(f, "</title><style>%s</style></head><body>\n<h1>Coverage of ", css);
	esc(f, str(rep, "pbx"));
	fputs("</h1><p id=\"range\" data-from=\"", f);
	esc(f, str(rep, "from"));
	fputs("\" data-to=\"", f);
	esc(f, str(rep, "to"));
	fputs("\">Call days ", f);
	esc(f, str(rep, "from"));
	fputs(" to ", f);
	esc(f, str(rep, "to"));
	fputs(" (PBX time); made ", f);
	esc(f, str(rep, "generated"));
	fputs(" from the archive alone.</p>\n<p class=\"k\">Each day: archived · only on PBX "
	      "(listed, not archived yet) · in progress (still growing) · unavailable · invalid · "
	      "deleted on PBX · held · forgotten · vanished (listed, then gone, never archived) · "
	      "CDR (recordings its call records name; <span class=\"mark\">&ne;</span>: not the "
	      "number the archive knows). Amber: open; red: vanished or a broken chain.</p>\n", f);
	months(f, json_object_object_get(rep, "days"));
	totals(f, rep);
	chain(f, rep);
	runs(f, rep);
	fputs("</body></html>\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
