/* jsonfield.h — string members of the archive's own JSON lines (manifest days, holds, the
 * find index): read with their type and length checked, so that a hand-edited or damaged line
 * is refused where it is read, never truncated or taken for another type. Pure. */
#ifndef NEXO_JSONFIELD_H
#define NEXO_JSONFIELD_H

#include <stddef.h>

struct json_object;

/* Member `key` of `o` when it is a string: it, valid as long as `o`; NULL when `o` is NULL or
 * the member is absent or of another type. */
const char *jsonfield_str(struct json_object *o, const char *key);

/* Copies string member `key` of `o` into `out`. Returns 0; 1 when it is absent (`out` = "");
 * -1 when it is not a string or does not fit in `outlen` bytes (`out` = ""). */
int jsonfield_copy(struct json_object *o, const char *key, char *out, size_t outlen);

#endif
