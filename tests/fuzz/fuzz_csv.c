/* fuzz_csv.c — the CSV reader (src/pbx/csv.h) on hostile 9005 exports.
 *
 * Input: the whole input is the export. It is read twice: by csv_count (with the 9005 header's
 * first column, CDR_CSV_FIRST_COLUMN) and by a csv_next loop to the end. Each record the loop
 * returns is written back as CSV (every field quoted, quotes doubled, CRLF) and read again by
 * a fresh reader.
 * Invariants: no crash; csv_next gives 1, 0 or -1, and after 0 or -1 gives the same again;
 * err is NUL-terminated and "line N: ..." on failure; a record has 1 to CSV_FIELDS_MAX
 * fields, each NUL-terminated at its len, without a NUL inside, at most CSV_FIELD_MAX bytes,
 * inside the reader's text; record lines start at 1 and never go back; csv_count fails
 * exactly when the loop does, with the same message, and otherwise counts its records, with
 * has_header exactly when the first field is "calldate" (blanks around it, any case); a
 * record written back reads as the same fields, in one record. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"
#include "pbx/cdr.h"
#include "pbx/csv.h"

/* A record quoted: 2 bytes per decoded byte at worst, 3 per field, CRLF. */
#define REWRITE_MAX (2 * CSV_RECORD_MAX + 3 * CSV_FIELDS_MAX + 2)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	return 0;
}

static void check_err(const char *err, size_t cap)
{
	FUZZ_CHECK(memchr(err, '\0', cap) != NULL, "err not NUL-terminated");
	FUZZ_CHECK(strncmp(err, "line ", 5) == 0 && err[5] >= '1' && err[5] <= '9',
		   "err \"%s\" does not name a line", err);
}

static void check_record(const struct csv_reader *r, size_t n)
{
	FUZZ_CHECK(r->nfields >= 1 && r->nfields <= CSV_FIELDS_MAX, "record %zu: %zu fields", n,
		   r->nfields);
	for (size_t i = 0; i < r->nfields; i++) {
		const struct csv_field *f = &r->field[i];

		FUZZ_CHECK(f->text >= r->text && f->text + f->len < r->text + CSV_RECORD_MAX,
			   "record %zu field %zu: outside the reader's text", n, i);
		FUZZ_CHECK(f->len <= CSV_FIELD_MAX, "record %zu field %zu: %zu bytes", n, i, f->len);
		FUZZ_CHECK(f->text[f->len] == '\0' && strlen(f->text) == f->len,
			   "record %zu field %zu: len %zu but strlen %zu", n, i, f->len,
			   strlen(f->text));
	}
}

/* The record written back as CSV reads as the same fields. */
static void check_rewrite(const struct csv_reader *r, size_t n)
{
	static char buf[REWRITE_MAX];
	static struct csv_reader again;
	char err[256];
	size_t len = 0;
	int rc;

	for (size_t i = 0; i < r->nfields; i++) {
		const struct csv_field *f = &r->field[i];

		if (i > 0)
			buf[len++] = ',';
		buf[len++] = '"';
		for (size_t k = 0; k < f->len; k++) {
			if (f->text[k] == '"')
				buf[len++] = '"';
			buf[len++] = f->text[k];
		}
		buf[len++] = '"';
	}
	buf[len++] = '\r';
	buf[len++] = '\n';
	csv_init(&again, buf, len);
	rc = csv_next(&again, err, sizeof err);
	FUZZ_CHECK(rc == 1, "record %zu written back: %d (%s)", n, rc, rc < 0 ? err : "");
	FUZZ_CHECK(again.nfields == r->nfields, "record %zu written back: %zu fields, not %zu", n,
		   again.nfields, r->nfields);
	for (size_t i = 0; i < r->nfields; i++)
		FUZZ_CHECK(again.field[i].len == r->field[i].len &&
				   memcmp(again.field[i].text, r->field[i].text, r->field[i].len) == 0,
			   "record %zu field %zu differs when written back", n, i);
	rc = csv_next(&again, err, sizeof err);
	FUZZ_CHECK(rc == 0, "record %zu written back: a second record (%d)", n, rc);
}

static int is_header(const struct csv_field *f)
{
	const char *s = f->text, *want = CDR_CSV_FIRST_COLUMN;
	size_t len = f->len;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return len == strlen(want) && strncasecmp(s, want, len) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct csv_reader r;
	const char *buf = (const char *)data;
	char err[256], err2[256];
	size_t n = 0, counted = 99, last_line = 1;
	int rc, count_rc, header = -1, first_is_header = 0;

	memset(err2, 'x', sizeof err2);
	count_rc = csv_count(buf, size, CDR_CSV_FIRST_COLUMN, &counted, &header, err2,
			     sizeof err2);
	FUZZ_CHECK(count_rc == 0 || count_rc == -1, "csv_count gave %d", count_rc);

	csv_init(&r, buf, size);
	memset(err, 'x', sizeof err);
	while ((rc = csv_next(&r, err, sizeof err)) == 1) {
		check_record(&r, n);
		FUZZ_CHECK(r.record_line >= last_line && r.record_line <= r.line,
			   "record %zu: line %zu after %zu (now on %zu)", n, r.record_line,
			   last_line, r.line);
		last_line = r.record_line;
		if (n == 0)
			first_is_header = is_header(&r.field[0]);
		check_rewrite(&r, n);
		n++;
	}
	FUZZ_CHECK(rc == 0 || rc == -1, "csv_next gave %d", rc);
	if (rc < 0) {
		check_err(err, sizeof err);
		FUZZ_CHECK(count_rc == -1, "csv_next failed after %zu records (%s); csv_count did "
			   "not", n, err);
		FUZZ_CHECK(strcmp(err, err2) == 0, "csv_next: \"%s\"; csv_count: \"%s\"", err, err2);
		FUZZ_CHECK(csv_next(&r, err, sizeof err) == -1, "csv_next read on after an error");
		return 0;
	}
	FUZZ_CHECK(csv_next(&r, err, sizeof err) == 0, "csv_next went on after the end");
	FUZZ_CHECK(count_rc == 0, "csv_count failed (%s); the loop read %zu records", err2, n);
	FUZZ_CHECK(header == first_is_header, "has_header %d, first field says %d", header,
		   first_is_header);
	FUZZ_CHECK(counted + (size_t)header == n, "csv_count %zu + header %d, the loop %zu",
		   counted, header, n);
	return 0;
}
