/* http.h — one libcurl connection to the PBX: single requests with capped answers, a streamed
 * body for downloads, and the retry policy's arithmetic. Knows URLs and status codes, not CGIs
 * (pbx.c) and not the archive.
 *
 * Caps: a buffered body stops at the caller's cap (HTTP_TOO_BIG), at most 100 header lines of
 * at most 8 KiB each. TLS is verified unless `insecure`; only http and https; redirects are
 * never followed (a 3xx is an answer, judged by pbx.c). The cookie engine is on, in memory
 * only, so a session cookie lives as long as the handle. */
#ifndef NEXO_HTTP_H
#define NEXO_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct http;
struct http_stream;

struct http_options {
	const char *ca_file;
	const char *pinned_pubkey; /* "sha256//...": checked even when `insecure` */
	int insecure;
	long timeout;          /* seconds below 1 byte/s before a transfer is dropped */
	long connect_timeout;
};

enum http_outcome {
	HTTP_DONE = 0,         /* an HTTP answer arrived (any status) */
	HTTP_TRANSIENT = 1,    /* timeout, reset, empty reply: worth retrying */
	HTTP_UNREACHABLE = 2,  /* cannot connect or resolve, or TLS failed; refused is retried
				* by the caller as transient, the rest are not */
	HTTP_TOO_BIG = 3,      /* the answer passed a cap */
	HTTP_ERROR = 4,        /* anything else (message in `error`) */
};

struct http_answer {
	long status;
	char *body;            /* NUL-terminated; NULL when empty */
	size_t len;
	char content_type[96];
	char content_encoding[32]; /* as sent ("gzip"); "" when absent */
	long retry_after;      /* seconds, -1 when absent */
	long long date;        /* the Date header as Unix time, -1 when absent or unreadable */
	int refused;           /* connection refused: transient */
	int body_capped;       /* HTTP_TOO_BIG because of the body (not the headers) */
	char error[256];       /* libcurl's message for a non-DONE outcome */
};

struct http *http_new(const struct http_options *opt, char *err, size_t errlen);
void http_free(struct http *h);

/* One attempt. GET when `post` is NULL, else POST with `post` as an urlencoded form body.
 * `body_cap` bounds the buffered body. Fills `a` (free with http_answer_free). Returns an
 * enum http_outcome. */
int http_request(struct http *h, const char *url, const char *post, size_t body_cap,
		 struct http_answer *a);
void http_answer_free(struct http_answer *a);

/* Starts a GET and runs it until the status and the first body bytes (or the end) are in.
 * Returns HTTP_DONE with *out set and `a` holding status, content type and retry-after (no
 * body), or another outcome with `a->error` set. */
int http_stream_open(struct http *h, const char *url, struct http_answer *a,
		     struct http_stream **out);
/* The first bytes of the body (up to 512) without consuming them: for telling a tar from a
 * WAV, an HTML page or JSON. */
size_t http_stream_peek(struct http_stream *s, const unsigned char **buf);
/* Next piece of the body: >0 with *buf set (valid until the next call), 0 at the clean end,
 * -1 on a transfer error (printed). */
ssize_t http_stream_read(struct http_stream *s, const void **buf);
/* Ends it. Returns 0 when the whole body was read and the transfer ended cleanly, else -1. */
int http_stream_close(struct http_stream *s);

/* Caps the receive rate of this handle's streamed bodies (the downloads) from the next
 * http_stream_open() on, in bytes per second (libcurl's CURLOPT_MAX_RECV_SPEED_LARGE); 0
 * lifts it. Buffered requests (listings, deletes, logins) are never capped. While the cap
 * holds a transfer back, the wait is not counted as the PBX's silence against `timeout`. */
void http_set_max_rate(struct http *h, int64_t bytes_per_second);

/* Sleeps before attempt number `attempt` (1 = first retry): full jitter over a doubling,
 * capped interval (base 1 s, cap 60 s; NEXO_RETRY_BASE_MS shortens it for tests), or
 * `retry_after` seconds (capped at 300) when the server said so. */
void http_backoff(int attempt, long retry_after);

#endif
