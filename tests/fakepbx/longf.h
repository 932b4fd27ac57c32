/*
 * longf.h — --long-fields: cosmetic fields padded to a fixed length.
 */
#ifndef FAKEPBX_LONGF_H
#define FAKEPBX_LONGF_H

#include <stddef.h>

/*
 * v followed by a deterministic SIP-like suffix, n characters in all:
 * v + " <sip:" + v + "@pbx.example.invalid;tag=" + "0123456789abcdef,"
 * repeated, cut at n - 1 characters, + ">". v itself is never cut: when
 * strlen(v) >= n it is returned unchanged. A new string (free() it), or
 * NULL out of memory.
 */
char *longf_make(const char *v, size_t n);

#endif
