/* pbx_internal.h — what pbx.c (the session: requests, login, listing, what was learned),
 * pbx_files.c (20036 downloads, 20054 deletes, the key's spellings) and pbx_cdr.c (the CDR
 * CGIs) share: the handle and the request machinery. Not a public header: nothing outside
 * pbx/pbx*.c includes it. */
#ifndef NEXO_PBX_INTERNAL_H
#define NEXO_PBX_INTERNAL_H

#include <stddef.h>

#include "pbx.h"

struct http;
struct http_answer;

#define SMALL_CAP (64u << 10)  /* login, delete, and error bodies */

enum style { STYLE_POST = 1, STYLE_QUERY = 2 };
enum {
	SESSION = 1,    /* internal: the answer says we are not logged in */
	UNREADABLE = 2, /* internal: a 20053 answer of no shape we can read (but not a "no") */
};

struct pbx {
	struct pbx_options o;
	struct http *http;
	int style;
	int style_hint;           /* `style` comes from an earlier run: tried first, not only */
	const char *dlkey;        /* "wavefiles" (the guide's table) or "wavfiles" (its example) */
	const char *dlkey_prev;   /* before a switch, to go back to */
	int dlkey_known;          /* a download under dlkey delivered files */
	int dlkey_tried;          /* the other spelling was tried once */
	const char *delkey;       /* 20054's spelling; NULL: the download key's */
	const char *delkey_prev;
	int delkey_known;         /* a delete under it removed files */
	int delkey_tried;
	long skew;                /* PBX clock minus ours, seconds, from the last Date header */
	int skew_known;
};

struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

/* Appends `s` to `b` (b->oom set when out of memory). */
void pbx_sb_str(struct sbuf *b, const char *s);

/* Appends `v` percent-encoded. */
void pbx_sb_enc(struct sbuf *b, const char *v);

/* "BASE/cgi/webserve/CGI" plus "?&params" when the style puts them in the query. */
void pbx_make_url(struct sbuf *u, const struct pbx *p, const char *cgi, const char *params,
		  int query);

/* The first line of an answer's body, escaped for a log, in `buf`. */
const char *pbx_excerpt(const struct http_answer *a, char *buf, size_t len);

/* The PBX's clock as its HTTP Date header tells it, against ours. */
void pbx_note_date(struct pbx *p, const struct http_answer *a);

/* Sends one request of CGI `cgi`, retrying transient failures. Returns PBX_OK with `a` filled
 * (a 2xx answer that is not HTML), SESSION, or a pbx_result error (printed). */
int pbx_call(struct pbx *p, const char *cgi, const char *params, int style, size_t cap,
	     struct http_answer *a);

/* After a SESSION answer: log in again (the caller then retries once). Returns pbx_login's
 * result. */
int pbx_relogin(struct pbx *p);

#endif
