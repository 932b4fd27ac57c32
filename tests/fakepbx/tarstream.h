/*
 * tarstream.h — CGI 20036, downloading recordings as a streamed tar.
 */
#ifndef FAKEPBX_TARSTREAM_H
#define FAKEPBX_TARSTREAM_H

#include "fakepbx.h"
#include "http.h"

/*
 * Answer a download request: the paths in wavefiles/wavfiles (as
 * cfg->download_key allows), joined by ';', that are well-formed and exist
 * as regular files, in request order, as a ustar archive named
 * AutoMonitor-YYYYMonDD.HHMMSS.tar with a Content-Length computed ahead.
 * Honours --tar-names, --bare-single (the bare WAV, untouched by faults)
 * and the tar faults (omit-one, evil-names, tar-*, wav-*-header,
 * reset-mid-body). Files are read in large blocks while sending; memory
 * use does not grow with their size. Tar streams log themselves.
 */
struct http_reply tars_handle(const struct fpx_config *cfg, struct http_req *r);

#endif
