/*
 * list.h — CGI 20053, the recordings listing.
 */
#ifndef FAKEPBX_LIST_H
#define FAKEPBX_LIST_H

#include <stdbool.h>

#include "fakepbx.h"
#include "http.h"

/*
 * Answer a listing request: filter by startdate/enddate (bound.h; both
 * empty means today), src/dst (substring), trunk and
 * calltype ("All"/empty = any), min/maxduration; newest first, at most
 * cfg->max_rows rows; JSON in the shape cfg->list_style says, bent by the
 * listing faults that bite. Bad filter values answer 200
 * {"status":"fail",...}. The JSON is streamed and the stream logs itself
 * (json-truncated: a buffer cut short).
 */
struct http_reply list_handle(const struct fpx_config *cfg, struct http_req *r);

#endif
