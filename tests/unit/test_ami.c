/* Unit tests for ami.c: the framing parser against the vendor guide's events, split every way
 * and abused; the recording events; and the connection against a small server played by a
 * thread on 127.0.0.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "pbx/ami.h"

#define BANNER "Asterisk Call Manager/1.1\r\n"

/* Guide 3.2, recording on (the PDF wraps the long value; here it is one line). */
#define CDR_ON                                                                                \
	"Event: Cdr\r\nPrivilege: cdr,all\r\nAccountCode:\r\nSource: 205\r\nDestination: 204\r\n" \
	"DestinationContext: from-ext-205\r\nCallerID: \"205\" <205>\r\n"                        \
	"Channel: SIP/205-00000000\r\nDestinationChannel: SIP/204-00000001\r\n"                  \
	"LastApplication: Dial\r\nLastData: SIP/204,30,TtKkWwXx\r\n"                             \
	"StartTime: 2021-04-22 01:01:50\r\nAnswerTime: 2021-04-22 01:01:52\r\n"                  \
	"EndTime: 2021-04-22 01:01:55\r\nDuration: 5\r\nBillableSeconds: 3\r\n"                  \
	"Disposition: ANSWERED\r\nAMAFlags: DOCUMENTATION\r\nUniqueID: 1619082110.0\r\n"         \
	"UserField:\r\nRecording File Name: "                                                    \
	"/media/usbStorage/monitor/20210422/20210422-010152-1619082112-Internal-205-204\r\n\r\n"
/* Guide 3.2, recording off. */
#define CDR_OFF                                                                               \
	"Event: Cdr\r\nPrivilege: cdr,all\r\nAccountCode:\r\nSource: 205\r\nDestination: 204\r\n" \
	"DestinationContext: from-ext-205\r\nCallerID: \"205\" <205>\r\n"                        \
	"Channel: SIP/205-00000002\r\nDestinationChannel: SIP/204-00000003\r\n"                  \
	"LastApplication: Dial\r\nLastData: SIP/204,30,TtKkWwXx\r\n"                             \
	"StartTime: 2021-04-22 01:09:10\r\nAnswerTime: 2021-04-22 01:09:13\r\n"                  \
	"EndTime: 2021-04-22 01:09:16\r\nDuration: 6\r\nBillableSeconds: 3\r\n"                  \
	"Disposition: ANSWERED\r\nAMAFlags: DOCUMENTATION\r\nUniqueID: 1619082550.2\r\n"         \
	"UserField:\r\nRecording File Name:\r\n\r\n"
/* Guide 3.3 (the PDF's "Interna1" is "Internal", as the Cdr above says). */
#define MIXEND                                                                                \
	"Event: AutoMixMonitorEnd\r\nPrivilege: agent,all\r\nFile Name: "                        \
	"/media/usbStorage/monitor/20210422/20210422-010152-1619082112-Internal-205-204\r\n"     \
	"Source Number: 205\r\nDestination Number: 204\r\n\r\n"

#define REC_KEY "20210422-010152-1619082112-Internal-205-204"
#define REC_PATH "20210422/" REC_KEY ".wav"

/* ---- Parser helpers: messages flattened to "Key=Value|..." ("!reason" when damaged) ---- */

struct seen {
	char banner[AMI_BANNER_MAX + 1];
	int nbanner;
	size_t n;
	char msg[16][4096];
};

static void flatten(const struct ami_message *m, char *out, size_t outlen)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < m->nfields && off < outlen; i++)
		off += (size_t)snprintf(out + off, outlen - off, "%s%s=%.200s", i ? "|" : "",
					m->fields[i].key, m->fields[i].value);
	if (m->damaged && off < outlen)
		snprintf(out + off, outlen - off, "!%s", m->damaged);
}

static void take(struct ami_parser *p, struct seen *s, const char *buf, size_t len)
{
	while (len > 0) {
		size_t used = 0;
		enum ami_parse r = ami_parser_feed(p, buf, len, &used);

		assert_true(used <= len);
		if (r == AMI_PARSE_BANNER) {
			snprintf(s->banner, sizeof s->banner, "%s", ami_parser_banner(p));
			s->nbanner++;
		} else if (r == AMI_PARSE_MESSAGE) {
			assert_true(s->n < 16);
			flatten(ami_parser_message(p), s->msg[s->n++], sizeof s->msg[0]);
		} else {
			assert_int_equal(used, len);
		}
		buf += used;
		len -= used;
	}
}

/* Feeds `text` in pieces of `step` bytes (0: whole). */
static void parse_steps(const char *text, size_t len, int banner, size_t step, struct seen *s)
{
	struct ami_parser *p = ami_parser_new(banner);

	assert_non_null(p);
	memset(s, 0, sizeof *s);
	for (size_t off = 0; off < len;) {
		size_t n = step == 0 || len - off < step ? len - off : step;

		take(p, s, text + off, n);
		off += n;
	}
	ami_parser_free(p);
}

static const char guide_stream[] = BANNER CDR_ON CDR_OFF MIXEND;

static void check_guide(const struct seen *s)
{
	assert_int_equal(s->nbanner, 1);
	assert_string_equal(s->banner, "Asterisk Call Manager/1.1");
	assert_int_equal(s->n, 3);
	assert_non_null(strstr(s->msg[0], "Event=Cdr|Privilege=cdr,all|AccountCode=|Source=205|"));
	assert_non_null(strstr(s->msg[0], "|CallerID=\"205\" <205>|"));
	assert_non_null(strstr(s->msg[0], "|StartTime=2021-04-22 01:01:50|"));
	assert_non_null(strstr(s->msg[0], "|UserField=|Recording File Name=/media/usbStorage/"
					  "monitor/20210422/" REC_KEY));
	assert_null(strchr(s->msg[0], '!'));
	assert_non_null(strstr(s->msg[1], "|Recording File Name="));
	assert_string_equal(s->msg[1] + strlen(s->msg[1]) - 21, "|Recording File Name=");
	assert_string_equal(s->msg[2], "Event=AutoMixMonitorEnd|Privilege=agent,all|File Name="
				       "/media/usbStorage/monitor/20210422/" REC_KEY
				       "|Source Number=205|Destination Number=204");
}

static void guide_whole_and_bytewise(void **state)
{
	struct seen s;

	(void)state;
	parse_steps(guide_stream, sizeof guide_stream - 1, 1, 0, &s);
	check_guide(&s);
	parse_steps(guide_stream, sizeof guide_stream - 1, 1, 1, &s);
	check_guide(&s);
	parse_steps(guide_stream, sizeof guide_stream - 1, 1, 7, &s);
	check_guide(&s);
}

static void guide_split_everywhere(void **state)
{
	size_t len = sizeof guide_stream - 1;
	static struct seen s;

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		struct ami_parser *p = ami_parser_new(1);

		memset(&s, 0, sizeof s);
		take(p, &s, guide_stream, cut);
		take(p, &s, guide_stream + cut, len - cut);
		check_guide(&s);
		ami_parser_free(p);
	}
}

static void lf_only_and_odd_lines(void **state)
{
	static const char text[] =
		"Asterisk Call Manager/2.10.4\n"
		"\n\r\n" /* blank lines between messages yield nothing */
		"Event: Newchannel\nChannel: SIP/205-1\n\n"
		"Event: SomethingNew\r\nNo colon here\r\nKey With Spaces :  v: w \r\n"
		": no key\r\nOdd: a\rb\r\n   \r\n" /* a line of blanks ends a message */
		"event: cdr\nRECORDING FILE NAME:\t20210422-x\n\n";
	struct seen s;

	(void)state;
	for (size_t step = 0; step < 4; step++) {
		parse_steps(text, sizeof text - 1, 1, step, &s);
		assert_string_equal(s.banner, "Asterisk Call Manager/2.10.4");
		assert_int_equal(s.n, 3);
		assert_string_equal(s.msg[0], "Event=Newchannel|Channel=SIP/205-1");
		assert_string_equal(s.msg[1], "Event=SomethingNew|Key With Spaces=v: w |Odd=a\rb");
		assert_string_equal(s.msg[2], "event=cdr|RECORDING FILE NAME=20210422-x");
	}
	/* Without a banner expected, the first line is a field. */
	parse_steps("Response: Success\r\n\r\n", 21, 0, 1, &s);
	assert_int_equal(s.nbanner, 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.msg[0], "Response=Success");
}

static void get_ignores_case(void **state)
{
	static const char text[] = "Event: Cdr\r\nfile name: a\r\nFile Name: b\r\nEmpty:\r\n\r\n";
	struct ami_parser *p = ami_parser_new(0);
	const struct ami_message *m;
	size_t used;

	(void)state;
	assert_int_equal(ami_parser_feed(p, text, sizeof text - 1, &used), AMI_PARSE_MESSAGE);
	assert_int_equal(used, sizeof text - 1);
	m = ami_parser_message(p);
	assert_string_equal(ami_get(m, "FILE NAME"), "a"); /* the first one wins */
	assert_string_equal(ami_get(m, "empty"), "");
	assert_null(ami_get(m, "File"));
	assert_null(ami_get(m, "Event: Cdr"));
	assert_null(m->damaged);
	ami_parser_free(p);
}

static void long_line_is_dropped(void **state)
{
	size_t big = 100 * 1024, len = 0;
	char *text = malloc(big + 512);
	struct seen s;

	(void)state;
	assert_non_null(text);
	len += (size_t)snprintf(text, 512, "Event: Cdr\r\nRecording File Name: ");
	memset(text + len, 'A', big);
	len += big;
	len += (size_t)snprintf(text + len, 512, "\r\nAfter: dropped\r\n\r\n" MIXEND);
	for (size_t step = 0; step <= 4096; step += 4096) {
		parse_steps(text, len, 0, step, &s);
		assert_int_equal(s.n, 2);
		assert_string_equal(s.msg[0], "Event=Cdr!line longer than 8192 bytes");
		assert_non_null(strstr(s.msg[1], "Event=AutoMixMonitorEnd|"));
		assert_null(strchr(s.msg[1], '!'));
	}
	/* Exactly at the cap, with its CR, the line is whole. */
	len = (size_t)snprintf(text, 512, "K: ");
	memset(text + len, 'B', AMI_LINE_MAX - 3);
	len += AMI_LINE_MAX - 3;
	memcpy(text + len, "\r\n\r\n", 4);
	parse_steps(text, len + 4, 0, 1, &s);
	assert_int_equal(s.n, 1);
	assert_null(strchr(s.msg[0], '!'));
	/* A banner that never ends is handed back at its cap, not waited for. */
	memset(text, 'x', big);
	parse_steps(text, big, 1, 100, &s);
	assert_int_equal(s.nbanner, 1);
	assert_int_equal(strlen(s.banner), AMI_BANNER_MAX);
	assert_int_equal(s.n, 0);
	free(text);
}

static void field_and_size_caps(void **state)
{
	static char text[AMI_MESSAGE_MAX * 2];
	size_t len = 0;
	struct seen s;

	(void)state;
	for (int i = 0; i < AMI_FIELDS_MAX; i++)
		len += (size_t)snprintf(text + len, sizeof text - len, "K%d: %d\r\n", i, i);
	len += (size_t)snprintf(text + len, sizeof text - len, "\r\n");
	parse_steps(text, len, 0, 0, &s);
	assert_int_equal(s.n, 1);
	assert_null(strchr(s.msg[0], '!'));
	assert_non_null(strstr(s.msg[0], "|K127=127"));

	len -= 2;
	len += (size_t)snprintf(text + len, sizeof text - len, "One: more\r\n\r\nEvent: Next\r\n\r\n");
	parse_steps(text, len, 0, 3, &s);
	assert_int_equal(s.n, 2);
	assert_non_null(strstr(s.msg[0], "|K127=127!more than 128 fields"));
	assert_string_equal(s.msg[1], "Event=Next");

	/* Nine lines under the line cap overflow the message cap. */
	len = 0;
	for (int i = 0; i < 9; i++) {
		len += (size_t)snprintf(text + len, sizeof text - len, "K%d: ", i);
		memset(text + len, 'v', 8000);
		len += 8000;
		len += (size_t)snprintf(text + len, sizeof text - len, "\r\n");
	}
	len += (size_t)snprintf(text + len, sizeof text - len, "\r\nEvent: Next\r\n\r\n");
	parse_steps(text, len, 0, 0, &s);
	assert_int_equal(s.n, 2);
	assert_non_null(strstr(s.msg[0], "!message larger than 65536 bytes"));
	assert_string_equal(s.msg[1], "Event=Next");

	/* A NUL would hide the rest of a value. */
	parse_steps("File Name: /a\0/../x\r\nK: v\r\n\r\n", 29, 0, 1, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.msg[0], "!NUL byte in a line");
}

/* ---- Recording events ---- */

static int event_of(const char *text, char *path, size_t len, char *key, size_t keylen)
{
	struct ami_parser *p = ami_parser_new(0);
	size_t used;
	int r;

	assert_int_equal(ami_parser_feed(p, text, strlen(text), &used), AMI_PARSE_MESSAGE);
	r = ami_recording_event(ami_parser_message(p), path, len, key, keylen);
	ami_parser_free(p);
	return r;
}

static void recording_events(void **state)
{
	char path[256], key[128];

	(void)state;
	assert_int_equal(event_of(MIXEND, path, sizeof path, key, sizeof key), 1);
	assert_string_equal(path, REC_PATH);
	assert_string_equal(key, REC_KEY);
	memset(path, 'z', sizeof path);
	assert_int_equal(event_of(CDR_ON, path, sizeof path, key, sizeof key), 1);
	assert_string_equal(path, REC_PATH);
	assert_string_equal(key, REC_KEY);
	/* Recording off, blank, absent, or not a recording event at all. */
	assert_int_equal(event_of(CDR_OFF, path, sizeof path, key, sizeof key), 0);
	assert_string_equal(path, "");
	assert_int_equal(event_of("Event: Cdr\r\nRecording File Name:  \t\r\n\r\n", path,
				  sizeof path, key, sizeof key), 0);
	assert_int_equal(event_of("Event: AutoMixMonitorEnd\r\n\r\n", path, sizeof path, key,
				  sizeof key), 0);
	assert_int_equal(event_of("Event: Newchannel\r\nFile Name: /m/20210422/20210422-x\r\n\r\n",
				  path, sizeof path, key, sizeof key), 0);
	assert_int_equal(event_of("Response: Success\r\nFile Name: 20210422-x\r\n\r\n", path,
				  sizeof path, key, sizeof key), 0);
	/* Spellings the vendor might use. */
	assert_int_equal(event_of("event: CDR\r\nrecording file name: 20210422-a-1.WAV\r\n\r\n",
				  path, sizeof path, key, sizeof key), 1);
	assert_string_equal(path, "20210422/20210422-a-1.wav");
	assert_string_equal(key, "20210422-a-1");
	/* Hostile names. */
	assert_int_equal(event_of("Event: AutoMixMonitorEnd\r\nFile Name: ../../etc/passwd\r\n\r\n",
				  path, sizeof path, key, sizeof key), -1);
	assert_string_equal(path, "");
	assert_string_equal(key, "");
	assert_int_equal(event_of("Event: Cdr\r\nRecording File Name: /m/20210422/2021..x\r\n\r\n",
				  path, sizeof path, key, sizeof key), -1);
	assert_int_equal(event_of("Event: Cdr\r\nRecording File Name: 20210422-\x1b[2J\r\n\r\n",
				  path, sizeof path, key, sizeof key), -1);
	assert_int_equal(event_of("Event: Cdr\r\nRecording File Name: 20210422-a\\b\r\n\r\n", path,
				  sizeof path, key, sizeof key), -1);
	/* Buffers too small for the name. */
	assert_int_equal(event_of(MIXEND, path, 20, key, sizeof key), -1);
	assert_int_equal(event_of(MIXEND, path, sizeof path, key, 10), -1);
	assert_string_equal(key, "");
}

static void damaged_recording_event(void **state)
{
	static char text[AMI_LINE_MAX + 256];
	struct ami_parser *p = ami_parser_new(0);
	char path[256], key[128];
	size_t used, len;

	(void)state;
	len = (size_t)snprintf(text, sizeof text, "Event: Cdr\r\nRecording File Name: 20210422-");
	memset(text + len, 'a', AMI_LINE_MAX);
	len += AMI_LINE_MAX;
	len += (size_t)snprintf(text + len, sizeof text - len, "\r\n\r\n");
	assert_int_equal(ami_parser_feed(p, text, len, &used), AMI_PARSE_MESSAGE);
	assert_non_null(ami_parser_message(p)->damaged);
	assert_int_equal(ami_recording_event(ami_parser_message(p), path, sizeof path, key,
					     sizeof key), -1);
	ami_parser_free(p);
}

/* ---- The connection, against a server played by a thread ---- */

struct server {
	int lfd, port;
	pthread_t tid, main_tid;
	void (*play)(struct server *s, int fd);
	char request[2][1024];     /* the actions received, flattened */
	char action_id[2][64];
	int nrequests;
	volatile sig_atomic_t stop;
};

/* The server thread never asserts (cmocka's failures belong to the main thread): a failed
 * send or read shows up as a client-side failure. */
static void srv_send(int fd, const char *text)
{
	(void)send(fd, text, strlen(text), MSG_NOSIGNAL);
}

static void srv_sendf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void srv_sendf(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	srv_send(fd, buf);
}

/* Reads one action (the client sends one at a time) with the module's own parser. */
static void srv_read_action(struct server *s, int fd)
{
	struct ami_parser *p = ami_parser_new(0);
	char buf[1024];
	int i = s->nrequests < 2 ? s->nrequests++ : 1;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		size_t used;

		if (n <= 0) {
			ami_parser_free(p);
			return;
		}
		if (ami_parser_feed(p, buf, (size_t)n, &used) == AMI_PARSE_MESSAGE)
			break;
	}
	flatten(ami_parser_message(p), s->request[i], sizeof s->request[i]);
	snprintf(s->action_id[i], sizeof s->action_id[i], "%s",
		 ami_get(ami_parser_message(p), "ActionID") ?: "");
	ami_parser_free(p);
}

/* Waits for the client to hang up. */
static void srv_drain(int fd)
{
	char buf[256];

	while (recv(fd, buf, sizeof buf, 0) > 0)
		;
}

static void *srv_main(void *arg)
{
	struct server *s = arg;
	struct timeval tv = { .tv_sec = 10 };
	int fd = accept(s->lfd, NULL, NULL);

	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv); /* a broken test ends */
		s->play(s, fd);
		close(fd);
	}
	return NULL;
}

static void srv_start(struct server *s, void (*play)(struct server *, int))
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof sin;

	memset(s, 0, sizeof *s);
	s->play = play;
	s->main_tid = pthread_self();
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sin, &sl), 0);
	s->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&s->tid, NULL, srv_main, s), 0);
}

static void srv_stop(struct server *s)
{
	pthread_join(s->tid, NULL);
	close(s->lfd);
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void play_session(struct server *s, int fd)
{
	srv_send(fd, BANNER);
	srv_read_action(s, fd);
	/* Not the answer to our login: skipped. */
	srv_send(fd, "Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n");
	srv_send(fd, "Response: Success\r\nActionID: someone-else\r\n\r\n");
	srv_sendf(fd, "Response: Success\r\nActionID: %s\r\nMessage: Authentication accepted\r\n\r\n"
		  MIXEND "Event: Cdr\r\nRecording File Name: ../../etc/passwd\r\n\r\n",
		  s->action_id[0]);
	srv_read_action(s, fd);
	srv_sendf(fd, "Response: Success\r\nActionID: %s\r\nPing: Pong\r\n\r\nEvent: Cdr\r\nPriv",
		  s->action_id[1]);
}

static void session(void **state)
{
	struct server s;
	char err[256] = "", path[256], key[128];
	const struct ami_message *m;
	struct ami *a;

	(void)state;
	srv_start(&s, play_session);
	a = ami_connect("127.0.0.1", s.port, 2000, err, sizeof err);
	assert_non_null(a);
	assert_string_equal(ami_banner(a), "Asterisk Call Manager/1.1");
	assert_int_equal(ami_login(a, "admin", "pass word", 2000, err, sizeof err), AMI_LOGIN_OK);
	assert_non_null(strstr(s.request[0], "Action=Login|Username=admin|Secret=pass word|"));
	assert_non_null(strstr(s.request[0], "|Events=on|ActionID="));
	assert_true(strlen(s.action_id[0]) > 0);

	assert_int_equal(ami_next_message(a, 2000, &m, err, sizeof err), 1);
	assert_string_equal(ami_get(m, "Event"), "AutoMixMonitorEnd");
	assert_int_equal(ami_recording_event(m, path, sizeof path, key, sizeof key), 1);
	assert_string_equal(path, REC_PATH);
	assert_int_equal(ami_next_message(a, 2000, &m, err, sizeof err), 1);
	assert_int_equal(ami_recording_event(m, path, sizeof path, key, sizeof key), -1);

	assert_int_equal(ami_ping(a, err, sizeof err), 0);
	assert_int_equal(ami_next_message(a, 2000, &m, err, sizeof err), 1);
	assert_string_equal(ami_get(m, "Ping"), "Pong");
	assert_non_null(strstr(s.request[1], "Action=Ping|ActionID="));
	assert_string_not_equal(s.action_id[1], s.action_id[0]);
	assert_true(ami_idle_ms(a) < 1000);
	/* The server hangs up in the middle of the Cdr. */
	assert_int_equal(ami_next_message(a, 2000, &m, err, sizeof err), -1);
	assert_non_null(strstr(err, "127.0.0.1:"));
	assert_non_null(strstr(err, "closed the connection in the middle of a message"));
	ami_close(a);
	srv_stop(&s);
}

static void play_refuse(struct server *s, int fd)
{
	srv_send(fd, BANNER);
	srv_read_action(s, fd);
	srv_sendf(fd, "Response: Error\r\nActionID: %s\r\nMessage: Authentication failed\r\n\r\n",
		  s->action_id[0]);
}

static void login_refused(void **state)
{
	struct server s;
	char err[256] = "", want[256];
	struct ami *a;

	(void)state;
	srv_start(&s, play_refuse);
	a = ami_connect("localhost", s.port, 2000, err, sizeof err);
	assert_non_null(a);
	assert_int_equal(ami_login(a, "admin", "s3cret", 2000, err, sizeof err),
			 AMI_LOGIN_REFUSED);
	snprintf(want, sizeof want, "localhost:%d refused the login of user \"admin\": "
		 "Authentication failed", s.port);
	assert_string_equal(err, want);
	assert_null(strstr(err, "s3cret"));
	ami_close(a);
	srv_stop(&s);
}

/* The guide's own answer carries no ActionID. */
static void play_no_action_id(struct server *s, int fd)
{
	srv_send(fd, BANNER);
	srv_read_action(s, fd);
	srv_send(fd, "Response: Success\r\nMessage: Authentication accepted\r\n\r\n");
	srv_drain(fd);
}

static void login_without_action_id(void **state)
{
	struct server s;
	char err[256] = "";
	struct ami *a;

	(void)state;
	srv_start(&s, play_no_action_id);
	a = ami_connect("127.0.0.1", s.port, 2000, err, sizeof err);
	assert_non_null(a);
	assert_int_equal(ami_login(a, "admin", "password", 2000, err, sizeof err), AMI_LOGIN_OK);
	ami_close(a);
	srv_stop(&s);
}

static void play_hang_up_after_login(struct server *s, int fd)
{
	srv_send(fd, BANNER);
	srv_read_action(s, fd);
}

static void login_lost_and_bad_secret(void **state)
{
	struct server s;
	char err[256] = "";
	struct ami *a;

	(void)state;
	srv_start(&s, play_hang_up_after_login);
	a = ami_connect("127.0.0.1", s.port, 2000, err, sizeof err);
	assert_non_null(a);
	/* A line break would smuggle in another header: refused before anything is sent. */
	assert_int_equal(ami_login(a, "admin", "x\r\nAction: Logoff", 2000, err, sizeof err),
			 AMI_LOGIN_ERROR);
	assert_string_equal(err, "the AMI username or secret holds a line break");
	assert_int_equal(ami_login(a, "admin", "secret", 2000, err, sizeof err), AMI_LOGIN_ERROR);
	assert_non_null(strstr(err, "closed the connection"));
	assert_null(strstr(err, "middle"));
	ami_close(a);
	srv_stop(&s);
}

static void play_http(struct server *s, int fd)
{
	(void)s;
	srv_send(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
	srv_drain(fd);
}

static void play_binary(struct server *s, int fd)
{
	(void)s;
	for (int i = 0; i < 100; i++) /* the client hangs up midway */
		srv_send(fd, "\x1b[2J\x01\xff");
	srv_drain(fd);
}

static void play_silent(struct server *s, int fd)
{
	(void)s;
	srv_drain(fd);
}

static void play_close(struct server *s, int fd)
{
	(void)s;
	(void)fd;
}

static void not_a_manager(void **state)
{
	struct server s;
	char err[256] = "", want[256];
	struct timespec t0;

	(void)state;
	srv_start(&s, play_http);
	assert_null(ami_connect("127.0.0.1", s.port, 2000, err, sizeof err));
	snprintf(want, sizeof want, "127.0.0.1:%d is not an Asterisk manager (it said: HTTP/1.1 "
		 "400 Bad Request)", s.port);
	assert_string_equal(err, want);
	srv_stop(&s);

	/* Bytes without a line end: refused at the banner cap, escaped, without waiting. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	srv_start(&s, play_binary);
	assert_null(ami_connect("127.0.0.1", s.port, 5000, err, sizeof err));
	assert_true(elapsed_ms(&t0) < 2500);
	assert_non_null(strstr(err, "is not an Asterisk manager (it said: \\x1b[2J\\x01\\xff"));
	assert_null(strchr(err, '\x1b'));
	srv_stop(&s);

	srv_start(&s, play_silent);
	assert_null(ami_connect("127.0.0.1", s.port, 100, err, sizeof err));
	snprintf(want, sizeof want, "127.0.0.1:%d sent no banner within 100 ms (is it an "
		 "Asterisk manager?)", s.port);
	assert_string_equal(err, want);
	srv_stop(&s);

	srv_start(&s, play_close);
	assert_null(ami_connect("127.0.0.1", s.port, 2000, err, sizeof err));
	snprintf(want, sizeof want, "127.0.0.1:%d closed the connection", s.port);
	assert_string_equal(err, want);
	srv_stop(&s);
}

static void connect_refused(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof sin;
	char err[256] = "", want[256];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	/* A port bound but not listening: nobody listens there, and while we hold it no other
	 * process can be given it (a port closed again could go to another process's server). */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	assert_null(ami_connect("127.0.0.1", ntohs(sin.sin_port), 2000, err, sizeof err));
	close(fd);
	snprintf(want, sizeof want, "cannot connect to 127.0.0.1:%d: Connection refused",
		 ntohs(sin.sin_port));
	assert_string_equal(err, want);
	assert_null(ami_connect("host.invalid", 5038, 2000, err, sizeof err));
	assert_non_null(strstr(err, "cannot connect to host.invalid:5038: "));
	assert_null(ami_connect("::1x", 5038, 2000, err, sizeof err));
	assert_non_null(strstr(err, "cannot connect to [::1x]:5038: "));
}

static void on_signal(int sig)
{
	(void)sig;
}

/* Banner, then quiet; once the client waits, a signal every 20 ms until told to stop. */
static void play_quiet_then_signal(struct server *s, int fd)
{
	struct timespec tick = { .tv_nsec = 20 * 1000000 };

	srv_send(fd, BANNER);
	srv_read_action(s, fd); /* the client's "I am waiting now" (a ping) */
	while (!s->stop) {
		pthread_kill(s->main_tid, SIGUSR1);
		nanosleep(&tick, NULL);
	}
	srv_drain(fd);
}

static void quiet_timeout_and_signal(void **state)
{
	struct sigaction sa = { .sa_handler = on_signal }, old;
	const struct ami_message *m;
	struct timespec t0;
	struct server s;
	char err[256] = "";
	struct ami *a;

	(void)state;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0); /* no SA_RESTART */
	srv_start(&s, play_quiet_then_signal);
	a = ami_connect("127.0.0.1", s.port, 2000, err, sizeof err);
	assert_non_null(a);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ami_next_message(a, 0, &m, err, sizeof err), 0);
	assert_int_equal(ami_next_message(a, 50, &m, err, sizeof err), 0);
	assert_true(elapsed_ms(&t0) >= 45);
	assert_true(ami_idle_ms(a) >= 45);

	assert_int_equal(ami_ping(a, err, sizeof err), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ami_next_message(a, 20000, &m, err, sizeof err), 0);
	assert_true(elapsed_ms(&t0) < 10000);
	s.stop = 1;
	ami_close(a);
	srv_stop(&s);
	sigaction(SIGUSR1, &old, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(guide_whole_and_bytewise),
		cmocka_unit_test(guide_split_everywhere),
		cmocka_unit_test(lf_only_and_odd_lines),
		cmocka_unit_test(get_ignores_case),
		cmocka_unit_test(long_line_is_dropped),
		cmocka_unit_test(field_and_size_caps),
		cmocka_unit_test(recording_events),
		cmocka_unit_test(damaged_recording_event),
		cmocka_unit_test(session),
		cmocka_unit_test(login_refused),
		cmocka_unit_test(login_without_action_id),
		cmocka_unit_test(login_lost_and_bad_secret),
		cmocka_unit_test(not_a_manager),
		cmocka_unit_test(connect_refused),
		cmocka_unit_test(quiet_timeout_and_signal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
