/*
 * fault.c — the table of injectable faults, its parser and use counters.
 *
 * Owns the mapping from specs on the command line to fault instances, and
 * how often each instance has bitten; the modules that implement a fault
 * ask fault_take() or fault_on(). Nothing here touches the network or the
 * disk.
 */
#include "fault.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum fault_argkind { FAULT_ARG_NONE, FAULT_ARG_REQUIRED, FAULT_ARG_OPTIONAL };

#define FAULT_DATA (FAULT_CGI_LIST | FAULT_CGI_DOWNLOAD | FAULT_CGI_DELETE)
#define FAULT_CDR (FAULT_CGI_CDR_QUERY | FAULT_CGI_CDR_CSV | FAULT_CGI_CDR_DELETE)
/* @CGI may name the CDR CGIs; without @CGI a fault never touches them */
#define FAULT_ALL (FAULT_CGI_LOGIN | FAULT_DATA | FAULT_CDR)
#define FAULT_GLOBAL (-1L) /* no :N and no @CGI: a setting, not per answer */

struct fault_def {
	const char *name;
	const char *syntax;  /* for --help and error messages */
	enum fault_id id;
	enum fault_argkind arg;
	long min, max, dflt; /* range and default of VALUE */
	long times;          /* default N, or FAULT_GLOBAL */
	unsigned allowed;    /* CGIs @CGI may name */
	unsigned dflt_cgis;  /* CGIs without @CGI */
	const char *help;
};

static const struct fault_def fault_table[] = {
	{ "omit-one", "omit-one[:N]", FAULT_OMIT_ONE, FAULT_ARG_NONE, 0, 0, 0, 0,
	  FAULT_CGI_DOWNLOAD, FAULT_CGI_DOWNLOAD,
	  "the first existing requested file left out of each tar" },
	{ "tar-missing", "tar-missing[:N]", FAULT_OMIT_ONE, FAULT_ARG_NONE, 0, 0, 0, 0,
	  FAULT_CGI_DOWNLOAD, FAULT_CGI_DOWNLOAD, "the same as omit-one" },
	{ "evil-names", "evil-names[:N]", FAULT_EVIL_NAMES, FAULT_ARG_NONE, 0, 0, 0, 0,
	  FAULT_CGI_DOWNLOAD, FAULT_CGI_DOWNLOAD,
	  "../x.wav, /tmp/x.wav and a symlink entry in each tar" },
	{ "expire-after", "expire-after=N", FAULT_EXPIRE_AFTER, FAULT_ARG_REQUIRED, 0, LONG_MAX, 0,
	  FAULT_GLOBAL, 0, 0, "a session dies after N authenticated requests" },
	{ "status", "status=CODE[:N][@CGI]", FAULT_STATUS, FAULT_ARG_REQUIRED, 400, 599, 0, 1,
	  FAULT_ALL, FAULT_DATA, "HTTP CODE instead, N times (default 1)" },
	{ "retry-after", "retry-after=SECONDS", FAULT_RETRY_AFTER, FAULT_ARG_REQUIRED, 0, 31536000,
	  1, FAULT_GLOBAL, 0, 0, "Retry-After on injected 429/503 (default 1)" },
	{ "retry-after-date", "retry-after-date", FAULT_RETRY_AFTER_DATE, FAULT_ARG_NONE, 0, 0, 0,
	  FAULT_GLOBAL, 0, 0, "Retry-After as an HTTP-date" },
	{ "redirect-login", "redirect-login[:N][@CGI]", FAULT_REDIRECT_LOGIN, FAULT_ARG_NONE, 0, 0,
	  0, 1, FAULT_ALL, FAULT_DATA, "302 to /login.html N times (default 1)" },
	{ "html-200", "html-200[:N][@CGI]", FAULT_HTML_200, FAULT_ARG_NONE, 0, 0, 0, 1, FAULT_ALL,
	  FAULT_DATA, "200 + HTML login page N times (default 1)" },
	{ "json-truncated", "json-truncated[=BYTES][:N][@CGI]", FAULT_JSON_TRUNCATED,
	  FAULT_ARG_OPTIONAL, 1, LONG_MAX, 0, 0,
	  FAULT_CGI_LOGIN | FAULT_CGI_LIST | FAULT_CGI_DELETE, FAULT_CGI_LIST,
	  "JSON cut after BYTES (default: half), clean end" },
	{ "json-huge", "json-huge=MB[:N]", FAULT_JSON_HUGE, FAULT_ARG_REQUIRED, 1, 65536, 0, 0,
	  FAULT_CGI_LIST, FAULT_CGI_LIST, "MB MiB of spaces inside the listing" },
	{ "json-tiny-rows", "json-tiny-rows=MB[:N]", FAULT_JSON_TINY_ROWS, FAULT_ARG_REQUIRED, 1,
	  65536, 0, 0, FAULT_CGI_LIST, FAULT_CGI_LIST,
	  "MB MiB of rows of a path alone (in the asked window) before the real rows" },
	{ "json-deep", "json-deep=DEPTH[:N]", FAULT_JSON_DEEP, FAULT_ARG_REQUIRED, 1, 100000000, 0,
	  0, FAULT_CGI_LIST, FAULT_CGI_LIST, "the listing inside DEPTH nested arrays" },
	{ "json-wrong-types", "json-wrong-types[:N]", FAULT_JSON_WRONG_TYPES, FAULT_ARG_NONE, 0, 0,
	  0, 0, FAULT_CGI_LIST, FAULT_CGI_LIST,
	  "fields of the wrong JSON types in every row" },
	{ "totalcount-lie", "totalcount-lie=DELTA[:N]", FAULT_TOTALCOUNT_LIE, FAULT_ARG_REQUIRED,
	  -1000000000, 1000000000, 0, 0, FAULT_CGI_LIST, FAULT_CGI_LIST,
	  "totalcount = true count + DELTA" },
	{ "size-mismatch", "size-mismatch[:N]", FAULT_SIZE_MISMATCH, FAULT_ARG_NONE, 0, 0, 0, 0,
	  FAULT_CGI_LIST, FAULT_CGI_LIST,
	  "rows carry \"size\"; the first one is 1 too big" },
	{ "tar-cut-mid", "tar-cut-mid[:N]", FAULT_TAR_CUT_MID, FAULT_ARG_NONE, 0, 0, 0, 1,
	  FAULT_CGI_DOWNLOAD, FAULT_CGI_DOWNLOAD,
	  "connection closed halfway into entry 2's data" },
	{ "tar-cut-boundary", "tar-cut-boundary[:N]", FAULT_TAR_CUT_BOUNDARY, FAULT_ARG_NONE, 0, 0,
	  0, 1, FAULT_CGI_DOWNLOAD, FAULT_CGI_DOWNLOAD,
	  "the tar ends after entry 1, no end blocks" },
	{ "tar-extra", "tar-extra[:N]", FAULT_TAR_EXTRA, FAULT_ARG_NONE, 0, 0, 0, 0,
	  FAULT_CGI_DOWNLOAD, FAULT_CGI_DOWNLOAD,
	  "an unrequested valid WAV first in each tar" },
	{ "tar-duplicate", "tar-duplicate[:N]", FAULT_TAR_DUPLICATE, FAULT_ARG_NONE, 0, 0, 0, 0,
	  FAULT_CGI_DOWNLOAD, FAULT_CGI_DOWNLOAD,
	  "the first file twice, the copy one byte off" },
	{ "tar-symlink", "tar-symlink[:N]", FAULT_TAR_SYMLINK, FAULT_ARG_NONE, 0, 0, 0, 0,
	  FAULT_CGI_DOWNLOAD, FAULT_CGI_DOWNLOAD, "the first file as a symlink entry" },
	{ "tar-hardlink", "tar-hardlink[:N]", FAULT_TAR_HARDLINK, FAULT_ARG_NONE, 0, 0, 0, 0,
	  FAULT_CGI_DOWNLOAD, FAULT_CGI_DOWNLOAD,
	  "the first file as a hardlink entry with data" },
	{ "tar-device", "tar-device[:N]", FAULT_TAR_DEVICE, FAULT_ARG_NONE, 0, 0, 0, 0,
	  FAULT_CGI_DOWNLOAD, FAULT_CGI_DOWNLOAD,
	  "the first file as a character device entry" },
	{ "wav-lying-header", "wav-lying-header[:N]", FAULT_WAV_LYING_HEADER, FAULT_ARG_NONE, 0, 0,
	  0, 0, FAULT_CGI_DOWNLOAD, FAULT_CGI_DOWNLOAD,
	  "the first file's RIFF/data sizes 160000 too big" },
	{ "wav-zero-header", "wav-zero-header[:N]", FAULT_WAV_ZERO_HEADER, FAULT_ARG_NONE, 0, 0, 0,
	  0, FAULT_CGI_DOWNLOAD, FAULT_CGI_DOWNLOAD, "the first file's RIFF/data sizes say 0" },
	{ "tar-oversize", "tar-oversize=MB[:N]", FAULT_TAR_OVERSIZE, FAULT_ARG_REQUIRED, 1, 65536,
	  0, 0, FAULT_CGI_DOWNLOAD, FAULT_CGI_DOWNLOAD,
	  "the first file's entry MB MiB longer than the file (zeros after it)" },
	{ "tar-gzip", "tar-gzip[=DECLARED][:N]", FAULT_TAR_GZIP, FAULT_ARG_OPTIONAL, 0, 1, 0, 0,
	  FAULT_CGI_DOWNLOAD, FAULT_CGI_DOWNLOAD,
	  "the tar gzip-compressed (chunked); =1 says so in Content-Encoding" },
	{ "reset-mid-body", "reset-mid-body[:N]", FAULT_RESET_MID_BODY, FAULT_ARG_NONE, 0, 0, 0, 1,
	  FAULT_CGI_DOWNLOAD, FAULT_CGI_DOWNLOAD, "TCP RST halfway through a tar" },
	{ "stall", "stall=SECONDS[:N][@CGI]", FAULT_STALL, FAULT_ARG_REQUIRED, 1, 3600, 0, 0,
	  FAULT_ALL, FAULT_DATA, "first piece, SECONDS of silence, the rest" },
	{ "drip", "drip=BYTES_PER_SEC[:N][@CGI]", FAULT_DRIP, FAULT_ARG_REQUIRED, 1, 1L << 30, 0, 0,
	  FAULT_ALL, FAULT_DATA, "the body trickles at that rate" },
	{ "delete-noop", "delete-noop[:N]", FAULT_DELETE_NOOP, FAULT_ARG_NONE, 0, 0, 0, 0,
	  FAULT_CGI_DELETE, FAULT_CGI_DELETE,
	  "20054 claims success, deletes nothing" },
	{ "delete-error-but-deletes", "delete-error-but-deletes[:N]",
	  FAULT_DELETE_ERROR_BUT_DELETES, FAULT_ARG_NONE, 0, 0, 0, 0, FAULT_CGI_DELETE,
	  FAULT_CGI_DELETE, "20054 deletes (and logs), answers 500" },
	{ "clock-skew", "clock-skew=SECONDS", FAULT_CLOCK_SKEW, FAULT_ARG_REQUIRED, -315360000,
	  315360000, 0, FAULT_GLOBAL, 0, 0,
	  "Date headers shifted (may be negative)" },
	{ "header-flood", "header-flood[:N][@CGI]", FAULT_HEADER_FLOOD, FAULT_ARG_NONE, 0, 0, 0, 0,
	  FAULT_ALL, FAULT_DATA, "1000 extra header lines" },
	{ "header-long", "header-long[:N][@CGI]", FAULT_HEADER_LONG, FAULT_ARG_NONE, 0, 0, 0, 0,
	  FAULT_ALL, FAULT_DATA, "one 64 KiB header line" },
};

#define FAULT_NDEFS (sizeof fault_table / sizeof fault_table[0])

/* Uses per instance, indexed like fault_set.v: there is one set per process. */
static long fault_used[FAULT_MAX];
static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;

/* Parse a decimal in min..max ("-" only when min < 0). */
static int fault_number(const char *name, const char *what, const char *s, long min, long max,
			long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '+' || (s[0] == '-' && min >= 0) ||
	    v < min || v > max) {
		fprintf(stderr, "fakepbx: fault %s: bad %s '%s' (want %ld..%ld)\n", name, what, s,
			min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int fault_parse(struct fault_set *set, const char *spec)
{
	char buf[256];
	if (strlen(spec) >= sizeof buf) {
		fprintf(stderr, "fakepbx: fault spec too long\n");
		return -1;
	}
	memcpy(buf, spec, strlen(spec) + 1);
	char *at = strchr(buf, '@');
	if (at)
		*at++ = '\0';
	char *colon = strchr(buf, ':');
	if (colon)
		*colon++ = '\0';
	char *eq = strchr(buf, '=');
	if (eq)
		*eq++ = '\0';

	const struct fault_def *d = NULL;
	for (size_t i = 0; i < FAULT_NDEFS && !d; i++)
		if (strcmp(fault_table[i].name, buf) == 0)
			d = &fault_table[i];
	if (!d) {
		fprintf(stderr, "fakepbx: unknown fault '%s' (see --help)\n", buf);
		return -1;
	}
	struct fault_inst f = { d->id, d->dflt, d->times, d->dflt_cgis };
	if (d->arg == FAULT_ARG_NONE && eq) {
		fprintf(stderr, "fakepbx: fault %s takes no argument\n", buf);
		return -1;
	}
	if (d->arg == FAULT_ARG_REQUIRED && (!eq || !eq[0])) {
		fprintf(stderr, "fakepbx: fault %s needs a value: %s\n", buf, d->syntax);
		return -1;
	}
	if (eq && fault_number(buf, "value", eq, d->min, d->max, &f.value) < 0)
		return -1;
	if ((colon || at) && d->times == FAULT_GLOBAL) {
		fprintf(stderr, "fakepbx: fault %s takes no :N or @CGI\n", buf);
		return -1;
	}
	if (colon && fault_number(buf, "count", colon, 0, LONG_MAX, &f.times) < 0)
		return -1;
	if (at) {
		unsigned bit = fault_cgi_bit(at);
		if (!bit || !(bit & d->allowed)) {
			fprintf(stderr, "fakepbx: fault %s cannot apply to CGI '%s'\n", buf, at);
			return -1;
		}
		f.cgis = bit;
	}
	if (d->times == FAULT_GLOBAL) { /* a setting: given again, the last one counts */
		for (size_t i = 0; i < set->n; i++)
			if (set->v[i].id == d->id) {
				set->v[i] = f;
				return 0;
			}
	}
	if (set->n == FAULT_MAX) {
		fprintf(stderr, "fakepbx: more than %d faults\n", FAULT_MAX);
		return -1;
	}
	set->v[set->n++] = f;
	return 0;
}

bool fault_on(const struct fault_set *set, enum fault_id id)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].id == id)
			return true;
	return false;
}

long fault_arg(const struct fault_set *set, enum fault_id id)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].id == id)
			return set->v[i].value;
	return 0;
}

bool fault_use(const struct fault_set *set, const struct fault_inst *f, unsigned cgi)
{
	size_t slot = (size_t)(f - set->v);
	if (slot >= set->n || !(f->cgis & cgi))
		return false;
	bool ok = true;
	pthread_mutex_lock(&fault_lock);
	if (f->times > 0 && fault_used[slot] >= f->times)
		ok = false;
	else
		fault_used[slot]++;
	pthread_mutex_unlock(&fault_lock);
	return ok;
}

const struct fault_inst *fault_take(const struct fault_set *set, enum fault_id id,
				    unsigned cgi)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].id == id && fault_use(set, &set->v[i], cgi))
			return &set->v[i];
	return NULL;
}

const char *fault_name(enum fault_id id)
{
	for (size_t i = 0; i < FAULT_NDEFS; i++)
		if (fault_table[i].id == id)
			return fault_table[i].name;
	return "?";
}

unsigned fault_cgi_bit(const char *cgi)
{
	if (strcmp(cgi, "8404") == 0)
		return FAULT_CGI_LOGIN;
	if (strcmp(cgi, "20053") == 0)
		return FAULT_CGI_LIST;
	if (strcmp(cgi, "20036") == 0)
		return FAULT_CGI_DOWNLOAD;
	if (strcmp(cgi, "20054") == 0)
		return FAULT_CGI_DELETE;
	if (strcmp(cgi, "9006") == 0)
		return FAULT_CGI_CDR_QUERY;
	if (strcmp(cgi, "9005") == 0)
		return FAULT_CGI_CDR_CSV;
	if (strcmp(cgi, "9004") == 0)
		return FAULT_CGI_CDR_DELETE;
	return 0;
}

void fault_print_help(FILE *out)
{
	for (size_t i = 0; i < FAULT_NDEFS; i++)
		fprintf(out, "    %-34s %s\n", fault_table[i].syntax, fault_table[i].help);
	fputs("    :N  answers changed before the PBX is healthy again (0: every one)\n"
	      "    @CGI  only that CGI; without it, every CGI the fault can hit but 8404\n", out);
}
