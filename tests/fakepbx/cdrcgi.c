/*
 * cdrcgi.c — CGIs 9006, 9005 and 9004: the CDR filters and answers.
 *
 * Owns the reading of the CDR filter parameters (with the guide's
 * spellings: "N O ANSWER", "FAILD", "Interval", "Call Back") and the JSON
 * and CSV layouts of --cdr-style / --cdr-int-values / --cdr-recording-name
 * / --cdr-csv-noheader / --long-fields (the dates are bound.c's). The rows themselves, and the file, belong to
 * cdr.c; this module never touches the disk but for the delete log.
 */
#include "cdrcgi.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bound.h"
#include "cdr.h"
#include "longf.h"
#include "sbuf.h"

/* Longest disposition/userfield parameter understood (spaces removed). */
#define CDRCGI_SET_MAX 256

struct cdrcgi_q {
	struct bound_q b;
	const char *src, *dst;         /* NULL = any */
	char disp[CDRCGI_SET_MAX];     /* squeezed, upper case; "" = any */
	char ufield[CDRCGI_SET_MAX];
	long minb, maxb;               /* -1 = none */
	const char *cidname, *in_route, *ivr; /* NULL = any */
	long port;                     /* <= 0 = any */
};

/* in without spaces, in upper case, into out. Returns 0, -1 when too long. */
static int cdrcgi_squeeze(const char *in, char *out, size_t n)
{
	size_t k = 0;
	for (const char *p = in ? in : ""; *p; p++) {
		if (*p == ' ' || *p == '\t')
			continue;
		if (k + 1 >= n)
			return -1;
		out[k++] = (char)toupper((unsigned char)*p);
	}
	out[k] = '\0';
	return 0;
}

/* True when list (values split on ',', ';', ' ') holds a non-empty value. */
static bool cdrcgi_has_token(const char *list)
{
	return list && list[strspn(list, ",; ")] != '\0';
}

static bool cdrcgi_in_list(const char *list, const char *val)
{
	size_t vl = strlen(val);
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ",; ");
		if (len == vl && memcmp(p, val, vl) == 0)
			return true;
		p += len;
		if (*p)
			p++;
	}
	return false;
}

/* Equal once trailing '-' are dropped from both ("FROM96-" = "FROM96"). */
static bool cdrcgi_eq_nodash(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	while (la && a[la - 1] == '-')
		la--;
	while (lb && b[lb - 1] == '-')
		lb--;
	return la == lb && memcmp(a, b, la) == 0;
}

static bool cdrcgi_match(const struct cdr_row *row, void *arg)
{
	const struct cdrcgi_q *q = arg;
	char val[64];
	if (!bound_in(&q->b, row->f[CDR_CALLDATE]))
		return false;
	if (q->src && !cdrcgi_in_list(q->src, row->f[CDR_SRC]))
		return false;
	if (q->dst && !cdrcgi_in_list(q->dst, row->f[CDR_DST]))
		return false;
	if (q->disp[0]) {
		if (cdrcgi_squeeze(row->f[CDR_DISPOSITION], val, sizeof val) < 0 || !val[0])
			return false;
		bool failed = strcmp(val, "FAILED") == 0 && strstr(q->disp, "FAILD");
		if (!strstr(q->disp, val) && !failed)
			return false;
	}
	if (q->ufield[0]) {
		if (cdrcgi_squeeze(row->f[CDR_USERFIELD], val, sizeof val) < 0 || !val[0])
			return false;
		bool internal = strcmp(val, "INTERNAL") == 0 && strstr(q->ufield, "INTERVAL");
		if (!strstr(q->ufield, val) && !internal)
			return false;
	}
	long bill = strtol(row->f[CDR_BILLSEC], NULL, 10);
	if (q->minb >= 0 && bill < q->minb)
		return false;
	if (q->maxb >= 0 && bill > q->maxb)
		return false;
	if (q->cidname && !cdrcgi_eq_nodash(row->f[CDR_CIDNAME], q->cidname))
		return false;
	if (q->in_route && !cdrcgi_eq_nodash(row->f[CDR_IN_ROUTE], q->in_route))
		return false;
	if (q->ivr && !cdrcgi_eq_nodash(row->f[CDR_IVR], q->ivr))
		return false;
	if (q->port > 0 && row->port != q->port)
		return false;
	return true;
}

/* A number parameter: "" or absent = -1; else digits (port: also "-1"). */
static int cdrcgi_number(const char *in, bool allow_minus_one, long *out)
{
	*out = -1;
	if (!in || !in[0])
		return 0;
	if (allow_minus_one && strcmp(in, "-1") == 0)
		return 0;
	char *end;
	errno = 0;
	long v = strtol(in, &end, 10);
	if (errno || *end || !isdigit((unsigned char)in[0]))
		return -1;
	*out = v;
	return 0;
}

/* A text parameter: NULL when absent or empty after dropping '-'s. */
static const char *cdrcgi_text(const char *in)
{
	if (!in)
		return NULL;
	size_t n = strlen(in);
	while (n && in[n - 1] == '-')
		n--;
	return n ? in : NULL;
}

/* Read the filters; returns NULL, or the name of the bad parameter. */
static const char *cdrcgi_parse(const struct fpx_config *cfg, struct http_req *r,
				struct cdrcgi_q *q)
{
	memset(q, 0, sizeof *q);
	const char *bad = bound_parse(cfg, http_param(r, "startdate", HTTP_SRC_ANY),
				      http_param(r, "enddate", HTTP_SRC_ANY), &q->b);
	if (bad)
		return bad;
	const char *v = http_param(r, "src", HTTP_SRC_ANY);
	q->src = cdrcgi_has_token(v) ? v : NULL;
	v = http_param(r, "dst", HTTP_SRC_ANY);
	q->dst = cdrcgi_has_token(v) ? v : NULL;
	if (cdrcgi_squeeze(http_param(r, "disposition", HTTP_SRC_ANY), q->disp,
			   sizeof q->disp) < 0)
		return "disposition";
	if (strcmp(q->disp, "ALL") == 0)
		q->disp[0] = '\0';
	if (cdrcgi_squeeze(http_param(r, "userfield", HTTP_SRC_ANY), q->ufield,
			   sizeof q->ufield) < 0)
		return "userfield";
	if (strcmp(q->ufield, "ALL") == 0)
		q->ufield[0] = '\0';
	if (cdrcgi_number(http_param(r, "minbillsec", HTTP_SRC_ANY), false, &q->minb) < 0)
		return "minbillsec";
	if (cdrcgi_number(http_param(r, "maxbillsec", HTTP_SRC_ANY), false, &q->maxb) < 0)
		return "maxbillsec";
	q->cidname = cdrcgi_text(http_param(r, "cidname", HTTP_SRC_ANY));
	q->in_route = cdrcgi_text(http_param(r, "in_route", HTTP_SRC_ANY));
	q->ivr = cdrcgi_text(http_param(r, "IVR", HTTP_SRC_ANY));
	if (cdrcgi_number(http_param(r, "port", HTTP_SRC_ANY), true, &q->port) < 0)
		return "port";
	return NULL;
}

static struct http_reply cdrcgi_reply(struct sbuf *sb, const char *ctype)
{
	struct http_reply rep =
		sbuf_failed(sb)
			? http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory")
			: http_reply_buf(MHD_HTTP_OK, ctype, sb->buf ? sb->buf : "", sb->len);
	sbuf_free(sb);
	return rep;
}

static struct http_reply cdrcgi_json(const struct fpx_config *cfg, const struct cdrcgi_q *q,
				     const struct cdr_list *rows, size_t shown)
{
	struct cdr_view view = { cfg->cdr_int_values, cfg->cdr_recname, cfg->long_fields };
	bool numbered = cfg->cdr_style == FPX_CDR_NUMBERED;
	struct sbuf sb = SBUF_INIT;
	sbuf_adds(&sb, numbered ? "{\"json_array_astcdrs\":{" : "{\"json_array_astcdrs\":[");
	for (size_t i = 0; i < shown; i++) {
		sbuf_adds(&sb, i ? ",\n" : "\n");
		if (numbered)
			sbuf_addf(&sb, "\"%zu\":", i);
		cdr_row_json(&sb, &rows->v[i], &view);
	}
	sbuf_adds(&sb, shown ? "\n" : "");
	sbuf_adds(&sb, numbered ? "},\"json_obj_filter\":{\"startdate\":"
				: "],\"json_obj_filter\":{\"startdate\":");
	sbuf_json_str(&sb, q->b.start);
	sbuf_adds(&sb, ",\"enddate\":");
	sbuf_json_str(&sb, q->b.end);
	sbuf_addf(&sb, ",\"totalcount\":%zu}}\n", cfg->totalcount_capped ? shown : rows->n);
	return cdrcgi_reply(&sb, "application/json");
}

/* RFC 4180: quoted only when it holds a comma, a quote, CR or LF. */
static void cdrcgi_csv_field(struct sbuf *sb, const char *s)
{
	if (!s[strcspn(s, ",\"\r\n")]) {
		sbuf_adds(sb, s);
		return;
	}
	sbuf_adds(sb, "\"");
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			sbuf_adds(sb, "\"\"");
		else
			sbuf_add(sb, p, 1);
	}
	sbuf_adds(sb, "\"");
}

static struct http_reply cdrcgi_csv(const struct fpx_config *cfg, const struct cdr_list *rows,
				    size_t shown)
{
	struct sbuf sb = SBUF_INIT;
	char name[600];
	if (!cfg->cdr_csv_noheader) {
		for (size_t i = 0; i <= CDR_NSTR; i++) {
			sbuf_adds(&sb, i ? "," : "");
			cdrcgi_csv_field(&sb, cdr_names[i]);
		}
		sbuf_adds(&sb, "\r\n");
	}
	for (size_t r = 0; r < shown; r++) {
		const struct cdr_row *row = &rows->v[r];
		for (size_t i = 0; i < CDR_NSTR; i++) {
			sbuf_adds(&sb, i ? "," : "");
			const char *val = i == CDR_RECFILE
						  ? cdr_recname(row, cfg->cdr_recname, name, sizeof name)
						  : row->f[i];
			char *lv = cfg->long_fields && cdr_field_is_long(i)
					   ? longf_make(val, cfg->long_fields)
					   : NULL;
			if (cfg->long_fields && cdr_field_is_long(i) && !lv)
				sbuf_fail(&sb);
			cdrcgi_csv_field(&sb, lv ? lv : val);
			free(lv);
		}
		sbuf_addf(&sb, ",%ld\r\n", row->port);
	}
	struct http_reply rep = cdrcgi_reply(&sb, "text/csv");
	if (rep.status == MHD_HTTP_OK)
		http_reply_header(&rep, MHD_HTTP_HEADER_CONTENT_DISPOSITION,
				  "attachment; filename=\"cdr.csv\"");
	return rep;
}

/* One JSON line per 9004 call: the filters as sent, the effective dates,
 * the count and the UniqueIDs removed. */
static void cdrcgi_log_delete(const struct fpx_config *cfg, struct http_req *r,
			      const struct cdrcgi_q *q, const struct cdr_list *gone)
{
	static const char *const keys[] = { "src", "dst", "disposition", "userfield",
					     "minbillsec", "maxbillsec", "cidname", "in_route",
					     "IVR", "port" };
	if (cfg->cdr_delete_log_fd < 0)
		return;
	struct sbuf sb = SBUF_INIT;
	sbuf_adds(&sb, "{\"cgi\":\"9004\",\"startdate\":");
	sbuf_json_str(&sb, q->b.start);
	sbuf_adds(&sb, ",\"enddate\":");
	sbuf_json_str(&sb, q->b.end);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *v = http_param(r, keys[i], HTTP_SRC_ANY);
		sbuf_addf(&sb, ",\"%s\":", keys[i]);
		if (v)
			sbuf_json_str(&sb, v);
		else
			sbuf_adds(&sb, "null");
	}
	sbuf_addf(&sb, ",\"deleted\":%zu,\"UniqueIDs\":[", gone->n);
	for (size_t i = 0; i < gone->n; i++) {
		sbuf_adds(&sb, i ? "," : "");
		sbuf_json_str(&sb, gone->v[i].f[CDR_UNIQUEID]);
	}
	sbuf_adds(&sb, "]}\n");
	/* one write() per line: lines stay whole (deletes are serialised by
	 * the store, but a log may be shared) */
	if (!sbuf_failed(&sb) && write(cfg->cdr_delete_log_fd, sb.buf, sb.len) != (ssize_t)sb.len)
		fprintf(stderr, "fakepbx: --cdr-delete-log: short write\n");
	sbuf_free(&sb);
}

struct http_reply cdrcgi_handle(const struct fpx_config *cfg, struct http_req *r, unsigned cgi)
{
	struct cdrcgi_q q;
	const char *bad = cdrcgi_parse(cfg, r, &q);
	if (bad) {
		char msg[40];
		snprintf(msg, sizeof msg, "bad %s", bad);
		return http_reply_fail(MHD_HTTP_OK, msg);
	}
	struct cdr_list rows = { 0 };
	if (cgi == FAULT_CGI_CDR_DELETE) {
		int rc = cdr_store_delete(cfg->cdrs, cdrcgi_match, &q, &rows);
		if (rc == 0)
			cdrcgi_log_delete(cfg, r, &q, &rows);
		size_t n = rows.n;
		cdr_list_free(&rows);
		if (rc < 0)
			return http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot delete");
		char body[64];
		int len = snprintf(body, sizeof body, "{\"status\":\"success\",\"deleted\":%zu}\n", n);
		return http_reply_buf(MHD_HTTP_OK, "application/json", body, (size_t)len);
	}
	if (cdr_store_select(cfg->cdrs, cdrcgi_match, &q, &rows) < 0) {
		cdr_list_free(&rows);
		return http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	size_t shown = rows.n;
	if (cfg->max_rows > 0 && shown > (size_t)cfg->max_rows)
		shown = (size_t)cfg->max_rows;
	struct http_reply rep = cgi == FAULT_CGI_CDR_CSV ? cdrcgi_csv(cfg, &rows, shown)
							 : cdrcgi_json(cfg, &q, &rows, shown);
	cdr_list_free(&rows);
	return rep;
}
