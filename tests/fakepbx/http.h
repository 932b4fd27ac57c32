/*
 * http.h — the fake PBX's web server: daemon, routing, login, sessions.
 *
 * http.c owns libmicrohttpd, the per-request context and the access log.
 * The CGI modules (list.c, tarstream.c, delete.c) see a request only
 * through http_param() and hand back a struct http_reply.
 */
#ifndef FAKEPBX_HTTP_H
#define FAKEPBX_HTTP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "fakepbx.h"

struct http_req; /* one request; opaque */

/* Where a parameter may come from. */
enum http_src {
	HTTP_SRC_ANY,   /* query string first, then the form body */
	HTTP_SRC_QUERY, /* only the (percent-decoded) query string */
	HTTP_SRC_BODY,  /* only an x-www-form-urlencoded / multipart body */
};

/* Value of key ("" when given without a value), or NULL when absent.
 * Valid until the request completes. */
const char *http_param(const struct http_req *r, const char *key, enum http_src src);

/* How a request is named in the access log. */
struct http_logtag {
	char method[12];
	char cgi[24];
};

/* The log tag of r; streams that outlive the request copy it. */
const struct http_logtag *http_req_tag(const struct http_req *r);

/* Write one access-log line "fakepbx: METHOD CGI STATUS BYTES" to stderr.
 * Never logs parameters, so a Password cannot leak. */
void http_log(const struct http_logtag *tag, unsigned status, uint64_t bytes);

/* What a CGI hands back to the router. */
struct http_reply {
	struct MHD_Response *resp; /* NULL: out of memory, the router sends 500 */
	unsigned status;
	bool logs_itself;          /* a stream that calls http_log() when freed */
	uint64_t bytes;            /* body size when !logs_itself */
};

/* A reply carrying a copy of body with Content-Type ctype. */
struct http_reply http_reply_buf(unsigned status, const char *ctype, const char *body,
				 size_t len);

/* {"status":"fail","message":msg} as application/json. */
struct http_reply http_reply_fail(unsigned status, const char *msg);

/*
 * Start serving cfg on addr (a loopback address; port 0 picks one) with
 * one thread per connection. cert_pem/key_pem non-NULL means HTTPS; they
 * must stay valid until http_stop(). *port gets the bound port.
 * Returns the daemon, or NULL (message printed).
 */
struct MHD_Daemon *http_start(const struct fpx_config *cfg, const struct sockaddr_in *addr,
			      const char *cert_pem, const char *key_pem, uint16_t *port);

/* Stop the daemon, wait for its threads, drop all sessions. */
void http_stop(struct MHD_Daemon *d);

#endif
