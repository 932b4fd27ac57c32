/* meter.c — see meter.h. An atomic counter: the adders are transfer callbacks on several
 * threads, the reader a progress thread, and none of them may wait on a lock for it. */
#include "meter.h"

#include <stdatomic.h>

static _Atomic uint64_t received;

void meter_received_add(size_t n)
{
	atomic_fetch_add_explicit(&received, (uint64_t)n, memory_order_relaxed);
}

uint64_t meter_received(void)
{
	return atomic_load_explicit(&received, memory_order_relaxed);
}
