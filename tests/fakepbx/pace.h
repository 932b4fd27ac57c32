/*
 * pace.h — slow answers: the stall and drip faults.
 *
 * Wraps any body source in a libmicrohttpd content reader that sleeps
 * where the fault says. Sleeps are cut into short naps that end early
 * once pace_stop() is called, so a stalled answer never holds up the
 * server's shutdown. It never decides which answer is slowed (http.c
 * does) and never changes a byte of the body.
 */
#ifndef FAKEPBX_PACE_H
#define FAKEPBX_PACE_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

/* Bytes sent before a stall: min(PACE_STALL_PIECE, half of the first
 * block the answer produced). */
#define PACE_STALL_PIECE 1024

/* Where a paced body comes from; exactly one of the three forms. */
struct pace_src {
	uint64_t size;  /* exact, or MHD_SIZE_UNKNOWN (chunked) */
	/* a stream: */
	size_t block;
	MHD_ContentReaderCallback reader;
	void *cls;
	MHD_ContentReaderFreeCallback free_cls;
	/* or a buffer (malloc'd, owned; size bytes): */
	char *buf;
	/* or an open file (owned; size bytes), when fd >= 0: */
	int fd;
};

/*
 * A response that sends src's body after a stall of stall_s seconds (0:
 * none) following its first piece, and/or at drip_bps bytes per second
 * (0: full speed). Takes src: on failure its free_cls is called, its
 * buffer freed and its fd closed. Returns the response, or NULL on
 * allocation failure.
 */
struct MHD_Response *pace_response(struct pace_src *src, long stall_s, long drip_bps);

/* Wake every paced answer and make it end (with an error) at once. */
void pace_stop(void);

#endif
