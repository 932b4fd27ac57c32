/* ami.c — the Asterisk Manager Interface client (see ami.h). Owns one TCP connection and a
 * fixed-size parser; never prints, never retries (the caller reconnects). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ami.h"
#include "recname.h"
#include "base/log.h"

#define STR_(x) #x
#define STR(x) STR_(x)

struct ami_parser {
	int in_banner;     /* the current line is the banner */
	int skipping;      /* dropping the rest of the current line */
	int pending_cr;    /* a CR arrived: it ends the line if a LF follows */
	int yielded;       /* a message was handed out: start afresh on the next feed */
	int have_banner;
	size_t banner_len;
	size_t used;       /* bytes of `text` holding the current message's fields */
	size_t line_len;   /* the current line, at text + used (or in banner) */
	struct ami_message msg;
	char banner[AMI_BANNER_MAX + 1];
	char text[AMI_MESSAGE_MAX];
};

const char *ami_get(const struct ami_message *m, const char *key)
{
	for (size_t i = 0; i < m->nfields; i++)
		if (strcasecmp(m->fields[i].key, key) == 0)
			return m->fields[i].value;
	return NULL;
}

struct ami_parser *ami_parser_new(int expect_banner)
{
	struct ami_parser *p = calloc(1, sizeof *p);

	if (p != NULL)
		p->in_banner = expect_banner;
	return p;
}

void ami_parser_free(struct ami_parser *p)
{
	free(p);
}

const struct ami_message *ami_parser_message(const struct ami_parser *p)
{
	return &p->msg;
}

const char *ami_parser_banner(const struct ami_parser *p)
{
	return p->have_banner ? p->banner : NULL;
}

/* The first reason is kept: later ones are consequences of it. */
static void damage(struct ami_parser *p, const char *why)
{
	if (p->msg.damaged == NULL)
		p->msg.damaged = why;
	p->skipping = 1;
}

static int end_banner(struct ami_parser *p)
{
	p->banner[p->banner_len] = '\0';
	p->have_banner = 1;
	p->in_banner = 0;
	p->line_len = 0;
	return AMI_PARSE_BANNER;
}

static int add_byte(struct ami_parser *p, char c)
{
	if (p->skipping)
		return AMI_PARSE_MORE;
	if (p->in_banner) {
		p->banner[p->banner_len++] = c;
		if (p->banner_len < AMI_BANNER_MAX)
			return AMI_PARSE_MORE;
		p->skipping = 1;
		return end_banner(p);
	}
	if (c == '\0')
		damage(p, "NUL byte in a line");
	else if (p->line_len >= AMI_LINE_MAX)
		damage(p, "line longer than " STR(AMI_LINE_MAX) " bytes");
	else if (p->used + p->line_len + 1 >= AMI_MESSAGE_MAX) /* + 1: the value's NUL */
		damage(p, "message larger than " STR(AMI_MESSAGE_MAX) " bytes");
	else
		p->text[p->used + p->line_len++] = c;
	return AMI_PARSE_MORE;
}

static int is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

static int end_line(struct ami_parser *p)
{
	char *line = p->text + p->used, *colon, *key_end, *value;
	size_t len = p->line_len;

	p->line_len = 0;
	if (p->skipping) { /* the tail of a cut line is not a line of its own */
		p->skipping = 0;
		return AMI_PARSE_MORE;
	}
	if (p->in_banner)
		return end_banner(p);
	if (is_blank(line, len)) {
		if (p->msg.nfields == 0 && p->msg.damaged == NULL)
			return AMI_PARSE_MORE;
		p->yielded = 1;
		return AMI_PARSE_MESSAGE;
	}
	if (p->msg.damaged != NULL)
		return AMI_PARSE_MORE; /* resync at the blank line */
	colon = memchr(line, ':', len);
	if (colon == NULL || colon == line)
		return AMI_PARSE_MORE;
	if (p->msg.nfields == AMI_FIELDS_MAX) {
		damage(p, "more than " STR(AMI_FIELDS_MAX) " fields");
		p->skipping = 0; /* this line is already complete */
		return AMI_PARSE_MORE;
	}
	line[len] = '\0';
	for (key_end = colon; key_end > line && (key_end[-1] == ' ' || key_end[-1] == '\t');)
		key_end--;
	*key_end = '\0';
	for (value = colon + 1; *value == ' ' || *value == '\t';)
		value++;
	p->msg.fields[p->msg.nfields].key = line;
	p->msg.fields[p->msg.nfields].value = value;
	p->msg.nfields++;
	p->used += len + 1;
	return AMI_PARSE_MORE;
}

enum ami_parse ami_parser_feed(struct ami_parser *p, const char *buf, size_t len, size_t *used)
{
	int r = AMI_PARSE_MORE;
	size_t i = 0;

	if (p->yielded) {
		p->yielded = 0;
		p->used = 0;
		p->msg.nfields = 0;
		p->msg.damaged = NULL;
	}
	while (i < len && r == AMI_PARSE_MORE) {
		char c = buf[i++];

		if (p->pending_cr) {
			p->pending_cr = 0;
			if (c == '\n') {
				r = end_line(p);
				continue;
			}
			r = add_byte(p, '\r'); /* a lone CR is data */
			if (r != AMI_PARSE_MORE) {
				i--; /* the banner filled up: `c` belongs to what follows */
				break;
			}
		}
		if (c == '\r')
			p->pending_cr = 1;
		else if (c == '\n')
			r = end_line(p);
		else
			r = add_byte(p, c);
	}
	*used = i;
	return (enum ami_parse)r;
}

/* ---- The connection ---- */

struct ami {
	int fd;
	int timeout_ms;      /* for writes: the connect timeout */
	int interrupted;     /* the last wait ended on a signal */
	unsigned next_id;
	struct ami_parser *parser;
	int64_t last_rx;     /* now_ms() of the last byte received */
	size_t start, end;   /* unparsed bytes in buf */
	char peer[300];      /* "host:port" for messages */
	char buf[16384];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

long ami_idle_ms(const struct ami *a)
{
	return (long)(now_ms() - a->last_rx);
}

/* Reads what the socket holds into the empty buffer. 1 bytes read; 0 deadline passed or
 * interrupted (a->interrupted says which); -1 connection lost, `err` set. */
static int fill(struct ami *a, int64_t deadline, char *err, size_t errlen)
{
	struct pollfd pfd = { .fd = a->fd, .events = POLLIN };
	ssize_t got = -1;
	int n;

	do { /* readable yet EAGAIN happens (a bad checksum, say): wait again */
		n = poll(&pfd, 1, left_ms(deadline));
		if (n > 0)
			got = recv(a->fd, a->buf, sizeof a->buf, 0);
	} while (n > 0 && got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	a->interrupted = n < 0 || got < 0 ? errno == EINTR : 0;
	if (n > 0 && got > 0) {
		a->start = 0;
		a->end = (size_t)got;
		a->last_rx = now_ms();
		return 1;
	}
	if (n == 0 || a->interrupted)
		return 0;
	if (got == 0) {
		const struct ami_parser *p = a->parser;
		int partial = p->line_len > 0 || p->pending_cr || (!p->yielded && p->msg.nfields);

		err_set(err, errlen, "%s closed the connection%s", a->peer,
			partial ? " in the middle of a message" : "");
	} else {
		err_set(err, errlen, "%s: %s", a->peer, strerror(errno));
	}
	return -1;
}

/* The next banner or message: AMI_PARSE_BANNER/MESSAGE, 0 deadline or signal, -1 lost. */
static int next_item(struct ami *a, int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);

	for (;;) {
		int r;

		if (a->start < a->end) {
			size_t used;

			r = ami_parser_feed(a->parser, a->buf + a->start, a->end - a->start, &used);
			a->start += used;
			if (r != AMI_PARSE_MORE)
				return r;
		}
		r = fill(a, deadline, err, errlen);
		if (r <= 0)
			return r;
	}
}

/* Writes all of `s` within the write timeout. */
static int send_all(struct ami *a, const char *s, size_t len, char *err, size_t errlen)
{
	int64_t deadline = now_ms() + a->timeout_ms;

	while (len > 0) {
		ssize_t n = send(a->fd, s, len, MSG_NOSIGNAL);

		if (n > 0) {
			s += n;
			len -= (size_t)n;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = a->fd, .events = POLLOUT };
			int r = poll(&pfd, 1, left_ms(deadline));

			if (r == 0 || (r < 0 && errno == EINTR)) {
				err_set(err, errlen, "%s: sending: %s", a->peer,
					r == 0 ? "timed out" : "interrupted");
				return -1;
			}
		} else if (n < 0 && errno != EINTR) {
			err_set(err, errlen, "%s: sending: %s", a->peer, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* One address, non-blocking connect bounded by `deadline`. Returns the socket, -1 with
 * `why` set (errno), or -2 when the deadline passed or a signal came (no point going on). */
static int connect_one(const struct addrinfo *ai, int64_t deadline, int *why)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
	socklen_t sl = sizeof *why;

	if (fd < 0) {
		*why = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno == EINPROGRESS) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int n = poll(&pfd, 1, left_ms(deadline));

		if (n <= 0) {
			*why = n == 0 ? ETIMEDOUT : errno;
			close(fd);
			return -2;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, why, &sl) == 0 && *why == 0)
			return fd;
	} else {
		*why = errno;
	}
	close(fd);
	return -1;
}

/* A peer that stops answering is noticed in about 90 s even while we only listen. */
static void keepalive(int fd)
{
	int on = 1, idle = 60, intvl = 10, cnt = 3;

	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

static int read_banner(struct ami *a, int timeout_ms, char *err, size_t errlen)
{
	char esc[AMI_BANNER_MAX * 4 + 1];
	int r = next_item(a, timeout_ms, err, errlen);

	if (r == 0 && a->interrupted)
		err_set(err, errlen, "%s: interrupted while waiting for the banner", a->peer);
	else if (r == 0)
		err_set(err, errlen, "%s sent no banner within %d ms (is it an Asterisk manager?)",
			a->peer, timeout_ms);
	if (r <= 0)
		return -1;
	if (strncmp(ami_banner(a), "Asterisk Call Manager/", 22) != 0) {
		err_set(err, errlen, "%s is not an Asterisk manager (it said: %s)", a->peer,
			log_escape(ami_banner(a), esc, sizeof esc));
		return -1;
	}
	return 0;
}

struct ami *ami_connect(const char *host, int port, int timeout_ms, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int64_t deadline = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	char service[16];
	struct ami *a = calloc(1, sizeof *a);
	int rc, why = 0;

	if (a != NULL)
		a->fd = -1;
	if (a == NULL || (a->parser = ami_parser_new(1)) == NULL) {
		err_set(err, errlen, "out of memory");
		goto fail;
	}
	a->timeout_ms = timeout_ms;
	snprintf(a->peer, sizeof a->peer, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	snprintf(service, sizeof service, "%d", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		err_set(err, errlen, "cannot connect to %s: %s", a->peer,
			rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		goto fail;
	}
	for (const struct addrinfo *ai = res; ai != NULL && a->fd < 0; ai = ai->ai_next) {
		a->fd = connect_one(ai, deadline, &why);
		if (a->fd == -2)
			break;
	}
	freeaddrinfo(res);
	if (a->fd < 0) {
		err_set(err, errlen, "cannot connect to %s: %s", a->peer,
			why == EINTR ? "interrupted" : strerror(why));
		goto fail;
	}
	keepalive(a->fd);
	a->last_rx = now_ms();
	if (read_banner(a, timeout_ms, err, errlen) != 0)
		goto fail;
	return a;
fail:
	ami_close(a);
	return NULL;
}

const char *ami_banner(const struct ami *a)
{
	const char *b = ami_parser_banner(a->parser);

	return b ? b : "";
}

enum ami_login ami_login(struct ami *a, const char *username, const char *secret, int timeout_ms,
			 char *err, size_t errlen)
{
	char req[1024], id[32], esc_user[256], esc_msg[512];
	int64_t deadline = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
	const struct ami_message *m;
	int n, sent;

	if (strpbrk(username, "\r\n") != NULL || strpbrk(secret, "\r\n") != NULL) {
		err_set(err, errlen, "the AMI username or secret holds a line break");
		return AMI_LOGIN_ERROR;
	}
	snprintf(id, sizeof id, "nexo-%u", ++a->next_id);
	n = snprintf(req, sizeof req, "Action: Login\r\nUsername: %s\r\nSecret: %s\r\n"
		     "Events: on\r\nActionID: %s\r\n\r\n", username, secret, id);
	if (n < 0 || (size_t)n >= sizeof req) {
		sodium_memzero(req, sizeof req);
		err_set(err, errlen, "the AMI username or secret is too long");
		return AMI_LOGIN_ERROR;
	}
	sent = send_all(a, req, (size_t)n, err, errlen);
	sodium_memzero(req, sizeof req);
	if (sent != 0)
		return AMI_LOGIN_ERROR;
	log_escape(username, esc_user, sizeof esc_user);
	for (;;) {
		const char *resp, *aid, *msg;
		int r = next_item(a, left_ms(deadline), err, errlen);

		if (r < 0)
			return AMI_LOGIN_ERROR;
		if (r == 0) {
			err_set(err, errlen, "%s: %s waiting for the login answer", a->peer,
				a->interrupted ? "interrupted" : "timed out");
			return AMI_LOGIN_ERROR;
		}
		m = ami_parser_message(a->parser);
		resp = ami_get(m, "Response");
		aid = ami_get(m, "ActionID");
		if (m->damaged != NULL || resp == NULL || (aid != NULL && strcmp(aid, id) != 0))
			continue;
		if (strcasecmp(resp, "Success") == 0)
			return AMI_LOGIN_OK;
		msg = ami_get(m, "Message");
		err_set(err, errlen, "%s refused the login of user \"%s\": %s", a->peer, esc_user,
			log_escape(msg ? msg : resp, esc_msg, sizeof esc_msg));
		return AMI_LOGIN_REFUSED;
	}
}

int ami_next_message(struct ami *a, int timeout_ms, const struct ami_message **msg, char *err,
		     size_t errlen)
{
	int r = next_item(a, timeout_ms, err, errlen);

	if (r <= 0)
		return r;
	*msg = ami_parser_message(a->parser);
	return 1;
}

int ami_ping(struct ami *a, char *err, size_t errlen)
{
	char req[64];
	int n = snprintf(req, sizeof req, "Action: Ping\r\nActionID: nexo-%u\r\n\r\n",
			 ++a->next_id);

	return send_all(a, req, (size_t)n, err, errlen);
}

void ami_close(struct ami *a)
{
	static const char logoff[] = "Action: Logoff\r\n\r\n";

	if (a == NULL)
		return;
	if (a->fd >= 0) {
		(void)send(a->fd, logoff, sizeof logoff - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(a->fd);
	}
	ami_parser_free(a->parser);
	free(a);
}

/* ---- Events ---- */

static void clear(char *s, size_t len)
{
	if (len > 0)
		s[0] = '\0';
}

int ami_recording_event(const struct ami_message *m, char *pbx_path, size_t len, char *key,
			size_t keylen)
{
	const char *event = ami_get(m, "Event"), *name;

	clear(pbx_path, len);
	clear(key, keylen);
	if (event != NULL && strcasecmp(event, "AutoMixMonitorEnd") == 0)
		name = ami_get(m, "File Name");
	else if (event != NULL && strcasecmp(event, "Cdr") == 0)
		name = ami_get(m, "Recording File Name");
	else
		return 0;
	if (m->damaged != NULL)
		return -1; /* the name may be the line that was cut */
	if (name == NULL || name[strspn(name, " \t")] == '\0')
		return 0; /* recording was off for this call */
	if (recname_key(name, key, keylen) == 0 && recname_to_pbx_path(name, pbx_path, len) == 0)
		return 1;
	clear(pbx_path, len); /* a name cut to fit must not be used */
	clear(key, keylen);
	return -1;
}
