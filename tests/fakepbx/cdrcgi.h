/*
 * cdrcgi.h — CGIs 9006 (query CDRs as JSON), 9005 (download them as CSV)
 * and 9004 (delete them).
 */
#ifndef FAKEPBX_CDRCGI_H
#define FAKEPBX_CDRCGI_H

#include "fakepbx.h"
#include "http.h"

/*
 * Answer a CDR request of CGI bit cgi (FAULT_CGI_CDR_QUERY, _CSV or
 * _DELETE) from cfg->cdrs, filtered by the guide's parameters (startdate,
 * enddate, src, dst, disposition, userfield, minbillsec, maxbillsec,
 * cidname, in_route, IVR, port). 9006: {"json_array_astcdrs":...,
 * "json_obj_filter":{...}}; 9005: text/csv; 9004: deletes the matching
 * rows and answers {"status":"success","deleted":N}, logging the call to
 * cfg->cdr_delete_log_fd. Unparseable filters answer 200
 * {"status":"fail","message":"bad <parameter>"}.
 */
struct http_reply cdrcgi_handle(const struct fpx_config *cfg, struct http_req *r, unsigned cgi);

#endif
