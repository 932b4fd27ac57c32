/* head_format.c — the head's file format (head.h): parsing it (hostile input: a head may be
 * planted, a witness may be old), writing it back byte for byte, and the day list's edits.
 * Pure: no I/O, so the fuzzer links this alone. */
#include "head.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/pbxtime.h"

static int is_hex64(const char *s)
{
	if (strlen(s) != SHA256_HEX_LEN)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	return 1;
}

/* "YYYY-MM-DD" of the calendar (not 2021-02-30). */
static int is_day(const char *s)
{
	char buf[32];
	pbx_minute m;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	snprintf(buf, sizeof buf, "%s 00:00", s);
	return pbxtime_parse(buf, &m) == 0;
}

void head_release(struct head *h)
{
	free(h->days);
	memset(h, 0, sizeof *h);
}

static int cmp_day(const void *a, const void *b)
{
	return strcmp(((const struct head_day *)a)->day, ((const struct head_day *)b)->day);
}

const struct head_day *head_find(const struct head *h, const char *day)
{
	struct head_day key;

	if (!h->n || strlen(day) >= sizeof key.day)
		return NULL;
	memcpy(key.day, day, strlen(day) + 1);
	return bsearch(&key, h->days, h->n, sizeof *h->days, cmp_day);
}

/* ---- the format ---- */

static int only_space(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != '\n' && p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

static int member(json_object *o, const char *key, json_type t, json_object **v)
{
	return json_object_object_get_ex(o, key, v) && json_object_is_type(*v, t);
}

static int parse_day(json_object *o, struct head_day *d, char *err, size_t errlen)
{
	json_object *v;
	int64_t lines;

	if (!json_object_is_type(o, json_type_object) || !member(o, "day", json_type_string, &v) ||
	    !is_day(json_object_get_string(v))) {
		snprintf(err, errlen, "a day entry without a calendar \"day\"");
		return -1;
	}
	memcpy(d->day, json_object_get_string(v), 11);
	if (!member(o, "lines", json_type_int, &v) || (lines = json_object_get_int64(v)) < 1 ||
	    lines > 1000000000) {
		snprintf(err, errlen, "day %s: \"lines\" is not a count from 1", d->day);
		return -1;
	}
	d->lines = (unsigned long)lines;
	if (!member(o, "last", json_type_string, &v) || !is_hex64(json_object_get_string(v))) {
		snprintf(err, errlen, "day %s: \"last\" is not a SHA-256 in hex", d->day);
		return -1;
	}
	memcpy(d->last, json_object_get_string(v), SHA256_HEX_LEN + 1);
	return 0;
}

int head_parse(const char *buf, size_t len, struct head *h, char *err, size_t errlen)
{
	json_tokener *tok = json_tokener_new();
	json_object *o = NULL, *v, *days;
	int64_t seq;
	size_t n;
	int rc = -1;

	memset(h, 0, sizeof *h);
	if (!tok || len > HEAD_FILE_MAX) {
		snprintf(err, errlen, tok ? "larger than %u bytes" : "out of memory", HEAD_FILE_MAX);
		goto out;
	}
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (!o || !only_space(buf + json_tokener_get_parse_end(tok),
			      len - json_tokener_get_parse_end(tok))) {
		snprintf(err, errlen, "not one JSON object");
		goto out;
	}
	if (!json_object_is_type(o, json_type_object) || !member(o, "format", json_type_string, &v) ||
	    strcmp(json_object_get_string(v), HEAD_FORMAT) != 0) {
		snprintf(err, errlen, "not a head (\"format\" is not \"%s\")", HEAD_FORMAT);
		goto out;
	}
	if (!member(o, "seq", json_type_int, &v) || (seq = json_object_get_int64(v)) < 1) {
		snprintf(err, errlen, "\"seq\" is not a number from 1");
		goto out;
	}
	h->seq = (unsigned long long)seq;
	if (!member(o, "time", json_type_string, &v) ||
	    strlen(json_object_get_string(v)) >= sizeof h->time ||
	    strspn(json_object_get_string(v), "0123456789-:TZ.+") != strlen(json_object_get_string(v))) {
		snprintf(err, errlen, "\"time\" is not a time (ISO 8601)");
		goto out;
	}
	snprintf(h->time, sizeof h->time, "%s", json_object_get_string(v));
	if (!json_object_object_get_ex(o, "prev", &v) ||
	    (v && !(json_object_is_type(v, json_type_string) &&
		    is_hex64(json_object_get_string(v))))) {
		snprintf(err, errlen, "\"prev\" is neither null nor a SHA-256 in hex");
		goto out;
	}
	if (v)
		memcpy(h->prev, json_object_get_string(v), SHA256_HEX_LEN + 1);
	if (!member(o, "days", json_type_array, &days)) {
		snprintf(err, errlen, "\"days\" is not a list");
		goto out;
	}
	n = json_object_array_length(days);
	h->days = n ? calloc(n, sizeof *h->days) : NULL;
	if (n && !h->days) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	h->cap = n;
	for (size_t i = 0; i < n; i++) {
		if (parse_day(json_object_array_get_idx(days, i), &h->days[i], err, errlen) != 0)
			goto out;
		if (i && strcmp(h->days[i - 1].day, h->days[i].day) >= 0) {
			snprintf(err, errlen, "day %s is out of order or repeated", h->days[i].day);
			goto out;
		}
		h->n++;
	}
	rc = 0;
out:
	if (rc != 0)
		head_release(h);
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
	return rc;
}

/* One day per line, so that `diff` and `grep` read it. */
char *head_format(const struct head *h, size_t *len)
{
	size_t cap = 256 + h->n * 128, used;
	char *buf = malloc(cap);
	int k;

	if (!buf)
		return NULL;
	k = snprintf(buf, cap, "{\"format\":\"%s\",\"seq\":%llu,\"time\":\"%s\",\"prev\":%s%s%s,"
		     "\"days\":[", HEAD_FORMAT, h->seq, h->time, h->prev[0] ? "\"" : "",
		     h->prev[0] ? h->prev : "null", h->prev[0] ? "\"" : "");
	used = (size_t)k;
	for (size_t i = 0; i < h->n; i++) {
		k = snprintf(buf + used, cap - used, "%s\n{\"day\":\"%s\",\"lines\":%lu,\"last\":\"%s\"}",
			     i ? "," : "", h->days[i].day, h->days[i].lines, h->days[i].last);
		used += (size_t)k;
	}
	k = snprintf(buf + used, cap - used, "\n]}\n");
	*len = used + (size_t)k;
	return buf;
}

/* ---- changes ---- */

int head_note_day(struct head *h, const char *day, unsigned long lines, const char *last)
{
	struct head_day *d = (struct head_day *)head_find(h, day);
	size_t at;

	if (!is_day(day) || !is_hex64(last) || lines == 0)
		return 0; /* not a day file's tip: nothing a head could name */
	if (!d) {
		if (h->n == h->cap) {
			size_t cap = h->cap ? h->cap * 2 : 64;
			struct head_day *p = realloc(h->days, cap * sizeof *p);
			if (!p) {
				log_error("out of memory noting manifest day %s in the head", day);
				return -1;
			}
			h->days = p;
			h->cap = cap;
		}
		for (at = h->n; at > 0 && strcmp(h->days[at - 1].day, day) > 0; at--)
			;
		memmove(&h->days[at + 1], &h->days[at], (h->n - at) * sizeof *h->days);
		h->n++;
		d = &h->days[at];
		memcpy(d->day, day, 11);
	} else if (d->lines == lines && strcmp(d->last, last) == 0) {
		return 0;
	}
	d->lines = lines;
	memcpy(d->last, last, SHA256_HEX_LEN + 1);
	h->dirty = 1;
	return 0;
}
