/* pbxjson.h — values and rows of the PBX's JSON answers, read tolerantly: what the 20053
 * listing (listing.c) and the 9006 CDRs (cdr.c) both accept from a json-c tree. Pure: no I/O,
 * no parsing of the answer itself (each parser owns its own tokenizer and shapes). */
#ifndef NEXO_PBXJSON_H
#define NEXO_PBXJSON_H

#include <stddef.h>

struct json_object;

/* Characters of an error object quoted back by pbxjson_excerpt, without the "...". */
#define PBXJSON_EXCERPT_MAX 120

/* A scalar as text: a string as it is, an integer in decimal (above INT64_MAX too), a finite
 * double as "%.15g" (4.0 is "4"). Returns 0 with `out` filled; 1 when the value is absent for
 * our fields (null, a boolean, an object or array, a non-finite number; `out` untouched); -1
 * when it does not fit in `cap` bytes or holds a NUL byte (\u0000), which C strings would
 * silently cut. */
int pbxjson_text(struct json_object *v, char *out, size_t cap);

/* pbxjson_text() for a field that is only shown, never used to decide anything (a caller id, a
 * channel name): a value too long for `cap` is cut to fit, at a character boundary of its
 * UTF-8, and at a NUL byte. Returns 0 whole; 2 cut; 1 absent as for pbxjson_text(). */
int pbxjson_text_cut(struct json_object *v, char *out, size_t cap);

/* 1 when `k` is a key of the numbered-object shape the guide shows ("0", "25", ...: 1 to 18
 * ASCII digits), else 0. */
int pbxjson_numbered_key(const char *k);

/* Seconds as the PBX writes them: "4", "4.7" (the fraction dropped) or the GUI's "4s".
 * Returns them, or -1 for anything else (a sign, spaces, overflow). */
long pbxjson_seconds(const char *t);

/* Writes an error object into `err`: its JSON, compact, escaped by log_escape and cut to
 * PBXJSON_EXCERPT_MAX characters, with "..." when cut. */
void pbxjson_excerpt(struct json_object *o, char *err, size_t errlen);

#endif
