/* cdr.h — call detail records: a 9006 answer (JSON bytes) → rows, the join of a recording
 * with its CDR, and the two ways a CDR is written (the manifest's "cdr" object and the CDR
 * archive's JSONL line). Pure: no I/O.
 *
 * The guide shows the rows under "json_array_astcdrs" as numbered objects with string values
 * (but `port: 0`); as with 20053 (listing.h), the parser also takes an array under that key,
 * rows under any other key whose elements carry "calldate" and "UniqueID", numbered members
 * of the top-level object, or a bare array. Values may be strings or numbers; field names
 * match ASCII case-insensitively; "Recording filename" may also be spelled "Recording File
 * Name" (AMI), "recordingfile" (Asterisk's cdr column) or "recording". Unlike a listing, a CDR
 * row is refused loudly: a row that cannot be kept fails the whole answer, naming the row, so
 * that no recording is later flagged "missing its CDR" because its row was dropped.
 *
 * The 9005 CSV export (csv.h) has no layout in the guide; ours is a header line of the 9006
 * names in the order of CDR_CSV_COLUMNS, or no header at all (then the same order). */
#ifndef NEXO_CDR_H
#define NEXO_CDR_H

#include <stddef.h>
#include "recording.h"

struct json_object;

#define CDR_FIELD_MAX 80    /* text fields; Asterisk's own channel names stay under 80 */
#define CDR_UNIQUEID_MAX 64 /* "1620378302.28"; newer Asterisk allows up to 150: refused */
#define CDR_JSONL_MAX 16384 /* cdr_row_jsonl(): room for any row, every byte escaped */
#define CDR_CSV_FIRST_COLUMN "calldate"
#define CDR_CSV_COLUMNS                                                                       \
	"calldate,src,contact,groupname,dst,channel,dstchannel,duration,billsec,disposition," \
	"userfield,accountcode,cidname,in_route,IVR,Recording filename,UniqueID,port"

struct cdr {
	char uniqueid[CDR_UNIQUEID_MAX];
	char calldate[REC_DATE_LEN + 1]; /* PBX local time, call start: "YYYY-MM-DD HH:MM:SS" */
	char src[CDR_FIELD_MAX];
	char dst[CDR_FIELD_MAX];
	char contact[CDR_FIELD_MAX];
	char groupname[CDR_FIELD_MAX];
	char channel[CDR_FIELD_MAX];
	char dstchannel[CDR_FIELD_MAX];
	char disposition[CDR_FIELD_MAX]; /* "ANSWERED", "NO ANSWER", "BUSY", "FAILED" */
	char userfield[CDR_FIELD_MAX];   /* the call type */
	char accountcode[CDR_FIELD_MAX];
	char cidname[CDR_FIELD_MAX];
	char in_route[CDR_FIELD_MAX];
	char ivr[CDR_FIELD_MAX];
	char recording[REC_PATH_MAX];    /* "Recording filename" as sent; "" when none */
	char recording_key[REC_PATH_MAX]; /* recname_key() of it; "" when empty or refused */
	long duration;                   /* seconds, call start to end; -1 when absent or bad */
	long billsec;                    /* seconds, answer to end; -1 when absent or bad */
	int port;                        /* GSM module port; -1 when absent or bad */
	unsigned cut;                    /* bit i: field i of the row (cdr_internal.h's order)
					  * was longer than it fits and is kept cut */
};

/* Rows one CDR list holds at most: a row is ~1.6 KB, so 10,000 are ~16 MB (a run's memory
 * stays bounded whatever a PBX answers); a window with more is asked for in parts. */
#define CDR_MAX_ROWS 10000

struct cdr_list {
	struct cdr *rows;
	size_t count;
	size_t cap;
	long long totalcount; /* from json_obj_filter; -1 when absent */
};

enum cdr_result {
	CDR_OK = 0,
	CDR_ERROR_OBJECT = 1, /* an object with no rows and no json_obj_filter: the PBX said
			       * "no" (typically a dead session) rather than "nothing" */
	CDR_BAD = -1,         /* not JSON, JSON of no shape we can read, or a row refused */
	CDR_TOO_MANY = 2,     /* the rows would pass CDR_MAX_ROWS (none were added) */
};

enum cdr_join_how { CDR_JOIN_NONE = 0, CDR_JOIN_NAME, CDR_JOIN_TIME };

void cdr_list_init(struct cdr_list *l);
void cdr_list_free(struct cdr_list *l); /* and re-init; a no-op on an init'ed list */

/* Adds one row (used by the parser and by tests). Returns 0, or -1 when out of memory. */
int cdr_list_push(struct cdr_list *l, const struct cdr *c); /* -2: CDR_MAX_ROWS reached */

/* Parses `len` bytes of a 9006 answer and appends its rows to `out` (windows can be gathered
 * into one list); an answer counts whole or not at all. out->totalcount takes this answer's
 * value. Returns an enum cdr_result; on CDR_BAD and CDR_ERROR_OBJECT `err` says why (for a
 * row: "row N: ..."; for an error object: its text, escaped and cut to fit). Zero rows and an
 * empty object or array are CDR_OK. A row needs a "calldate" that is a date ("YYYY-MM-DD
 * HH:MM:SS", or "YYYY-MM-DD HH:MM" taken as ":00") and a non-empty "UniqueID"; every text it
 * keeps must fit its field, be strict UTF-8 and hold no NUL byte. Other fields default to ""
 * and -1. Nesting deeper than 16 levels fails. The caller caps `len` (pbx.c). */
int cdr_parse(const char *json, size_t len, struct cdr_list *out, char *err, size_t errlen);

/* The row of `cdrs` that describes recording `rec`. Returns its index with *how set, or -1
 * with *how = CDR_JOIN_NONE (the caller flags the recording as missing its CDR).
 *  1. By name (CDR_JOIN_NAME): rows whose recording_key equals recname_key(rec->pbx_path).
 *     Asterisk may write several CDRs for one call (ring-group or queue legs, forked CDRs,
 *     the same row from overlapping windows); among them: disposition ANSWERED first, then
 *     the largest billsec, then the earliest calldate, then the lowest index.
 *  2. Else by time (CDR_JOIN_TIME), for rows with an empty recording_key: the same src and
 *     the same dst as `rec` (neither empty), and CDR calldate <= rec calldate <= CDR calldate
 *     + duration (0 when unknown) + 60 s, since a recording's calldate is the answer time, a
 *     few seconds after the call's start. Among them: the latest CDR calldate, then the order
 *     of rule 1.
 *  3. Else -1. */
int cdr_join(const struct cdr_list *cdrs, const struct recording *rec, enum cdr_join_how *how);

/* The manifest's "cdr" object for `c`, joined by `how` (NAME or TIME), with members in this
 * order: uniqueid, calldate, disposition, duration and billsec (numbers, null when -1),
 * accountcode, cidname, in_route, ivr, channel, dstchannel, userfield, src, dst, joined_by
 * ("name" or "time"). Returns 0 with *out a new object owned by the caller (to be added to a
 * manifest line with json_object_object_add), or -1 when `how` is CDR_JOIN_NONE or out of
 * memory. */
int cdr_to_json(const struct cdr *c, enum cdr_join_how how, struct json_object **out);

/* The line for ARCHIVE/cdr/YYYY-MM-DD.jsonl: `c` as one JSON object with the guide's 9006
 * names in the order of CDR_CSV_COLUMNS, every value a string (duration and billsec "" when
 * -1) except port (a number, null when -1), then '\n' and a NUL. The same row always gives
 * the same bytes. Returns the length without the NUL, or -1 when it does not fit in `len`
 * (CDR_JSONL_MAX always suffices) or out of memory. */
int cdr_row_jsonl(const struct cdr *c, char *buf, size_t len);

#endif
