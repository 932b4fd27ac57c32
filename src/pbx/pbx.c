/* pbx.c — the vendor's four recording CGIs and three CDR CGIs on top of http.c: how requests are phrased (POST
 * body or query string, learned at login), how answers are judged (data, a dead session, a
 * transient failure, or an error), re-login once per request, and the download key spelling. */
#include "pbx.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "answer.h"
#include "http.h"
#include "base/clock.h"
#include "base/log.h"

/* A 20053 answer larger than this is not read on: the window is asked for in parts
 * (PBX_TOO_LARGE). 8 MiB is ~30,000 real rows; with LISTING_MAX_ROWS it bounds a run's memory. */
#define LIST_CAP (8u << 20)
/* json-c holds a parsed 9006 answer at ~9x its size: 2 MiB (some 8,000 calls) keeps that
 * near 20 MB; a larger one is asked for in parts (PBX_TOO_LARGE). A 9005 CSV export (a day's,
 * for the CDR archive) is held twice while it is checked: 12 MiB is some 40,000 calls. */
#define CDR_QUERY_CAP (2u << 20)
#define CDR_EXPORT_CAP (12u << 20)
#define SMALL_CAP (64u << 10)  /* login, delete, and error bodies */
#define VALUE_CHARS "-_.~/():*!'"

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

/* The PBX's clock as its HTTP Date header tells it, against ours. */
static void note_date(struct pbx *p, const struct http_answer *a)
{
	if (a->date > 0) {
		p->skew = (long)(a->date - clock_unix());
		p->skew_known = 1;
	}
}

int pbx_clock_skew(const struct pbx *p, long *seconds)
{
	*seconds = p->skew;
	return p->skew_known;
}

struct pbx_stream {
	struct http_stream *hs;
	int compressed; /* the answer declares gzip (Content-Encoding or Content-Type) */
};

struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* Appends `v` percent-encoded. */
static void sb_enc(struct sbuf *b, const char *v)
{
	char tmp[3 * 256 + 1];

	while (*v) {
		char chunk[256 + 1];
		size_t n = strlen(v) > 256 ? 256 : strlen(v);
		memcpy(chunk, v, n);
		chunk[n] = '\0';
		size_t w = pbx_encode(chunk, VALUE_CHARS, tmp, sizeof tmp);
		sb_add(b, tmp, w);
		v += n;
	}
}

size_t pbx_encode(const char *in, const char *keep, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *s = (const unsigned char *)in; *s; s++) {
		int plain = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			    (*s >= '0' && *s <= '9') || strchr("-._~", *s) ||
			    (keep && strchr(keep, *s));
		if (o + (plain ? 1 : 3) >= outlen)
			return (size_t)-1;
		if (plain) {
			out[o++] = (char)*s;
		} else {
			out[o++] = '%';
			out[o++] = hex[*s >> 4];
			out[o++] = hex[*s & 15];
		}
	}
	if (o >= outlen)
		return (size_t)-1;
	out[o] = '\0';
	return o;
}

struct pbx *pbx_new(const struct pbx_options *opt, char *err, size_t errlen)
{
	struct http_options ho = { opt->ca_file, opt->pinned_pubkey, opt->insecure, opt->timeout,
				   opt->connect_timeout };
	struct pbx *p = calloc(1, sizeof *p);

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->o = *opt;
	p->dlkey = "wavefiles";
	p->http = http_new(&ho, err, errlen);
	if (!p->http) {
		free(p);
		return NULL;
	}
	return p;
}

void pbx_free(struct pbx *p)
{
	if (!p)
		return;
	http_free(p->http);
	free(p);
}

/* "BASE/cgi/webserve/CGI" plus "?&params" when the style puts them in the query. */
static void make_url(struct sbuf *u, const struct pbx *p, const char *cgi, const char *params,
		     int query)
{
	sb_str(u, p->o.url);
	sb_str(u, "/cgi/webserve/");
	sb_str(u, cgi);
	if (query && params && *params) {
		sb_str(u, "?&");
		sb_str(u, params);
	}
}

static const char *excerpt(const struct http_answer *a, char *buf, size_t len)
{
	char raw[121];

	snprintf(raw, sizeof raw, "%s", a->body ? a->body : "");
	raw[strcspn(raw, "\r\n")] = '\0';
	return log_escape(raw, buf, len);
}

/* Sends one request of CGI `cgi`, retrying transient failures. Returns PBX_OK with `a` filled
 * (a 2xx answer that is not HTML), SESSION, or a pbx_result error (printed). */
static int call(struct pbx *p, const char *cgi, const char *params, int style, size_t cap,
		struct http_answer *a)
{
	struct sbuf url = { 0 };
	char ex[256];
	int rc = PBX_FAILED;

	make_url(&url, p, cgi, params, style == STYLE_QUERY);
	if (url.oom) {
		log_error("out of memory");
		return PBX_FAILED;
	}
	for (int attempt = 0;; attempt++) {
		int out = http_request(p->http, url.p, style == STYLE_POST ? params : NULL, cap, a);
		enum answer_kind kind = out == HTTP_DONE
			? answer_classify(a->status, (const unsigned char *)a->body, a->len, 0)
			: ANSWER_FAILED;
		int transient = out == HTTP_TRANSIENT || (out == HTTP_UNREACHABLE && a->refused) ||
				kind == ANSWER_TRANSIENT;

		note_date(p, a);
		log_debug("%s /cgi/webserve/%s -> %s%ld (%zu bytes)",
			  style == STYLE_POST ? "POST" : "GET", cgi,
			  out == HTTP_DONE ? "HTTP " : "failed: ", out == HTTP_DONE ? a->status : 0,
			  a->len);
		if (transient && attempt < p->o.retries) {
			log_warn("PBX %s: %s; retrying", cgi,
				 out == HTTP_DONE ? "busy or failing (HTTP status)" : a->error);
			long ra = a->retry_after;
			http_answer_free(a);
			http_backoff(attempt + 1, ra);
			continue;
		}
		if (out == HTTP_UNREACHABLE) {
			log_error("cannot reach the PBX at %s: %s", p->o.url, a->error);
			rc = PBX_UNREACHABLE;
		} else if (out == HTTP_TOO_BIG && a->body_capped &&
			   (!strcmp(cgi, "20053") || !strcmp(cgi, "9006"))) {
			log_debug("PBX %s: %s", cgi, a->error);
			rc = PBX_TOO_LARGE;
		} else if (out != HTTP_DONE) {
			log_error("PBX request %s failed: %s", cgi, a->error);
		} else if (kind == ANSWER_TOO_LONG) {
			rc = PBX_URL_TOO_LONG;
		} else if (kind == ANSWER_SESSION) {
			rc = SESSION;
		} else if (kind != ANSWER_DATA) {
			log_error("PBX %s answered HTTP %ld: %s", cgi, a->status,
				  excerpt(a, ex, sizeof ex));
		} else {
			rc = PBX_OK;
		}
		break;
	}
	free(url.p);
	if (rc != PBX_OK)
		http_answer_free(a);
	return rc;
}

static void list_params(struct sbuf *b, const char *start, const char *end)
{
	sb_str(b, "startdate=");
	sb_enc(b, start);
	sb_str(b, "&enddate=");
	sb_enc(b, end);
	sb_str(b, "&src=&dst=&trunk=All&calltype=All&minduration=&maxduration=");
}

/* One 20053 request, no re-login. Returns PBX_OK, SESSION or an error. */
static int list_once(struct pbx *p, int style, const char *start, const char *end,
		     struct listing *out)
{
	struct sbuf params = { 0 };
	struct http_answer a;
	size_t before = out->n;
	char err[256];
	int rc;

	list_params(&params, start, end);
	if (params.oom) {
		log_error("out of memory");
		return PBX_FAILED;
	}
	rc = call(p, "20053", params.p, style, LIST_CAP, &a);
	free(params.p);
	if (rc != PBX_OK)
		return rc;
	switch (listing_parse(a.body ? a.body : "", a.len, out, err, sizeof err)) {
	case LISTING_OK:
		break;
	case LISTING_TOO_MANY:
		log_debug("listing %s to %s: %s", start, end, err);
		rc = PBX_TOO_LARGE;
		break;
	case LISTING_ERROR_OBJECT:
		out->n = before;
		log_debug("listing answered an error object: %s", err);
		rc = SESSION;
		break;
	default:
		out->n = before;
		log_error("cannot read the PBX's recording list (%s to %s): %s", start, end, err);
		rc = UNREADABLE;
	}
	http_answer_free(&a);
	return rc;
}

static int login_as(struct pbx *p, int style)
{
	struct sbuf params = { 0 };
	struct http_answer a;
	struct listing probe;
	int rc;

	sb_str(&params, "UserName=");
	sb_enc(&params, p->o.username);
	sb_str(&params, "&Password=");
	sb_str(&params, p->o.password_md5);
	if (params.oom) {
		log_error("out of memory");
		return PBX_FAILED;
	}
	rc = call(p, "8404", params.p, style, SMALL_CAP, &a);
	/* The login answer is undocumented; the proof is an authenticated request that works. */
	memset(params.p, 0, params.len);
	free(params.p);
	if (rc == PBX_OK)
		http_answer_free(&a);
	if (rc != PBX_OK && rc != SESSION)
		return rc;
	listing_init(&probe);
	rc = list_once(p, style, "2000-01-01 00:00", "2000-01-01 00:00", &probe);
	listing_free(&probe);
	/* Data we cannot read is still data: the session works; the run's own listings will
	 * say what is wrong with them. */
	return rc == UNREADABLE || rc == PBX_TOO_LARGE ? PBX_OK : rc;
}

int pbx_login(struct pbx *p)
{
	int styles[2] = { STYLE_POST, STYLE_QUERY };
	int n = 2, rc = PBX_REFUSED;

	if (p->style) {
		/* What this session learned is the one way; what an earlier run learned is only
		 * tried first (a PBX's firmware may have changed since). */
		styles[0] = p->style;
		styles[1] = p->style == STYLE_POST ? STYLE_QUERY : STYLE_POST;
		n = p->style_hint ? 2 : 1;
	}
	for (int i = 0; i <= n; i++) {
		int style = styles[i < n ? i : 0];
		if (i == n) {
			/* Turned away in every style: once more after a pause (a PBX restarting, a
			 * 401 that passes), then it is a refusal. Not more: a PBX may lock out a
			 * user after a few failed logins. */
			if (p->o.retries == 0)
				break;
			http_backoff(1, -1);
		}
		rc = login_as(p, style);
		if (rc == PBX_OK) {
			if (!p->style || p->style != style)
				log_debug("the PBX takes parameters in the %s",
					  style == STYLE_POST ? "POST body" : "query string");
			p->style = style;
			p->style_hint = 0;
			return PBX_OK;
		}
		if (rc != SESSION)
			return rc;
	}
	log_error("the PBX at %s refused the login of user '%s' (an authenticated request "
		  "right after logging in was turned away); check [pbx] username and password",
		  p->o.url, p->o.username);
	return PBX_REFUSED;
}

/* After a SESSION answer: log in again (the caller then retries once). */
static int relogin(struct pbx *p)
{
	log_info("the PBX session ended; logging in again");
	return pbx_login(p);
}

int pbx_list(struct pbx *p, const char *start, const char *end, struct listing *out)
{
	int rc = list_once(p, p->style ? p->style : STYLE_POST, start, end, out);

	if (rc == UNREADABLE)
		return PBX_FAILED;

	if (rc == SESSION) {
		rc = relogin(p);
		if (rc == PBX_OK)
			rc = list_once(p, p->style, start, end, out);
		if (rc == SESSION) {
			log_error("the PBX turned the listing away again right after a new login");
			rc = PBX_REFUSED;
		}
	}
	return rc == UNREADABLE ? PBX_FAILED : rc;
}

static const char *other_key(const char *key)
{
	return strcmp(key, "wavefiles") == 0 ? "wavfiles" : "wavefiles";
}

static const char *delete_key(const struct pbx *p)
{
	return p->delkey ? p->delkey : p->dlkey;
}

static void files_params(struct sbuf *b, const char *key, const char *const *paths, size_t n)
{
	sb_str(b, key);
	sb_str(b, "=");
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_str(b, ";");
		sb_enc(b, paths[i]);
	}
}

size_t pbx_download_url_len(const struct pbx *p, const char *const *paths, size_t n)
{
	struct sbuf params = { 0 }, url = { 0 };
	size_t len;

	files_params(&params, p->dlkey, paths, n);
	make_url(&url, p, "20036", params.p, 1);
	len = url.oom || params.oom ? (size_t)-1 : url.len;
	free(params.p);
	free(url.p);
	return len;
}

/* One 20036 request with transient retries. Returns PBX_OK with *out, SESSION, or an error. */
static int download_once(struct pbx *p, const char *url, size_t n, struct pbx_stream **out)
{
	char ex[256];

	for (int attempt = 0;; attempt++) {
		struct http_answer a;
		struct http_stream *hs = NULL;
		const unsigned char *head;
		size_t headlen;
		int o = http_stream_open(p->http, url, &a, &hs);
		int transient = o == HTTP_TRANSIENT || (o == HTTP_UNREACHABLE && a.refused) ||
				(o == HTTP_DONE &&
				 answer_classify(a.status, NULL, 0, 1) == ANSWER_TRANSIENT);

		log_debug("GET /cgi/webserve/20036 (%zu files) -> %s%ld", n,
			  o == HTTP_DONE ? "HTTP " : "failed: ", o == HTTP_DONE ? a.status : 0);
		if (transient && attempt < p->o.retries) {
			log_warn("PBX download: %s; retrying",
				 o == HTTP_DONE ? "busy or failing (HTTP status)" : a.error);
			http_stream_close(hs);
			http_backoff(attempt + 1, a.retry_after);
			continue;
		}
		if (o == HTTP_UNREACHABLE) {
			log_error("cannot reach the PBX at %s: %s", p->o.url, a.error);
			return PBX_UNREACHABLE;
		}
		if (o != HTTP_DONE) {
			log_error("PBX download failed: %s", a.error);
			return PBX_FAILED;
		}
		note_date(p, &a);
		headlen = http_stream_peek(hs, &head);
		switch (answer_classify(a.status, head, headlen, 1)) {
		case ANSWER_DATA:
			break;
		case ANSWER_TOO_LONG:
			http_stream_close(hs);
			return PBX_URL_TOO_LONG;
		case ANSWER_SESSION: {
			/* A page or a JSON object instead of recordings: most likely a dead
			 * session; the body says so in words we cannot know, so show some. */
			struct http_answer shown = { 0 };
			char text[121];
			size_t m = headlen < 120 ? headlen : 120;
			memcpy(text, head, m);
			text[m] = '\0';
			shown.body = text;
			log_debug("download answered HTTP %ld, not recordings: %s", a.status,
				  excerpt(&shown, ex, sizeof ex));
			http_stream_close(hs);
			return SESSION;
		}
		default:
			log_error("PBX download answered HTTP %ld", a.status);
			http_stream_close(hs);
			return PBX_FAILED;
		}
		*out = malloc(sizeof **out);
		if (!*out) {
			http_stream_close(hs);
			log_error("out of memory");
			return PBX_FAILED;
		}
		(*out)->hs = hs;
		(*out)->compressed = strcasestr(a.content_encoding, "gzip") != NULL ||
				     strcasestr(a.content_type, "gzip") != NULL;
		return PBX_OK;
	}
}

int pbx_download_open(struct pbx *p, const char *const *paths, size_t n, struct pbx_stream **out)
{
	struct sbuf params = { 0 }, url = { 0 };
	int rc;

	*out = NULL;
	files_params(&params, p->dlkey, paths, n);
	make_url(&url, p, "20036", params.p, 1);
	free(params.p);
	if (url.oom) {
		free(url.p);
		log_error("out of memory");
		return PBX_FAILED;
	}
	rc = download_once(p, url.p, n, out);
	if (rc == SESSION) {
		rc = relogin(p);
		if (rc == PBX_OK)
			rc = download_once(p, url.p, n, out);
		if (rc == SESSION) {
			log_error("the PBX answered a page or an error object instead of the "
				  "recordings, even right after a new login");
			rc = PBX_FAILED;
		}
	}
	free(url.p);
	return rc;
}

int pbx_stream_compressed(const struct pbx_stream *s)
{
	return s->compressed;
}

void pbx_set_max_rate(struct pbx *p, int64_t bytes_per_second)
{
	http_set_max_rate(p->http, bytes_per_second);
}

ssize_t pbx_stream_read(void *stream, const void **buf)
{
	return http_stream_read(((struct pbx_stream *)stream)->hs, buf);
}

int pbx_stream_close(struct pbx_stream *s)
{
	int rc;

	if (!s)
		return -1;
	rc = http_stream_close(s->hs);
	free(s);
	return rc;
}

int pbx_download_key_switch(struct pbx *p)
{
	if (p->dlkey_known || p->dlkey_tried)
		return 0;
	p->dlkey_tried = 1; /* one try of the other spelling per run */
	p->dlkey_prev = p->dlkey;
	p->dlkey = other_key(p->dlkey);
	log_info("the PBX sent none of the requested files; trying the download key '%s' "
		 "instead of '%s' (the guide spells it both ways)", p->dlkey, p->dlkey_prev);
	return 1;
}

void pbx_download_key_confirm(struct pbx *p)
{
	p->dlkey_known = 1;
}

void pbx_download_key_revert(struct pbx *p)
{
	if (!p->dlkey_known && p->dlkey_prev)
		p->dlkey = p->dlkey_prev;
}

int pbx_delete_key_switch(struct pbx *p)
{
	if (p->delkey_known || p->delkey_tried)
		return 0;
	p->delkey_tried = 1;
	p->delkey_prev = delete_key(p);
	p->delkey = other_key(p->delkey_prev);
	log_info("the PBX deleted none of the files it was asked to; trying the delete key '%s' "
		 "instead of '%s'", p->delkey, p->delkey_prev);
	return 1;
}

void pbx_delete_key_confirm(struct pbx *p)
{
	p->delkey = delete_key(p);
	p->delkey_known = 1;
}

void pbx_delete_key_revert(struct pbx *p)
{
	if (!p->delkey_known && p->delkey_tried)
		p->delkey = p->delkey_prev;
}

void pbx_learn_from(struct pbx *to, const struct pbx *from)
{
	to->style = from->style;
	to->style_hint = from->style_hint;
	to->dlkey = from->dlkey;
	to->dlkey_prev = from->dlkey_prev;
	to->dlkey_known = from->dlkey_known;
	to->dlkey_tried = from->dlkey_tried;
	to->delkey = from->delkey;
	to->delkey_known = from->delkey_known;
}

void pbx_learned_get(const struct pbx *p, struct pbx_learned *out)
{
	memset(out, 0, sizeof *out);
	out->style = p->style_hint ? 0 : p->style == STYLE_QUERY ? PBX_STYLE_QUERY
				       : p->style == STYLE_POST ? PBX_STYLE_POST : 0;
	if (p->dlkey_known)
		snprintf(out->download_key, sizeof out->download_key, "%s", p->dlkey);
	if (p->delkey_known)
		snprintf(out->delete_key, sizeof out->delete_key, "%s", p->delkey);
}

/* One of the two spellings, as a static string; NULL for anything else. */
static const char *known_key(const char *k)
{
	return !strcmp(k, "wavefiles") ? "wavefiles" : !strcmp(k, "wavfiles") ? "wavfiles" : NULL;
}

void pbx_learned_set(struct pbx *p, const struct pbx_learned *in)
{
	const char *k;

	if (!p->style && (in->style == PBX_STYLE_POST || in->style == PBX_STYLE_QUERY)) {
		p->style = in->style == PBX_STYLE_POST ? STYLE_POST : STYLE_QUERY;
		p->style_hint = 1;
	}
	if (!p->dlkey_known && !p->dlkey_tried && (k = known_key(in->download_key)))
		p->dlkey = k;
	if (!p->delkey_known && !p->delkey_tried && (k = known_key(in->delete_key)))
		p->delkey = k;
}

/* What a delete's JSON answer says of the request: 1 accepted ("status" "success"/"ok" or a
 * number >= 0, or no status at all: the re-list will tell), 0 turned away (any other status:
 * "fail", {"status": -6} — what firmware sends for a dead session). `*deleted` gets its
 * "deleted" count, -1 when absent. */
static int delete_accepted(const struct http_answer *a, long long *deleted)
{
	json_object *o = a->body ? json_tokener_parse(a->body) : NULL, *v;
	int ok = 1;

	*deleted = -1;
	if (o && json_object_is_type(o, json_type_object)) {
		if (json_object_object_get_ex(o, "status", &v)) {
			if (json_object_is_type(v, json_type_int))
				ok = json_object_get_int64(v) >= 0;
			else
				ok = json_object_is_type(v, json_type_string) &&
				     (!strcasecmp(json_object_get_string(v), "success") ||
				      !strcasecmp(json_object_get_string(v), "ok") ||
				      !strcmp(json_object_get_string(v), "0"));
		}
		if (json_object_object_get_ex(o, "deleted", &v) &&
		    json_object_is_type(v, json_type_int))
			*deleted = json_object_get_int64(v);
	}
	json_object_put(o);
	return ok;
}

/* One 20054 request, never retried on its own. Returns PBX_OK (*accepted set), SESSION, or an
 * error. */
static int delete_once(struct pbx *p, const char *params, int *accepted, long long *deleted)
{
	struct http_answer a;
	char ex[256];
	int saved = p->o.retries, rc;

	p->o.retries = 0; /* a delete is never repeated blindly: the caller re-lists */
	rc = call(p, "20054", params, p->style ? p->style : STYLE_POST, SMALL_CAP, &a);
	p->o.retries = saved;
	if (rc != PBX_OK)
		return rc;
	*accepted = delete_accepted(&a, deleted);
	log_debug("delete answered: %s", excerpt(&a, ex, sizeof ex));
	http_answer_free(&a);
	return PBX_OK;
}

int pbx_delete(struct pbx *p, const char *const *paths, size_t n, long long *deleted)
{
	struct sbuf params = { 0 };
	int rc, accepted = 0;

	*deleted = -1;
	files_params(&params, delete_key(p), paths, n);
	if (params.oom) {
		free(params.p);
		log_error("out of memory");
		return PBX_FAILED;
	}
	rc = delete_once(p, params.p, &accepted, deleted);
	if (rc == SESSION || (rc == PBX_OK && !accepted)) {
		/* Turned away (a dead session, an error object): the PBX did not act. Log in
		 * again and send it once more; the re-list decides either way. */
		log_warn("the PBX turned a delete request away (%s); logging in again and sending "
			 "it once more", rc == SESSION ? "session ended" : "an error status");
		rc = relogin(p);
		if (rc == PBX_OK)
			rc = delete_once(p, params.p, &accepted, deleted);
		if (rc == SESSION || (rc == PBX_OK && !accepted)) {
			log_warn("the PBX turned the delete request away again; nothing is taken as "
				 "deleted (the re-list decides)");
			rc = PBX_FAILED;
		}
	}
	free(params.p);
	return rc;
}

static void cdr_params(struct sbuf *b, const char *start, const char *end)
{
	sb_str(b, "startdate=");
	sb_enc(b, start);
	sb_str(b, "&enddate=");
	sb_enc(b, end);
	/* Every filter the guide names, open; the PBX may insist on seeing them all. */
	sb_str(b, "&src=&dst=&disposition=All&userfield=All&minbillsec=&maxbillsec=&cidname="
		  "&in_route=&IVR=&port=-1");
}

static int cdr_once(struct pbx *p, enum pbx_cdr_cgi cgi, const char *params,
		    pbx_cdr_take_fn take, void *ctx)
{
	static const char *const number[] = { "9006", "9005", "9004" };
	struct http_answer a;
	int style = cgi == PBX_CDR_EXPORT ? STYLE_QUERY : p->style ? p->style : STYLE_POST;
	int saved = p->o.retries, rc, taken = 0;

	if (cgi == PBX_CDR_DELETE)
		p->o.retries = 0; /* a delete is never repeated blindly: the caller re-lists */
	rc = call(p, number[cgi], params, style, cgi == PBX_CDR_DELETE ? SMALL_CAP :
		  cgi == PBX_CDR_QUERY ? CDR_QUERY_CAP : CDR_EXPORT_CAP, &a);
	p->o.retries = saved;
	if (rc != PBX_OK)
		return rc;
	if (take)
		taken = take(ctx, a.body ? a.body : "", a.len);
	http_answer_free(&a);
	return taken == 1 ? SESSION : taken == 2 ? PBX_TOO_LARGE : taken < 0 ? PBX_FAILED : PBX_OK;
}

int pbx_cdr(struct pbx *p, enum pbx_cdr_cgi cgi, const char *start, const char *end,
	    pbx_cdr_take_fn take, void *ctx)
{
	struct sbuf params = { 0 };
	int rc;

	cdr_params(&params, start, end);
	if (params.oom) {
		free(params.p);
		log_error("out of memory");
		return PBX_FAILED;
	}
	rc = cdr_once(p, cgi, params.p, take, ctx);
	if (rc == SESSION && cgi == PBX_CDR_DELETE) {
		/* Unknown whether it acted: the caller re-lists before deciding anything. */
		rc = relogin(p) == PBX_OK ? PBX_FAILED : PBX_REFUSED;
	} else if (rc == SESSION) {
		rc = relogin(p);
		if (rc == PBX_OK)
			rc = cdr_once(p, cgi, params.p, take, ctx);
		if (rc == SESSION) {
			log_error("the PBX turned a CDR request away again right after a new login "
				  "(may user '%s' read CDRs?)", p->o.username);
			rc = PBX_REFUSED;
		}
	}
	free(params.p);
	return rc;
}
