/*
 * delete.h — CGI 20054, deleting recordings.
 */
#ifndef FAKEPBX_DELETE_H
#define FAKEPBX_DELETE_H

#include "fakepbx.h"
#include "http.h"

/*
 * Delete the well-formed, existing paths named in wavefiles/wavfiles
 * (';'-joined) and answer {"status":"success","deleted":N}. With
 * cfg->delete_log_fd >= 0, first append "<path> <sha256 hex>\n" for each
 * file, so a test can prove what was deleted; every real deletion, fault
 * or not, is logged so. Deletes are serialised. Faults: delete-noop
 * (count, delete nothing, log nothing), delete-error-but-deletes (delete
 * and log, answer 500), json-truncated@20054.
 */
struct http_reply del_handle(const struct fpx_config *cfg, struct http_req *r);

#endif
