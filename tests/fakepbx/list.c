/*
 * list.c — CGI 20053: filter the recordings and stream them as JSON.
 *
 * Owns the reading of the filter parameters (tolerating the guide's
 * spellings: "Call Back", "Interval"; the dates are bound.c's), the JSON
 * layouts of --list-style / --int-values / --totalcount-missing /
 * --totalcount-capped / --long-fields, and the listing faults (json-huge, json-deep, json-wrong-types, totalcount-lie,
 * size-mismatch, json-truncated). The rows are kept as parsed records and
 * turned into JSON piece by piece while libmicrohttpd sends them, so a
 * 100,000-row answer (or 300 MiB of json-huge) never exists as one string;
 * only json-truncated renders the answer in memory, to know its length.
 */
#include "list.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bound.h"
#include "cdr.h"
#include "live.h"
#include "longf.h"
#include "omit.h"
#include "sbuf.h"
#include "store.h"

/* JSON is produced in pieces of about this size. */
#define LIST_PIECE (64 * 1024)

struct list_query {
	struct bound_q b;
	const char *src, *dst, *trunk, *calltype; /* NULL: any */
	long min_dur, max_dur;                    /* -1: none */
	const struct cdr_list *starts;            /* --list-call-start: the CDRs that name a
	                                             recording; NULL: off */
};

enum list_phase {
	LIST_DEEP_OPEN, LIST_HEAD, LIST_PAD, LIST_TINY, LIST_ROWS, LIST_TAIL, LIST_DEEP_CLOSE,
	LIST_DONE
};

struct list_stream {
	struct store_list rows;
	size_t next;           /* next row to emit */
	size_t total;          /* matching rows before --max-rows */
	enum list_phase phase;
	struct sbuf piece;     /* JSON not yet handed to MHD */
	size_t piece_off;
	uint64_t produced;
	char start[17], end[17];
	enum fpx_list_style style;
	bool int_values, totalcount_missing;
	size_t long_fields;    /* --long-fields */
	/* faults */
	uint64_t pad_left;     /* json-huge: spaces still to send */
	uint64_t tiny_left;    /* json-tiny-rows: bytes of tiny rows still to send */
	uint64_t tiny_n;       /* ... rows sent so far */
	uint64_t deep_left;    /* json-deep: brackets still to send (open, then close) */
	uint64_t deep;
	bool wrong_types;      /* json-wrong-types */
	bool sizes;            /* size-mismatch */
	char *lie_path;        /* size-mismatch: the row that lies (the newest the PBX holds) */
	long long total_delta; /* totalcount-lie */
	struct http_logtag tag;
};

static int list_number(const char *in, long *out)
{
	*out = -1;
	if (!in || !in[0])
		return 0;
	char *end;
	long v = strtol(in, &end, 10);
	if (*end != '\0' || v < 0 || !isdigit((unsigned char)in[0]))
		return -1;
	*out = v;
	return 0;
}

/* Map a calltype parameter to a store type; *type NULL means any. */
static int list_calltype(const char *in, const char **type)
{
	*type = NULL;
	if (!in || !in[0] || strcasecmp(in, "All") == 0)
		return 0;
	char squeezed[32];
	size_t n = 0;
	for (const char *p = in; *p && n < sizeof squeezed - 1; p++)
		if (*p != ' ')
			squeezed[n++] = *p;
	squeezed[n] = '\0';
	if (strcasecmp(squeezed, "Interval") == 0) /* the guide's filter table */
		memcpy(squeezed, "Internal", sizeof "Internal");
	for (size_t i = 0; i < 5; i++)
		if (strcasecmp(squeezed, store_calltypes[i]) == 0) {
			*type = store_calltypes[i];
			return 0;
		}
	return -1;
}

/* The time the date filter compares: the recording's own (its name's), or with
 * --list-call-start the start of the call that made it, the calldate of the CDR naming it
 * (the guide's 20053 table: "Calls which start within this period ... will match,
 * regardless of the call answer"), which is earlier when the call rang or queued first. */
static const char *list_filter_time(const struct list_query *q, const struct store_rec *rec)
{
	for (size_t i = 0; q->starts && i < q->starts->n; i++)
		if (strcmp(q->starts->v[i].f[CDR_RECFILE], rec->path) == 0)
			return q->starts->v[i].f[CDR_CALLDATE];
	return rec->calldate;
}

static bool list_names_recording(const struct cdr_row *row, void *arg)
{
	(void)arg;
	return row->f[CDR_RECFILE][0] != '\0';
}

/* Everything the name tells; runs before the file is opened. */
static bool list_prekeep(const struct store_rec *rec, void *arg)
{
	const struct list_query *q = arg;
	if (!bound_in(&q->b, list_filter_time(q, rec)) || omit_has(rec->path))
		return false;
	if (q->src && !strstr(rec->src, q->src))
		return false;
	if (q->dst && !strstr(rec->dst, q->dst))
		return false;
	if (q->trunk && strcmp(rec->trunk, q->trunk) != 0)
		return false;
	if (q->calltype && rec->calltype != q->calltype)
		return false;
	return true;
}

static bool list_keep(const struct store_rec *rec, void *arg)
{
	const struct list_query *q = arg;
	if (q->min_dur >= 0 && rec->duration < (unsigned long)q->min_dur)
		return false;
	if (q->max_dur >= 0 && rec->duration > (unsigned long)q->max_dur)
		return false;
	return true;
}

/* A src/dst/trunk value, padded under --long-fields (an empty trunk stays
 * empty: Internal calls have none). */
static void list_emit_party(struct list_stream *st, const char *v)
{
	char *lv = st->long_fields && v[0] ? longf_make(v, st->long_fields) : NULL;
	if (st->long_fields && v[0] && !lv)
		sbuf_fail(&st->piece);
	sbuf_json_str(&st->piece, lv ? lv : v);
	free(lv);
}

static void list_emit_row(struct list_stream *st, const struct store_rec *rec, size_t i)
{
	struct sbuf *sb = &st->piece;
	if (i > 0 || st->tiny_n)
		sbuf_adds(sb, ",\n");
	if (st->style == FPX_LIST_NUMBERED)
		sbuf_addf(sb, "\"%zu\":", i);
	sbuf_adds(sb, st->wrong_types ? "{\"calldate\":{\"date\":" : "{\"calldate\":");
	sbuf_json_str(sb, rec->calldate);
	sbuf_adds(sb, st->wrong_types ? "},\"src\":" : ",\"src\":");
	list_emit_party(st, rec->src);
	sbuf_adds(sb, ",\"dst\":");
	list_emit_party(st, rec->dst);
	sbuf_adds(sb, ",\"trunk\":");
	list_emit_party(st, rec->trunk);
	if (st->wrong_types)
		sbuf_addf(sb, ",\"duration\":[\"%u\"]", (unsigned)rec->duration);
	else if (st->int_values)
		sbuf_addf(sb, ",\"duration\":%u", (unsigned)rec->duration);
	else
		sbuf_addf(sb, ",\"duration\":\"%u\"", (unsigned)rec->duration);
	if (st->sizes) { /* one recording lies by one byte, in every listing that has it */
		unsigned long long size =
			rec->size + (st->lie_path && strcmp(rec->path, st->lie_path) == 0);
		sbuf_addf(sb, st->int_values ? ",\"size\":%llu" : ",\"size\":\"%llu\"", size);
	}
	sbuf_adds(sb, ",\"calltype\":");
	sbuf_json_str(sb, rec->calltype);
	if (st->wrong_types) {
		sbuf_addf(sb, ",\"path\":%lld}", (long long)rec->unixtime);
		return;
	}
	sbuf_adds(sb, ",\"path\":");
	sbuf_json_str(sb, rec->path);
	sbuf_adds(sb, "}");
}

static void list_emit_filter(struct list_stream *st)
{
	struct sbuf *sb = &st->piece;
	long long total = (long long)st->total + st->total_delta;
	sbuf_adds(sb, "\"json_obj_filter\":{\"startdate\":");
	sbuf_json_str(sb, st->start);
	sbuf_adds(sb, ",\"enddate\":");
	sbuf_json_str(sb, st->end);
	if (st->totalcount_missing) {
		sbuf_adds(sb, "}");
		return;
	}
	if (st->wrong_types)
		sbuf_addf(sb, ",\"totalcount\":{\"count\":%lld}", total);
	else if (st->int_values) /* the wrong way round on purpose */
		sbuf_addf(sb, ",\"totalcount\":\"%lld\"", total);
	else
		sbuf_addf(sb, ",\"totalcount\":%lld", total);
	sbuf_adds(sb, "}");
}

/* Up to one piece of n copies of c. */
static void list_emit_run(struct list_stream *st, char c, uint64_t *n)
{
	size_t k = *n < LIST_PIECE ? (size_t)*n : LIST_PIECE;
	char run[1024];
	memset(run, c, sizeof run);
	for (size_t done = 0; done < k;) {
		size_t m = k - done < sizeof run ? k - done : sizeof run;
		sbuf_add(&st->piece, run, m);
		done += m;
	}
	*n -= k;
}

/* json-tiny-rows: rows of a path alone (the call's date and time in its name, in the asked
 * window's first minute), as many as fit the bytes asked: what costs a client most per byte. */
static void list_emit_tiny(struct list_stream *st)
{
	struct sbuf *sb = &st->piece;
	char day[9], hm[5];

	memcpy(day, st->start, 4);
	memcpy(day + 4, st->start + 5, 2);
	memcpy(day + 6, st->start + 8, 2);
	day[8] = '\0';
	memcpy(hm, st->start + 11, 2);
	memcpy(hm + 2, st->start + 14, 2);
	hm[4] = '\0';
	while (st->tiny_left && sb->len < LIST_PIECE) {
		size_t before = sb->len;
		if (st->tiny_n)
			sbuf_adds(sb, ",\n");
		if (st->style == FPX_LIST_NUMBERED)
			sbuf_addf(sb, "\"t%llu\":", (unsigned long long)st->tiny_n);
		sbuf_addf(sb, "{\"path\":\"%s/%s-%s00-t%llu.wav\"}", day, day, hm,
			  (unsigned long long)st->tiny_n);
		st->tiny_n++;
		st->tiny_left = st->tiny_left > sb->len - before ? st->tiny_left - (sb->len - before)
								 : 0;
	}
}

/* Produce the next piece of JSON into st->piece; false when done. */
static bool list_refill(struct list_stream *st)
{
	struct sbuf *sb = &st->piece;
	switch (st->phase) {
	case LIST_DEEP_OPEN:
		list_emit_run(st, '[', &st->deep_left);
		if (st->deep_left == 0) {
			st->phase = LIST_HEAD;
			st->deep_left = st->deep;
		}
		return true;
	case LIST_PAD:
		list_emit_run(st, ' ', &st->pad_left);
		if (st->pad_left == 0)
			st->phase = st->tiny_left ? LIST_TINY : LIST_ROWS;
		return true;
	case LIST_TINY:
		list_emit_tiny(st);
		if (st->tiny_left == 0)
			st->phase = LIST_ROWS;
		return true;
	case LIST_DEEP_CLOSE:
		list_emit_run(st, ']', &st->deep_left);
		if (st->deep_left == 0)
			st->phase = LIST_DONE;
		return true;
	case LIST_HEAD:
		sbuf_adds(sb, st->style == FPX_LIST_ARRAY    ? "{\"json_array_recordings\":[\n"
			      : st->style == FPX_LIST_KEYED  ? "{\"recordings\":[\n"
			      : st->style == FPX_LIST_BARE   ? "[\n"
							     : "{\n");
		st->phase = st->pad_left ? LIST_PAD : st->tiny_left ? LIST_TINY : LIST_ROWS;
		return true;
	case LIST_ROWS:
		while (st->next < st->rows.n && sb->len < LIST_PIECE) {
			list_emit_row(st, &st->rows.recs[st->next], st->next);
			st->next++;
		}
		if (st->next == st->rows.n)
			st->phase = LIST_TAIL;
		return true;
	case LIST_TAIL:
		if (st->style == FPX_LIST_BARE) {
			sbuf_adds(sb, "\n]\n");
		} else {
			if (st->style == FPX_LIST_NUMBERED)
				sbuf_adds(sb, st->rows.n || st->tiny_n ? ",\n" : "");
			else
				sbuf_adds(sb, "\n],\n");
			list_emit_filter(st);
			sbuf_adds(sb, "}\n");
		}
		st->phase = st->deep ? LIST_DEEP_CLOSE : LIST_DONE;
		return true;
	case LIST_DONE:
	default:
		return false;
	}
}

static ssize_t list_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct list_stream *st = cls;
	size_t filled = 0;
	(void)pos;
	while (filled < max) {
		if (st->piece_off < st->piece.len) {
			size_t n = st->piece.len - st->piece_off;
			if (n > max - filled)
				n = max - filled;
			memcpy(buf + filled, st->piece.buf + st->piece_off, n);
			st->piece_off += n;
			filled += n;
			continue;
		}
		sbuf_reset(&st->piece);
		st->piece_off = 0;
		if (!list_refill(st))
			break;
		if (sbuf_failed(&st->piece))
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	st->produced += filled;
	return filled ? (ssize_t)filled : MHD_CONTENT_READER_END_OF_STREAM;
}

static void list_destroy(struct list_stream *st)
{
	free(st->lie_path);
	store_list_free(&st->rows);
	sbuf_free(&st->piece);
	free(st);
}

/* Called by MHD when the response is done (or the client went away):
 * the log line then tells how much was really produced. */
static void list_free(void *cls)
{
	struct list_stream *st = cls;
	http_log(&st->tag, MHD_HTTP_OK, st->produced);
	list_destroy(st);
}

/* json-truncated: the whole answer in memory, then only its first part. */
static struct http_reply list_truncated(struct list_stream *st, const struct fault_inst *f)
{
	struct sbuf all = SBUF_INIT;
	char *piece = malloc(LIST_PIECE);
	ssize_t n = 0;
	while (piece && !sbuf_failed(&all) &&
	       (n = list_read(st, 0, piece, LIST_PIECE)) > 0)
		sbuf_add(&all, piece, (size_t)n);
	free(piece);
	list_destroy(st);
	if (!piece || sbuf_failed(&all) || n != MHD_CONTENT_READER_END_OF_STREAM) {
		sbuf_free(&all);
		return http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	struct http_reply rep = http_reply_buf(MHD_HTTP_OK, "application/json", all.buf, all.len);
	sbuf_free(&all);
	http_reply_truncate(&rep, f);
	return rep;
}

/* This answer lists rows: count it for the live recordings among them. */
static void list_note_live(const struct store_list *rows)
{
	if (!rows->n || !live_any())
		return;
	const char **paths = calloc(rows->n, sizeof *paths);
	for (size_t i = 0; paths && i < rows->n; i++)
		paths[i] = rows->recs[i].path;
	if (paths)
		live_note(paths, rows->n);
	free(paths);
}

/* size-mismatch: the path of the newest recording the PBX holds, whatever window is asked (a
 * PBX that lists a wrong size lists it every time); NULL when there is none. */
static char *list_newest_path(const struct fpx_config *cfg)
{
	struct store_filter all = { .any = cfg->any_folder };
	struct store_list l = { 0 };
	char *path = NULL;

	if (store_scan(cfg->data_dir, &all, &l) == 0 && l.n) {
		store_sort_newest(&l);
		path = strdup(l.recs[0].path);
	}
	store_list_free(&l);
	return path;
}

struct http_reply list_handle(const struct fpx_config *cfg, struct http_req *r)
{
	struct list_query q = { .min_dur = -1, .max_dur = -1 };
	const char *bad = bound_parse(cfg, http_param(r, "startdate", HTTP_SRC_ANY),
				      http_param(r, "enddate", HTTP_SRC_ANY), &q.b);
	if (bad)
		return http_reply_fail(MHD_HTTP_OK, bad[0] == 's' ? "bad startdate" : "bad enddate");
	const char *v;
	if ((v = http_param(r, "src", HTTP_SRC_ANY)) && v[0])
		q.src = v;
	if ((v = http_param(r, "dst", HTTP_SRC_ANY)) && v[0])
		q.dst = v;
	if ((v = http_param(r, "trunk", HTTP_SRC_ANY)) && v[0] && strcasecmp(v, "All") != 0)
		q.trunk = v;
	if (list_calltype(http_param(r, "calltype", HTTP_SRC_ANY), &q.calltype) < 0)
		return http_reply_fail(MHD_HTTP_OK, "bad calltype");
	if (list_number(http_param(r, "minduration", HTTP_SRC_ANY), &q.min_dur) < 0)
		return http_reply_fail(MHD_HTTP_OK, "bad minduration");
	if (list_number(http_param(r, "maxduration", HTTP_SRC_ANY), &q.max_dur) < 0)
		return http_reply_fail(MHD_HTTP_OK, "bad maxduration");

	struct store_filter f = { .any = cfg->any_folder, .prekeep = list_prekeep,
				  .keep = list_keep, .arg = &q };
	bound_days(&q.b, f.day_lo, f.day_hi); /* folder names are YYYYMMDD: skip whole days */
	struct cdr_list starts = { 0 };
	if (cfg->list_call_start) {
		/* A call that started on the last day asked for may be recorded the next. */
		f.day_hi[0] = '\0';
		if (cdr_store_select(cfg->cdrs, list_names_recording, NULL, &starts) < 0) {
			cdr_list_free(&starts);
			return http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		}
		q.starts = &starts;
	}

	struct list_stream *st = calloc(1, sizeof *st);
	if (!st) {
		cdr_list_free(&starts);
		return http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	int scanned = store_scan(cfg->data_dir, &f, &st->rows);
	cdr_list_free(&starts);
	if (scanned < 0) {
		store_list_free(&st->rows);
		free(st);
		return http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read recordings");
	}
	store_sort_newest(&st->rows);
	st->total = st->rows.n;
	if (cfg->max_rows > 0 && st->rows.n > (size_t)cfg->max_rows)
		store_truncate(&st->rows, (size_t)cfg->max_rows);
	if (cfg->totalcount_capped)
		st->total = st->rows.n;
	list_note_live(&st->rows);
	memcpy(st->start, q.b.start, sizeof st->start);
	memcpy(st->end, q.b.end, sizeof st->end);
	st->style = cfg->list_style;
	st->int_values = cfg->int_values;
	st->totalcount_missing = cfg->totalcount_missing;
	st->long_fields = cfg->long_fields;

	const struct fault_inst *fi;
	if ((fi = http_fault(r, FAULT_JSON_HUGE)))
		st->pad_left = (uint64_t)fi->value << 20;
	if ((fi = http_fault(r, FAULT_JSON_TINY_ROWS)))
		st->tiny_left = (uint64_t)fi->value << 20;
	if ((fi = http_fault(r, FAULT_JSON_DEEP)))
		st->deep = st->deep_left = (uint64_t)fi->value;
	else
		st->phase = LIST_HEAD;
	st->wrong_types = http_fault(r, FAULT_JSON_WRONG_TYPES) != NULL;
	st->sizes = cfg->list_sizes || http_fault(r, FAULT_SIZE_MISMATCH) != NULL;
	if (http_fault(r, FAULT_SIZE_MISMATCH))
		st->lie_path = list_newest_path(cfg);
	if ((fi = http_fault(r, FAULT_TOTALCOUNT_LIE)))
		st->total_delta = fi->value;
	if ((fi = http_fault(r, FAULT_JSON_TRUNCATED)))
		return list_truncated(st, fi);
	return http_reply_stream(MHD_HTTP_OK, "application/json", MHD_SIZE_UNKNOWN, LIST_PIECE,
				 list_read, st, list_free, &st->tag);
}
