/* utf8.h — strict UTF-8 (RFC 3629), as PBX strings must be before they go on into the
 * manifest and the CDR archive. json-c's own check only counts continuation bytes. Pure. */
#ifndef NEXO_UTF8_H
#define NEXO_UTF8_H

#include <stddef.h>

/* Offset of the first byte of `s[0..len)` that does not start a strict UTF-8 sequence (no
 * overlong forms, surrogates, code points past U+10FFFF or sequences cut by the end), or `len`
 * when all of it is valid. NUL bytes are valid (U+0000); callers that refuse them check. */
size_t utf8_invalid_at(const char *s, size_t len);

#endif
