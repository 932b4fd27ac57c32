/*
 * ami.h — the fake Asterisk Manager Interface and the call simulator.
 *
 * One thread (poll-based) owns the AMI listener, every AMI client, the
 * --simulate-calls clock and the adding of calls (simcall.c). Other
 * threads only ask it to do things through ami_kick(), which writes a byte
 * to a pipe it watches, so a signal handled in main is acted upon at once.
 */
#ifndef FAKEPBX_AMI_H
#define FAKEPBX_AMI_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "cdr.h"

struct ami_opts {
	const char *data_dir;     /* where added calls are written */
	struct cdr_store *cdrs;   /* where their CDRs go */
	bool listen;              /* --ami-listen given */
	struct sockaddr_in addr;  /* its loopback address (port 0: any) */
	const char *user;         /* --ami-user, default admin */
	const char *secret;       /* --ami-secret, default password */
	long per_minute;          /* --simulate-calls; 0: only on ami_kick('c') */
	long outage_secs;         /* --ami-outage, default 3 */
	long drop_after;          /* --ami-drop-after: call events per client; 0: never */
	const char *queue_file;   /* --queue-file: the next added call's queue wait; NULL: none */
};

struct ami; /* opaque */

/*
 * Bind the AMI listener (when o->listen; SO_REUSEADDR) and start the
 * thread. *port gets the bound port (0 without a listener). o's strings
 * and store must outlive the thread.
 * Returns the handle, or NULL (message printed).
 */
struct ami *ami_start(const struct ami_opts *o, uint16_t *port);

/*
 * Ask the thread to act: 'c' add a call now (as SIGUSR1), 'o' start an
 * outage (as SIGUSR2): close every AMI connection and refuse new ones for
 * outage_secs. Async-signal-safe (one write()).
 */
void ami_kick(struct ami *a, char what);

/* Stop the thread, close every socket, free a (NULL is fine). */
void ami_stop(struct ami *a);

#endif
