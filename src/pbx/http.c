/* http.c — libcurl under caps: buffered requests, a pull-model body stream (libcurl multi
 * feeding whoever calls http_stream_read, pausing the transfer when our buffer is full so
 * memory never grows with the body), and backoff arithmetic. */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sodium.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/meter.h"

#define MAX_HEADER_LINES 100
#define MAX_HEADER_LINE 8192
#define STREAM_BUFFER (512u << 10)  /* twice libcurl's receive buffer below */
#define CURL_BUFFER (256L << 10)

struct http {
	CURL *easy;
	long timeout;      /* seconds without a byte before a transfer is given up */
	int64_t max_rate;  /* bytes per second for streams; 0: no cap */
	char errbuf[CURL_ERROR_SIZE];
};

/* Per-transfer state shared by the callbacks. */
struct transfer {
	struct http_answer *a;
	size_t cap;
	size_t body_cap;   /* allocated for a->body */
	long timeout;
	curl_off_t last_bytes;    /* bytes received when last seen to move ... */
	struct timespec last_move;  /* ... and when */
	int stalled;
	int too_big;
	int header_lines;
	int bad_headers;
	/* streaming */
	int streaming;
	unsigned char *buf;
	size_t len, bufcap;
	int paused;
	int64_t max_rate;          /* the cap this transfer runs under; 0: none */
	uint64_t received;         /* body bytes taken so far ... */
	struct timespec started;   /* ... since */
};

struct http_stream {
	struct http *h;
	CURLM *multi;
	struct transfer t;
	struct http_answer ans; /* headers land here for the stream's whole life */
	int done;
	CURLcode result;
	int handed_first;
};

struct http *http_new(const struct http_options *opt, char *err, size_t errlen)
{
	static int global_done;
	struct http *h;

	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(err, errlen, "libcurl cannot start");
			return NULL;
		}
		global_done = 1;
	}
	h = calloc(1, sizeof *h);
	if (!h || !(h->easy = curl_easy_init())) {
		free(h);
		snprintf(err, errlen, "libcurl cannot make a handle");
		return NULL;
	}
	CURL *e = h->easy;
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");  /* in-memory cookie engine */
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, opt->connect_timeout);
	h->timeout = opt->timeout;
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, CURL_BUFFER);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "nexo-archive/1");
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, NULL);
	if (opt->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, opt->ca_file);
	if (opt->pinned_pubkey)
		curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, opt->pinned_pubkey);
	if (opt->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return h;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->easy);
	free(h);
}

void http_answer_free(struct http_answer *a)
{
	free(a->body);
	a->body = NULL;
	a->len = 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
	struct transfer *t = user;
	size_t len = size * n;
	char line[MAX_HEADER_LINE];

	if (++t->header_lines > MAX_HEADER_LINES || len >= MAX_HEADER_LINE) {
		t->bad_headers = 1;
		return 0; /* aborts the transfer */
	}
	memcpy(line, data, len);
	line[len] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	if (strncmp(line, "HTTP/", 5) == 0) {
		/* A new response (e.g. after 100 Continue): forget the previous one's headers. */
		t->a->content_type[0] = '\0';
		t->a->content_encoding[0] = '\0';
		t->a->retry_after = -1;
		t->a->date = -1;
	} else if (strncasecmp(line, "Content-Type:", 13) == 0) {
		const char *v = line + 13 + strspn(line + 13, " \t");
		snprintf(t->a->content_type, sizeof t->a->content_type, "%s", v);
	} else if (strncasecmp(line, "Content-Encoding:", 17) == 0) {
		const char *v = line + 17 + strspn(line + 17, " \t");
		snprintf(t->a->content_encoding, sizeof t->a->content_encoding, "%s", v);
	} else if (strncasecmp(line, "Date:", 5) == 0) {
		time_t when = curl_getdate(line + 5 + strspn(line + 5, " \t"), NULL);
		t->a->date = when > 0 ? (long long)when : -1;
	} else if (strncasecmp(line, "Retry-After:", 12) == 0) {
		const char *v = line + 12 + strspn(line + 12, " \t");
		char *end;
		long secs = strtol(v, &end, 10);
		if (end != v && *end == '\0' && secs >= 0) {
			t->a->retry_after = secs;
		} else {
			time_t when = curl_getdate(v, NULL);
			if (when > 0)
				t->a->retry_after = when > clock_unix() ? (long)(when - clock_unix()) : 0;
		}
	}
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
	struct transfer *t = user;
	size_t len = size * n;

	if (t->streaming) {
		if (t->len + len > t->bufcap) {
			t->paused = 1;
			return CURL_WRITEFUNC_PAUSE;
		}
		memcpy(t->buf + t->len, data, len);
		t->len += len;
		t->received += len;
		meter_received_add(len); /* after the pause: a paused piece comes again */
		return len;
	}
	if (t->a->len + len > t->cap) {
		t->too_big = 1;
		return 0;
	}
	if (t->a->len + len + 1 > t->body_cap) {
		/* Doubling: a 100 MB listing must not be copied once per received piece. */
		size_t cap = t->body_cap ? t->body_cap : 64u << 10;
		while (cap < t->a->len + len + 1)
			cap *= 2;
		char *p = realloc(t->a->body, cap);
		if (!p)
			return 0;
		t->a->body = p;
		t->body_cap = cap;
	}
	memcpy(t->a->body + t->a->len, data, len);
	t->a->len += len;
	t->a->body[t->a->len] = '\0';
	meter_received_add(len);
	return len;
}

static double since(const struct timespec *then)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - then->tv_sec) + (double)(now.tv_nsec - then->tv_nsec) / 1e9;
}

/* A buffered request that receives nothing for `timeout` seconds is given up. (libcurl's own
 * low-speed limit averages over its window: a silence after a burst was let through.) */
static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct transfer *t = user;

	(void)dltotal;
	(void)ultotal;
	if (dlnow + ulnow != t->last_bytes) {
		t->last_bytes = dlnow + ulnow;
		clock_gettime(CLOCK_MONOTONIC, &t->last_move);
		return 0;
	}
	if (!t->streaming && since(&t->last_move) >= (double)t->timeout) {
		t->stalled = 1;
		return 1; /* aborts the transfer */
	}
	return 0;
}

static void prepare(struct http *h, struct transfer *t, struct http_answer *a, const char *url,
		    const char *post)
{
	memset(a, 0, sizeof *a);
	a->retry_after = -1;
	a->date = -1;
	t->a = a;
	h->errbuf[0] = '\0';
	curl_easy_setopt(h->easy, CURLOPT_URL, url);
	curl_easy_setopt(h->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h->easy, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(h->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->easy, CURLOPT_WRITEDATA, t);
	t->timeout = h->timeout;
	clock_gettime(CLOCK_MONOTONIC, &t->last_move);
	t->started = t->last_move;
	/* Only downloads are capped: listings and deletes are small, and a login must not wait. */
	t->max_rate = t->streaming ? h->max_rate : 0;
	curl_easy_setopt(h->easy, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)t->max_rate);
	curl_easy_setopt(h->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h->easy, CURLOPT_XFERINFODATA, t);
	curl_easy_setopt(h->easy, CURLOPT_NOPROGRESS, 0L);
	if (post) {
		curl_easy_setopt(h->easy, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(h->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(post));
	} else {
		curl_easy_setopt(h->easy, CURLOPT_HTTPGET, 1L);
	}
}

/* Maps a finished transfer to an outcome, filling a->error. */
static int outcome(struct http *h, struct transfer *t, CURLcode rc, struct http_answer *a)
{
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &a->status);
	if (t->too_big) {
		snprintf(a->error, sizeof a->error, "the answer is larger than the %zu-byte cap",
			 t->cap);
		a->body_capped = 1;
		return HTTP_TOO_BIG;
	}
	if (t->bad_headers) {
		snprintf(a->error, sizeof a->error,
			 "the answer has more than %d header lines or one over %d bytes",
			 MAX_HEADER_LINES, MAX_HEADER_LINE);
		return HTTP_TOO_BIG;
	}
	if (rc == CURLE_OK)
		return HTTP_DONE;
	if (t->stalled) {
		snprintf(a->error, sizeof a->error, "timed out: no data from the PBX for %ld s ([pbx] timeout)", h->timeout);
		return HTTP_TRANSIENT;
	}
	snprintf(a->error, sizeof a->error, "%s", h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		a->refused = 1;
		return HTTP_UNREACHABLE;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return HTTP_UNREACHABLE;
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return HTTP_TRANSIENT;
	default:
		return HTTP_ERROR;
	}
}

int http_request(struct http *h, const char *url, const char *post, size_t body_cap,
		 struct http_answer *a)
{
	struct transfer t;
	CURLcode rc;

	memset(&t, 0, sizeof t);
	t.cap = body_cap;
	prepare(h, &t, a, url, post);
	rc = curl_easy_perform(h->easy);
	return outcome(h, &t, rc, a);
}

/* Whether the rate cap is what holds the transfer back: more has arrived than the cap allows
 * by now, so libcurl waits before it reads on. */
static int held_by_cap(const struct transfer *t)
{
	return t->max_rate > 0 && (double)t->received / (double)t->max_rate > since(&t->started);
}

/* Drives the transfer until the buffer holds at least `want` bytes or it ended. Silence counts
 * only while we wait here: time the consumer spends on the bytes it has is not the PBX's, and
 * neither is a wait the rate cap imposes. */
static void pump(struct http_stream *s, size_t want)
{
	struct timespec waiting;
	size_t seen = s->t.len;

	clock_gettime(CLOCK_MONOTONIC, &waiting);
	while (!s->done && s->t.len < want) {
		if (s->t.len != seen || held_by_cap(&s->t)) {
			seen = s->t.len;
			clock_gettime(CLOCK_MONOTONIC, &waiting);
		} else if (since(&waiting) >= (double)s->h->timeout) {
			s->done = 1;
			s->result = CURLE_OPERATION_TIMEDOUT;
			snprintf(s->h->errbuf, sizeof s->h->errbuf, "timed out: no data from the PBX for %ld s ([pbx] timeout)",
				 s->h->timeout);
			break;
		}
		int running = 0, left;
		CURLMsg *msg;

		if (s->t.paused) {
			s->t.paused = 0;
			curl_easy_pause(s->h->easy, CURLPAUSE_CONT);
			if (s->t.len >= want)
				break;
		}
		curl_multi_perform(s->multi, &running);
		while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
			if (msg->msg == CURLMSG_DONE) {
				s->done = 1;
				s->result = msg->data.result;
			}
		}
		if (!s->done && s->t.len < want && !s->t.paused)
			curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
	}
}

int http_stream_open(struct http *h, const char *url, struct http_answer *a,
		     struct http_stream **out)
{
	struct http_stream *s = calloc(1, sizeof *s);
	int rc;

	*out = NULL;
	if (!s || !(s->t.buf = malloc(STREAM_BUFFER)) || !(s->multi = curl_multi_init())) {
		if (s)
			free(s->t.buf);
		free(s);
		memset(a, 0, sizeof *a);
		snprintf(a->error, sizeof a->error, "out of memory");
		return HTTP_ERROR;
	}
	s->h = h;
	s->t.streaming = 1;
	s->t.bufcap = STREAM_BUFFER;
	prepare(h, &s->t, &s->ans, url, NULL);
	curl_multi_add_handle(s->multi, h->easy);
	pump(s, 16);
	if (s->done && s->result != CURLE_OK) {
		rc = outcome(h, &s->t, s->result, &s->ans);
		*a = s->ans;
		http_stream_close(s);
		return rc;
	}
	curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &s->ans.status);
	*a = s->ans;
	*out = s;
	return HTTP_DONE;
}

size_t http_stream_peek(struct http_stream *s, const unsigned char **buf)
{
	*buf = s->t.buf;
	return s->t.len;
}

ssize_t http_stream_read(struct http_stream *s, const void **buf)
{
	if (s->handed_first)
		s->t.len = 0; /* the caller is done with the previous piece */
	s->handed_first = 1;
	pump(s, 1);
	if (s->t.len > 0) {
		*buf = s->t.buf;
		return (ssize_t)s->t.len;
	}
	if (s->result != CURLE_OK) {
		log_error("download broke off: %s",
			  s->h->errbuf[0] ? s->h->errbuf : curl_easy_strerror(s->result));
		return -1;
	}
	return 0;
}

int http_stream_close(struct http_stream *s)
{
	int ok;

	if (!s)
		return -1;
	ok = s->done && s->result == CURLE_OK && s->t.len == 0;
	curl_multi_remove_handle(s->multi, s->h->easy);
	curl_multi_cleanup(s->multi);
	free(s->t.buf);
	free(s);
	return ok ? 0 : -1;
}

void http_set_max_rate(struct http *h, int64_t bytes_per_second)
{
	h->max_rate = bytes_per_second > 0 ? bytes_per_second : 0;
}

void http_backoff(int attempt, long retry_after)
{
	const char *env = getenv("NEXO_RETRY_BASE_MS");
	long base = env ? strtol(env, NULL, 10) : 1000;
	long cap = 60000, ms;
	struct timespec ts;

	if (base < 0 || base > 60000)
		base = 1000;
	if (retry_after >= 0) {
		ms = (retry_after > 300 ? 300 : retry_after) * 1000;
	} else {
		long span = base;
		for (int i = 1; i < attempt && span < cap; i++)
			span *= 2;
		if (span > cap)
			span = cap;
		ms = span ? (long)randombytes_uniform((uint32_t)span + 1) : 0;
	}
	log_debug("waiting %ld ms before retry %d", ms, attempt);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}
