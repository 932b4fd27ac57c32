/* jsonfield.c — checked string members (jsonfield.h). */
#include "jsonfield.h"

#include <json-c/json.h>
#include <string.h>

const char *jsonfield_str(struct json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int jsonfield_copy(struct json_object *o, const char *key, char *out, size_t outlen)
{
	const char *s = jsonfield_str(o, key);
	size_t len;

	out[0] = '\0';
	if (!s)
		return o && json_object_object_get_ex(o, key, NULL) ? -1 : 1;
	len = strlen(s);
	if (len >= outlen)
		return -1;
	memcpy(out, s, len + 1);
	return 0;
}
