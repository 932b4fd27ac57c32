/* pbx.c — the vendor's CGIs on top of http.c: the session: how requests are phrased (POST
 * body or query string, learned at login), how answers are judged (data, a dead session, a
 * transient failure, or an error), re-login once per request, the 20053 listing, and what a
 * session learned. Downloads and deletes are pbx_files.c's, the CDR CGIs pbx_cdr.c's
 * (pbx_internal.h). */
#include "pbx_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "http.h"
#include "base/clock.h"
#include "base/log.h"

/* A 20053 answer larger than this is not read on: the window is asked for in parts
 * (PBX_TOO_LARGE). 8 MiB is ~30,000 real rows; with LISTING_MAX_ROWS it bounds a run's memory. */
#define LIST_CAP (8u << 20)
#define VALUE_CHARS "-_.~/():*!'"

/* The PBX's clock as its HTTP Date header tells it, against ours. */
void pbx_note_date(struct pbx *p, const struct http_answer *a)
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

void pbx_sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* Appends `v` percent-encoded. */
void pbx_sb_enc(struct sbuf *b, const char *v)
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
void pbx_make_url(struct sbuf *u, const struct pbx *p, const char *cgi, const char *params,
		  int query)
{
	pbx_sb_str(u, p->o.url);
	pbx_sb_str(u, "/cgi/webserve/");
	pbx_sb_str(u, cgi);
	if (query && params && *params) {
		pbx_sb_str(u, "?&");
		pbx_sb_str(u, params);
	}
}

const char *pbx_excerpt(const struct http_answer *a, char *buf, size_t len)
{
	char raw[121];

	snprintf(raw, sizeof raw, "%s", a->body ? a->body : "");
	raw[strcspn(raw, "\r\n")] = '\0';
	return log_escape(raw, buf, len);
}

/* Sends one request of CGI `cgi`, retrying transient failures. Returns PBX_OK with `a` filled
 * (a 2xx answer that is not HTML), SESSION, or a pbx_result error (printed). */
int pbx_call(struct pbx *p, const char *cgi, const char *params, int style, size_t cap,
	     struct http_answer *a)
{
	struct sbuf url = { 0 };
	char ex[256];
	int rc = PBX_FAILED;

	pbx_make_url(&url, p, cgi, params, style == STYLE_QUERY);
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

		pbx_note_date(p, a);
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
				  pbx_excerpt(a, ex, sizeof ex));
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
	pbx_sb_str(b, "startdate=");
	pbx_sb_enc(b, start);
	pbx_sb_str(b, "&enddate=");
	pbx_sb_enc(b, end);
	pbx_sb_str(b, "&src=&dst=&trunk=All&calltype=All&minduration=&maxduration=");
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
	rc = pbx_call(p, "20053", params.p, style, LIST_CAP, &a);
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

	pbx_sb_str(&params, "UserName=");
	pbx_sb_enc(&params, p->o.username);
	pbx_sb_str(&params, "&Password=");
	pbx_sb_str(&params, p->o.password_md5);
	if (params.oom) {
		log_error("out of memory");
		return PBX_FAILED;
	}
	rc = pbx_call(p, "8404", params.p, style, SMALL_CAP, &a);
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
int pbx_relogin(struct pbx *p)
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
		rc = pbx_relogin(p);
		if (rc == PBX_OK)
			rc = list_once(p, p->style, start, end, out);
		if (rc == SESSION) {
			log_error("the PBX turned the listing away again right after a new login");
			rc = PBX_REFUSED;
		}
	}
	return rc == UNREADABLE ? PBX_FAILED : rc;
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
