/*
 * cdr.h — the PBX's call detail records: rows, their JSON, their file.
 *
 * The CDRs live in DIR/cdr.jsonl at the top of the served disk: one JSON
 * object per line with the CGI 9006 field names in the guide's order, all
 * strings but "port" (a number). The recording scanner never looks at the
 * top of the disk (only at YYYYMMDD folders) and download/delete paths must
 * be "YYYYMMDD/name.wav", so the file is never listed or served as a
 * recording. A disk without the file has no CDRs.
 *
 * A running server keeps the rows in a struct cdr_store (one mutex):
 * appending writes one line, deleting rewrites the file (temp + fsync +
 * rename), so a restarted fake on the same disk sees the same rows.
 */
#ifndef FAKEPBX_CDR_H
#define FAKEPBX_CDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fakepbx.h"
#include "sbuf.h"

#define CDR_FILE "cdr.jsonl"
#define CDR_MONITOR_DIR "/media/usbStorage/monitor/"

/* The string fields, in the guide's order; "port" (a number) comes last. */
enum cdr_field {
	CDR_CALLDATE, CDR_SRC, CDR_CONTACT, CDR_GROUPNAME, CDR_DST, CDR_CHANNEL,
	CDR_DSTCHANNEL, CDR_DURATION, CDR_BILLSEC, CDR_DISPOSITION, CDR_USERFIELD,
	CDR_ACCOUNTCODE, CDR_CIDNAME, CDR_IN_ROUTE, CDR_IVR, CDR_RECFILE, CDR_UNIQUEID,
	CDR_NSTR
};

/* The JSON/CSV names of the fields: CDR_NSTR strings, then "port". */
extern const char *const cdr_names[CDR_NSTR + 1];

struct cdr_row {
	char *f[CDR_NSTR]; /* each its own allocation, never NULL in a filled row */
	long port;
	bool hidden;       /* --cdr-hide: withheld from the CGIs, kept in the file */
};

struct cdr_list {
	struct cdr_row *v;
	size_t n, cap;
};

/* How rows are shown by the CGIs (the file always holds the canonical form). */
struct cdr_view {
	bool int_values;              /* duration and billsec as JSON numbers */
	enum fpx_cdr_recname recname; /* spelling of "Recording filename" */
	size_t long_fields;           /* --long-fields N (0: off) */
};

/* True for the fields --long-fields pads in 9006/9005: channel,
 * dstchannel, src, dst, cidname, accountcode. */
bool cdr_field_is_long(size_t f);

/* A call, as the generators describe it. */
struct cdr_call {
	int64_t start;           /* call start, unix time */
	unsigned ring;           /* seconds from start to answer (or to giving up) */
	unsigned billsec;        /* seconds answered */
	const char *type;        /* Inbound, Outbound, Internal, CallBack, Conference */
	const char *src, *dst;
	const char *trunk;       /* NULL for Internal */
	const char *disposition; /* ANSWERED, NO ANSWER, BUSY, FAILED */
	const char *recpath;     /* "YYYYMMDD/name.wav", or NULL: not recorded */
	unsigned long seq;       /* the UniqueID's part after the '.' */
	int64_t zone;            /* added to start for the local calldate (--zone-offset
	                            for calls added while running; 0 when generated) */
};

/* Fill row (empty on entry) from c. Returns 0, or -1 out of memory (row
 * is then cleared). */
int cdr_from_call(const struct cdr_call *c, struct cdr_row *row);

/* Free the fields of row; row is empty afterwards. */
void cdr_row_clear(struct cdr_row *row);

/* Append *row to l, which takes over its fields. Returns 0, or -1 out of
 * memory (row is cleared). */
int cdr_list_push(struct cdr_list *l, struct cdr_row *row);

/* Free every row and the array; l is empty and reusable. */
void cdr_list_free(struct cdr_list *l);

/* Sort by calldate, then UniqueID: newest first, or oldest first. */
void cdr_list_sort(struct cdr_list *l, bool newest_first);

/* "Recording filename" as v->recname spells it, into buf (n bytes). */
const char *cdr_recname(const struct cdr_row *row, enum fpx_cdr_recname mode, char *buf,
			size_t n);

/* The full AMI path of a row's recording ("/media/usbStorage/monitor/
 * YYYYMMDD/name" without ".wav"), or "" when the row has none; always
 * written to buf (n > 0 bytes), which is returned. */
const char *cdr_ami_name(const struct cdr_row *row, char *buf, size_t n);

/* Append row as a JSON object to sb; v NULL = the file's canonical form. */
void cdr_row_json(struct sbuf *sb, const struct cdr_row *row, const struct cdr_view *v);

/*
 * Read dir/cdr.jsonl into out (appended). Unparseable lines are skipped
 * with a message. Returns 0 (a missing file is no rows), -1 on a read or
 * allocation error (message printed).
 */
int cdr_load(const char *dir, struct cdr_list *out);

/*
 * Replace dir/cdr.jsonl with the rows of l: temp file ".cdr.jsonl.tmp",
 * fsync, rename, fsync of dir. Returns 0, or -1 (message printed; the old
 * file stays).
 */
int cdr_save(const char *dir, const struct cdr_list *l);

struct cdr_store; /* opaque */

/* A row predicate for select/delete. */
typedef bool (*cdr_match_fn)(const struct cdr_row *row, void *arg);

/*
 * Load dir's CDRs and withhold those of the `hide` oldest recordings (by
 * the listing's calldate, i.e. the recording's file name). Returns the
 * store, or NULL (message printed).
 */
struct cdr_store *cdr_store_open(const char *dir, long hide);

/* Free the store (NULL is fine). */
void cdr_store_close(struct cdr_store *s);

/* Append a copy of row to the file and the store. Returns 0, or -1
 * (message printed; the store is unchanged). */
int cdr_store_append(struct cdr_store *s, const struct cdr_row *row);

/* Copy the visible rows for which match() is true to out, newest first.
 * Returns 0, or -1 out of memory. */
int cdr_store_select(struct cdr_store *s, cdr_match_fn match, void *arg,
		     struct cdr_list *out);

/* Remove the visible rows for which match() is true, rewrite the file,
 * and move the removed rows to gone (oldest first). Returns 0, or -1
 * (message printed; nothing removed). */
int cdr_store_delete(struct cdr_store *s, cdr_match_fn match, void *arg,
		     struct cdr_list *gone);

#endif
