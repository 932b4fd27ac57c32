/* pbx.h — the vendor's recording API over libcurl: login (8404), list (20053), download (20036),
 * delete (20054). Knows nothing of the archive.
 *
 * Where the guide is vague (DESIGN.md) this module is tolerant: it judges a login by a following
 * authenticated request, treats an error object, an HTML page, 401/403 or a redirect where data
 * was expected as a dead session (logs in again once, then fails), learns whether the PBX reads
 * parameters from a POST body or only from the query string, and which spelling of the download
 * key (wavefiles / wavfiles) it understands. Transient failures (timeouts, resets, refused
 * connections, 408/429/5xx) are retried with capped, jittered doubling backoff, honouring
 * Retry-After. Deletes are never retried blindly (retention.c re-lists). Every answer is capped;
 * TLS is verified unless `insecure`; redirects are never followed. The password hash and the
 * session cookie never reach a log. */
#ifndef NEXO_PBX_H
#define NEXO_PBX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "listing.h"

struct pbx;
struct pbx_stream;

struct pbx_options {
	const char *url;           /* base, e.g. "https://10.0.0.5:4430" */
	const char *username;
	const char *password_md5;  /* borrowed; must outlive the handle */
	const char *ca_file;       /* NULL: system store */
	const char *pinned_pubkey; /* NULL, or "sha256//..." */
	int insecure;
	long timeout;              /* seconds without progress before a transfer is dropped */
	long connect_timeout;
	int retries;
};

enum pbx_result {
	PBX_OK = 0,
	PBX_FAILED = -1,         /* a request failed after retries (message printed) */
	PBX_UNREACHABLE = -2,    /* could not connect / resolve / TLS handshake (message printed) */
	PBX_REFUSED = -3,        /* login refused, or the session died again right after login */
	PBX_URL_TOO_LONG = -4,   /* 414: split the batch and ask again */
	PBX_TOO_LARGE = -5,      /* a listing larger than a run holds (bytes or rows, with the
				  * rows already in `out`): ask for a narrower window */
};

/* Returns a handle (no traffic yet), or NULL with `err` set. */
struct pbx *pbx_new(const struct pbx_options *opt, char *err, size_t errlen);
void pbx_free(struct pbx *p);

/* Caps this session's downloads (20036, streamed) at `bytes_per_second` from the next one on;
 * 0 lifts the cap. Listings, deletes and logins are never capped. */
void pbx_set_max_rate(struct pbx *p, int64_t bytes_per_second);

/* Logs in and proves it with one cheap authenticated listing. Returns PBX_OK, PBX_REFUSED,
 * PBX_UNREACHABLE or PBX_FAILED. */
int pbx_login(struct pbx *p);

/* Lists recordings whose call start lies in [start, end] ("YYYY-MM-DD HH:MM", inclusive),
 * appending the rows to `out` and setting out->totalcount. Returns a pbx_result; on
 * PBX_TOO_LARGE nothing was appended (nothing printed). */
int pbx_list(struct pbx *p, const char *start, const char *end, struct listing *out);

/* Bytes of the 20036 URL for these paths (for batching against [sync] batch_url_bytes). */
size_t pbx_download_url_len(const struct pbx *p, const char *const *paths, size_t n);

/* Starts a download of `paths`. On PBX_OK *out streams the answer's body (a tar or a bare WAV;
 * an HTML/JSON answer has been recognised and turned into a re-login or an error before any
 * byte is handed out). Returns a pbx_result. */
int pbx_download_open(struct pbx *p, const char *const *paths, size_t n, struct pbx_stream **out);

/* The next piece of the body: >0 length with *buf set (valid until the next call), 0 at its
 * clean end, -1 on a transfer error (message printed). Shaped as an unpack_read_fn. */
ssize_t pbx_stream_read(void *stream, const void **buf);

/* Whether the answer declares itself gzip-compressed (Content-Encoding, or a gzip
 * Content-Type): only then may the body be inflated (unpack.h, UNPACK_GZIP). Returns 1 or 0. */
int pbx_stream_compressed(const struct pbx_stream *s);

/* Ends the transfer and frees the stream. Returns 0 when the whole body arrived, -1 otherwise. */
int pbx_stream_close(struct pbx_stream *s);

/* The PBX sent none of the requested files: if the download key spelling is not settled yet
 * and the other one was not tried this run, switch to it ("wavefiles" in the guide's table,
 * "wavfiles" in its example) and return 1 (ask again); else 0. pbx_download_key_confirm()
 * settles the current spelling once a download delivered files; pbx_download_key_revert()
 * goes back when the other spelling delivered nothing either. */
int pbx_download_key_switch(struct pbx *p);
void pbx_download_key_confirm(struct pbx *p);
void pbx_download_key_revert(struct pbx *p);

/* The same for 20054, whose spelling is the download key's until learned on its own: switch
 * when a re-list shows that a delete removed nothing; confirm when one removed something. */
int pbx_delete_key_switch(struct pbx *p);
void pbx_delete_key_confirm(struct pbx *p);
void pbx_delete_key_revert(struct pbx *p);

/* Gives `to` (a second session, e.g. a download lane's) what `from` learned of the PBX: the
 * parameter style and the key spellings. */
void pbx_learn_from(struct pbx *to, const struct pbx *from);

/* What a session learned of the PBX that a later run may start from (kept in .state/). */
enum { PBX_STYLE_POST = 1, PBX_STYLE_QUERY = 2 };
struct pbx_learned {
	int style;              /* PBX_STYLE_*, or 0: not known */
	char download_key[16];  /* "wavefiles" / "wavfiles", or "": not known */
	char delete_key[16];
};

/* What this session confirmed: a style it logged in with, keys that delivered or deleted
 * files. */
void pbx_learned_get(const struct pbx *p, struct pbx_learned *out);

/* What an earlier run confirmed, taken as the first thing to try: a style that no longer
 * works is given up for the other at login, a key that delivers nothing is switched. Ignores
 * what this session already knows, and unknown values. */
void pbx_learned_set(struct pbx *p, const struct pbx_learned *in);

/* Asks the PBX to delete `paths`. A request turned away (a dead session: HTML, 401/403, a
 * redirect, or a JSON status that is not a success, such as {"status": -6}) is sent once more
 * after a new login, never taken as done. PBX_OK means only that the PBX accepted the request
 * (*deleted: the count it claims, -1 when it gives none); whether anything was deleted is for
 * a re-list to say. PBX_FAILED also when it was turned away twice. Never retried otherwise. */
int pbx_delete(struct pbx *p, const char *const *paths, size_t n, long long *deleted);

/* The CDR CGIs, for calls started in [start, end] ("YYYY-MM-DD HH:MM", inclusive) with every
 * other filter open (disposition and userfield "All", port -1). */
enum pbx_cdr_cgi {
	PBX_CDR_QUERY,  /* 9006: JSON (json_array_astcdrs) */
	PBX_CDR_EXPORT, /* 9005: CSV, always asked with GET as the guide says */
	PBX_CDR_DELETE, /* 9004: deletes by filter; never retried */
};

/* Judges and keeps an answer's body: 0 taken, 1 the body says the session is dead (an error
 * object: log in again and ask once more), 2 more rows than a run holds (nothing kept), -1
 * unreadable (message printed). */
typedef int (*pbx_cdr_take_fn)(void *ctx, const char *body, size_t len);

/* Sends one CDR request (re-logging in once when the session died) and hands the 2xx body to
 * `take` (NULL: ignored). Returns a pbx_result; PBX_FAILED when `take` said -1; PBX_TOO_LARGE
 * when a 9006 answer passed its size cap or `take` said 2 (ask for a narrower span). */
int pbx_cdr(struct pbx *p, enum pbx_cdr_cgi cgi, const char *start, const char *end,
	    pbx_cdr_take_fn take, void *ctx);

/* The PBX's clock minus ours in seconds, from the last answer's HTTP Date header. Returns 1
 * with *seconds set, 0 when no answer carried a Date. */
int pbx_clock_skew(const struct pbx *p, long *seconds);

/* Percent-encodes `in` for a query value: unreserved characters (letters, digits, "-._~") and
 * those in `keep` stay, all else (spaces, '&', '%', '+', ';', non-ASCII) becomes %XX. Returns the length written, or
 * (size_t)-1 when `outlen` is too small. Exposed for tests. */
size_t pbx_encode(const char *in, const char *keep, char *out, size_t outlen);

#endif
