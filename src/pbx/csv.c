/* csv.c — see csv.h. One pass over the bytes, one byte at a time; the reader never looks
 * behind its position, so a hostile export costs time linear in its size. */
#include "csv.h"

#include <string.h>
#include <strings.h>

#include "base/log.h"

void csv_init(struct csv_reader *r, const char *buf, size_t len)
{
	memset(r, 0, sizeof *r);
	r->buf = buf;
	r->len = len;
	r->line = 1;
	/* Spreadsheet tools write a BOM; it is not part of the first field. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		r->pos = 3;
}

static int fail(struct csv_reader *r, char *err, size_t errlen, size_t line, const char *why)
{
	r->failed = 1;
	err_set(err, errlen, "line %zu: %s", line, why);
	return -1;
}

static int too_big(struct csv_reader *r, char *err, size_t errlen, const char *what, int cap)
{
	r->failed = 1;
	err_set(err, errlen, "line %zu: %s over the cap of %d", r->record_line, what, cap);
	return -1;
}

/* Appends one decoded byte to the field that began at `start` in r->text. */
static int put(struct csv_reader *r, size_t *out, size_t start, char c, char *err,
	       size_t errlen)
{
	if (c == '\0')
		return fail(r, err, errlen, r->line, "a NUL byte in a field");
	if (*out - start >= CSV_FIELD_MAX)
		return too_big(r, err, errlen, "a field's bytes", CSV_FIELD_MAX);
	if (*out + 1 >= CSV_RECORD_MAX) /* room for this byte and the field's NUL */
		return too_big(r, err, errlen, "a record's bytes", CSV_RECORD_MAX);
	r->text[(*out)++] = c;
	return 0;
}

/* Past a line end at r->pos (LF, CRLF, or a CR that ends the bytes). Returns 1 when there was
 * one, 0 when the byte is something else, -1 on a CR followed by anything but LF. */
static int line_end(struct csv_reader *r)
{
	const char *b = r->buf;

	if (b[r->pos] == '\n') {
		r->pos++;
		r->line++;
		return 1;
	}
	if (b[r->pos] != '\r')
		return 0;
	if (r->pos + 1 == r->len) {
		r->pos++;
		return 1;
	}
	if (b[r->pos + 1] != '\n')
		return -1;
	r->pos += 2;
	r->line++;
	return 1;
}

/* A quoted field, r->pos on its opening quote. */
static int quoted(struct csv_reader *r, size_t *out, size_t start, char *err, size_t errlen)
{
	size_t opened = r->line;

	r->pos++;
	for (;;) {
		char c;

		if (r->pos >= r->len)
			return fail(r, err, errlen, opened, "a quoted field is never closed");
		c = r->buf[r->pos];
		if (c == '"') {
			if (r->pos + 1 < r->len && r->buf[r->pos + 1] == '"') {
				if (put(r, out, start, '"', err, errlen) != 0)
					return -1;
				r->pos += 2;
				continue;
			}
			r->pos++;
			break;
		}
		if (c == '\n')
			r->line++;
		if (put(r, out, start, c, err, errlen) != 0)
			return -1;
		r->pos++;
	}
	if (r->pos < r->len && r->buf[r->pos] != ',' && r->buf[r->pos] != '\n' &&
	    r->buf[r->pos] != '\r')
		return fail(r, err, errlen, r->line, "text after a closing quote");
	return 0;
}

static int unquoted(struct csv_reader *r, size_t *out, size_t start, char *err, size_t errlen)
{
	while (r->pos < r->len) {
		char c = r->buf[r->pos];

		if (c == ',' || c == '\n' || c == '\r')
			break;
		if (c == '"')
			return fail(r, err, errlen, r->line, "a quote inside an unquoted field");
		if (put(r, out, start, c, err, errlen) != 0)
			return -1;
		r->pos++;
	}
	return 0;
}

/* Ends the field that began at `start`: its NUL, and its place in r->field. */
static int end_field(struct csv_reader *r, size_t *out, size_t start, char *err, size_t errlen)
{
	if (r->nfields == CSV_FIELDS_MAX)
		return too_big(r, err, errlen, "a record's fields", CSV_FIELDS_MAX);
	if (*out >= CSV_RECORD_MAX) /* only empty fields get here without put()'s check */
		return too_big(r, err, errlen, "a record's bytes", CSV_RECORD_MAX);
	r->text[(*out)++] = '\0';
	r->field[r->nfields].text = r->text + start;
	r->field[r->nfields].len = *out - start - 1;
	r->nfields++;
	return 0;
}

int csv_next(struct csv_reader *r, char *err, size_t errlen)
{
	size_t out = 0;
	int end;

	if (r->failed)
		return fail(r, err, errlen, r->line, "reading after an error");
	r->nfields = 0;
	for (;;) { /* empty lines between records */
		if (r->pos >= r->len)
			return 0;
		end = line_end(r);
		if (end < 0)
			return fail(r, err, errlen, r->line, "a CR not followed by LF");
		if (end == 0)
			break;
	}
	r->record_line = r->line;
	for (;;) {
		size_t start = out;

		if (r->buf[r->pos] == '"' ? quoted(r, &out, start, err, errlen)
					  : unquoted(r, &out, start, err, errlen))
			return -1;
		if (end_field(r, &out, start, err, errlen) != 0)
			return -1;
		if (r->pos >= r->len)
			return 1; /* no line end after the last record */
		if (r->buf[r->pos] == ',') {
			r->pos++;
			/* "a,b,": the last field is empty, and so is one after a ',' at the end */
			if (r->pos < r->len)
				continue;
			return end_field(r, &out, out, err, errlen) == 0 ? 1 : -1;
		}
		if (line_end(r) < 0)
			return fail(r, err, errlen, r->line, "a CR not followed by LF");
		return 1;
	}
}

int csv_count(const char *buf, size_t len, const char *first_column, size_t *records,
	      int *has_header, char *err, size_t errlen)
{
	struct csv_reader r;
	size_t n = 0;
	int rc;

	*records = 0;
	*has_header = 0;
	csv_init(&r, buf, len);
	while ((rc = csv_next(&r, err, errlen)) == 1) {
		if (n++ == 0) {
			const char *f = r.field[0].text;
			size_t flen = r.field[0].len, want = strlen(first_column);

			while (flen > 0 && (*f == ' ' || *f == '\t')) {
				f++;
				flen--;
			}
			while (flen > 0 && (f[flen - 1] == ' ' || f[flen - 1] == '\t'))
				flen--;
			*has_header = flen == want && strncasecmp(f, first_column, want) == 0;
		}
	}
	if (rc < 0)
		return -1;
	*records = n - (size_t)*has_header;
	return 0;
}
