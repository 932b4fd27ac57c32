/*
 * inject.h — faults that replace or decorate a whole answer, whatever the
 * CGI: status, redirect-login, html-200 (replace); clock-skew,
 * retry-after, header-flood, header-long (decorate).
 */
#ifndef FAKEPBX_INJECT_H
#define FAKEPBX_INJECT_H

#include <stdbool.h>

#include "fakepbx.h"
#include "http.h"

/*
 * Try the replacing faults on request r for CGI bit cgi, in command-line
 * order. Returns true with *rep set when one of them answers instead of
 * the CGI (its use is spent), false when the CGI should answer.
 */
bool inject_gate(const struct fpx_config *cfg, struct http_req *r, unsigned cgi,
		 struct http_reply *rep);

/* Add the decorating faults' headers for rep (answering r) to resp. */
void inject_headers(const struct fpx_config *cfg, struct http_req *r,
		    const struct http_reply *rep, struct MHD_Response *resp);

#endif
