/*
 * reply.c — the answers every CGI builds: buffers, streams, files, the
 * standard failures, the login page and the no-session answers.
 *
 * Owns the bytes of those bodies and the struct http_reply they travel in;
 * http.c turns a reply into a libmicrohttpd response. No I/O here.
 */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

static const char http_login_page[] =
	"<!DOCTYPE html>\n<html><head><title>IPPBX Login</title></head><body>\n"
	"<form action=\"/cgi/webserve/8401\" method=\"post\">\n"
	"User: <input type=\"text\" name=\"UserName\">\n"
	"Password: <input type=\"password\" name=\"Password\">\n"
	"<input type=\"submit\" value=\"Login\">\n</form>\n</body></html>\n";

struct http_reply http_reply_buf(unsigned status, const char *ctype, const char *body,
				 size_t len)
{
	struct http_reply rep = { .status = status, .kind = HTTP_BODY_BUF, .ctype = ctype, .fd = -1 };
	rep.buf = malloc(len ? len : 1);
	if (!rep.buf)
		return (struct http_reply){ .kind = HTTP_BODY_NONE, .fd = -1 };
	memcpy(rep.buf, body, len);
	rep.len = len;
	return rep;
}

struct http_reply http_reply_fail(unsigned status, const char *msg)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_adds(&sb, "{\"status\":\"fail\",\"message\":");
	sbuf_json_str(&sb, msg);
	sbuf_adds(&sb, "}\n");
	struct http_reply rep = { .kind = HTTP_BODY_NONE, .fd = -1 };
	if (!sbuf_failed(&sb))
		rep = http_reply_buf(status, "application/json", sb.buf, sb.len);
	sbuf_free(&sb);
	return rep;
}

struct http_reply http_reply_login_page(void)
{
	return http_reply_buf(MHD_HTTP_OK, "text/html", http_login_page,
			      sizeof http_login_page - 1);
}

struct http_reply http_reply_redirect_login(void)
{
	static const char moved[] =
		"<html><body>Please <a href=\"/login.html\">log in</a>.</body></html>\n";
	struct http_reply rep = http_reply_buf(MHD_HTTP_FOUND, "text/html", moved,
					       sizeof moved - 1);
	http_reply_header(&rep, MHD_HTTP_HEADER_LOCATION, "/login.html");
	return rep;
}

struct http_reply http_reply_stream(unsigned status, const char *ctype, uint64_t size,
				    size_t block, MHD_ContentReaderCallback reader, void *cls,
				    MHD_ContentReaderFreeCallback free_cls,
				    struct http_logtag *tag)
{
	return (struct http_reply){ .status = status, .kind = HTTP_BODY_STREAM, .ctype = ctype,
				    .size = size, .block = block, .reader = reader, .cls = cls,
				    .free_cls = free_cls, .tag = tag, .fd = -1 };
}

struct http_reply http_reply_fd(unsigned status, const char *ctype, int fd, uint64_t size)
{
	return (struct http_reply){ .status = status, .kind = HTTP_BODY_FD, .ctype = ctype,
				    .fd = fd, .size = size };
}

void http_reply_header(struct http_reply *rep, const char *name, const char *value)
{
	if (rep->nxhdr == HTTP_XHDR_MAX)
		return;
	rep->xhdr[rep->nxhdr].name = name;
	snprintf(rep->xhdr[rep->nxhdr].value, sizeof rep->xhdr[0].value, "%s", value);
	rep->nxhdr++;
}

void http_reply_truncate(struct http_reply *rep, const struct fault_inst *f)
{
	if (rep->kind != HTTP_BODY_BUF)
		return;
	size_t keep = f->value > 0 ? (size_t)f->value : rep->len / 2;
	if (keep < rep->len)
		rep->len = keep;
	rep->truncated = true;
}

struct http_reply http_reply_no_session(const struct fpx_config *cfg)
{
	switch (cfg->no_session) {
	case FPX_NOSESS_HTML:
		return http_reply_login_page();
	case FPX_NOSESS_401:
		return http_reply_fail(MHD_HTTP_UNAUTHORIZED, "not logged in");
	case FPX_NOSESS_REDIRECT:
		return http_reply_redirect_login();
	case FPX_NOSESS_STATUS6: {
		static const char dead[] = "{\"status\":-6}\n";
		return http_reply_buf(MHD_HTTP_OK, "application/json", dead, sizeof dead - 1);
	}
	case FPX_NOSESS_JSON:
	default:
		return http_reply_fail(MHD_HTTP_OK, "not logged in");
	}
}

