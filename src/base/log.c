/* log.c — messages to stderr with one prefix and a level (a syslog priority for the journal);
 * the last warnings, for the report; escaping of hostile strings; the TTY progress line. Owns
 * no other output. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

static enum log_level current = LOG_INFO;
static int progress_shown;
static int journal = -1; /* -1: not checked yet */
static pthread_mutex_t recent_lock = PTHREAD_MUTEX_INITIALIZER;
static char recent[LOG_RECENT_MAX][LOG_RECENT_LEN];
static const char *recent_view[LOG_RECENT_MAX];
static unsigned long recent_total;

/* sd-daemon(3): JOURNAL_STREAM is "DEV:INODE" of the journal's stream; it counts only while
 * stderr is still that stream (a child of the unit redirecting it to a file is not). */
int log_to_journal(void)
{
	const char *js;
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (journal >= 0)
		return journal;
	js = getenv("JOURNAL_STREAM");
	journal = js && sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) == 2 &&
		  fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
		  (unsigned long long)st.st_ino == ino;
	return journal;
}

static void remember(const char *fmt, va_list ap)
{
	pthread_mutex_lock(&recent_lock);
	vsnprintf(recent[recent_total % LOG_RECENT_MAX], LOG_RECENT_LEN, fmt, ap);
	recent_total++;
	pthread_mutex_unlock(&recent_lock);
}

size_t log_recent(const char **out, size_t max)
{
	size_t n, first, i;

	pthread_mutex_lock(&recent_lock);
	n = recent_total < LOG_RECENT_MAX ? (size_t)recent_total : LOG_RECENT_MAX;
	first = (size_t)(recent_total - n);
	if (n > max) {
		first += n - max;
		n = max;
	}
	for (i = 0; i < n; i++) {
		recent_view[i] = recent[(first + i) % LOG_RECENT_MAX];
		out[i] = recent_view[i];
	}
	pthread_mutex_unlock(&recent_lock);
	return n;
}

unsigned long log_warning_count(void)
{
	unsigned long n;

	pthread_mutex_lock(&recent_lock);
	n = recent_total;
	pthread_mutex_unlock(&recent_lock);
	return n;
}

void log_set_level(enum log_level level)
{
	current = level;
}

int log_enabled(enum log_level level)
{
	return level <= current;
}

static void emit(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const tag[] = { "error: ", "warning: ", "", "debug: " };
	static const char *const prio[] = { "<3>", "<4>", "<6>", "<7>" };

	if (level <= LOG_WARN) {
		va_list copy;
		va_copy(copy, ap);
		remember(fmt, copy);
		va_end(copy);
	}
	if (!log_enabled(level))
		return;
	flockfile(stderr); /* lanes and workers log too: whole lines, never interleaved */
	log_progress_done();
	fprintf(stderr, "%snexo-archive: %s", log_to_journal() ? prio[level] : "", tag[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

#define DEFINE_LOG(fn, level)                   \
	void fn(const char *fmt, ...)           \
	{                                       \
		va_list ap;                     \
		va_start(ap, fmt);              \
		emit(level, fmt, ap);           \
		va_end(ap);                     \
	}

DEFINE_LOG(log_error, LOG_ERROR)
DEFINE_LOG(log_warn, LOG_WARN)
DEFINE_LOG(log_info, LOG_INFO)
DEFINE_LOG(log_debug, LOG_DEBUG)

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if (n == 3 && s[0] == 0xE0 && s[1] < 0xA0)
		return 0; /* overlong */
	if (n == 3 && s[0] == 0xED && s[1] >= 0xA0)
		return 0; /* surrogate */
	if (n == 4 && ((s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90)))
		return 0;
	return n;
}

const char *log_escape(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)(in ? in : "(null)");
	size_t o = 0;

	if (outlen == 0)
		return out;
	while (*s) {
		size_t n = utf8_len(s);
		int plain = n > 1 || (n == 1 && *s >= 0x20 && *s != 0x7f && *s != '\\');

		if (plain) {
			if (o + n >= outlen)
				break;
			memcpy(out + o, s, n);
			o += n;
			s += n;
		} else {
			if (o + 4 >= outlen)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[*s >> 4];
			out[o++] = hex[*s & 15];
			s++;
		}
	}
	out[o] = '\0';
	return out;
}

void err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The terminal's width, so that the line never wraps: "\r\033[K" clears one row only. */
static size_t columns(void)
{
	struct winsize ws;

	return ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 ? ws.ws_col : 80;
}

void log_progress(const char *fmt, ...)
{
	char line[512];
	size_t width;
	va_list ap;

	if (!log_enabled(LOG_INFO) || !isatty(STDERR_FILENO))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	width = columns() - 1;
	if (width < strlen(line))
		line[width] = '\0';
	flockfile(stderr); /* a message from another thread waits for the whole line */
	fputs("\r\033[K", stderr);
	fputs(line, stderr);
	fflush(stderr);
	progress_shown = 1;
	funlockfile(stderr);
}

void log_progress_done(void)
{
	flockfile(stderr);
	if (progress_shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		progress_shown = 0;
	}
	funlockfile(stderr);
}

void log_print(const char *fmt, ...)
{
	va_list ap;

	flockfile(stderr);
	log_progress_done();
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	funlockfile(stderr);
}
