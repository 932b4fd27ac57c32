/* fuzz_listing.c — listing_parse (src/pbx/listing.h) on hostile 20053 answers.
 *
 * Input: the whole input is the answer. It is parsed twice into one listing (the second
 * time appending, as split windows are gathered), so the "an answer counts whole or not at
 * all" rule is checked against rows already there. Invariants: never a crash or a leak; the
 * result is one of the enum's values; err is a NUL-terminated string, set on failure; on
 * failure the listing is exactly as before; on LISTING_OK every row's fields are
 * NUL-terminated inside their arrays, pbx_path is not empty, calldate is a 19-character
 * "YYYY-MM-DD HH:MM:SS", duration and size are -1 or not negative, and the count of rows
 * grows by the same amount both times. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "base/log.h"
#include "pbx/listing.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	log_set_level(LOG_ERROR); /* a skipped row is a warning: not noise worth printing */
	return 0;
}

static void check_nul(const char *field, size_t cap, const char *what, size_t row)
{
	FUZZ_CHECK(memchr(field, '\0', cap) != NULL, "row %zu: %s not NUL-terminated", row, what);
}

static void check_rows(const struct listing *l, size_t from)
{
	static const char shape[] = "dddd-dd-dd dd:dd:dd";

	FUZZ_CHECK(l->n <= l->cap, "n %zu > cap %zu", l->n, l->cap);
	for (size_t i = from; i < l->n; i++) {
		const struct recording *r = &l->rows[i];

		check_nul(r->pbx_path, REC_PATH_MAX, "pbx_path", i);
		FUZZ_CHECK(r->pbx_path[0] != '\0', "row %zu: empty pbx_path", i);
		check_nul(r->calldate, REC_DATE_LEN + 1, "calldate", i);
		FUZZ_CHECK(strlen(r->calldate) == REC_DATE_LEN, "row %zu: calldate \"%s\"", i,
			   r->calldate);
		for (size_t k = 0; k < REC_DATE_LEN; k++) {
			char c = r->calldate[k];
			FUZZ_CHECK(shape[k] == 'd' ? (c >= '0' && c <= '9') : c == shape[k],
				   "row %zu: calldate \"%s\" is not YYYY-MM-DD HH:MM:SS", i,
				   r->calldate);
		}
		check_nul(r->src, REC_FIELD_MAX, "src", i);
		check_nul(r->dst, REC_FIELD_MAX, "dst", i);
		check_nul(r->trunk, REC_FIELD_MAX, "trunk", i);
		check_nul(r->calltype, REC_FIELD_MAX, "calltype", i);
		FUZZ_CHECK(r->duration >= -1, "row %zu: duration %ld", i, r->duration);
		FUZZ_CHECK(r->size >= -1, "row %zu: size %lld", i, r->size);
	}
}

static int same_row(const struct recording *a, const struct recording *b)
{
	return !strcmp(a->pbx_path, b->pbx_path) && !strcmp(a->calldate, b->calldate) &&
	       !strcmp(a->src, b->src) && !strcmp(a->dst, b->dst) && !strcmp(a->trunk, b->trunk) &&
	       !strcmp(a->calltype, b->calltype) && a->duration == b->duration &&
	       a->size == b->size;
}

static int parse_once(const uint8_t *data, size_t size, struct listing *l, size_t *added)
{
	char err[256];
	size_t before = l->n, skipped = l->skipped;
	int rc;

	memset(err, 'x', sizeof err);
	rc = listing_parse((const char *)data, size, l, err, sizeof err);
	FUZZ_CHECK(rc == LISTING_OK || rc == LISTING_ERROR_OBJECT || rc == LISTING_BAD,
		   "result %d", rc);
	FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL, "err not NUL-terminated");
	if (rc != LISTING_OK) {
		FUZZ_CHECK(err[0] != '\0', "result %d without a message", rc);
		FUZZ_CHECK(l->n == before, "failed answer left %zu rows (had %zu)", l->n, before);
		FUZZ_CHECK(l->skipped == skipped, "failed answer changed skipped");
		*added = 0;
		return rc;
	}
	FUZZ_CHECK(l->n >= before, "rows went from %zu to %zu", before, l->n);
	FUZZ_CHECK(l->totalcount >= -1, "totalcount %lld", l->totalcount);
	check_rows(l, before);
	*added = l->n - before;
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct listing l;
	size_t first, second;
	int rc1, rc2;

	listing_init(&l);
	rc1 = parse_once(data, size, &l, &first);
	rc2 = parse_once(data, size, &l, &second);
	FUZZ_CHECK(rc1 == rc2, "same answer gave %d then %d", rc1, rc2);
	FUZZ_CHECK(first == second, "same answer gave %zu then %zu rows", first, second);
	for (size_t i = 0; i < first; i++)
		FUZZ_CHECK(same_row(&l.rows[i], &l.rows[first + i]),
			   "row %zu differs between the two parses", i);
	listing_free(&l);
	FUZZ_CHECK(l.rows == NULL && l.n == 0 && l.totalcount == -1, "listing_free did not re-init");
	listing_free(&l); /* a no-op on an init'ed listing */
	return 0;
}
