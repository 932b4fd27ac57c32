/* pbx_files.c — the two CGIs that name recordings' files (pbx_internal.h): 20036 downloads,
 * streamed, and 20054 deletes, never repeated blindly; and the two spellings of their key
 * (wavefiles / wavfiles), switched once when the PBX acts on none of the files. */
#include "pbx_internal.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "answer.h"
#include "http.h"
#include "base/log.h"

struct pbx_stream {
	struct http_stream *hs;
	int compressed; /* the answer declares gzip (Content-Encoding or Content-Type) */
};

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
	pbx_sb_str(b, key);
	pbx_sb_str(b, "=");
	for (size_t i = 0; i < n; i++) {
		if (i)
			pbx_sb_str(b, ";");
		pbx_sb_enc(b, paths[i]);
	}
}

size_t pbx_download_url_len(const struct pbx *p, const char *const *paths, size_t n)
{
	struct sbuf params = { 0 }, url = { 0 };
	size_t len;

	files_params(&params, p->dlkey, paths, n);
	pbx_make_url(&url, p, "20036", params.p, 1);
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
		pbx_note_date(p, &a);
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
				  pbx_excerpt(&shown, ex, sizeof ex));
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
	pbx_make_url(&url, p, "20036", params.p, 1);
	free(params.p);
	if (url.oom) {
		free(url.p);
		log_error("out of memory");
		return PBX_FAILED;
	}
	rc = download_once(p, url.p, n, out);
	if (rc == SESSION) {
		rc = pbx_relogin(p);
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
	rc = pbx_call(p, "20054", params, p->style ? p->style : STYLE_POST, SMALL_CAP, &a);
	p->o.retries = saved;
	if (rc != PBX_OK)
		return rc;
	*accepted = delete_accepted(&a, deleted);
	log_debug("delete answered: %s", pbx_excerpt(&a, ex, sizeof ex));
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
		rc = pbx_relogin(p);
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
