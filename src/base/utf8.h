/* utf8.h — strict UTF-8 (RFC 3629), as PBX strings must be before they go on into the
 * manifest and the CDR archive. json-c's own check only counts continuation bytes. Pure. */
#ifndef NEXO_UTF8_H
#define NEXO_UTF8_H

#include <stddef.h>

/* Offset of the first byte of `s[0..len)` that does not start a strict UTF-8 sequence (no
 * overlong forms, surrogates, code points past U+10FFFF or sequences cut by the end), or `len`
 * when all of it is valid. NUL bytes are valid (U+0000); callers that refuse them check. */
size_t utf8_invalid_at(const char *s, size_t len);

/* How many bytes of `s[0..len)` to keep so that they fit in `cap` bytes with a NUL: all of
 * them when they fit, else as many as fit, backed off to the start of a character and cut at
 * a NUL byte. */
size_t utf8_fit(const char *s, size_t len, size_t cap);

/* Copies C string `s` into `out` (`cap` bytes, cap > 0) as utf8_fit() cuts it. Returns 1 when
 * it was cut, else 0. */
int utf8_copy_cut(char *out, size_t cap, const char *s);

#endif
