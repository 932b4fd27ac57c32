/*
 * cdr.c — CDR rows, their JSON, the cdr.jsonl file and the live store.
 *
 * Owns the one description of a CDR row (field names and order, how a
 * call becomes a row) and every read and write of DIR/cdr.jsonl. It never
 * touches recordings and knows nothing of HTTP or AMI.
 */
#include "cdr.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "longf.h"

const char *const cdr_names[CDR_NSTR + 1] = {
	"calldate", "src", "contact", "groupname", "dst", "channel", "dstchannel",
	"duration", "billsec", "disposition", "userfield", "accountcode", "cidname",
	"in_route", "IVR", "Recording filename", "UniqueID", "port",
};

struct cdr_store {
	pthread_mutex_t lock;
	char *dir;
	struct cdr_list rows; /* file order; hidden rows included */
};

void cdr_row_clear(struct cdr_row *row)
{
	for (size_t i = 0; i < CDR_NSTR; i++) {
		free(row->f[i]);
		row->f[i] = NULL;
	}
	row->port = 0;
	row->hidden = false;
}

/* Set every still-NULL field to "". Returns 0, or -1 out of memory. */
static int cdr_fill_empty(struct cdr_row *row)
{
	for (size_t i = 0; i < CDR_NSTR; i++)
		if (!row->f[i] && !(row->f[i] = strdup("")))
			return -1;
	return 0;
}

static int cdr_setf(struct cdr_row *row, enum cdr_field f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cdr_setf(struct cdr_row *row, enum cdr_field f, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	free(row->f[f]);
	row->f[f] = strdup(buf);
	return row->f[f] ? 0 : -1;
}

static int cdr_copy(struct cdr_row *dst, const struct cdr_row *src)
{
	memset(dst, 0, sizeof *dst);
	for (size_t i = 0; i < CDR_NSTR; i++)
		if (!(dst->f[i] = strdup(src->f[i] ? src->f[i] : ""))) {
			cdr_row_clear(dst);
			return -1;
		}
	dst->port = src->port;
	dst->hidden = src->hidden;
	return 0;
}

int cdr_from_call(const struct cdr_call *c, struct cdr_row *row)
{
	char date[24];
	time_t t = (time_t)(c->start + c->zone);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
	bool ivr = c->trunk && strcmp(c->type, "Inbound") == 0 && strncmp(c->dst, "620(", 4) == 0;
	bool inbound = c->trunk && strcmp(c->type, "Inbound") == 0;
	memset(row, 0, sizeof *row);
	int rc = 0;
	rc |= cdr_setf(row, CDR_CALLDATE, "%s", date);
	rc |= cdr_setf(row, CDR_SRC, "%s", c->src);
	rc |= cdr_setf(row, CDR_DST, "%s", c->dst);
	rc |= cdr_setf(row, CDR_CHANNEL, "%s", c->trunk ? c->trunk : "");
	rc |= cdr_setf(row, CDR_DURATION, "%u", c->ring + c->billsec);
	rc |= cdr_setf(row, CDR_BILLSEC, "%u", c->billsec);
	rc |= cdr_setf(row, CDR_DISPOSITION, "%s", c->disposition);
	rc |= cdr_setf(row, CDR_USERFIELD, "%s", c->type);
	if (inbound) {
		rc |= cdr_setf(row, CDR_CIDNAME, "FROM%s", c->trunk);
		rc |= cdr_setf(row, CDR_IN_ROUTE, "FROM%s", c->trunk);
	}
	if (ivr)
		rc |= cdr_setf(row, CDR_IVR, "IVR620");
	rc |= cdr_setf(row, CDR_RECFILE, "%s", c->recpath ? c->recpath : "");
	rc |= cdr_setf(row, CDR_UNIQUEID, "%lld.%lu", (long long)c->start, c->seq);
	/* a GSM module port for trunk 42, as on a PBX with one GSM trunk */
	row->port = c->trunk && strcmp(c->trunk, "42") == 0 ? 1 : 0;
	if (rc || cdr_fill_empty(row) < 0) {
		cdr_row_clear(row);
		return -1;
	}
	return 0;
}

int cdr_list_push(struct cdr_list *l, struct cdr_row *row)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct cdr_row *v = realloc(l->v, cap * sizeof *v);
		if (!v) {
			cdr_row_clear(row);
			return -1;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *row;
	memset(row, 0, sizeof *row);
	return 0;
}

void cdr_list_free(struct cdr_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		cdr_row_clear(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* UniqueIDs compare as "start.seq" numbers, not as strings. */
static int cdr_cmp_uid(const char *a, const char *b)
{
	unsigned long long a1 = strtoull(a, NULL, 10), b1 = strtoull(b, NULL, 10);
	const char *da = strchr(a, '.'), *db = strchr(b, '.');
	unsigned long long a2 = da ? strtoull(da + 1, NULL, 10) : 0;
	unsigned long long b2 = db ? strtoull(db + 1, NULL, 10) : 0;
	if (a1 != b1)
		return a1 < b1 ? -1 : 1;
	if (a2 != b2)
		return a2 < b2 ? -1 : 1;
	return strcmp(a, b);
}

static int cdr_cmp_oldest(const void *a, const void *b)
{
	const struct cdr_row *x = a, *y = b;
	int c = strcmp(x->f[CDR_CALLDATE], y->f[CDR_CALLDATE]);
	return c ? c : cdr_cmp_uid(x->f[CDR_UNIQUEID], y->f[CDR_UNIQUEID]);
}

static int cdr_cmp_newest(const void *a, const void *b)
{
	return cdr_cmp_oldest(b, a);
}

void cdr_list_sort(struct cdr_list *l, bool newest_first)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof l->v[0], newest_first ? cdr_cmp_newest : cdr_cmp_oldest);
}

const char *cdr_ami_name(const struct cdr_row *row, char *buf, size_t n)
{
	const char *rel = row->f[CDR_RECFILE];
	size_t len = strlen(rel);
	buf[0] = '\0';
	if (len == 0)
		return buf;
	if (len > 4 && strcmp(rel + len - 4, ".wav") == 0)
		len -= 4;
	snprintf(buf, n, "%s%.*s", CDR_MONITOR_DIR, (int)len, rel);
	return buf;
}

const char *cdr_recname(const struct cdr_row *row, enum fpx_cdr_recname mode, char *buf,
			size_t n)
{
	switch (mode) {
	case FPX_CDR_FULL:
		return cdr_ami_name(row, buf, n);
	case FPX_CDR_NONE:
		return "";
	case FPX_CDR_RELATIVE:
	default:
		return row->f[CDR_RECFILE];
	}
}

bool cdr_field_is_long(size_t f)
{
	return f == CDR_CHANNEL || f == CDR_DSTCHANNEL || f == CDR_SRC || f == CDR_DST ||
	       f == CDR_CIDNAME || f == CDR_ACCOUNTCODE;
}

void cdr_row_json(struct sbuf *sb, const struct cdr_row *row, const struct cdr_view *v)
{
	char name[600];
	sbuf_adds(sb, "{");
	for (size_t i = 0; i < CDR_NSTR; i++) {
		sbuf_adds(sb, i ? ",\"" : "\"");
		sbuf_adds(sb, cdr_names[i]);
		sbuf_adds(sb, "\":");
		const char *val = row->f[i];
		if (v && i == CDR_RECFILE)
			val = cdr_recname(row, v->recname, name, sizeof name);
		if (v && v->int_values && (i == CDR_DURATION || i == CDR_BILLSEC)) {
			sbuf_addf(sb, "%ld", strtol(val, NULL, 10));
		} else if (v && v->long_fields && cdr_field_is_long(i)) {
			char *lv = longf_make(val, v->long_fields);
			if (lv)
				sbuf_json_str(sb, lv);
			else
				sbuf_fail(sb);
			free(lv);
		} else {
			sbuf_json_str(sb, val);
		}
	}
	sbuf_addf(sb, ",\"port\":%ld}", row->port);
}

/* One line of the file into row. Returns 0, or -1 when it is not a JSON
 * object or memory ran out. */
static int cdr_parse_line(const char *line, struct cdr_row *row)
{
	memset(row, 0, sizeof *row);
	struct json_object *o = json_tokener_parse(line), *x;
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; i < CDR_NSTR && rc == 0; i++)
		if (json_object_object_get_ex(o, cdr_names[i], &x) && x &&
		    !(row->f[i] = strdup(json_object_get_string(x))))
			rc = -1;
	if (json_object_object_get_ex(o, "port", &x) && x)
		row->port = (long)json_object_get_int64(x);
	json_object_put(o);
	if (rc || cdr_fill_empty(row) < 0) {
		cdr_row_clear(row);
		return -1;
	}
	return 0;
}

int cdr_load(const char *dir, struct cdr_list *out)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, CDR_FILE);
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "fakepbx: %s: %s\n", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	int rc = 0;
	while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len <= 1)
			continue;
		struct cdr_row row;
		if (cdr_parse_line(line, &row) < 0) {
			fprintf(stderr, "fakepbx: %s:%ld: not a CDR row, skipped\n", path, lineno);
			continue;
		}
		rc = cdr_list_push(out, &row);
	}
	if (ferror(f)) {
		fprintf(stderr, "fakepbx: %s: read error\n", path);
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

static int cdr_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int cdr_save(const char *dir, const struct cdr_list *l)
{
	char path[4096], tmp[4096];
	snprintf(path, sizeof path, "%s/%s", dir, CDR_FILE);
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, CDR_FILE);
	struct sbuf sb = SBUF_INIT;
	for (size_t i = 0; i < l->n; i++) {
		cdr_row_json(&sb, &l->v[i], NULL);
		sbuf_adds(&sb, "\n");
	}
	if (sbuf_failed(&sb)) {
		fprintf(stderr, "fakepbx: %s: out of memory\n", path);
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || cdr_write_all(fd, sb.buf ? sb.buf : "", sb.len) < 0 || fsync(fd) < 0 ||
	    close(fd) < 0 || rename(tmp, path) < 0) {
		fprintf(stderr, "fakepbx: writing %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		sbuf_free(&sb);
		return -1;
	}
	sbuf_free(&sb);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* The listing calldate of a row's recording: its file name's stamp. */
static const char *cdr_rec_stamp(const struct cdr_row *row)
{
	const char *slash = strrchr(row->f[CDR_RECFILE], '/');
	return slash ? slash + 1 : row->f[CDR_RECFILE];
}

static int cdr_cmp_recstamp(const void *a, const void *b)
{
	const struct cdr_row *x = *(const struct cdr_row *const *)a;
	const struct cdr_row *y = *(const struct cdr_row *const *)b;
	int c = strncmp(cdr_rec_stamp(x), cdr_rec_stamp(y), 15);
	return c ? c : strcmp(x->f[CDR_RECFILE], y->f[CDR_RECFILE]);
}

struct cdr_store *cdr_store_open(const char *dir, long hide)
{
	struct cdr_store *s = calloc(1, sizeof *s);
	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		fprintf(stderr, "fakepbx: out of memory\n");
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	if (cdr_load(dir, &s->rows) < 0) {
		cdr_store_close(s);
		return NULL;
	}
	if (hide > 0) {
		struct cdr_row **rec = calloc(s->rows.n ? s->rows.n : 1, sizeof *rec);
		size_t n = 0;
		if (!rec) {
			cdr_store_close(s);
			return NULL;
		}
		for (size_t i = 0; i < s->rows.n; i++)
			if (s->rows.v[i].f[CDR_RECFILE][0])
				rec[n++] = &s->rows.v[i];
		qsort(rec, n, sizeof rec[0], cdr_cmp_recstamp);
		for (size_t i = 0; i < n && i < (size_t)hide; i++)
			rec[i]->hidden = true;
		free(rec);
	}
	return s;
}

void cdr_store_close(struct cdr_store *s)
{
	if (!s)
		return;
	cdr_list_free(&s->rows);
	pthread_mutex_destroy(&s->lock);
	free(s->dir);
	free(s);
}

int cdr_store_append(struct cdr_store *s, const struct cdr_row *row)
{
	struct cdr_row copy;
	struct sbuf sb = SBUF_INIT;
	char path[4096];
	int rc = -1;
	snprintf(path, sizeof path, "%s/%s", s->dir, CDR_FILE);
	if (cdr_copy(&copy, row) < 0)
		return -1;
	copy.hidden = false;
	cdr_row_json(&sb, &copy, NULL);
	sbuf_adds(&sb, "\n");
	pthread_mutex_lock(&s->lock);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	/* one write per line: a reader of the file never sees half a row */
	if (sbuf_failed(&sb) || fd < 0 || cdr_write_all(fd, sb.buf, sb.len) < 0 || fsync(fd) < 0)
		fprintf(stderr, "fakepbx: appending to %s: %s\n", path, strerror(errno));
	else
		rc = cdr_list_push(&s->rows, &copy);
	if (fd >= 0)
		close(fd);
	pthread_mutex_unlock(&s->lock);
	cdr_row_clear(&copy);
	sbuf_free(&sb);
	return rc;
}

int cdr_store_select(struct cdr_store *s, cdr_match_fn match, void *arg, struct cdr_list *out)
{
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->rows.n && rc == 0; i++) {
		const struct cdr_row *row = &s->rows.v[i];
		struct cdr_row copy;
		if (row->hidden || !match(row, arg))
			continue;
		rc = cdr_copy(&copy, row) < 0 ? -1 : cdr_list_push(out, &copy);
	}
	pthread_mutex_unlock(&s->lock);
	if (rc == 0)
		cdr_list_sort(out, true);
	return rc;
}

int cdr_store_delete(struct cdr_store *s, cdr_match_fn match, void *arg, struct cdr_list *gone)
{
	struct cdr_list keep = { 0 };
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	/* the kept rows are new pointers to the same fields: nothing is freed
	 * until the new file is in place */
	for (size_t i = 0; i < s->rows.n && rc == 0; i++) {
		const struct cdr_row *row = &s->rows.v[i];
		if (row->hidden || !match(row, arg)) {
			if (keep.n == keep.cap) {
				size_t cap = keep.cap ? keep.cap * 2 : 64;
				struct cdr_row *v = realloc(keep.v, cap * sizeof *v);
				if (!v) {
					rc = -1;
					break;
				}
				keep.v = v;
				keep.cap = cap;
			}
			keep.v[keep.n++] = *row;
		}
	}
	if (rc == 0 && keep.n < s->rows.n)
		rc = cdr_save(s->dir, &keep);
	if (rc == 0 && keep.n < s->rows.n) {
		for (size_t i = 0; i < s->rows.n; i++) {
			struct cdr_row *row = &s->rows.v[i];
			if (row->hidden || !match(row, arg))
				continue;
			struct cdr_row moved = *row;
			if (cdr_list_push(gone, &moved) < 0)
				rc = -1; /* the row is freed; only the report is short */
		}
		free(s->rows.v);
		s->rows = keep;
		memset(&keep, 0, sizeof keep);
	}
	free(keep.v);
	pthread_mutex_unlock(&s->lock);
	if (gone->n > 1)
		cdr_list_sort(gone, false);
	return rc;
}
