/* grow.h — room for one more element at the end of a heap array: doubling from 64, so that
 * appending row after row (window after window) stays linear, with the size arithmetic checked.
 * What every growing list of rows uses, so that none of them gets the overflow check wrong. */
#ifndef NEXO_GROW_H
#define NEXO_GROW_H

#include <stddef.h>

/* `items` holds *cap elements of `size` bytes, `n` of them in use. Returns `items` when
 * n < *cap, else the array reallocated with *cap raised; NULL when the new size would overflow
 * or memory ran out (then `items` and *cap are unchanged and still valid). */
void *grow_for_one(void *items, size_t *cap, size_t n, size_t size);

#endif
