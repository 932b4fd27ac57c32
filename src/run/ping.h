/* ping.h — a Healthchecks-style ping ([report] ping_url): one HTTP(S) POST to the URL plus a
 * suffix ("/start", "", "/fail") with a short text body, capped at PING_BODY_MAX bytes and at
 * a timeout. A monitoring endpoint that is down, slow or refusing costs at most the timeout and
 * a warning; it never fails or holds up a run. The request carries no cookie, no credential
 * and nothing of the PBX's but what the body says. */
#ifndef NEXO_PING_H
#define NEXO_PING_H

#define PING_BODY_MAX 10000

/* Sends the ping. Returns 0 when the endpoint answered 2xx, -1 otherwise (a warning printed). */
int ping_send(const char *url, const char *suffix, const char *body, long timeout_s);

#endif
