/*
 * fault.h — named faults the fake can inject (--fault SPEC, repeatable).
 *
 * A fault is a deliberate misbehaviour of the PBX that the client must
 * survive. SPEC is NAME[=VALUE][:N][@CGI]: VALUE is the fault's argument
 * (a status code, seconds, a size...), N how many answers it changes
 * before the PBX is healthy again (0: every one), CGI narrows it to one of
 * 8404, 20053, 20036, 20054 (the answer-level faults also 9006, 9005,
 * 9004). Adding a fault means: a new enum value, a row
 * in the table in fault.c, and an http_fault() (per answer; it calls
 * fault_take()) or fault_on() (a setting) where it bites.
 *
 * A fault instance counts the answers it changed, from server start, over
 * all the CGIs it applies to; the counters live in fault.c, one set per
 * process.
 */
#ifndef FAKEPBX_FAULT_H
#define FAKEPBX_FAULT_H

#include <stdbool.h>
#include <stdio.h>

enum fault_id {
	FAULT_OMIT_ONE,       /* leave the first existing requested file out of a tar */
	FAULT_EVIL_NAMES,     /* add ../x.wav, /tmp/x.wav and a symlink entry to tars */
	FAULT_EXPIRE_AFTER,   /* =N: a session dies after N authenticated requests */
	FAULT_STATUS,         /* =CODE: answer that HTTP status instead */
	FAULT_RETRY_AFTER,    /* =S: Retry-After seconds on injected 429/503 */
	FAULT_RETRY_AFTER_DATE, /* Retry-After as an HTTP-date */
	FAULT_REDIRECT_LOGIN, /* 302 to /login.html instead */
	FAULT_HTML_200,       /* 200 + HTML login page instead */
	FAULT_JSON_TRUNCATED, /* [=BYTES]: JSON answer cut short, clean end */
	FAULT_JSON_HUGE,      /* =MB: MB MiB of whitespace inside the listing */
	FAULT_JSON_TINY_ROWS, /* =MB: MB MiB of rows holding only a path, before the real rows */
	FAULT_JSON_DEEP,      /* =N: listing wrapped in N nested arrays */
	FAULT_JSON_WRONG_TYPES, /* row fields and totalcount of the wrong JSON type */
	FAULT_TOTALCOUNT_LIE, /* =DELTA: totalcount off by DELTA */
	FAULT_SIZE_MISMATCH,  /* rows carry "size"; the first one lies */
	FAULT_TAR_CUT_MID,    /* tar ends in the 2nd entry's data, Content-Length full */
	FAULT_TAR_CUT_BOUNDARY, /* tar ends after the 1st entry, no end blocks */
	FAULT_TAR_EXTRA,      /* an unrequested valid WAV entry */
	FAULT_TAR_DUPLICATE,  /* the first file twice, the 2nd copy one byte off */
	FAULT_TAR_SYMLINK,    /* the first file as a symlink entry */
	FAULT_TAR_HARDLINK,   /* the first file as a hardlink entry with data */
	FAULT_TAR_DEVICE,     /* the first file as a character device entry */
	FAULT_WAV_LYING_HEADER, /* the first file's RIFF/data sizes claim more */
	FAULT_WAV_ZERO_HEADER,  /* the first file's RIFF/data sizes say 0 */
	FAULT_TAR_OVERSIZE,   /* =MB: the first file's entry MB MiB longer (zeros after it) */
	FAULT_TAR_GZIP,       /* the tar gzip-compressed; =1: and said so (Content-Encoding) */
	FAULT_RESET_MID_BODY, /* TCP reset halfway through a tar */
	FAULT_STALL,          /* =S: first piece, then S seconds of silence */
	FAULT_DRIP,           /* =BPS: the body at BPS bytes per second */
	FAULT_DELETE_NOOP,    /* 20054 claims success, deletes nothing */
	FAULT_DELETE_ERROR_BUT_DELETES, /* 20054 deletes, answers 500 */
	FAULT_CLOCK_SKEW,     /* =S: Date header shifted by S seconds */
	FAULT_HEADER_FLOOD,   /* 1000 extra header lines */
	FAULT_HEADER_LONG,    /* one 64 KiB header line */
	FAULT_COUNT
};

/* The CGIs a fault instance applies to, as bits. */
enum {
	FAULT_CGI_LOGIN = 1u << 0,    /* 8404 */
	FAULT_CGI_LIST = 1u << 1,     /* 20053 */
	FAULT_CGI_DOWNLOAD = 1u << 2, /* 20036 */
	FAULT_CGI_DELETE = 1u << 3,   /* 20054 */
	FAULT_CGI_CDR_QUERY = 1u << 4,  /* 9006 */
	FAULT_CGI_CDR_CSV = 1u << 5,    /* 9005 */
	FAULT_CGI_CDR_DELETE = 1u << 6, /* 9004 */
};

#define FAULT_MAX 64 /* instances per command line */

struct fault_inst {
	enum fault_id id;
	long value; /* =VALUE, or the fault's default */
	long times; /* :N; 0 = every answer */
	unsigned cgis;
};

struct fault_set {
	struct fault_inst v[FAULT_MAX];
	size_t n;
};

/*
 * Add the fault described by spec to set. Returns 0 on success, -1 when
 * the name is unknown, a part is missing, not allowed for that fault or
 * out of range, or set is full (message printed).
 */
int fault_parse(struct fault_set *set, const char *spec);

/* True when some instance of fault id is in set. */
bool fault_on(const struct fault_set *set, enum fault_id id);

/* VALUE of the first instance of id (0 when there is none). */
long fault_arg(const struct fault_set *set, enum fault_id id);

/*
 * Count one use of instance f of set for an answer of cgi (a FAULT_CGI_*
 * bit). Returns true when f applies to cgi and has uses left (the use is
 * then spent), false otherwise. Thread-safe.
 */
bool fault_use(const struct fault_set *set, const struct fault_inst *f, unsigned cgi);

/* fault_use() on the instances of id in command-line order; returns the
 * first that bites, or NULL. */
const struct fault_inst *fault_take(const struct fault_set *set, enum fault_id id,
				    unsigned cgi);

/* The canonical name of id ("status", "omit-one"...). */
const char *fault_name(enum fault_id id);

/* FAULT_CGI_* bit of a CGI number such as "20053"; 0 when not one. */
unsigned fault_cgi_bit(const char *cgi);

/* Print one help line per known fault to out. */
void fault_print_help(FILE *out);

#endif
