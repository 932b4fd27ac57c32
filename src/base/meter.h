/* meter.h — the bytes this process has received over the network so far, for the progress
 * line (run/progress.h). One counter for the whole process: the HTTP layer adds what each
 * transfer brings as it comes (lanes' threads too), the progress line reads it to show that a
 * slow download is still moving and at what rate. Never used for a decision. */
#ifndef NEXO_METER_H
#define NEXO_METER_H

#include <stddef.h>
#include <stdint.h>

/* Adds `n` received bytes. Safe from any thread. */
void meter_received_add(size_t n);

/* Bytes received since the process started. Safe from any thread. */
uint64_t meter_received(void);

#endif
