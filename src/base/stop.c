/* stop.c — the stop flag behind stop.h. */
#include "stop.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* Set by the handler, read by every thread (lanes, sealing workers): a lock-free atomic is
 * what both a signal handler and other threads may touch. */
static _Atomic int stop_signal_number;
static _Atomic int64_t budget_deadline_ms; /* CLOCK_MONOTONIC; 0: no budget */
static _Atomic int budget_spent;           /* latched once seen past the deadline */

static void on_stop_signal(int sig)
{
	atomic_store_explicit(&stop_signal_number, sig, memory_order_relaxed);
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

void stop_set_budget(int64_t seconds)
{
	atomic_store(&budget_spent, 0);
	atomic_store(&budget_deadline_ms, seconds > 0 ? monotonic_ms() + seconds * 1000 : 0);
}

int stop_requested(void)
{
	int64_t deadline;

	if (stop_signal() != 0 || atomic_load_explicit(&budget_spent, memory_order_relaxed))
		return 1;
	deadline = atomic_load_explicit(&budget_deadline_ms, memory_order_relaxed);
	if (deadline == 0 || monotonic_ms() < deadline)
		return 0;
	atomic_store(&budget_spent, 1);
	return 1;
}

int stop_abandon_file(void)
{
	return stop_signal() != 0;
}

enum stop_reason stop_reason(void)
{
	if (atomic_load(&budget_spent))
		return STOP_BUDGET;
	return stop_signal() ? STOP_SIGNAL : STOP_NONE;
}

int stop_signal(void)
{
	return atomic_load_explicit(&stop_signal_number, memory_order_relaxed);
}
