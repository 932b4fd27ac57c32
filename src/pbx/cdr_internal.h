/* cdr_internal.h — what cdr.c (the 9006 parser) shares with cdrjoin.c (the join, and the JSON
 * written for a row): the table of a row's fields, and calldates as seconds. Not a contract
 * for any other module; that is cdr.h. */
#ifndef NEXO_CDR_INTERNAL_H
#define NEXO_CDR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* In the guide's order (that of CDR_CSV_COLUMNS), which cdr_row_jsonl writes. */
enum cdr_field {
	F_CALLDATE, F_SRC, F_CONTACT, F_GROUPNAME, F_DST, F_CHANNEL, F_DSTCHANNEL, F_DURATION,
	F_BILLSEC, F_DISPOSITION, F_USERFIELD, F_ACCOUNTCODE, F_CIDNAME, F_IN_ROUTE, F_IVR,
	F_RECORDING, F_UNIQUEID, F_PORT, F_COUNT
};

struct cdr_field_spec {
	const char *name[4]; /* the guide's spelling first, then others; NULL-padded */
	size_t off, cap;     /* a text member of struct cdr; cap 0: a number (duration...) */
};

extern const struct cdr_field_spec cdr_spec[F_COUNT];

/* "YYYY-MM-DD HH:MM:SS" (or "YYYY-MM-DD HH:MM", given ":00") as naive seconds. Returns 0, or
 * -1 when `t` is not such a date. */
int cdr_date_seconds(const char *t, int64_t *out);

#endif
