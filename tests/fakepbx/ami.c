/*
 * ami.c — a small Asterisk Manager Interface: banner, Login/Ping/Logoff,
 * and the events of each added call; plus the clock that adds calls.
 *
 * Owns the AMI sockets and their buffers, all in one poll() thread: no
 * locks but the CDR store's. Only logged-in clients get events. A call is
 * announced only after simcall_add() has put its recording and CDR on
 * disk. An outage closes every client and refuses (accept + close) new
 * ones for a while; calls added meanwhile are announced to nobody.
 */
#include "ami.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "sbuf.h"
#include "simcall.h"

#define AMI_CLIENTS 64
#define AMI_LINE_MAX 4096               /* a longer line: the client is dropped */
#define AMI_OUT_MAX (8u * 1024 * 1024)  /* a client that reads nothing is dropped */
#define AMI_TICK_MS 2000                /* an unrelated event this often */
#define AMI_POLL_MS 200

struct ami_client {
	int fd;
	bool logged_in;
	bool closing;       /* close once out is flushed */
	long events;        /* call events queued so far (--ami-drop-after) */
	char line[AMI_LINE_MAX];
	size_t linelen;
	/* the message being read */
	char action[64], user[128], secret[128], actionid[128];
	bool has_lines;
	struct sbuf out;
	size_t outoff;
};

struct ami {
	struct ami_opts o;
	int listen_fd;        /* -1: none */
	int wake[2];          /* ami_kick() writes to wake[1] */
	pthread_t thread;
	bool started;
	_Atomic bool stop;    /* also seen when the wake pipe is full */
	struct ami_client *c[AMI_CLIENTS];
	int64_t outage_until; /* monotonic ms; 0: none */
	unsigned long chan;   /* channel name counter */
	struct simcall_state sim;
};

static int64_t ami_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void ami_drop(struct ami *a, size_t i)
{
	struct ami_client *cl = a->c[i];
	if (!cl)
		return;
	close(cl->fd);
	sbuf_free(&cl->out);
	free(cl);
	a->c[i] = NULL;
}

/* Send what can be sent now; drop the client on error or when it is done. */
static void ami_flush(struct ami *a, size_t i)
{
	struct ami_client *cl = a->c[i];
	while (cl->outoff < cl->out.len) {
		ssize_t n = send(cl->fd, cl->out.buf + cl->outoff, cl->out.len - cl->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			ami_drop(a, i);
			return;
		}
		cl->outoff += (size_t)n;
	}
	if (cl->outoff == cl->out.len) {
		sbuf_reset(&cl->out);
		cl->outoff = 0;
		if (cl->closing)
			ami_drop(a, i);
	} else if (cl->out.len - cl->outoff > AMI_OUT_MAX || sbuf_failed(&cl->out)) {
		fprintf(stderr, "fakepbx: AMI client not reading, dropped\n");
		ami_drop(a, i);
	}
}

/* "Response: R\r\n[ActionID: id\r\n]" + rest (already CRLF-framed) + "\r\n". */
static void ami_respond(struct ami_client *cl, const char *resp, const char *rest)
{
	sbuf_addf(&cl->out, "Response: %s\r\n", resp);
	if (cl->actionid[0])
		sbuf_addf(&cl->out, "ActionID: %s\r\n", cl->actionid);
	sbuf_addf(&cl->out, "%s\r\n", rest);
}

static void ami_action(struct ami *a, struct ami_client *cl)
{
	if (!cl->action[0]) {
		ami_respond(cl, "Error", "Message: Missing action in request\r\n");
	} else if (strcasecmp(cl->action, "Login") == 0) {
		if (strcmp(cl->user, a->o.user) == 0 && strcmp(cl->secret, a->o.secret) == 0) {
			cl->logged_in = true;
			ami_respond(cl, "Success", "Message: Authentication accepted\r\n");
			sbuf_adds(&cl->out, "Event: FullyBooted\r\nPrivilege: system,all\r\n"
					    "Status: Fully Booted\r\n\r\n");
		} else {
			ami_respond(cl, "Error", "Message: Authentication failed\r\n");
			cl->closing = true;
		}
	} else if (strcasecmp(cl->action, "Logoff") == 0) {
		ami_respond(cl, "Goodbye", "Message: Thanks for all the fish.\r\n");
		cl->closing = true;
	} else if (!cl->logged_in) {
		ami_respond(cl, "Error", "Message: Permission denied\r\n");
	} else if (strcasecmp(cl->action, "Ping") == 0) {
		char rest[80];
		snprintf(rest, sizeof rest, "Ping: Pong\r\nTimestamp: %lld.000000\r\n",
			 (long long)clock_unix());
		ami_respond(cl, "Success", rest);
	} else {
		ami_respond(cl, "Error", "Message: Invalid/unknown command\r\n");
	}
	cl->action[0] = cl->user[0] = cl->secret[0] = cl->actionid[0] = '\0';
	cl->has_lines = false;
}

static void ami_set(char *dst, size_t n, const char *val)
{
	snprintf(dst, n, "%s", val);
}

/* One line without its CR/LF. */
static void ami_line(struct ami *a, struct ami_client *cl, char *line)
{
	size_t len = strlen(line);
	if (len && line[len - 1] == '\r')
		line[--len] = '\0';
	if (len == 0) {
		if (cl->has_lines)
			ami_action(a, cl);
		return;
	}
	cl->has_lines = true;
	char *colon = strchr(line, ':');
	if (!colon)
		return;
	*colon = '\0';
	char *val = colon + 1;
	val += strspn(val, " \t");
	for (char *end = val + strlen(val); end > val && (end[-1] == ' ' || end[-1] == '\t');)
		*--end = '\0';
	if (strcasecmp(line, "Action") == 0)
		ami_set(cl->action, sizeof cl->action, val);
	else if (strcasecmp(line, "Username") == 0)
		ami_set(cl->user, sizeof cl->user, val);
	else if (strcasecmp(line, "Secret") == 0)
		ami_set(cl->secret, sizeof cl->secret, val);
	else if (strcasecmp(line, "ActionID") == 0)
		ami_set(cl->actionid, sizeof cl->actionid, val);
}

static void ami_read(struct ami *a, size_t i)
{
	struct ami_client *cl = a->c[i];
	char buf[4096];
	ssize_t n = recv(cl->fd, buf, sizeof buf, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		ami_drop(a, i);
		return;
	}
	for (ssize_t k = 0; k < n && !cl->closing; k++) {
		if (buf[k] == '\n') {
			cl->line[cl->linelen] = '\0';
			ami_line(a, cl, cl->line);
			cl->linelen = 0;
		} else if (cl->linelen + 1 < sizeof cl->line) {
			cl->line[cl->linelen++] = buf[k];
		} else {
			fprintf(stderr, "fakepbx: AMI line over %d bytes, client dropped\n",
				AMI_LINE_MAX);
			ami_drop(a, i);
			return;
		}
	}
	ami_flush(a, i);
}

static void ami_accept(struct ami *a)
{
	int fd = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (a->outage_until && ami_now_ms() < a->outage_until) {
		close(fd); /* the outage: accepted, then closed at once */
		return;
	}
	size_t i = 0;
	while (i < AMI_CLIENTS && a->c[i])
		i++;
	struct ami_client *cl = i < AMI_CLIENTS ? calloc(1, sizeof *cl) : NULL;
	if (!cl) {
		fprintf(stderr, "fakepbx: AMI: no room for another client\n");
		close(fd);
		return;
	}
	cl->fd = fd;
	a->c[i] = cl;
	sbuf_adds(&cl->out, "Asterisk Call Manager/1.1\r\n");
	ami_flush(a, i);
}

/* Queue ev to every logged-in client; call events count for drop_after. */
static void ami_broadcast(struct ami *a, const char *ev, bool call_event)
{
	for (size_t i = 0; i < AMI_CLIENTS; i++) {
		struct ami_client *cl = a->c[i];
		if (!cl || !cl->logged_in || cl->closing)
			continue;
		sbuf_adds(&cl->out, ev);
		if (call_event && a->o.drop_after > 0 && ++cl->events >= a->o.drop_after)
			cl->closing = true;
		ami_flush(a, i);
	}
}

/* A PBX unix time as the PBX's local "YYYY-MM-DD HH:MM:SS". */
static void ami_time(int64_t t, char out[24])
{
	struct tm tm;
	clock_local(t, &tm);
	strftime(out, 24, "%Y-%m-%d %H:%M:%S", &tm);
}

/* The events of a finished call, in the order a PBX sends them. */
static void ami_announce(struct ami *a, const struct cdr_row *row)
{
	const char *src = row->f[CDR_SRC], *dst = row->f[CDR_DST], *uid = row->f[CDR_UNIQUEID];
	const char *trunk = row->f[CDR_CHANNEL];
	bool inbound = strcmp(row->f[CDR_USERFIELD], "Inbound") == 0;
	long duration = strtol(row->f[CDR_DURATION], NULL, 10);
	long billsec = strtol(row->f[CDR_BILLSEC], NULL, 10);
	int64_t start = strtoll(uid, NULL, 10);
	char chan[64], dchan[64], tstart[24], tanswer[24] = "", tend[24], file[600];
	unsigned long c1 = a->chan++, c2 = a->chan++;
	snprintf(chan, sizeof chan, "SIP/%s-%08lx", inbound && trunk[0] ? trunk : src, c1);
	snprintf(dchan, sizeof dchan, "SIP/%s-%08lx",
		 !inbound && trunk[0] ? trunk : dst, c2);
	ami_time(start, tstart);
	if (billsec > 0)
		ami_time(start + duration - billsec, tanswer);
	ami_time(start + duration, tend);
	cdr_ami_name(row, file, sizeof file);
	bool answered = strcmp(row->f[CDR_DISPOSITION], "ANSWERED") == 0;

	struct sbuf sb = SBUF_INIT;
	sbuf_addf(&sb, "Event: Newchannel\r\nPrivilege: call,all\r\nChannel: %s\r\n"
		  "ChannelState: 0\r\nChannelStateDesc: Down\r\nCallerIDNum: %s\r\n"
		  "CallerIDName: %s\r\nAccountCode: \r\nExten: %s\r\nContext: from-internal\r\n"
		  "Uniqueid: %s\r\n\r\n", chan, src, src, dst, uid);
	ami_broadcast(a, sb.buf ? sb.buf : "", true);
	sbuf_reset(&sb);
	sbuf_addf(&sb, "Event: Newstate\r\nPrivilege: call,all\r\nChannel: %s\r\n"
		  "ChannelState: %d\r\nChannelStateDesc: %s\r\nCallerIDNum: %s\r\n"
		  "CallerIDName: %s\r\nUniqueid: %s\r\n\r\n", dchan, answered ? 6 : 5,
		  answered ? "Up" : "Ringing", dst, dst, uid);
	ami_broadcast(a, sb.buf ? sb.buf : "", true);
	sbuf_reset(&sb);
	sbuf_addf(&sb, "Event: VarSet\r\nPrivilege: dialplan,all\r\nChannel: %s\r\n"
		  "Variable: DIALSTATUS\r\nValue: %s\r\nUniqueid: %s\r\n\r\n", chan,
		  answered ? "ANSWER" : "NOANSWER", uid);
	ami_broadcast(a, sb.buf ? sb.buf : "", true);
	sbuf_reset(&sb);
	sbuf_addf(&sb, "Event: Hangup\r\nPrivilege: call,all\r\nChannel: %s\r\n"
		  "Uniqueid: %s\r\nCallerIDNum: %s\r\nCallerIDName: %s\r\nCause: 16\r\n"
		  "Cause-txt: Normal Clearing\r\n\r\n", chan, uid, src, src);
	ami_broadcast(a, sb.buf ? sb.buf : "", true);
	sbuf_reset(&sb);
	sbuf_addf(&sb, "Event: Cdr\r\nPrivilege: cdr,all\r\nAccountCode: %s\r\nSource: %s\r\n"
		  "Destination: %s\r\nDestinationContext: %s%s\r\nCallerID: \"%s\" <%s>\r\n"
		  "Channel: %s\r\nDestinationChannel: %s\r\nLastApplication: Dial\r\n"
		  "LastData: SIP/%s,30,TtKkWwXx\r\nStartTime: %s\r\nAnswerTime: %s\r\n"
		  "EndTime: %s\r\nDuration: %ld\r\nBillableSeconds: %ld\r\nDisposition: %s\r\n"
		  "AMAFlags: DOCUMENTATION\r\nUniqueID: %s\r\nUserField: %s\r\n"
		  "Recording File Name: %s\r\n\r\n",
		  row->f[CDR_ACCOUNTCODE], src, dst, inbound ? "from-trunk-" : "from-ext-",
		  inbound ? trunk : src, src, src, chan, dchan, dst, tstart, tanswer, tend,
		  duration, billsec, row->f[CDR_DISPOSITION], uid, row->f[CDR_USERFIELD], file);
	ami_broadcast(a, sb.buf ? sb.buf : "", true);
	if (file[0]) {
		sbuf_reset(&sb);
		sbuf_addf(&sb, "Event: AutoMixMonitorEnd\r\nPrivilege: agent,all\r\n"
			  "File Name: %s\r\nSource Number: %s\r\nDestination Number: %s\r\n\r\n",
			  file, src, dst);
		ami_broadcast(a, sb.buf ? sb.buf : "", true);
	}
	sbuf_free(&sb);
}

static void ami_add_call(struct ami *a)
{
	struct cdr_row row;
	if (simcall_add(a->o.data_dir, a->o.cdrs, &a->sim, a->o.queue_file, &row) < 0)
		return;
	ami_announce(a, &row);
	cdr_row_clear(&row);
}

static void ami_outage(struct ami *a)
{
	for (size_t i = 0; i < AMI_CLIENTS; i++)
		ami_drop(a, i);
	a->outage_until = ami_now_ms() + a->o.outage_secs * 1000;
	fprintf(stderr, "fakepbx: AMI outage for %ld s\n", a->o.outage_secs);
}

static void *ami_main(void *arg)
{
	struct ami *a = arg;
	struct pollfd pfd[2 + AMI_CLIENTS];
	size_t who[2 + AMI_CLIENTS];
	int64_t next_tick = ami_now_ms() + AMI_TICK_MS;
	int64_t period = a->o.per_minute > 0 ? 60000 / a->o.per_minute : 0;
	int64_t next_call = period ? ami_now_ms() + period : 0;
	unsigned long peer = 0;
	while (!a->stop) {
		nfds_t n = 0;
		pfd[n++] = (struct pollfd){ .fd = a->wake[0], .events = POLLIN };
		if (a->listen_fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = a->listen_fd, .events = POLLIN };
		nfds_t first = n;
		for (size_t i = 0; i < AMI_CLIENTS; i++) {
			if (!a->c[i])
				continue;
			short ev = POLLIN;
			if (a->c[i]->outoff < a->c[i]->out.len)
				ev |= POLLOUT;
			who[n] = i;
			pfd[n++] = (struct pollfd){ .fd = a->c[i]->fd, .events = ev };
		}
		if (poll(pfd, n, AMI_POLL_MS) < 0 && errno != EINTR) {
			fprintf(stderr, "fakepbx: AMI poll: %s\n", strerror(errno));
			break;
		}
		bool quit = false;
		if (pfd[0].revents & POLLIN) {
			char cmd[64];
			ssize_t k = read(a->wake[0], cmd, sizeof cmd);
			for (ssize_t j = 0; j < k; j++) {
				if (cmd[j] == 'q')
					quit = true;
				else if (cmd[j] == 'c')
					ami_add_call(a);
				else if (cmd[j] == 'o')
					ami_outage(a);
			}
		}
		if (quit)
			break;
		for (nfds_t j = first; j < n; j++) {
			size_t i = who[j];
			if (!a->c[i] || a->c[i]->fd != pfd[j].fd)
				continue; /* dropped (an outage) since the poll */
			if (pfd[j].revents & (POLLIN | POLLHUP | POLLERR))
				ami_read(a, i);
			if (a->c[i] && (pfd[j].revents & POLLOUT))
				ami_flush(a, i);
		}
		if (a->listen_fd >= 0 && (pfd[1].revents & POLLIN))
			ami_accept(a);
		int64_t now = ami_now_ms();
		if (next_call && now >= next_call) {
			next_call += period;
			if (next_call < now)
				next_call = now + period;
			ami_add_call(a);
		}
		if (now >= next_tick) {
			char ev[200];
			snprintf(ev, sizeof ev, "Event: PeerStatus\r\nPrivilege: system,all\r\n"
				 "ChannelType: SIP\r\nPeer: SIP/%s\r\nPeerStatus: Reachable\r\n"
				 "Time: %lu\r\n\r\n", peer % 2 ? "204" : "202", 5 + peer % 20);
			peer++;
			ami_broadcast(a, ev, false);
			next_tick = now + AMI_TICK_MS;
		}
	}
	return NULL;
}

static int ami_listen(struct ami *a, uint16_t *port)
{
	int one = 1;
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	a->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->listen_fd < 0 ||
	    setsockopt(a->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(a->listen_fd, (const struct sockaddr *)&a->o.addr, sizeof a->o.addr) < 0 ||
	    listen(a->listen_fd, 16) < 0 ||
	    getsockname(a->listen_fd, (struct sockaddr *)&sa, &len) < 0) {
		fprintf(stderr, "fakepbx: AMI listener: %s\n", strerror(errno));
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return 0;
}

struct ami *ami_start(const struct ami_opts *o, uint16_t *port)
{
	struct ami *a = calloc(1, sizeof *a);
	*port = 0;
	if (!a) {
		fprintf(stderr, "fakepbx: out of memory\n");
		return NULL;
	}
	a->o = *o;
	a->listen_fd = -1;
	a->wake[0] = a->wake[1] = -1;
	a->sim.rng = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();
	a->sim.seq = 1000;
	if (pipe2(a->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		fprintf(stderr, "fakepbx: pipe: %s\n", strerror(errno));
		goto fail;
	}
	if (o->listen && ami_listen(a, port) < 0)
		goto fail;
	int err = pthread_create(&a->thread, NULL, ami_main, a);
	if (err) {
		fprintf(stderr, "fakepbx: AMI thread: %s\n", strerror(err));
		goto fail;
	}
	a->started = true;
	return a;
fail:
	ami_stop(a);
	return NULL;
}

void ami_kick(struct ami *a, char what)
{
	if (a && write(a->wake[1], &what, 1) != 1) {
		/* a full pipe already holds enough wake-ups */
	}
}

void ami_stop(struct ami *a)
{
	if (!a)
		return;
	if (a->started) {
		char q = 'q';
		a->stop = true;
		while (write(a->wake[1], &q, 1) < 0 && errno == EINTR)
			;
		pthread_join(a->thread, NULL);
	}
	for (size_t i = 0; i < AMI_CLIENTS; i++)
		ami_drop(a, i);
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	if (a->wake[0] >= 0)
		close(a->wake[0]);
	if (a->wake[1] >= 0)
		close(a->wake[1]);
	free(a);
}
