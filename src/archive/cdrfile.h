/* cdrfile.h — the CDR archive's files, ARCHIVE/cdr/DAY.jsonl (9006's rows, one JSON object per
 * line) and ARCHIVE/cdr/DAY.csv (9005's export as it came): read whole, parsed back into rows,
 * rendered from rows, written when changed. cdrsync.c decides when. */
#ifndef NEXO_CDRFILE_H
#define NEXO_CDRFILE_H

#include <stddef.h>

struct store;
struct cdr_list;

#define CDRFILE_MAX (64u << 20) /* an archived CDR file larger than this is not ours */

struct cdrfile_buf {
	char *p;    /* malloc'd, NUL-terminated when read; the caller frees */
	size_t len;
};

/* pbx_cdr()'s judge of a 9005 answer (a pbx_cdr_take_fn): the CSV kept in `ctx` (a struct
 * cdrfile_buf) as it came. A JSON object or an HTML page instead of CSV: a dead session. */
int cdrfile_take_csv(void *ctx, const char *body, size_t len);

/* Reads cdr/`name` whole. Returns 1 read, 0 absent, -1 error (printed). */
int cdrfile_read(struct store *s, const char *name, struct cdrfile_buf *out);

/* DAY.jsonl's bytes → rows (replacing `out`'s). Returns 0, or -1 (printed). */
int cdrfile_parse_jsonl(const char *day, const struct cdrfile_buf *in, struct cdr_list *out);

/* Rows → DAY.jsonl's bytes, sorted by call start then UniqueID (`l` is sorted in place), so
 * the same rows always give the same bytes. Returns 0, or -1 (printed). */
int cdrfile_render_jsonl(struct cdr_list *l, struct cdrfile_buf *out);

/* How many rows of `want` `have` lacks, rows compared whole (as their JSONL lines) and
 * counted as a multiset: a UniqueID alone does not name a row (Asterisk repeats it across
 * the legs of a call). Returns the count, or -1 when out of memory (printed). */
long cdrfile_rows_lacking(const struct cdr_list *have, const struct cdr_list *want);

/* Writes cdr/`name` atomically unless `old` (what is there) holds the same bytes. Returns 0,
 * or -1 with `err` set. */
int cdrfile_put_if_changed(struct store *s, const char *name, const struct cdrfile_buf *data,
			   const struct cdrfile_buf *old, char *err, size_t errlen);

#endif
