/* recname.h — one recording, three spellings: the PBX's listing path
 * ("20210422/20210422-010152-1619082112-Internal-205-204.wav"), the CDR's "Recording filename"
 * (the same, or a bare name, or empty) and AMI's "File Name" / "Recording File Name" (the full
 * path on the PBX disk without ".wav": "/media/usbStorage/monitor/20210422/2021…-205-204").
 * They are matched by a key: the base name without ".wav". Pure; hostile input is refused. */
#ifndef NEXO_RECNAME_H
#define NEXO_RECNAME_H

#include <stddef.h>

/* The key of any spelling: the text after the last '/', without a trailing ".wav" (any case)
 * and surrounding blanks. Returns 0, or -1 when it is empty, too long for `outlen`, or holds a
 * control character, '\\' or "..". */
int recname_key(const char *name, char *out, size_t outlen);

/* The listing path ("YYYYMMDD/<key>.wav") of any spelling: the folder is the one holding the
 * file when that is a "YYYYMMDD" date, else the name's own "YYYYMMDD-" prefix. Returns 0, or
 * -1 as recname_key() does or when neither gives a day. */
int recname_to_pbx_path(const char *name, char *out, size_t outlen);

#endif
