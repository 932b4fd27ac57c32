/*
 * http.c — daemon, request context, routing, login and the session gate.
 *
 * Owns libmicrohttpd: it collects each request's parameters (query string
 * and form body), measures the raw URL for --max-url, answers login (8404)
 * and the no-session cases, and hands listing, download and delete to
 * their modules. It never reads the recordings itself.
 */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "delete.h"
#include "list.h"
#include "session.h"
#include "sbuf.h"
#include "tarstream.h"

#define HTTP_CGI_PREFIX "/cgi/webserve/"
/* A delete batch of thousands of paths fits; anything bigger is abuse. */
#define HTTP_BODY_MAX (8u * 1024 * 1024)
/* Big enough that a ~1 MiB request line is accepted when --max-url is
 * unset: MHD keeps the whole request head in this per-connection pool. */
#define HTTP_CONN_MEMORY (2u * 1024 * 1024)

struct http_kv {
	char *key;
	char *val;
	size_t len;
};

struct http_req {
	struct MHD_Connection *conn;
	size_t raw_url_len;   /* request-target as received, still %-encoded */
	bool started;
	bool body_too_big;
	struct MHD_PostProcessor *pp;
	struct http_kv *body;
	size_t nbody, capbody;
	size_t body_bytes;
	struct http_logtag tag;
};

static const char http_login_page[] =
	"<!DOCTYPE html>\n<html><head><title>IPPBX Login</title></head><body>\n"
	"<form action=\"/cgi/webserve/8401\" method=\"post\">\n"
	"User: <input type=\"text\" name=\"UserName\">\n"
	"Password: <input type=\"password\" name=\"Password\">\n"
	"<input type=\"submit\" value=\"Login\">\n</form>\n</body></html>\n";

const char *http_param(const struct http_req *r, const char *key, enum http_src src)
{
	if (src != HTTP_SRC_BODY) {
		const char *v = NULL;
		size_t vlen = 0;
		/* the _n variant tells "key without value" apart from "absent" */
		if (MHD_lookup_connection_value_n(r->conn, MHD_GET_ARGUMENT_KIND, key, strlen(key),
						  &v, &vlen) == MHD_YES)
			return v ? v : "";
	}
	if (src != HTTP_SRC_QUERY)
		for (size_t i = 0; i < r->nbody; i++)
			if (strcmp(r->body[i].key, key) == 0)
				return r->body[i].val ? r->body[i].val : "";
	return NULL;
}

const struct http_logtag *http_req_tag(const struct http_req *r)
{
	return &r->tag;
}

void http_log(const struct http_logtag *tag, unsigned status, uint64_t bytes)
{
	char line[128];
	int n = snprintf(line, sizeof line, "fakepbx: %s %s %u %llu\n", tag->method, tag->cgi,
			 status, (unsigned long long)bytes);
	if (n > 0) {
		/* one write() per line keeps lines whole across threads */
		ssize_t w = write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
		(void)w;
	}
}

struct http_reply http_reply_buf(unsigned status, const char *ctype, const char *body,
				 size_t len)
{
	struct http_reply rep = { NULL, status, false, len };
	rep.resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (rep.resp)
		MHD_add_response_header(rep.resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	return rep;
}

struct http_reply http_reply_fail(unsigned status, const char *msg)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_adds(&sb, "{\"status\":\"fail\",\"message\":");
	sbuf_json_str(&sb, msg);
	sbuf_adds(&sb, "}\n");
	struct http_reply rep = { NULL, status, false, 0 };
	if (!sbuf_failed(&sb))
		rep = http_reply_buf(status, "application/json", sb.buf, sb.len);
	sbuf_free(&sb);
	return rep;
}

static struct http_reply http_reply_no_session(const struct fpx_config *cfg)
{
	static const char moved[] =
		"<html><body>Please <a href=\"/login.html\">log in</a>.</body></html>\n";
	struct http_reply rep;
	switch (cfg->no_session) {
	case FPX_NOSESS_HTML:
		return http_reply_buf(MHD_HTTP_OK, "text/html", http_login_page,
				      sizeof http_login_page - 1);
	case FPX_NOSESS_401:
		return http_reply_fail(MHD_HTTP_UNAUTHORIZED, "not logged in");
	case FPX_NOSESS_REDIRECT:
		rep = http_reply_buf(MHD_HTTP_FOUND, "text/html", moved, sizeof moved - 1);
		if (rep.resp)
			MHD_add_response_header(rep.resp, MHD_HTTP_HEADER_LOCATION, "/login.html");
		return rep;
	case FPX_NOSESS_JSON:
	default:
		return http_reply_fail(MHD_HTTP_OK, "not logged in");
	}
}

static struct http_reply http_login(const struct fpx_config *cfg, const struct http_req *r)
{
	enum http_src src = cfg->login_style == FPX_LOGIN_POST	  ? HTTP_SRC_BODY
			    : cfg->login_style == FPX_LOGIN_QUERY ? HTTP_SRC_QUERY
								  : HTTP_SRC_ANY;
	const char *user = http_param(r, "UserName", src);
	const char *pass = http_param(r, "Password", src);
	if (!user || !pass || strcmp(user, cfg->user) != 0 || strlen(pass) != 32 ||
	    strcasecmp(pass, cfg->password_md5) != 0)
		return http_reply_fail(MHD_HTTP_OK, "invalid username or password");

	char id[SESS_ID_LEN + 1];
	if (sess_create(id) < 0)
		return http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "no session");
	static const char ok[] = "{\"status\":\"success\"}\n";
	struct http_reply rep = http_reply_buf(MHD_HTTP_OK, "application/json", ok, sizeof ok - 1);
	if (rep.resp) {
		char cookie[SESS_ID_LEN + 40];
		snprintf(cookie, sizeof cookie, "session=%s; Path=/; HttpOnly", id);
		MHD_add_response_header(rep.resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	}
	return rep;
}

static struct http_reply http_route(const struct fpx_config *cfg, struct http_req *r,
				    const char *url)
{
	if (strcmp(url, "/login.html") == 0)
		return http_reply_buf(MHD_HTTP_OK, "text/html", http_login_page,
				      sizeof http_login_page - 1);
	const char *cgi = strncmp(url, HTTP_CGI_PREFIX, strlen(HTTP_CGI_PREFIX)) == 0
				  ? url + strlen(HTTP_CGI_PREFIX)
				  : "";
	bool known = strcmp(cgi, "8404") == 0 || strcmp(cgi, "20053") == 0 ||
		     strcmp(cgi, "20036") == 0 || strcmp(cgi, "20054") == 0;
	if (!known)
		return http_reply_fail(MHD_HTTP_NOT_FOUND, "unknown cgi");
	if (r->body_too_big)
		return http_reply_fail(MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
	if (strcmp(cgi, "8404") == 0)
		return http_login(cfg, r);

	const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "session");
	long expire = fault_on(&cfg->faults, FAULT_EXPIRE_AFTER)
			      ? fault_arg(&cfg->faults, FAULT_EXPIRE_AFTER)
			      : -1;
	if (!sess_use(cookie, expire))
		return http_reply_no_session(cfg);
	if (strcmp(cgi, "20053") == 0)
		return list_handle(cfg, r);
	if (strcmp(cgi, "20036") == 0)
		return tars_handle(cfg, r);
	return del_handle(cfg, r);
}

static enum MHD_Result http_queue(struct MHD_Connection *conn, struct http_req *r,
				  struct http_reply rep)
{
	if (!rep.resp) {
		static const char oom[] = "{\"status\":\"fail\",\"message\":\"out of memory\"}\n";
		rep = (struct http_reply){ NULL, MHD_HTTP_INTERNAL_SERVER_ERROR, false,
					   sizeof oom - 1 };
		rep.resp = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom,
							   MHD_RESPMEM_PERSISTENT);
		if (!rep.resp)
			return MHD_NO;
	}
	enum MHD_Result ret = MHD_queue_response(conn, rep.status, rep.resp);
	if (!rep.logs_itself)
		http_log(&r->tag, rep.status, rep.bytes);
	MHD_destroy_response(rep.resp);
	return ret;
}

static enum MHD_Result http_post_iter(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *filename, const char *content_type,
				      const char *transfer_encoding, const char *data,
				      uint64_t off, size_t size)
{
	struct http_req *r = cls;
	(void)kind, (void)filename, (void)content_type, (void)transfer_encoding;
	/* A value may arrive in pieces: off > 0 continues the last one. */
	bool cont = off > 0 && r->nbody > 0 && strcmp(r->body[r->nbody - 1].key, key) == 0;
	if (!cont) {
		if (r->nbody == r->capbody) {
			size_t cap = r->capbody ? r->capbody * 2 : 8;
			struct http_kv *b = realloc(r->body, cap * sizeof *b);
			if (!b)
				return MHD_NO;
			r->body = b;
			r->capbody = cap;
		}
		struct http_kv *kv = &r->body[r->nbody];
		kv->key = strdup(key);
		kv->val = calloc(1, 1);
		kv->len = 0;
		if (!kv->key || !kv->val) {
			free(kv->key);
			free(kv->val);
			return MHD_NO;
		}
		r->nbody++;
	}
	struct http_kv *kv = &r->body[r->nbody - 1];
	if (size > 0) {
		char *v = realloc(kv->val, kv->len + size + 1);
		if (!v)
			return MHD_NO;
		memcpy(v + kv->len, data, size);
		kv->len += size;
		v[kv->len] = '\0';
		kv->val = v;
	}
	return MHD_YES;
}

static void http_req_free(struct http_req *r)
{
	if (!r)
		return;
	if (r->pp)
		MHD_destroy_post_processor(r->pp);
	for (size_t i = 0; i < r->nbody; i++) {
		free(r->body[i].key);
		free(r->body[i].val);
	}
	free(r->body);
	free(r);
}

static void *http_uri_log(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)cls;
	struct http_req *r = calloc(1, sizeof *r);
	if (r) {
		r->conn = conn;
		r->raw_url_len = strlen(uri);
	}
	return r;
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			   enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)conn, (void)toe;
	http_req_free(*con_cls);
	*con_cls = NULL;
}

static void http_set_tag(struct http_req *r, const char *method, const char *url)
{
	snprintf(r->tag.method, sizeof r->tag.method, "%s", method);
	const char *cgi = strncmp(url, HTTP_CGI_PREFIX, strlen(HTTP_CGI_PREFIX)) == 0
				  ? url + strlen(HTTP_CGI_PREFIX)
				  : url;
	snprintf(r->tag.cgi, sizeof r->tag.cgi, "%s", cgi[0] ? cgi : "-");
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *version,
				   const char *upload_data, size_t *upload_data_size,
				   void **con_cls)
{
	const struct fpx_config *cfg = cls;
	struct http_req *r = *con_cls;
	(void)version;
	if (!r) {
		r = http_uri_log(NULL, url, conn);
		if (!r)
			return MHD_NO;
		*con_cls = r;
	}
	if (!r->started) {
		r->started = true;
		r->conn = conn;
		http_set_tag(r, method, url);
		if (cfg->max_url > 0 && r->raw_url_len > (size_t)cfg->max_url)
			return http_queue(conn, r,
					  http_reply_fail(MHD_HTTP_URI_TOO_LONG, "URI too long"));
		if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
			r->pp = MHD_create_post_processor(conn, 64 * 1024, http_post_iter, r);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		r->body_bytes += *upload_data_size;
		if (r->body_bytes > HTTP_BODY_MAX)
			r->body_too_big = true;
		else if (r->pp && MHD_post_process(r->pp, upload_data, *upload_data_size) != MHD_YES)
			r->body_too_big = true; /* unparseable or out of memory */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->pp) {
		/* destroying the processor flushes the last value */
		MHD_destroy_post_processor(r->pp);
		r->pp = NULL;
	}
	return http_queue(conn, r, http_route(cfg, r, url));
}

struct MHD_Daemon *http_start(const struct fpx_config *cfg, const struct sockaddr_in *addr,
			      const char *cert_pem, const char *key_pem, uint16_t *port)
{
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			 MHD_USE_AUTO | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem tls[3] = { { MHD_OPTION_END, 0, NULL } };
	if (cert_pem && key_pem) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			fprintf(stderr, "fakepbx: this libmicrohttpd has no TLS support\n");
			return NULL;
		}
		flags |= MHD_USE_TLS;
		tls[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)key_pem };
		tls[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)cert_pem };
		tls[2] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	}
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, 0, NULL, NULL, http_access, (void *)cfg,
		MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)addr,
		MHD_OPTION_URI_LOG_CALLBACK, http_uri_log, NULL,
		MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
		MHD_OPTION_CONNECTION_MEMORY_INCREMENT, (size_t)(64 * 1024),
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300,
		MHD_OPTION_ARRAY, tls,
		MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "fakepbx: cannot start the HTTP daemon (port in use?)\n");
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	*port = info ? info->port : 0;
	return d;
}

void http_stop(struct MHD_Daemon *d)
{
	if (d)
		MHD_stop_daemon(d);
	sess_clear();
}
