/* ami.h — a client of the PBX's Asterisk Manager Interface (TCP 5038), enough to hear when a
 * recording closes: connect, read the banner, log in, then read messages and turn the two
 * recording events into listing paths.
 *
 * Everything the server sends is hostile. The framing parser is pure (no sockets) and its
 * memory is fixed at creation whatever arrives: a line longer than AMI_LINE_MAX, a message
 * larger than AMI_MESSAGE_MAX, more than AMI_FIELDS_MAX fields or a NUL byte do not grow
 * anything; the message is handed back marked `damaged` and is to be ignored. This module
 * never prints: errors come back in `err`, and strings from the server in `err` are escaped.
 * The secret is sent and wiped; it never reaches `err` or a log. */
#ifndef NEXO_AMI_H
#define NEXO_AMI_H

#include <stddef.h>

#define AMI_LINE_MAX 8192      /* bytes of one line, without its CRLF */
#define AMI_MESSAGE_MAX 65536  /* bytes of one message's fields, all lines together */
#define AMI_FIELDS_MAX 128     /* "Key: Value" lines in one message */
#define AMI_BANNER_MAX 256     /* bytes of the banner kept; a longer first line is cut */

/* ---- Framing: bytes in, messages out ----
 *
 * Lines end in CRLF or a bare LF, split anywhere across reads. A message is "Key: Value" lines
 * ended by a blank line (a line of only blanks counts as blank). The key is the text before the
 * first ':' (it may hold spaces: "Recording File Name"), the value the rest with leading blanks
 * dropped. Lines without ':' are skipped; blank lines between messages yield nothing; events the
 * caller does not know are messages like any other. */

struct ami_field {
	const char *key;
	const char *value;
};

struct ami_message {
	struct ami_field fields[AMI_FIELDS_MAX]; /* in the order received */
	size_t nfields;
	/* NULL, or why the message cannot be trusted ("line longer than 8192 bytes", ...). The
	 * fields before the damage are kept (for a log line); the lines after it, up to the blank
	 * line that ends the message, are dropped. */
	const char *damaged;
};

/* The value of the first field named `key` (compared without regard to case), or NULL. */
const char *ami_get(const struct ami_message *m, const char *key);

struct ami_parser;

/* A parser in its start state; `expect_banner`: the first line is the server's one-line banner
 * ("Asterisk Call Manager/1.1"), not part of a message. Returns NULL when out of memory. */
struct ami_parser *ami_parser_new(int expect_banner);
void ami_parser_free(struct ami_parser *p);

enum ami_parse {
	AMI_PARSE_MORE,    /* all `len` bytes consumed, nothing complete yet */
	AMI_PARSE_MESSAGE, /* a message is complete: ami_parser_message() */
	AMI_PARSE_BANNER,  /* the banner is complete: ami_parser_banner() */
};

/* Consumes `buf` up to the end of the next message or banner and sets `*used` to the bytes
 * consumed; the caller feeds the rest again. A message stays valid until the next call. A
 * banner line longer than AMI_BANNER_MAX is returned as soon as that much has arrived (the
 * rest of its line is dropped), so a peer that is not AMI is recognised without waiting. */
enum ami_parse ami_parser_feed(struct ami_parser *p, const char *buf, size_t len, size_t *used);
const struct ami_message *ami_parser_message(const struct ami_parser *p);
/* The banner (NUL-terminated, cut at AMI_BANNER_MAX), or NULL before it is complete. */
const char *ami_parser_banner(const struct ami_parser *p);

/* ---- The connection ----
 *
 * No call blocks past its timeout (name resolution aside: getaddrinfo() has the resolver's own
 * timeouts). A signal that interrupts a wait makes the call return at once, so a caller whose
 * handler sets a stop flag sees it promptly; handlers must be installed without SA_RESTART
 * for that (poll() is never restarted anyway). SIGPIPE is never raised. */

struct ami;

/* Connects to `host`:`port` (every address getaddrinfo() gives, until one answers, all within
 * `timeout_ms`), turns on TCP keepalive and reads the banner (within another `timeout_ms`).
 * Returns the connection, or NULL with `err` set: "cannot connect to HOST:PORT: <why>",
 * "HOST:PORT is not an Asterisk manager (it said: <banner, escaped>)", "HOST:PORT sent no
 * banner within N ms", "... closed the connection ...", "... interrupted". */
struct ami *ami_connect(const char *host, int port, int timeout_ms, char *err, size_t errlen);

/* "Asterisk Call Manager/1.1": the banner the server greeted us with. */
const char *ami_banner(const struct ami *a);

enum ami_login {
	AMI_LOGIN_OK = 0,
	AMI_LOGIN_REFUSED = 1, /* the server said no: `err` = "HOST:PORT refused the login of
				* user "admin": <the server's Message, escaped>" */
	AMI_LOGIN_ERROR = -1,  /* connection lost, timeout, interrupted, or a username/secret
				* holding a line break: `err` says which */
};

/* Sends Action: Login (with "Events: on") and waits up to `timeout_ms` for its Response: the
 * one carrying our ActionID, or failing that the first Response without any ActionID (some
 * servers do not echo it). Messages before it are dropped: a server sends no events before a
 * login succeeds. `secret` is wiped from our buffers after sending; it never appears in `err`. */
enum ami_login ami_login(struct ami *a, const char *username, const char *secret, int timeout_ms,
			 char *err, size_t errlen);

/* Waits up to `timeout_ms` (0: just look) for the next message, damaged ones included.
 * Returns 1 with `*msg` set (valid until the next call on `a`); 0 when none came in time or a
 * signal interrupted the wait; -1 when the connection is lost (closed by the peer, even in the
 * middle of a message, reset, or another socket error), with `err` set. After -1 only
 * ami_close() is of use. Responses (to ami_ping, say) come back as messages too. */
int ami_next_message(struct ami *a, int timeout_ms, const struct ami_message **msg, char *err,
		     size_t errlen);

/* Sends Action: Ping; the server answers "Response: Success", which, like any byte, resets
 * ami_idle_ms(). A caller detects a dead peer in a quiet period with: idle > T → ping;
 * idle > 2T → give up and reconnect. Returns 0, or -1 with `err` set. */
int ami_ping(struct ami *a, char *err, size_t errlen);

/* Milliseconds since the last byte arrived from the server (or since the connection). */
long ami_idle_ms(const struct ami *a);

/* Sends Action: Logoff if it can do so without waiting, closes and frees. NULL is a no-op. */
void ami_close(struct ami *a);

/* ---- Events ----
 *
 * 1: `m` is "Event: AutoMixMonitorEnd" with a non-blank "File Name", or "Event: Cdr" with a
 *    non-blank "Recording File Name"; `pbx_path` gets the listing path ("20210422/<key>.wav",
 *    recname_to_pbx_path) and `key` the recording's key (recname_key). Both events name the
 *    same recording when it is on: the caller dedups by key.
 * 0: any other message, a Cdr whose recording name is empty or blank (recording was off).
 * -1: a recording event the caller must log and ignore: the name is refused (a "..", a control
 *    character, a backslash, no day in it, too long for the buffers) or the message is damaged.
 *    `pbx_path` and `key` are then empty strings. */
int ami_recording_event(const struct ami_message *m, char *pbx_path, size_t len, char *key,
			size_t keylen);

#endif
