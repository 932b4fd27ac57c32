/* cdrjoin.c — the join of a recording with its CDR row, and the two ways a row is written:
 * the manifest's "cdr" object and the CDR archive's JSONL line (contracts in cdr.h). Pure: no
 * I/O, no parsing; the rows come from cdr.c, the field table and dates from cdr_internal.h. */
#include "cdr.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "cdr_internal.h"
#include "recname.h"

#define JOIN_SLACK 60   /* seconds a recording may start after its call's end */
#define SECS_TEXT_MAX 24 /* a long in decimal, its sign and its NUL */

static int answered(const struct cdr *c)
{
	return strcasecmp(c->disposition, "ANSWERED") == 0;
}

/* Rule 1's order among rows describing one call: is row `a` preferred to row `b` (a < b)?
 * calldates are normalised, so comparing the text compares the times. */
static int preferred(const struct cdr *a, const struct cdr *b)
{
	int cmp;

	if (answered(a) != answered(b))
		return answered(a);
	if (a->billsec != b->billsec)
		return a->billsec > b->billsec;
	cmp = strcmp(a->calldate, b->calldate);
	return cmp < 0; /* equal: the lower index, which the caller visits first, stays */
}

int cdr_join(const struct cdr_list *cdrs, const struct recording *rec, enum cdr_join_how *how)
{
	char key[REC_PATH_MAX];
	int64_t rec_t, t, best_t = 0;
	long best = -1;

	*how = CDR_JOIN_NONE;
	if (recname_key(rec->pbx_path, key, sizeof key) == 0) {
		for (size_t i = 0; i < cdrs->count; i++) {
			const struct cdr *c = &cdrs->rows[i];

			if (strcmp(c->recording_key, key) == 0 &&
			    (best < 0 || preferred(c, &cdrs->rows[best])))
				best = (long)i;
		}
		if (best >= 0) {
			*how = CDR_JOIN_NAME;
			return (int)best;
		}
	}
	if (!rec->src[0] || !rec->dst[0] || cdr_date_seconds(rec->calldate, &rec_t) != 0)
		return -1;
	for (size_t i = 0; i < cdrs->count; i++) {
		const struct cdr *c = &cdrs->rows[i];

		if (c->recording_key[0] || strcmp(c->src, rec->src) != 0 ||
		    strcmp(c->dst, rec->dst) != 0 || cdr_date_seconds(c->calldate, &t) != 0)
			continue;
		/* rec_t - t is small (both are dates); t + duration overflows for a hostile
		 * duration near LONG_MAX */
		if (t > rec_t || rec_t - t - JOIN_SLACK > (c->duration > 0 ? c->duration : 0))
			continue;
		if (best < 0 || t > best_t || (t == best_t && preferred(c, &cdrs->rows[best]))) {
			best = (long)i;
			best_t = t;
		}
	}
	if (best >= 0)
		*how = CDR_JOIN_TIME;
	return (int)best;
}

/* Adds a member; json-c takes the value. Returns -1 when the value could not be made. */
static int add(struct json_object *o, const char *key, struct json_object *v, int may_be_null)
{
	if (!v && !may_be_null)
		return -1;
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

/* "cut": the names of the fields the PBX sent longer than they fit (absent when none). */
static int add_cut(struct json_object *o, const struct cdr *c)
{
	struct json_object *names;

	if (!c->cut)
		return 0;
	names = json_object_new_array();
	if (!names)
		return -1;
	for (int i = 0; i < F_COUNT; i++)
		if (c->cut & (1u << i))
			json_object_array_add(names, json_object_new_string(cdr_spec[i].name[0]));
	return add(o, "cut", names, 0);
}

int cdr_to_json(const struct cdr *c, enum cdr_join_how how, struct json_object **out)
{
	/* The manifest's names are all lower case, unlike the guide's "UniqueID" and "IVR". */
	static const struct {
		const char *key;
		enum cdr_field f;
	} order[] = {
		{ "uniqueid", F_UNIQUEID },	  { "calldate", F_CALLDATE },
		{ "disposition", F_DISPOSITION }, { "duration", F_DURATION },
		{ "billsec", F_BILLSEC },	  { "accountcode", F_ACCOUNTCODE },
		{ "cidname", F_CIDNAME },	  { "in_route", F_IN_ROUTE },
		{ "ivr", F_IVR },		  { "channel", F_CHANNEL },
		{ "dstchannel", F_DSTCHANNEL },	  { "userfield", F_USERFIELD },
		{ "src", F_SRC },		  { "dst", F_DST },
	};
	struct json_object *o;
	int bad = 0;

	*out = NULL;
	if (how != CDR_JOIN_NAME && how != CDR_JOIN_TIME)
		return -1;
	o = json_object_new_object();
	if (!o)
		return -1;
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		long secs = order[i].f == F_DURATION ? c->duration : c->billsec;

		if (cdr_spec[order[i].f].cap == 0)
			bad |= add(o, order[i].key, secs >= 0 ? json_object_new_int64(secs) : NULL,
				   secs < 0);
		else
			bad |= add(o, order[i].key,
				   json_object_new_string((const char *)c + cdr_spec[order[i].f].off), 0);
	}
	bad |= add(o, "joined_by", json_object_new_string(how == CDR_JOIN_NAME ? "name" : "time"),
		   0);
	bad |= add_cut(o, c);
	if (bad) {
		json_object_put(o);
		return -1;
	}
	*out = o;
	return 0;
}

int cdr_row_jsonl(const struct cdr *c, char *buf, size_t len)
{
	struct json_object *o = json_object_new_object();
	const char *s;
	size_t n = 0;
	int bad = 0;

	if (!o)
		return -1;
	for (int i = 0; i < F_COUNT; i++) {
		char t[SECS_TEXT_MAX] = "";
		struct json_object *v;

		if (i == F_PORT) {
			bad |= add(o, cdr_spec[i].name[0],
				   c->port >= 0 ? json_object_new_int(c->port) : NULL, c->port < 0);
			continue;
		}
		if (i == F_DURATION || i == F_BILLSEC) {
			long secs = i == F_DURATION ? c->duration : c->billsec;

			if (secs >= 0)
				snprintf(t, sizeof t, "%ld", secs);
			v = json_object_new_string(t);
		} else {
			v = json_object_new_string((const char *)c + cdr_spec[i].off);
		}
		bad |= add(o, cdr_spec[i].name[0], v, 0);
	}
	bad |= add_cut(o, c);
	s = bad ? NULL
		: json_object_to_json_string_length(
			  o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (!s || n + 2 > len || n + 1 > INT_MAX) {
		json_object_put(o);
		return -1;
	}
	memcpy(buf, s, n);
	buf[n] = '\n';
	buf[n + 1] = '\0';
	json_object_put(o);
	return (int)(n + 1);
}
