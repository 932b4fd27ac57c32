/* csv.h — an RFC 4180 CSV reader over bytes held in memory (the 9005 CDR export, which the
 * caller fetches under a byte cap). Pure: no I/O, no allocation.
 *
 * What it reads: fields separated by ',', records ended by CRLF or LF (a CR elsewhere outside
 * quotes is refused); quoted fields holding ',', CR, LF and doubled quotes (""); a UTF-8 BOM
 * at the start; a last record without its line end. Empty lines are not records (a PBX may end
 * its export with one, and a record of one empty field carries nothing). Every field is
 * decoded into the reader's own buffer and NUL-terminated, so fields are C strings; a field
 * holding a NUL byte is refused. Errors name the line (1-based, counting LFs, so a line inside
 * a quoted field counts). Caps: CSV_FIELD_MAX bytes in a field, CSV_FIELDS_MAX fields and
 * CSV_RECORD_MAX decoded bytes in a record; reaching one is an error, never a cut. */
#ifndef NEXO_CSV_H
#define NEXO_CSV_H

#include <stddef.h>

#define CSV_FIELD_MAX 1024  /* bytes of one decoded field, without its NUL */
#define CSV_FIELDS_MAX 64   /* fields of one record (the 9005 layout has 18) */
#define CSV_RECORD_MAX 8192 /* decoded bytes of one record, with a NUL per field */

struct csv_field {
	const char *text; /* NUL-terminated, inside the reader; valid until the next csv_next() */
	size_t len;
};

/* A reading position in `buf`. Set up by csv_init(); the rest is the current record. */
struct csv_reader {
	const char *buf;
	size_t len, pos;
	size_t line;        /* the line the reading position is on */
	size_t record_line; /* the line the current record starts on */
	int failed;         /* an error was returned; every later call returns -1 again */
	size_t nfields;
	struct csv_field field[CSV_FIELDS_MAX];
	char text[CSV_RECORD_MAX];
};

/* Starts reading `len` bytes of `buf`, which must outlive the reader. */
void csv_init(struct csv_reader *r, const char *buf, size_t len);

/* The next record. Returns 1 with r->field[0 .. r->nfields) and r->record_line set (nfields
 * is at least 1); 0 at the end of the bytes; -1 with `err` set ("line N: why") on an
 * unterminated quoted field, a quote inside an unquoted field, text after a closing quote, a
 * stray CR, a NUL byte, or a cap reached. */
int csv_next(struct csv_reader *r, char *err, size_t errlen);

/* Reads all of `buf` and counts its records. *has_header is 1 when the first record's first
 * field equals `first_column` (ASCII case-insensitive, blanks around it ignored): then that
 * record is a header and is not counted in *records. For the 9005 export, `first_column` is
 * CDR_CSV_FIRST_COLUMN (cdr.h). Returns 0, or -1 with `err` set as csv_next() does (the
 * outputs are then unspecified). */
int csv_count(const char *buf, size_t len, const char *first_column, size_t *records,
	      int *has_header, char *err, size_t errlen);

#endif
