/* pbxjson.c — the tolerant readings of PBX JSON values that the listing and CDR parsers share
 * (contracts in pbxjson.h). It never parses bytes or decides what an answer's shape means;
 * that stays with each parser. */
#include "pbxjson.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/log.h"
#include "base/utf8.h"

int pbxjson_text(struct json_object *v, char *out, size_t cap)
{
	int n;

	switch (json_object_get_type(v)) {
	case json_type_string: {
		size_t len = (size_t)json_object_get_string_len(v);
		const char *s = json_object_get_string(v);

		if (len >= cap || memchr(s, '\0', len))
			return -1;
		memcpy(out, s, len);
		out[len] = '\0';
		return 0;
	}
	case json_type_int: {
		int64_t i = json_object_get_int64(v);

		/* json-c keeps integers above INT64_MAX as uint64 and clamps get_int64 */
		if (i == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
			n = snprintf(out, cap, "%" PRIu64, json_object_get_uint64(v));
		else
			n = snprintf(out, cap, "%" PRId64, i);
		break;
	}
	case json_type_double: {
		double d = json_object_get_double(v);

		if (!isfinite(d))
			return 1;
		n = snprintf(out, cap, "%.15g", d);
		break;
	}
	default:
		return 1;
	}
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int pbxjson_text_cut(struct json_object *v, char *out, size_t cap)
{
	size_t len, n;
	const char *s;
	int rc = pbxjson_text(v, out, cap);

	if (rc >= 0 || cap == 0)
		return rc;
	if (!json_object_is_type(v, json_type_string)) {
		out[0] = '\0'; /* a number too long for any field of ours */
		return 2;
	}
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	n = utf8_fit(s, len, cap);
	memcpy(out, s, n);
	out[n] = '\0';
	return 2;
}

int pbxjson_numbered_key(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > 18)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (k[i] < '0' || k[i] > '9')
			return 0;
	return 1;
}

long pbxjson_seconds(const char *t)
{
	char *end;
	long v;

	if (*t < '0' || *t > '9')
		return -1;
	errno = 0;
	v = strtol(t, &end, 10);
	if (errno == ERANGE)
		return -1;
	if (*end == '.' && end[1] >= '0' && end[1] <= '9')
		for (end++; *end >= '0' && *end <= '9'; end++)
			;
	if (*end == 's')
		end++;
	return *end == '\0' ? v : -1;
}

void pbxjson_excerpt(struct json_object *o, char *err, size_t errlen)
{
	char esc[PBXJSON_EXCERPT_MAX + 1];
	size_t len = 0, out_len, escapes = 0;
	const char *s = json_object_to_json_string_length(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	log_escape(s, esc, sizeof esc);
	/* log_escape writes 4 characters for each byte it escapes, each starting with the only
	 * '\\' it ever emits: so this is how much of the text made it in. */
	out_len = strlen(esc);
	for (size_t i = 0; i < out_len; i++)
		escapes += esc[i] == '\\';
	err_set(err, errlen, "%s%s", esc, out_len - 3 * escapes < len ? "..." : "");
}
