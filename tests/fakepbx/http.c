/*
 * http.c — daemon, request context, routing, login and the session gate.
 *
 * Owns libmicrohttpd: it collects each request's parameters (query string
 * and form body), measures the raw URL for --max-url, answers login (8404)
 * and the no-session cases, hands listing, download and delete to their
 * modules, and turns their replies into responses, letting the
 * answer-level faults (inject.c, pace.c) reshape them on the way. It never
 * reads the recordings itself.
 */
#include "http.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "cdrcgi.h"
#include "delete.h"
#include "inject.h"
#include "list.h"
#include "live.h"
#include "pace.h"
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
	const struct fpx_config *cfg;
	unsigned cgi;         /* FAULT_CGI_* bit, 0 for anything else */
	size_t raw_url_len;   /* request-target as received, still %-encoded */
	bool started;
	bool body_too_big;
	struct MHD_PostProcessor *pp;
	struct http_kv *body;
	size_t nbody, capbody;
	size_t body_bytes;
	struct http_logtag tag;
};

/* --request-log, or -1; set before the daemon starts */
static int http_reqlog_fd = -1;
/* 20054 requests with a valid session so far (--delete-no-session) */
static atomic_long http_dead_deletes;

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

static void http_write_line(int fd, const char *line, int n, size_t cap)
{
	if (n <= 0)
		return;
	/* one write() per line keeps lines whole across threads */
	ssize_t w = write(fd, line, (size_t)n < cap ? (size_t)n : cap - 1);
	(void)w;
}

void http_log(const struct http_logtag *tag, unsigned status, uint64_t bytes)
{
	char line[320];
	int n = snprintf(line, sizeof line, "fakepbx: %s %s %u %llu\n", tag->method, tag->cgi,
			 status, (unsigned long long)bytes);
	http_write_line(STDERR_FILENO, line, n, sizeof line);
	if (http_reqlog_fd < 0)
		return;
	char paths[24] = "-";
	if (tag->npaths >= 0)
		snprintf(paths, sizeof paths, "%ld", tag->npaths);
	n = snprintf(line, sizeof line, "%s %s %u %llu %s %s\n", tag->method, tag->cgi, status,
		     (unsigned long long)bytes, paths, tag->faults[0] ? tag->faults : "-");
	http_write_line(http_reqlog_fd, line, n, sizeof line);
}

void http_note_fault(struct http_req *r, enum fault_id id)
{
	size_t len = strlen(r->tag.faults);
	snprintf(r->tag.faults + len, sizeof r->tag.faults - len, "%s%s", len ? "," : "",
		 fault_name(id));
}

const struct fault_inst *http_fault(struct http_req *r, enum fault_id id)
{
	const struct fault_inst *f = fault_take(&r->cfg->faults, id, r->cgi);
	if (f)
		http_note_fault(r, id);
	return f;
}

int http_req_socket(const struct http_req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	return ci ? ci->connect_fd : -1;
}

void http_reset_socket(int fd)
{
	/* Let what was sent reach the client first (bounded wait), so it
	 * sees exactly the bytes before the cut, then the reset. */
	for (int i = 0; i < 200; i++) {
		int queued = 0;
		if (ioctl(fd, SIOCOUTQ, &queued) < 0 || queued == 0)
			break;
		poll(NULL, 0, 10);
	}
	struct linger lg = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	/* Linux: "connecting" a TCP socket to AF_UNSPEC aborts it with a RST
	 * now; the close libmicrohttpd does later finds it already dead. */
	struct sockaddr sa = { .sa_family = AF_UNSPEC };
	if (connect(fd, &sa, sizeof sa) < 0)
		fprintf(stderr, "fakepbx: reset: %s (the close will reset)\n", strerror(errno));
}

static struct http_reply http_login(const struct fpx_config *cfg, struct http_req *r)
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
	char cookie[SESS_ID_LEN + 40];
	snprintf(cookie, sizeof cookie, "session=%s; Path=/; HttpOnly", id);
	http_reply_header(&rep, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	const struct fault_inst *f = http_fault(r, FAULT_JSON_TRUNCATED);
	if (f)
		http_reply_truncate(&rep, f);
	return rep;
}

/* Paths in wavefiles + wavfiles as the client sent them (the request log
 * counts what was asked, well-formed or not). */
static long http_count_paths(const struct http_req *r)
{
	static const char *const keys[2] = { "wavefiles", "wavfiles" };
	long n = 0;
	for (size_t k = 0; k < 2; k++) {
		const char *v = http_param(r, keys[k], HTTP_SRC_ANY);
		for (const char *p = v; p && *p;) {
			size_t len = strcspn(p, ";");
			n += len > 0;
			p += len + (p[len] == ';');
		}
	}
	return n;
}

static struct http_reply http_route(const struct fpx_config *cfg, struct http_req *r,
				    const char *url)
{
	if (strcmp(url, "/login.html") == 0)
		return http_reply_login_page();
	if (!r->cgi)
		return http_reply_fail(MHD_HTTP_NOT_FOUND, "unknown cgi");
	if (r->cgi & (FAULT_CGI_DOWNLOAD | FAULT_CGI_DELETE))
		r->tag.npaths = http_count_paths(r);
	if (r->body_too_big)
		return http_reply_fail(MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
	struct http_reply rep;
	if (inject_gate(cfg, r, r->cgi, &rep))
		return rep;
	if (r->cgi == FAULT_CGI_LOGIN)
		return http_login(cfg, r);

	const char *cookie = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, "session");
	long expire = fault_on(&cfg->faults, FAULT_EXPIRE_AFTER)
			      ? fault_arg(&cfg->faults, FAULT_EXPIRE_AFTER)
			      : -1;
	if (!sess_use(cookie, expire))
		return http_reply_no_session(cfg);
	if (r->cgi == FAULT_CGI_DELETE && cfg->delete_no_session > 0 &&
	    atomic_fetch_add(&http_dead_deletes, 1) < cfg->delete_no_session) {
		sess_kill(cookie); /* the session died between listing and delete */
		return http_reply_no_session(cfg);
	}
	if (r->cgi & (FAULT_CGI_LIST | FAULT_CGI_DOWNLOAD | FAULT_CGI_DELETE | FAULT_CGI_CDR_QUERY |
		      FAULT_CGI_CDR_CSV))
		live_sync(); /* recordings in progress grow before we answer */
	if (r->cgi == FAULT_CGI_LIST)
		return list_handle(cfg, r);
	if (r->cgi == FAULT_CGI_DOWNLOAD)
		return tars_handle(cfg, r);
	if (r->cgi == FAULT_CGI_DELETE)
		return del_handle(cfg, r);
	return cdrcgi_handle(cfg, r, r->cgi);
}

/* The libmicrohttpd response for rep (slowed when stall or drip bites),
 * or NULL; rep's resources are handed over either way. */
static struct MHD_Response *http_build(struct http_req *r, struct http_reply *rep)
{
	const struct fault_inst *stall = http_fault(r, FAULT_STALL);
	const struct fault_inst *drip = http_fault(r, FAULT_DRIP);
	if (stall || drip) {
		struct pace_src src = { .size = rep->size, .fd = -1 };
		if (rep->kind == HTTP_BODY_BUF) {
			src.size = rep->len;
			src.buf = rep->buf;
		} else if (rep->kind == HTTP_BODY_FD) {
			src.fd = rep->fd;
		} else {
			src.block = rep->block;
			src.reader = rep->reader;
			src.cls = rep->cls;
			src.free_cls = rep->free_cls;
		}
		return pace_response(&src, stall ? stall->value : 0, drip ? drip->value : 0);
	}
	struct MHD_Response *resp = NULL;
	switch (rep->kind) {
	case HTTP_BODY_BUF:
		resp = MHD_create_response_from_buffer(rep->len, rep->buf, MHD_RESPMEM_MUST_FREE);
		if (!resp)
			free(rep->buf);
		break;
	case HTTP_BODY_FD:
		resp = MHD_create_response_from_fd64(rep->size, rep->fd);
		if (!resp)
			close(rep->fd);
		break;
	case HTTP_BODY_STREAM:
		resp = MHD_create_response_from_callback(rep->size, rep->block, rep->reader,
							 rep->cls, rep->free_cls);
		if (!resp)
			rep->free_cls(rep->cls);
		break;
	case HTTP_BODY_NONE:
	default:
		break;
	}
	return resp;
}

static enum MHD_Result http_queue(struct MHD_Connection *conn, struct http_req *r,
				  struct http_reply rep)
{
	static const char oom[] = "{\"status\":\"fail\",\"message\":\"out of memory\"}\n";
	/* a stream logs itself when done: give it the final tag first */
	if (rep.kind == HTTP_BODY_STREAM)
		*rep.tag = r->tag;
	struct MHD_Response *resp = http_build(r, &rep);
	if (!resp) {
		if (rep.kind == HTTP_BODY_STREAM)
			return MHD_NO; /* the stream was freed and logged */
		rep = (struct http_reply){ .status = MHD_HTTP_INTERNAL_SERVER_ERROR,
					   .kind = HTTP_BODY_NONE, .len = sizeof oom - 1 };
		resp = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom,
						       MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		rep.ctype = "application/json";
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rep.ctype);
	for (size_t i = 0; i < rep.nxhdr; i++)
		MHD_add_response_header(resp, rep.xhdr[i].name, rep.xhdr[i].value);
	if (rep.truncated)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	inject_headers(r->cfg, r, &rep, resp);
	if (rep.kind == HTTP_BODY_STREAM)
		*rep.tag = r->tag; /* now with the pacing and header faults */
	enum MHD_Result ret = MHD_queue_response(conn, rep.status, resp);
	if (rep.kind != HTTP_BODY_STREAM)
		http_log(&r->tag, rep.status, rep.kind == HTTP_BODY_FD ? rep.size : rep.len);
	MHD_destroy_response(resp);
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
	bool is_cgi = strncmp(url, HTTP_CGI_PREFIX, strlen(HTTP_CGI_PREFIX)) == 0;
	const char *cgi = is_cgi ? url + strlen(HTTP_CGI_PREFIX) : url;
	snprintf(r->tag.cgi, sizeof r->tag.cgi, "%s", cgi[0] ? cgi : "-");
	r->tag.npaths = -1;
	r->cgi = is_cgi ? fault_cgi_bit(cgi) : 0;
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
		r->cfg = cfg;
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
	http_reqlog_fd = cfg->request_log_fd;
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, 0, NULL, NULL, http_access, (void *)cfg,
		MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)addr,
		/* SO_REUSEADDR: a test may restart the fake on the same port */
		MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
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
	pace_stop();
	if (d)
		MHD_stop_daemon(d);
	sess_clear();
}
