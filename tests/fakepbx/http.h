/*
 * http.h — the fake PBX's web server: daemon, routing, login, sessions.
 *
 * http.c owns libmicrohttpd, the per-request context, the access log and
 * the request log. The CGI modules (list.c, tarstream.c, delete.c) see a
 * request only through http_param() and http_fault(), and hand back a
 * struct http_reply: a description of the answer that the router turns
 * into a libmicrohttpd response, so faults that reshape whole answers
 * (inject.c, pace.c) work on every CGI alike.
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

/* How a request is named in the access and request logs. */
struct http_logtag {
	char method[12];
	char cgi[24];
	long npaths;      /* 20036/20054: paths asked for; -1 for other CGIs */
	char faults[160]; /* names of the faults that changed the answer, ','-joined */
};

/* Write the access-log line "fakepbx: METHOD CGI STATUS BYTES" to stderr
 * and, with --request-log, "METHOD CGI STATUS BYTES PATHS FAULTS" (PATHS
 * and FAULTS "-" when none) to that file. Never logs parameters, so a
 * Password cannot leak. */
void http_log(const struct http_logtag *tag, unsigned status, uint64_t bytes);

/* The instance of fault id that changes this answer (its use is spent and
 * its name noted in the request log), or NULL. */
const struct fault_inst *http_fault(struct http_req *r, enum fault_id id);

/* Note in the request log that fault id changed this answer. */
void http_note_fault(struct http_req *r, enum fault_id id);

/* The TCP socket of r (for faults that abuse the connection), or -1. */
int http_req_socket(const struct http_req *r);

/* Make the connection on fd end with a TCP RST instead of a FIN, at once. */
void http_reset_socket(int fd);

enum http_body {
	HTTP_BODY_NONE,   /* nothing could be allocated: the router sends 500 */
	HTTP_BODY_BUF,    /* buf/len, owned by the reply */
	HTTP_BODY_STREAM, /* reader/cls; free_cls must call http_log() */
	HTTP_BODY_FD,     /* an open file, owned by the reply */
};

#define HTTP_XHDR_MAX 3

/* What a CGI hands back to the router. Build it with http_reply_*(). */
struct http_reply {
	unsigned status;
	enum http_body kind;
	const char *ctype;   /* a string literal */
	char *buf;           /* BUF */
	size_t len;          /* BUF: bytes sent (see http_reply_truncate) */
	bool truncated;      /* BUF: cut short; the connection is closed after it */
	uint64_t size;       /* STREAM: exact size or MHD_SIZE_UNKNOWN; FD: file size */
	size_t block;        /* STREAM: read size */
	MHD_ContentReaderCallback reader;
	void *cls;
	MHD_ContentReaderFreeCallback free_cls;
	struct http_logtag *tag; /* STREAM: filled with the final log tag when queued */
	int fd;              /* FD */
	bool retry_after;    /* add Retry-After (an injected 429/503) */
	size_t nxhdr;
	struct {
		const char *name; /* a string literal */
		char value[400];
	} xhdr[HTTP_XHDR_MAX];
};

/* A reply carrying a copy of body with Content-Type ctype. */
struct http_reply http_reply_buf(unsigned status, const char *ctype, const char *body,
				 size_t len);

/* {"status":"fail","message":msg} as application/json. */
struct http_reply http_reply_fail(unsigned status, const char *msg);

/* 200 + the HTML login page. */
struct http_reply http_reply_login_page(void);

/* 302 to /login.html with a small HTML body. */
struct http_reply http_reply_redirect_login(void);

/* What a request without a valid session gets, as --no-session says. */
struct http_reply http_reply_no_session(const struct fpx_config *cfg);

/* A streamed reply; the stream's free_cls logs it using *tag. */
struct http_reply http_reply_stream(unsigned status, const char *ctype, uint64_t size,
				    size_t block, MHD_ContentReaderCallback reader, void *cls,
				    MHD_ContentReaderFreeCallback free_cls,
				    struct http_logtag *tag);

/* The file open on fd (size bytes), which the reply now owns. */
struct http_reply http_reply_fd(unsigned status, const char *ctype, int fd, uint64_t size);

/* Add header name: value (ignored when HTTP_XHDR_MAX are set already). */
void http_reply_header(struct http_reply *rep, const char *name, const char *value);

/* json-truncated instance f took this BUF reply: keep the first f->value
 * bytes (0: half of them); the connection closes cleanly after them. */
void http_reply_truncate(struct http_reply *rep, const struct fault_inst *f);

/*
 * Start serving cfg on addr (a loopback address; port 0 picks one) with
 * one thread per connection. cert_pem/key_pem non-NULL means HTTPS; they
 * must stay valid until http_stop(). *port gets the bound port.
 * Returns the daemon, or NULL (message printed).
 */
struct MHD_Daemon *http_start(const struct fpx_config *cfg, const struct sockaddr_in *addr,
			      const char *cert_pem, const char *key_pem, uint16_t *port);

/* Stop the daemon (waking paced answers), wait for its threads, drop all
 * sessions. */
void http_stop(struct MHD_Daemon *d);

#endif
