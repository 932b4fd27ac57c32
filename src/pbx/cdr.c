/* cdr.c — 9006 answers into struct cdr rows, and the list that holds them. It owns finding the
 * rows in whatever shape the PBX chose and refusing any row it cannot keep whole; it does no
 * I/O beyond a log_warn about a negative totalcount. json-c parses the answer as one tree
 * (strict, depth capped): a CDR window is a day or less, and the caller caps the bytes. The
 * join with recordings and the JSON written for a row are in cdrjoin.c; the field table both
 * read is in cdr_internal.h. */
#include "cdr.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "cdr_internal.h"
#include "pbxjson.h"
#include "recname.h"
#include "base/grow.h"
#include "base/log.h"
#include "base/pbxtime.h"
#include "base/utf8.h"

#define CDR_DEPTH 16     /* rows sit at depth 3; hostile nesting fails fast */
#define NUM_TEXT_MAX 32  /* a number or a date as text: longer is not one */
#define ROWS_KEY "json_array_astcdrs"

#define TEXT(m) offsetof(struct cdr, m), sizeof ((struct cdr *)0)->m
#define NUMBER 0, 0
/* Other spellings seen in Asterisk's cdr table and AMI follow the guide's; names match ASCII
 * case-insensitively (find_fields). */
const struct cdr_field_spec cdr_spec[F_COUNT] = {
	{ { "calldate" }, TEXT(calldate) },
	{ { "src" }, TEXT(src) },
	{ { "contact" }, TEXT(contact) },
	{ { "groupname" }, TEXT(groupname) },
	{ { "dst" }, TEXT(dst) },
	{ { "channel" }, TEXT(channel) },
	{ { "dstchannel" }, TEXT(dstchannel) },
	{ { "duration" }, NUMBER },
	{ { "billsec" }, NUMBER },
	{ { "disposition" }, TEXT(disposition) },
	{ { "userfield" }, TEXT(userfield) },
	{ { "accountcode" }, TEXT(accountcode) },
	{ { "cidname" }, TEXT(cidname) },
	{ { "in_route" }, TEXT(in_route) },
	{ { "IVR" }, TEXT(ivr) },
	{ { "Recording filename", "Recording File Name", "recordingfile", "recording" },
	  TEXT(recording) },
	{ { "UniqueID" }, TEXT(uniqueid) },
	{ { "port" }, NUMBER },
};

void cdr_list_init(struct cdr_list *l)
{
	memset(l, 0, sizeof *l);
	l->totalcount = -1;
}

void cdr_list_free(struct cdr_list *l)
{
	free(l->rows);
	cdr_list_init(l);
}

int cdr_list_push(struct cdr_list *l, const struct cdr *c)
{
	struct cdr *rows;

	if (l->count >= CDR_MAX_ROWS)
		return -2;
	rows = grow_for_one(l->rows, &l->cap, l->count, sizeof *rows);
	if (!rows)
		return -1;
	l->rows = rows;
	l->rows[l->count++] = *c;
	return 0;
}

/* The row's members that name our fields: the lowest-ranked spelling wins, an exact one before
 * one that differs in case, so a row carrying both "UniqueID" and "uniqueid" reads the same
 * whatever their order. */
static void find_fields(struct json_object *row, struct json_object *f[F_COUNT])
{
	int rank[F_COUNT];

	for (int i = 0; i < F_COUNT; i++) {
		f[i] = NULL;
		rank[i] = INT_MAX;
	}
	json_object_object_foreach(row, key, val) {
		for (int i = 0; i < F_COUNT; i++)
			for (int a = 0; a < 4 && cdr_spec[i].name[a]; a++) {
				const char *name = cdr_spec[i].name[a];
				int r;

				/* the first letter first: a row of 18 members stays cheap */
				if ((key[0] | 0x20) != (name[0] | 0x20) || strcasecmp(key, name) != 0)
					continue;
				r = 2 * a + (strcmp(key, name) != 0);
				if (r < rank[i]) {
					rank[i] = r;
					f[i] = val;
				}
			}
	}
}

static int looks_like_cdr(struct json_object *o)
{
	struct json_object *f[F_COUNT];

	if (!json_object_is_type(o, json_type_object))
		return 0;
	find_fields(o, f);
	return f[F_CALLDATE] && f[F_UNIQUEID];
}

int cdr_date_seconds(const char *t, int64_t *out)
{
	pbx_minute m;

	if (pbxtime_parse(t, &m) != 0)
		return -1;
	*out = m * 60 + (strlen(t) == REC_DATE_LEN ? (t[17] - '0') * 10 + (t[18] - '0') : 0);
	return 0;
}

static int parse_port(const char *t)
{
	char *end;
	long v;

	if (!((*t >= '0' && *t <= '9') || (*t == '-' && t[1] >= '0' && t[1] <= '9')))
		return -1;
	errno = 0;
	v = strtol(t, &end, 10);
	return errno == 0 && *end == '\0' && v >= 0 && v <= INT_MAX ? (int)v : -1;
}

/* Fills `c` from a row's fields. Returns 0, or -1 with why in `why`. */
static int make_row(struct json_object *const f[F_COUNT], struct cdr *c, char *why,
		    size_t whylen)
{
	char t[NUM_TEXT_MAX], esc[80];
	int64_t secs;

	memset(c, 0, sizeof *c);
	c->duration = c->billsec = -1;
	c->port = -1;
	for (int i = 0; i < F_COUNT; i++) {
		char *dest = (char *)c + cdr_spec[i].off;
		size_t len;

		if (cdr_spec[i].cap == 0 || !f[i])
			continue;
		if (i != F_CALLDATE && i != F_UNIQUEID && i != F_RECORDING) {
			/* Only shown (who, which channel, which route): cut to fit, and said. */
			if (pbxjson_text_cut(f[i], dest, cdr_spec[i].cap) == 2)
				c->cut |= 1u << i;
		} else if (pbxjson_text(f[i], dest, cdr_spec[i].cap) < 0) {
			err_set(why, whylen, "\"%s\" does not fit in %zu bytes or holds a NUL",
				cdr_spec[i].name[0], cdr_spec[i].cap - 1);
			return -1;
		}
		len = strlen(dest);
		if (utf8_invalid_at(dest, len) < len) {
			err_set(why, whylen, "\"%s\" is not valid UTF-8", cdr_spec[i].name[0]);
			return -1;
		}
	}
	if (!f[F_CALLDATE] || c->calldate[0] == '\0') {
		err_set(why, whylen, "no \"calldate\"");
		return -1;
	}
	if (cdr_date_seconds(c->calldate, &secs) != 0) {
		err_set(why, whylen, "\"calldate\" \"%s\" is not a date",
			log_escape(c->calldate, esc, sizeof esc));
		return -1;
	}
	if (strlen(c->calldate) < REC_DATE_LEN)
		memcpy(c->calldate + 16, ":00", 4);
	if (c->uniqueid[0] == '\0') {
		err_set(why, whylen, "no \"UniqueID\"");
		return -1;
	}
	if (c->recording[0] && recname_key(c->recording, c->recording_key,
					   sizeof c->recording_key) != 0)
		c->recording_key[0] = '\0';
	if (f[F_DURATION] && pbxjson_text(f[F_DURATION], t, sizeof t) == 0)
		c->duration = pbxjson_seconds(t);
	if (f[F_BILLSEC] && pbxjson_text(f[F_BILLSEC], t, sizeof t) == 0)
		c->billsec = pbxjson_seconds(t);
	if (f[F_PORT] && pbxjson_text(f[F_PORT], t, sizeof t) == 0)
		c->port = parse_port(t);
	return 0;
}

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One row of a source, named by its index or its numbered key in messages. */
static int add_row(struct cdr_list *out, struct json_object *row, const char *key, size_t index,
		   char *err, size_t errlen)
{
	struct json_object *f[F_COUNT];
	char label[40], why[200];
	struct cdr c;

	if (key)
		snprintf(label, sizeof label, "\"%s\"", key); /* numbered: digits only */
	else
		snprintf(label, sizeof label, "%zu", index);
	if (!json_object_is_type(row, json_type_object)) {
		err_set(err, errlen, "row %s: not an object", label);
		return -1;
	}
	find_fields(row, f);
	if (make_row(f, &c, why, sizeof why) != 0) {
		err_set(err, errlen, "row %s: %s", label, why);
		return -1;
	}
	switch (cdr_list_push(out, &c)) {
	case 0:
		break;
	case -2:
		err_set(err, errlen, "more than %d CDR rows", CDR_MAX_ROWS);
		return -1;
	default:
		err_set(err, errlen, "out of memory for the CDR rows");
		return -1;
	}
	return 0;
}

/* An array of rows, or an object whose numbered members are rows. */
static int add_rows(struct cdr_list *out, struct json_object *src, char *err, size_t errlen)
{
	if (json_object_is_type(src, json_type_array)) {
		size_t n = json_object_array_length(src);

		for (size_t i = 0; i < n; i++)
			if (add_row(out, json_object_array_get_idx(src, i), NULL, i, err,
				    errlen) != 0)
				return -1;
		return 0;
	}
	json_object_object_foreach(src, key, val) {
		if (pbxjson_numbered_key(key) && add_row(out, val, key, 0, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* Does `v` hold rows: an array or numbered members with an element that carries calldate
 * and UniqueID? */
static int holds_cdrs(struct json_object *v)
{
	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);

		for (size_t i = 0; i < n; i++)
			if (looks_like_cdr(json_object_array_get_idx(v, i)))
				return 1;
		return 0;
	}
	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, key, val) {
			if (pbxjson_numbered_key(key) && looks_like_cdr(val))
				return 1;
		}
	}
	return 0;
}

/* json_obj_filter's totalcount: a non-negative integer as a number or a string; absent, null
 * or negative is -1. Returns -1 when it is something else. */
static int read_filter(struct json_object *filter, long long *total, char *err, size_t errlen)
{
	struct json_object *v;
	char t[NUM_TEXT_MAX], *end;

	*total = -1;
	if (!json_object_is_type(filter, json_type_object)) {
		err_set(err, errlen, "json_obj_filter is not an object");
		return -1;
	}
	if (!json_object_object_get_ex(filter, "totalcount", &v) || !v)
		return 0;
	if (pbxjson_text(v, t, sizeof t) == 0 && (t[0] == '-' || (t[0] >= '0' && t[0] <= '9'))) {
		errno = 0;
		*total = strtoll(t, &end, 10);
		if (errno == 0 && *end == '\0') {
			if (*total < 0) {
				log_warn("cdr: json_obj_filter's totalcount is negative (%s); "
					 "ignored", t);
				*total = -1;
			}
			return 0;
		}
	}
	*total = -1;
	err_set(err, errlen, "json_obj_filter has a malformed totalcount");
	return -1;
}

/* The members of a top-level object: where the rows are, and what the object amounts to. */
static int read_object(struct json_object *top, struct cdr_list *out, long long *total,
		       char *err, size_t errlen)
{
	struct json_object *named = NULL, *other = NULL;
	size_t members = 0, arrays = 0, numbered_rows = 0;
	int filter = 0, named_seen = 0;

	json_object_object_foreach(top, key, val) {
		members++;
		arrays += json_object_is_type(val, json_type_array);
		if (strcmp(key, "json_obj_filter") == 0) {
			filter = 1;
			if (read_filter(val, total, err, errlen) != 0)
				return CDR_BAD;
		} else if (strcasecmp(key, ROWS_KEY) == 0 && !named_seen) {
			named_seen = 1;
			named = val;
		} else if (pbxjson_numbered_key(key) &&
			   json_object_is_type(val, json_type_object)) {
			numbered_rows++;
		} else if (!other && holds_cdrs(val)) {
			other = val;
		}
	}
	if (named_seen) {
		/* null, "" or {} under the guide's key: no rows, said in another way */
		if (!named || (json_object_is_type(named, json_type_string) &&
			       json_object_get_string_len(named) == 0))
			return CDR_OK;
		if (!json_object_is_type(named, json_type_array) &&
		    !json_object_is_type(named, json_type_object)) {
			err_set(err, errlen, ROWS_KEY " is a %s",
				json_type_to_name(json_object_get_type(named)));
			return CDR_BAD;
		}
		return add_rows(out, named, err, errlen) == 0 ? CDR_OK : CDR_BAD;
	}
	if (other)
		return add_rows(out, other, err, errlen) == 0 ? CDR_OK : CDR_BAD;
	if (numbered_rows > 0)
		return add_rows(out, top, err, errlen) == 0 ? CDR_OK : CDR_BAD;
	if (filter) {
		/* The count says there are rows, yet none is where we look: a shape we do not
		 * know. Reporting "nothing" would flag every recording as missing its CDR. */
		if (*total > 0) {
			err_set(err, errlen, "json_obj_filter says %lld CDRs but no rows were found",
				*total);
			return CDR_BAD;
		}
		return CDR_OK;
	}
	if (members == 0 || arrays > 0)
		return CDR_OK;
	pbxjson_excerpt(top, err, errlen);
	return CDR_ERROR_OBJECT;
}

int cdr_parse(const char *json, size_t len, struct cdr_list *out, char *err, size_t errlen)
{
	size_t start = out->count, pos = 0, end;
	struct json_tokener *tok;
	struct json_object *top;
	enum json_tokener_error e;
	long long total = -1;
	char scratch[160];
	int rc;

	if (!err || errlen == 0) {
		err = scratch;
		errlen = sizeof scratch;
	}
	err[0] = '\0';
	if (len > INT_MAX) {
		err_set(err, errlen, "answer of %zu bytes is too large to parse", len);
		return CDR_BAD;
	}
	while (pos < len && blank(json[pos]))
		pos++;
	if (pos == len) {
		err_set(err, errlen, "empty answer");
		return CDR_BAD;
	}
	if (json[pos] != '{' && json[pos] != '[') {
		err_set(err, errlen, "not JSON or not an object or array (byte %zu)", pos);
		return CDR_BAD;
	}
	tok = json_tokener_new_ex(CDR_DEPTH);
	if (!tok) {
		err_set(err, errlen, "out of memory");
		return CDR_BAD;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
	top = json_tokener_parse_ex(tok, json, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (e == json_tokener_continue) {
		err_set(err, errlen, "JSON ends early (after %zu bytes)", len);
		return CDR_BAD;
	}
	if (e != json_tokener_success) {
		err_set(err, errlen, "not JSON: %s at byte %zu", json_tokener_error_desc(e), end);
		return CDR_BAD;
	}
	for (pos = end; pos < len && blank(json[pos]); pos++)
		;
	if (pos < len) {
		err_set(err, errlen, "%zu bytes after the JSON value (at byte %zu)", len - pos,
			pos);
		json_object_put(top);
		return CDR_BAD;
	}
	if (json_object_is_type(top, json_type_array))
		rc = add_rows(out, top, err, errlen) == 0 ? CDR_OK : CDR_BAD;
	else
		rc = read_object(top, out, &total, err, errlen);
	json_object_put(top);
	if (rc != CDR_OK) {
		/* An answer counts whole or not at all; one that filled the list was too many. */
		int full = out->count >= CDR_MAX_ROWS;
		out->count = start;
		return full ? CDR_TOO_MANY : rc;
	}
	out->totalcount = total;
	return CDR_OK;
}
