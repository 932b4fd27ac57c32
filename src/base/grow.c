/* grow.c — array growth (grow.h). */
#include "grow.h"

#include <stdint.h>
#include <stdlib.h>

void *grow_for_one(void *items, size_t *cap, size_t n, size_t size)
{
	size_t want = *cap < 64 ? 64 : *cap * 2;
	void *p;

	if (n < *cap)
		return items;
	if (size == 0 || *cap > SIZE_MAX / 2 / size)
		return NULL;
	p = realloc(items, want * size);
	if (p)
		*cap = want;
	return p;
}
