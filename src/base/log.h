/* log.h — every message the program prints goes through here.
 *
 * One prefix, four levels, and one rule: strings that came from the PBX are passed through
 * log_escape() before they reach a terminal or a log, so a hostile name cannot move the cursor
 * or forge a line. Messages go to stderr; the run summary goes to stdout (main.c). When stderr
 * is the journal (JOURNAL_STREAM names it, as sd-daemon(3) describes), each line starts with
 * its syslog priority (<3> error, <4> warning, <6> info, <7> debug) so `journalctl -p warning`
 * finds them. The last warnings and errors are kept for the run report (run/report.h). */
#ifndef NEXO_LOG_H
#define NEXO_LOG_H

#include <stddef.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped. Default LOG_INFO; -v sets LOG_DEBUG, -q LOG_WARN. */
void log_set_level(enum log_level level);
int log_enabled(enum log_level level);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last warnings and errors (at most LOG_RECENT_MAX, oldest first, each cut to
 * LOG_RECENT_LEN bytes and without the prefix), kept whether or not they were printed. Copies
 * up to `max` pointers into `out` (valid until the next message); returns how many. */
#define LOG_RECENT_MAX 20
#define LOG_RECENT_LEN 400
size_t log_recent(const char **out, size_t max);

/* How many warnings and errors were logged since the start (for the report). */
unsigned long log_warning_count(void);

/* Whether messages go to the journal (JOURNAL_STREAM matches stderr). */
int log_to_journal(void);

/* Copies `in` to `out` (always NUL-terminated, cut to fit `outlen`), replacing control
 * characters, backslashes and invalid UTF-8 with \xNN escapes. Returns `out`, so it can be
 * used inline: log_warn("bad entry %s", log_escape(name, buf, sizeof buf)). */
const char *log_escape(const char *in, char *out, size_t outlen);

/* Formats a message into a caller's error buffer (the modules that report through an `err`
 * argument instead of printing). A NULL or empty buffer is left alone. */
void err_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A progress line on stderr, redrawn in place and cut to the terminal's width; only when
 * stderr is a TTY and level >= INFO. log_progress_done() clears it. Safe from any thread: a
 * message never lands inside the line (it clears the line first; the next draw restores it). */
void log_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_progress_done(void);

/* Prints to stdout (a line of the run's report while the run goes on), the progress line
 * cleared first so that the two never share a row. */
void log_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
