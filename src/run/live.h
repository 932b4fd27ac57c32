/* live.h — the live progress line on a TTY: one line on stderr, redrawn about twice a second
 * by a thread of its own, so that it moves while the run waits (a login, a slow listing, a
 * download that drips): the phase, the recordings archived of those planned, the bytes
 * received and their rate, the time left, and how long the run has taken. Never drawn when
 * stderr is not a TTY or messages are quieted (-q): cron mail and logs get no progress bytes.
 *
 * The stages only report what they do (live_phase, live_listing, live_planned, ...); each
 * call is a few stores under a lock and costs the same whether the line is drawn or not. The
 * bytes come from base/meter.h, counted by the HTTP layer as they arrive. */
#ifndef NEXO_LIVE_H
#define NEXO_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "base/pbxtime.h"

enum live_phase {
	LIVE_STARTING,
	LIVE_LOGIN,       /* logging in to the PBX */
	LIVE_LISTING,     /* a listing request (live_listing names its window) */
	LIVE_DOWNLOADING, /* downloading and unpacking what a window planned */
	LIVE_OFFSITE,     /* uploading to the offsite bucket */
	LIVE_CDR,         /* the CDR archive */
	LIVE_DELETING,    /* retention: reading copies back, deleting from the PBX */
	LIVE_WAITING,     /* a watch between batches */
};

/* What the line shows; live_format() turns it into text. */
struct live_view {
	enum live_phase phase;
	pbx_minute list_from, list_to; /* LIVE_LISTING: the request's window */
	unsigned long listed;          /* recordings listed so far */
	unsigned long planned, landed; /* recordings to fetch, and archived of them */
	uint64_t planned_bytes, landed_bytes;
	uint64_t received;             /* network bytes so far */
	double rate;                   /* received bytes per second lately; 0 unknown */
	double elapsed;                /* seconds since live_start() */
	char tail[128];                /* the backfill's span and the rate cap (live_tail) */
};

/* The line for `v`, cut to `outlen` - 1 bytes. Pure. */
void live_format(const struct live_view *v, char *out, size_t outlen);

/* Starts the thread that draws the line, when stderr is a TTY and messages at LOG_INFO are
 * printed; else draws nothing (the calls below still count). Signals stay with the main
 * thread. Safe to call once per process; a second call is a no-op. */
void live_start(void);

/* Stops the thread and clears the line: before the summary, which stays. No-op when not
 * started. */
void live_stop(void);

void live_phase(enum live_phase phase);
void live_listing(pbx_minute from, pbx_minute to); /* phase LIVE_LISTING of that window */
void live_listed(unsigned long n);                 /* n more recordings listed */
void live_planned(unsigned long n, uint64_t bytes); /* n more to fetch, their expected bytes */
void live_landed(uint64_t bytes);                  /* one more archived, of `bytes` */
void live_tail(const char *text);                  /* "" for none; copied */

#endif
