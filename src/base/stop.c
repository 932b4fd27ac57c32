/* stop.c — the stop flag behind stop.h. */
#include "stop.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>

/* Set by the handler, read by every thread (lanes, sealing workers): a lock-free atomic is
 * what both a signal handler and other threads may touch. */
static _Atomic int stop_signal_number;

static void on_stop_signal(int sig)
{
	atomic_store_explicit(&stop_signal_number, sig, memory_order_relaxed);
}

void stop_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

int stop_requested(void)
{
	return stop_signal() != 0;
}

int stop_signal(void)
{
	return atomic_load_explicit(&stop_signal_number, memory_order_relaxed);
}
