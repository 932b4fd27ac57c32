/* listing.c — turns the bytes of a 20053 answer into struct recording rows. It owns finding
 * the rows in whatever shape the PBX chose, reading each row's fields into fixed-size buffers
 * (a path that does not fit refuses the row; a field only shown is cut, and said, in
 * rec->cut), and telling "nothing" from "no" (an error
 * object). It does no I/O beyond one log_warn per answer about rows it had to skip. json-c does
 * the parsing, in strict mode with UTF-8 validation and a depth cap. */
#include "listing.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "pbxjson.h"
#include "base/grow.h"
#include "base/log.h"
#include "base/utf8.h"

/* Rows sit at depth 3 ({ "25": { "path": "..." } }); 16 leaves room for a PBX that nests a
 * level or two more, while a hostile answer of 1000 '[' fails fast. */
#define LISTING_DEPTH 16
#define NUM_TEXT_MAX 32 /* a number or a date as text: longer is not one */

enum field { F_PATH, F_CALLDATE, F_SRC, F_DST, F_TRUNK, F_CALLTYPE, F_DURATION, F_SIZE, F_COUNT };

#define FIELD(name) { name, sizeof name - 1 }
static const struct {
	const char *name;
	size_t len;
} field[F_COUNT] = {
	FIELD("path"), FIELD("calldate"), FIELD("src"),	 FIELD("dst"),
	FIELD("trunk"), FIELD("calltype"), FIELD("duration"), FIELD("size"),
};

/* The first skipped row of an answer, described once; the rest are only counted. */
struct skips {
	size_t count;
	char first[320];
};

void listing_init(struct listing *l)
{
	memset(l, 0, sizeof *l);
	l->totalcount = -1;
}

void listing_free(struct listing *l)
{
	free(l->rows);
	listing_init(l);
}

int listing_push(struct listing *l, const struct recording *r)
{
	struct recording *rows;

	if (l->n >= LISTING_MAX_ROWS)
		return -2;
	rows = grow_for_one(l->rows, &l->cap, l->n, sizeof *rows);
	if (!rows)
		return -1;
	l->rows = rows;
	l->rows[l->n++] = *r;
	return 0;
}


/* The row's members that name our fields. An exact name wins; otherwise a case-insensitive
 * match ("Path", "CallDate") is taken, since PBX firmware varies in such details. One pass
 * over the members, so a row costs the same whichever fields it lacks; the length and first
 * letter are compared before any string compare, which keeps 100,000 rows cheap. */
static void find_fields(struct json_object *row, struct json_object *f[F_COUNT])
{
	struct json_object *loose[F_COUNT] = { 0 };

	memset(f, 0, F_COUNT * sizeof *f);
	json_object_object_foreach(row, key, val) {
		size_t len = strlen(key);

		for (int i = 0; i < F_COUNT; i++) {
			if (len != field[i].len || (key[0] | 0x20) != field[i].name[0])
				continue;
			if (memcmp(key, field[i].name, len) == 0)
				f[i] = val;
			else if (!loose[i] && strcasecmp(key, field[i].name) == 0)
				loose[i] = val;
		}
	}
	for (int i = 0; i < F_COUNT; i++)
		if (!f[i])
			f[i] = loose[i];
}

/* Matches the start of `s` against `shape` ('d' a digit, anything else itself) and collects
 * the digits into `dig`. A short `s` fails on its NUL, which matches nothing in a shape. */
static int match_shape(const char *s, const char *shape, char *dig)
{
	for (; *shape; s++, shape++) {
		if (*shape == 'd' && *s >= '0' && *s <= '9')
			*dig++ = *s;
		else if (*shape == 'd' || *s != *shape)
			return -1;
	}
	return 0;
}

static int num(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* Writes "YYYY-MM-DD HH:MM:SS" from the digits "YYYYMMDDHHMMSS" when they are a real time.
 * Years before 1970 are refused: a PBX with an unset clock says 1970, not 1900. */
static int put_date(const char d[14], char out[REC_DATE_LEN + 1])
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	static const char shape[] = "dddd-dd-dd dd:dd:dd";
	int y = num(d, 4), mo = num(d + 4, 2), day = num(d + 6, 2);
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	size_t k = 0;

	if (y < 1970 || mo < 1 || mo > 12 || day < 1 || day > mdays[mo - 1] + (mo == 2 && leap) ||
	    num(d + 8, 2) > 23 || num(d + 10, 2) > 59 || num(d + 12, 2) > 59)
		return -1;
	for (size_t i = 0; i < REC_DATE_LEN; i++)
		out[i] = shape[i] == 'd' ? d[k++] : shape[i];
	out[REC_DATE_LEN] = '\0';
	return 0;
}

/* "YYYY-MM-DD HH:MM:SS", or "YYYY-MM-DD HH:MM" (the request format, which a PBX may echo). */
static int parse_calldate(const char *t, char out[REC_DATE_LEN + 1])
{
	char d[14];

	if (match_shape(t, "dddd-dd-dd dd:dd:dd", d) == 0 && t[19] == '\0')
		return put_date(d, out);
	if (match_shape(t, "dddd-dd-dd dd:dd", d) == 0 && t[16] == '\0') {
		memcpy(d + 12, "00", 2);
		return put_date(d, out);
	}
	return -1;
}

/* The call date from a file name "YYYYMMDD-HHMMSS-...": MixMonitor names files by the call's
 * start, which is what calldate is. */
static int date_from_path(const char *path, char out[REC_DATE_LEN + 1])
{
	const char *slash = strrchr(path, '/');
	const char *b = slash ? slash + 1 : path;
	char d[14];

	if (match_shape(b, "dddddddd-dddddd", d) != 0 || (b[15] >= '0' && b[15] <= '9'))
		return -1;
	return put_date(d, out);
}

/* A non-negative decimal integer with nothing around it, or -1. */
static long long parse_count(const char *t)
{
	char *end;
	long long v;

	if (*t < '0' || *t > '9')
		return -1;
	errno = 0;
	v = strtoll(t, &end, 10);
	if (errno == ERANGE || *end != '\0')
		return -1;
	return v;
}

/* Fills `r` from a row object whose fields `f` were found. Returns NULL, or why the row
 * cannot be used (a constant string). */
static const char *make_row(struct json_object *const f[F_COUNT], struct recording *r)
{
	static const enum field text_field[] = { F_SRC, F_DST, F_TRUNK, F_CALLTYPE };
	static const unsigned cut_bit[] = { REC_CUT_SRC, REC_CUT_DST, REC_CUT_TRUNK,
					    REC_CUT_CALLTYPE };
	char *const text_dest[] = { r->src, r->dst, r->trunk, r->calltype };
	char t[NUM_TEXT_MAX];
	const char *path;
	size_t len;

	memset(r, 0, sizeof *r);
	r->duration = -1;
	r->size = -1;
	if (!f[F_PATH] || !json_object_is_type(f[F_PATH], json_type_string))
		return "no \"path\" string";
	path = json_object_get_string(f[F_PATH]);
	len = (size_t)json_object_get_string_len(f[F_PATH]);
	if (len == 0)
		return "empty \"path\"";
	if (len >= sizeof r->pbx_path)
		return "\"path\" does not fit";
	if (memchr(path, '\0', len))
		return "\"path\" holds a NUL byte";
	memcpy(r->pbx_path, path, len + 1);

	/* Shown, never decisive: a value too long is cut (and said), the row kept. */
	for (size_t i = 0; i < sizeof text_field / sizeof text_field[0]; i++)
		if (f[text_field[i]] &&
		    pbxjson_text_cut(f[text_field[i]], text_dest[i], REC_FIELD_MAX) == 2)
			r->cut |= cut_bit[i];

	if (!f[F_CALLDATE] || pbxjson_text(f[F_CALLDATE], t, sizeof t) != 0 ||
	    parse_calldate(t, r->calldate) != 0) {
		if (date_from_path(r->pbx_path, r->calldate) != 0)
			return "no usable \"calldate\" and none in the file name";
	}
	if (f[F_DURATION] && pbxjson_text(f[F_DURATION], t, sizeof t) == 0)
		r->duration = pbxjson_seconds(t);
	if (f[F_SIZE] && pbxjson_text(f[F_SIZE], t, sizeof t) == 0)
		r->size = parse_count(t);
	return NULL;
}

/* Where rows come from: the top-level array, one array member, or the numbered members.
 * Rows are appended to the listing as they are read; `start` is where this source began. */
struct source {
	size_t start;
	size_t candidates;
	size_t objects;
	int carries_path;
	struct skips sk;
};

/* The state of one listing_parse: the bytes, a reading position, and what was found. */
struct parser {
	const char *buf;
	size_t len, pos;
	struct json_tokener *tok;
	struct listing *out;
	char *err;
	size_t errlen;
	long long total;   /* json_obj_filter's totalcount, -1 when absent */
	int filter;        /* json_obj_filter seen */
	size_t members;    /* of the top-level object */
	size_t arrays;     /* members of the top-level object that are arrays (even empty) */
	struct source numbered;
	int have_chosen;   /* an array of recordings was found; it is the rows */
	struct skips chosen_sk;
	char chosen_key[64];
	size_t ignored;    /* later arrays of recordings and numbered rows left aside */
	int too_many;      /* the rows passed LISTING_MAX_ROWS */
};

static void note_skip(struct skips *sk, const char *key, size_t index,
		      struct json_object *const f[F_COUNT], const char *why)
{
	char label[32], esc[160];

	if (sk->count++ > 0)
		return;
	if (key)
		snprintf(label, sizeof label, "\"%s\"", key); /* numbered: digits only */
	else
		snprintf(label, sizeof label, "%zu", index);
	if (f && f[F_PATH] && json_object_is_type(f[F_PATH], json_type_string))
		snprintf(sk->first, sizeof sk->first, "row %s (path \"%s\"): %s", label,
			 log_escape(json_object_get_string(f[F_PATH]), esc, sizeof esc), why);
	else
		snprintf(sk->first, sizeof sk->first, "row %s: %s", label, why);
}

/* One row candidate of a source: converted and appended, or noted as skipped. */
static int add_row(struct parser *p, struct source *s, const char *key, size_t index,
		   struct json_object *row)
{
	struct json_object *f[F_COUNT];
	struct recording r;
	const char *why;

	s->candidates++;
	if (!json_object_is_type(row, json_type_object)) {
		note_skip(&s->sk, key, index, NULL, "not an object");
		return 0;
	}
	s->objects++;
	find_fields(row, f);
	s->carries_path |= f[F_PATH] != NULL;
	why = make_row(f, &r);
	if (why) {
		note_skip(&s->sk, key, index, f, why);
		return 0;
	}
	switch (listing_push(p->out, &r)) {
	case 0:
		break;
	case -2:
		p->too_many = 1;
		err_set(p->err, p->errlen, "more than %d rows", LISTING_MAX_ROWS);
		return -1;
	default:
		err_set(p->err, p->errlen, "out of memory for the listing's rows");
		return -1;
	}
	return 0;
}

/* The next byte after whitespace, or -1 at the end. */
static int peek(struct parser *p)
{
	while (p->pos < p->len && (p->buf[p->pos] == ' ' || p->buf[p->pos] == '\t' ||
				   p->buf[p->pos] == '\n' || p->buf[p->pos] == '\r'))
		p->pos++;
	return p->pos < p->len ? (unsigned char)p->buf[p->pos] : -1;
}

/* One JSON value at the reading position, parsed by json-c alone (strict, UTF-8 checked,
 * depth capped), so a 100,000-row answer never becomes one 100,000-row tree: only the
 * punctuation between the rows is read here. Returns 0 with *v set (NULL for null). */
static int next_value(struct parser *p, struct json_object **v)
{
	enum json_tokener_error e;

	json_tokener_reset(p->tok);
	*v = json_tokener_parse_ex(p->tok, p->buf + p->pos, (int)(p->len - p->pos));
	e = json_tokener_get_error(p->tok);
	if (e == json_tokener_continue) {
		/* A number or literal needs a byte after it to end; at the end of the answer,
		 * a NUL says there is none. Anything else unfinished is a truncated answer. */
		*v = json_tokener_parse_ex(p->tok, "", 1);
		if (json_tokener_get_error(p->tok) == json_tokener_success) {
			p->pos = p->len;
			return 0;
		}
		json_object_put(*v);
		err_set(p->err, p->errlen, "JSON ends early (after %zu bytes)", p->len);
		return -1;
	}
	if (e != json_tokener_success) {
		err_set(p->err, p->errlen, "not JSON: %s at byte %zu", json_tokener_error_desc(e),
			p->pos + json_tokener_get_parse_end(p->tok));
		return -1;
	}
	p->pos += json_tokener_get_parse_end(p->tok);
	return 0;
}

/* After a member or element: ',' (returns 1) or the closing bracket (returns 0). */
static int next_item(struct parser *p, char close)
{
	int c = peek(p);

	if (c == ',' || c == close) {
		p->pos++;
		return c == ',';
	}
	if (c < 0)
		err_set(p->err, p->errlen, "JSON ends early (after %zu bytes)", p->len);
	else
		err_set(p->err, p->errlen, "not JSON: expected ',' or '%c' at byte %zu", close,
			p->pos);
	return -1;
}

/* The elements of an array after its '['. Returns 0, or -1 with p->err set. */
static int read_array(struct parser *p, struct source *s, int convert)
{
	struct json_object *v;
	size_t i = 0;
	int more;

	p->pos++;
	if (peek(p) == ']') {
		p->pos++;
		return 0;
	}
	do {
		if (next_value(p, &v) != 0)
			return -1;
		if (convert) {
			if (add_row(p, s, NULL, i++, v) != 0) {
				json_object_put(v);
				return -1;
			}
		} else if (v && json_object_is_type(v, json_type_object)) {
			struct json_object *f[F_COUNT];

			find_fields(v, f);
			s->carries_path |= f[F_PATH] != NULL;
		}
		json_object_put(v);
	} while ((more = next_item(p, ']')) == 1);
	return more;
}

/* An array member of the top-level object. The first one whose objects carry "path" holds
 * the rows: numbered rows read before it are dropped (its rows move down over them), and
 * later numbered rows and arrays of recordings are only counted. Reading two sources could
 * list one recording twice; no PBX has been seen to send two. */
static int array_member(struct parser *p, const char *key)
{
	struct source s = { .start = p->out->n };
	size_t moved;

	p->arrays++;
	if (read_array(p, &s, !p->have_chosen) != 0)
		return -1;
	if (!s.carries_path) /* then nothing was pushed: a row needs a path */
		return 0;
	if (p->have_chosen) {
		p->ignored++;
		return 0;
	}
	moved = p->out->n - s.start;
	if (moved > 0 && s.start > p->numbered.start)
		memmove(p->out->rows + p->numbered.start, p->out->rows + s.start,
			moved * sizeof *p->out->rows);
	p->out->n = p->numbered.start + moved;
	p->ignored += p->numbered.candidates;
	p->chosen_sk = s.sk;
	p->have_chosen = 1;
	log_escape(key, p->chosen_key, sizeof p->chosen_key);
	return 0;
}

/* json_obj_filter's totalcount: a non-negative integer as a number or a string; null, absent
 * or negative is -1. Returns -1 when it is something else. */
static int read_filter(struct parser *p, struct json_object *filter)
{
	struct json_object *v;
	char t[NUM_TEXT_MAX];

	p->filter = 1;
	p->total = -1;
	if (!json_object_is_type(filter, json_type_object)) {
		err_set(p->err, p->errlen, "json_obj_filter is not an object");
		return -1;
	}
	if (!json_object_object_get_ex(filter, "totalcount", &v) || !v)
		return 0;
	if ((json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int) ||
	     json_object_is_type(v, json_type_double)) &&
	    pbxjson_text(v, t, sizeof t) == 0 && (p->total = parse_count(t)) >= 0)
		return 0;
	if (pbxjson_text(v, t, sizeof t) == 0 && t[0] == '-' && parse_count(t + 1) >= 0) {
		/* A count below zero says nothing: the rows are taken as they are. */
		log_warn("listing: json_obj_filter's totalcount is negative (%s); ignored", t);
		p->total = -1;
		return 0;
	}
	err_set(p->err, p->errlen, "json_obj_filter has a malformed totalcount");
	return -1;
}

/* The members of the top-level object after its '{'. */
static int read_object(struct parser *p)
{
	struct json_object *k, *v;
	char key[64];
	size_t klen;
	int more, rc;

	p->pos++;
	if (peek(p) == '}') {
		p->pos++;
		return 0;
	}
	do {
		if (peek(p) != '"') {
			err_set(p->err, p->errlen, "not JSON: expected a member name at byte %zu",
				p->pos);
			return -1;
		}
		if (next_value(p, &k) != 0)
			return -1;
		/* A name that does not fit is none of ours; keep it as "" */
		klen = (size_t)json_object_get_string_len(k);
		if (klen >= sizeof key || memchr(json_object_get_string(k), '\0', klen))
			klen = 0;
		memcpy(key, json_object_get_string(k), klen);
		key[klen] = '\0';
		json_object_put(k);
		if (peek(p) != ':') {
			err_set(p->err, p->errlen, "not JSON: expected ':' at byte %zu", p->pos);
			return -1;
		}
		p->pos++;
		p->members++;
		if (peek(p) == '[' && strcmp(key, "json_obj_filter") != 0) {
			if (array_member(p, key) != 0)
				return -1;
			continue;
		}
		if (next_value(p, &v) != 0)
			return -1;
		rc = 0;
		if (strcmp(key, "json_obj_filter") == 0)
			rc = read_filter(p, v);
		else if (pbxjson_numbered_key(key) && json_object_is_type(v, json_type_object)) {
			if (p->have_chosen)
				p->ignored++;
			else
				rc = add_row(p, &p->numbered, key, 0, v);
		}
		json_object_put(v);
		if (rc != 0)
			return -1;
	} while ((more = next_item(p, '}')) == 1);
	return more;
}

/* An error object quoted back (pbxjson_excerpt). The answer was read piecewise, so it is
 * parsed once more as a whole; this only happens on the PBX's "no", which is small. */
static void excerpt(struct parser *p)
{
	struct json_tokener *tok = json_tokener_new_ex(LISTING_DEPTH);
	struct json_object *o = tok ? json_tokener_parse_ex(tok, p->buf, (int)p->len) : NULL;

	json_tokener_free(tok);
	if (!o) {
		err_set(p->err, p->errlen, "an object without recordings");
		return;
	}
	pbxjson_excerpt(o, p->err, p->errlen);
	json_object_put(o);
}

/* What a fully read top-level object amounts to. */
static int judge_object(struct parser *p, struct skips *sk)
{
	if (p->have_chosen) {
		*sk = p->chosen_sk;
		if (p->ignored > 0)
			log_warn("listing: answer holds recordings outside the array \"%s\"; %zu "
				 "ignored so as not to list any twice",
				 p->chosen_key, p->ignored);
		return LISTING_OK;
	}
	if (p->numbered.candidates > 0) {
		*sk = p->numbered.sk;
		return LISTING_OK;
	}
	if (p->filter) {
		/* The count says there are recordings, yet none is where we look: a shape we
		 * do not know. Reporting "nothing" would lose them silently. */
		if (p->total > 0) {
			err_set(p->err, p->errlen,
				"json_obj_filter says %lld recordings but no rows were found",
				p->total);
			return LISTING_BAD;
		}
		return LISTING_OK;
	}
	/* An empty array under some key is an empty listing in a shape we were not shown
	 * ({"json_array_recordings": []}); an error object is made of scalars. */
	if (p->members == 0 || p->arrays > 0)
		return LISTING_OK;
	excerpt(p);
	return LISTING_ERROR_OBJECT;
}

int listing_parse(const char *buf, size_t len, struct listing *out, char *err, size_t errlen)
{
	struct parser p = { .buf = buf, .len = len, .out = out, .total = -1 };
	struct skips sk = { 0 };
	char scratch[160];
	size_t bad;
	int c, result = LISTING_BAD;

	if (!err || errlen == 0) {
		err = scratch;
		errlen = sizeof scratch;
	}
	err[0] = '\0';
	p.err = err;
	p.errlen = errlen;
	p.numbered.start = out->n;
	if (len > INT_MAX) {
		err_set(err, errlen, "answer of %zu bytes is too large to parse", len);
		return LISTING_BAD;
	}
	/* Outside strings JSON is ASCII, so checking the whole answer checks every string in
	 * it; json-c's own check is looser, and these strings go on into the manifest. */
	if ((bad = utf8_invalid_at(buf, len)) < len) {
		err_set(err, errlen, "not JSON: invalid UTF-8 at byte %zu", bad);
		return LISTING_BAD;
	}
	/* Two levels are read here (object, array), the rest by json-c. */
	p.tok = json_tokener_new_ex(LISTING_DEPTH - 2);
	if (!p.tok) {
		err_set(err, errlen, "out of memory");
		return LISTING_BAD;
	}
	json_tokener_set_flags(p.tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8 |
					      JSON_TOKENER_ALLOW_TRAILING_CHARS);

	c = peek(&p);
	if (c == '{') {
		if (read_object(&p) == 0)
			result = LISTING_OK;
	} else if (c == '[') {
		struct source top = { .start = out->n };

		if (read_array(&p, &top, 1) == 0) {
			if (top.candidates > 0 && top.objects == 0) {
				err_set(err, errlen, "top-level array holds no objects");
			} else {
				result = LISTING_OK;
				sk = top.sk;
			}
		}
	} else if (c < 0) {
		err_set(err, errlen, "empty answer");
	} else {
		struct json_object *v;

		if (next_value(&p, &v) == 0) {
			err_set(err, errlen, "JSON %s where a listing was expected",
				v ? json_type_to_name(json_object_get_type(v)) : "null");
			json_object_put(v);
		}
	}
	json_tokener_free(p.tok);

	if (result == LISTING_OK && peek(&p) >= 0) {
		err_set(err, errlen, "%zu bytes after the JSON value (at byte %zu)", len - p.pos,
			p.pos);
		result = LISTING_BAD;
	}
	if (result == LISTING_OK && c == '{')
		result = judge_object(&p, &sk);
	if (result != LISTING_OK) {
		out->n = p.numbered.start; /* an answer counts whole or not at all */
		return p.too_many ? LISTING_TOO_MANY : result;
	}
	if (sk.count > 0)
		log_warn("listing: skipped %zu of %zu rows; first: %s", sk.count,
			 sk.count + out->n - p.numbered.start, sk.first);
	out->skipped += sk.count;
	out->totalcount = p.total;
	return LISTING_OK;
}
