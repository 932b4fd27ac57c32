/*
 * tarfmt.h — the ustar format, as the fake PBX writes it.
 *
 * Header blocks (with a pax "path" record for names that do not fit),
 * padding arithmetic, and the tiny WAV the tar faults smuggle in. Pure
 * functions over caller memory: no I/O, no allocation.
 */
#ifndef FAKEPBX_TARFMT_H
#define FAKEPBX_TARFMT_H

#include <stddef.h>
#include <stdint.h>

#define TARFMT_BLOCK 512
#define TARFMT_HDR_MAX (3 * TARFMT_BLOCK) /* pax header + pax data + ustar header */
#define TARFMT_BLOB_DATA 1600             /* 0.1 s of 8 kHz 16-bit audio */
#define TARFMT_BLOB_SIZE (44 + TARFMT_BLOB_DATA)

/* What one header describes. */
struct tarfmt_meta {
	const char *name;   /* < 300 bytes */
	char type;          /* '0' file, '1' hardlink, '2' symlink, '3' char device */
	uint64_t size;      /* data bytes that follow the header */
	int64_t mtime;
	const char *link;   /* '1'/'2': target (<= 100 bytes), else NULL */
	unsigned devmajor, devminor; /* '3' */
	int pax;            /* nonzero: always a pax header first (readers then obey
	                       the size of a hardlink: its data is the entry's body) */
};

/*
 * Write the header block(s) for m to out (TARFMT_HDR_MAX bytes of room):
 * one ustar block, using the prefix field when the name splits at a '/',
 * else a pax 'x' header with a "path" record first. Sizes of 8 GiB and
 * more use GNU base-256. Returns the bytes written (512 or 1536).
 */
size_t tarfmt_header(unsigned char *out, const struct tarfmt_meta *m);

/* n rounded up to whole blocks. */
uint64_t tarfmt_padded(uint64_t n);

/* A valid 8 kHz 16-bit mono WAV of TARFMT_BLOB_SIZE bytes (a 500 Hz
 * square wave) into b. */
void tarfmt_blob(unsigned char *b);

#endif
