/* fuzz_cdr.c — cdr_parse, cdr_join, cdr_to_json and cdr_row_jsonl (src/pbx/cdr.h) on hostile 9006
 * answers.
 *
 * Input: the whole input is the answer. It is parsed twice into one list (the second time
 * appending, as windows are gathered), so "an answer counts whole or not at all" is checked
 * against rows already there. Then, for each row: cdr_row_jsonl, its line parsed back by
 * cdr_parse (as a bare array), and cdr_to_json with CDR_JOIN_NAME; then cdr_join of a fixed
 * recording (the guide's first row) and of a recording made from the first row.
 * Invariants: no crash or leak; the result is one of the enum's values; err is a
 * NUL-terminated string, set on failure; on failure the list is exactly as before; on CDR_OK
 * each row's text fields are NUL-terminated inside their arrays, uniqueid is not empty,
 * calldate is "YYYY-MM-DD HH:MM:SS", duration, billsec and port are -1 or not negative,
 * recording_key is "" or recname_key(recording); both parses give the same rows. cdr_row_jsonl always fits in CDR_JSONL_MAX, ends in "\n"
 * and a NUL, gives the same bytes twice, and parses back into the same row. cdr_to_json
 * gives an object of 15 members, joined_by "name"; with CDR_JOIN_NONE it fails with *out
 * NULL. cdr_join gives -1 with CDR_JOIN_NONE or a row index with NAME (its recording_key is
 * the recording's key) or TIME (no recording_key, the same src and dst); a recording made
 * from a row always joins. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"
#include "base/log.h"
#include "pbx/cdr.h"
#include "pbx/recname.h"

#define GUIDE_PATH "20210507/20210507-010506-1620378306-CallBack-96-506-820(202).wav"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	log_set_level(LOG_ERROR); /* a negative totalcount is a warning: noise here */
	return 0;
}

#define NUL_IN(row, m)                                                                  \
	FUZZ_CHECK(memchr((row)->m, '\0', sizeof(row)->m) != NULL, "row %zu: " #m         \
		   " not NUL-terminated", i)

static void check_rows(const struct cdr_list *l, size_t from)
{
	static const char shape[] = "dddd-dd-dd dd:dd:dd";
	char key[REC_PATH_MAX];

	FUZZ_CHECK(l->count <= l->cap, "count %zu > cap %zu", l->count, l->cap);
	for (size_t i = from; i < l->count; i++) {
		const struct cdr *c = &l->rows[i];

		NUL_IN(c, uniqueid);
		NUL_IN(c, calldate);
		NUL_IN(c, src);
		NUL_IN(c, dst);
		NUL_IN(c, contact);
		NUL_IN(c, groupname);
		NUL_IN(c, channel);
		NUL_IN(c, dstchannel);
		NUL_IN(c, disposition);
		NUL_IN(c, userfield);
		NUL_IN(c, accountcode);
		NUL_IN(c, cidname);
		NUL_IN(c, in_route);
		NUL_IN(c, ivr);
		NUL_IN(c, recording);
		NUL_IN(c, recording_key);
		FUZZ_CHECK(c->uniqueid[0] != '\0', "row %zu: empty uniqueid", i);
		FUZZ_CHECK(strlen(c->calldate) == REC_DATE_LEN, "row %zu: calldate \"%s\"", i,
			   c->calldate);
		for (size_t k = 0; k < REC_DATE_LEN; k++) {
			char ch = c->calldate[k];

			FUZZ_CHECK(shape[k] == 'd' ? (ch >= '0' && ch <= '9') : ch == shape[k],
				   "row %zu: calldate \"%s\" is not YYYY-MM-DD HH:MM:SS", i,
				   c->calldate);
		}
		FUZZ_CHECK(c->duration >= -1, "row %zu: duration %ld", i, c->duration);
		FUZZ_CHECK(c->billsec >= -1, "row %zu: billsec %ld", i, c->billsec);
		FUZZ_CHECK(c->port >= -1, "row %zu: port %d", i, c->port);
		if (c->recording[0] && recname_key(c->recording, key, sizeof key) == 0)
			FUZZ_CHECK(strcmp(key, c->recording_key) == 0, "row %zu: key \"%s\", not \"%s\"",
				   i, c->recording_key, key);
		else
			FUZZ_CHECK(c->recording_key[0] == '\0', "row %zu: key \"%s\" for a bad name",
				   i, c->recording_key);
	}
}

static int same_row(const struct cdr *a, const struct cdr *b)
{
	return !strcmp(a->uniqueid, b->uniqueid) && !strcmp(a->calldate, b->calldate) &&
	       !strcmp(a->src, b->src) && !strcmp(a->dst, b->dst) &&
	       !strcmp(a->contact, b->contact) && !strcmp(a->groupname, b->groupname) &&
	       !strcmp(a->channel, b->channel) && !strcmp(a->dstchannel, b->dstchannel) &&
	       !strcmp(a->disposition, b->disposition) && !strcmp(a->userfield, b->userfield) &&
	       !strcmp(a->accountcode, b->accountcode) && !strcmp(a->cidname, b->cidname) &&
	       !strcmp(a->in_route, b->in_route) && !strcmp(a->ivr, b->ivr) &&
	       !strcmp(a->recording, b->recording) &&
	       !strcmp(a->recording_key, b->recording_key) && a->duration == b->duration &&
	       a->billsec == b->billsec && a->port == b->port;
}

static int parse_once(const char *data, size_t size, struct cdr_list *l, size_t *added)
{
	char err[256];
	size_t before = l->count;
	long long total = l->totalcount;
	int rc;

	memset(err, 'x', sizeof err);
	rc = cdr_parse(data, size, l, err, sizeof err);
	FUZZ_CHECK(rc == CDR_OK || rc == CDR_ERROR_OBJECT || rc == CDR_BAD, "result %d", rc);
	FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL, "err not NUL-terminated");
	if (rc != CDR_OK) {
		FUZZ_CHECK(err[0] != '\0', "result %d without a message", rc);
		FUZZ_CHECK(l->count == before, "failed answer left %zu rows (had %zu)", l->count,
			   before);
		FUZZ_CHECK(l->totalcount == total, "failed answer changed totalcount");
		*added = 0;
		return rc;
	}
	FUZZ_CHECK(l->count >= before, "rows went from %zu to %zu", before, l->count);
	FUZZ_CHECK(l->totalcount >= -1, "totalcount %lld", l->totalcount);
	check_rows(l, before);
	*added = l->count - before;
	return rc;
}

/* The JSONL line of row i: fits, is stable, and reads back as the same row. */
static void check_jsonl(const struct cdr *c, size_t i)
{
	static char a[CDR_JSONL_MAX], b[CDR_JSONL_MAX], arr[CDR_JSONL_MAX + 2];
	struct cdr_list back;
	char err[256];
	int n, m, rc;

	n = cdr_row_jsonl(c, a, sizeof a);
	FUZZ_CHECK(n > 0, "row %zu: cdr_row_jsonl gave %d", i, n);
	FUZZ_CHECK(a[n - 1] == '\n' && a[n] == '\0' && strlen(a) == (size_t)n,
		   "row %zu: the line is not \"...\\n\" and a NUL", i);
	m = cdr_row_jsonl(c, b, sizeof b);
	FUZZ_CHECK(m == n && memcmp(a, b, (size_t)n + 1) == 0, "row %zu: two lines differ", i);
	FUZZ_CHECK(cdr_row_jsonl(c, b, (size_t)n + 1) == n, "row %zu: no fit in n + 1", i);
	FUZZ_CHECK(cdr_row_jsonl(c, b, (size_t)n) == -1, "row %zu: a fit in n bytes", i);

	arr[0] = '[';
	memcpy(arr + 1, a, (size_t)n - 1);
	arr[n] = ']';
	cdr_list_init(&back);
	rc = cdr_parse(arr, (size_t)n + 1, &back, err, sizeof err);
	FUZZ_CHECK(rc == CDR_OK && back.count == 1, "row %zu: its line reads back as %d, %zu rows: "
		   "%s\n  %s", i, rc, back.count, err, a);
	FUZZ_CHECK(same_row(c, &back.rows[0]), "row %zu: its line reads back as another row\n  %s",
		   i, a);
	cdr_list_free(&back);
}

static void check_to_json(const struct cdr *c, size_t i)
{
	struct json_object *o = (struct json_object *)1, *v;

	FUZZ_CHECK(cdr_to_json(c, CDR_JOIN_NONE, &o) == -1 && o == NULL,
		   "row %zu: cdr_to_json with CDR_JOIN_NONE", i);
	FUZZ_CHECK(cdr_to_json(c, CDR_JOIN_NAME, &o) == 0 && o != NULL, "row %zu: cdr_to_json", i);
	/* 15 fields, and "cut" when a shown field was longer than it fits. */
	FUZZ_CHECK(json_object_object_length(o) == 15 + (c->cut != 0), "row %zu: %d members", i,
		   json_object_object_length(o));
	FUZZ_CHECK(!c->cut || json_object_object_get_ex(o, "cut", NULL), "row %zu: cut unsaid", i);
	FUZZ_CHECK(json_object_object_get_ex(o, "joined_by", &v) &&
			   strcmp(json_object_get_string(v), "name") == 0,
		   "row %zu: joined_by", i);
	FUZZ_CHECK(json_object_object_get_ex(o, "uniqueid", &v) &&
			   strcmp(json_object_get_string(v), c->uniqueid) == 0,
		   "row %zu: uniqueid", i);
	FUZZ_CHECK(json_object_to_json_string(o) != NULL, "row %zu: not serialisable", i);
	json_object_put(o);
}

static int check_join(const struct cdr_list *l, const struct recording *rec)
{
	enum cdr_join_how how = (enum cdr_join_how)99;
	char key[REC_PATH_MAX];
	int idx = cdr_join(l, rec, &how);

	if (idx < 0) {
		FUZZ_CHECK(idx == -1 && how == CDR_JOIN_NONE, "join gave %d, how %d", idx, how);
		return idx;
	}
	FUZZ_CHECK((size_t)idx < l->count, "join gave %d of %zu rows", idx, l->count);
	if (how == CDR_JOIN_NAME) {
		FUZZ_CHECK(recname_key(rec->pbx_path, key, sizeof key) == 0 &&
				   strcmp(key, l->rows[idx].recording_key) == 0,
			   "join by name to row %d, key \"%s\"", idx, l->rows[idx].recording_key);
	} else {
		FUZZ_CHECK(how == CDR_JOIN_TIME, "join gave row %d, how %d", idx, how);
		FUZZ_CHECK(l->rows[idx].recording_key[0] == '\0' &&
				   !strcmp(l->rows[idx].src, rec->src) &&
				   !strcmp(l->rows[idx].dst, rec->dst) && rec->src[0] && rec->dst[0],
			   "join by time to row %d, which does not match", idx);
	}
	return idx;
}

static void joins(const struct cdr_list *l)
{
	struct recording rec;
	const struct cdr *c;

	memset(&rec, 0, sizeof rec);
	snprintf(rec.pbx_path, sizeof rec.pbx_path, "%s", GUIDE_PATH);
	snprintf(rec.calldate, sizeof rec.calldate, "2021-05-07 01:05:06");
	snprintf(rec.src, sizeof rec.src, "506");
	snprintf(rec.dst, sizeof rec.dst, "820(202)");
	rec.duration = rec.size = -1;
	check_join(l, &rec);

	if (l->count == 0)
		return;
	/* A recording made from row 0 joins: by name when the row names one, else by time
	 * (when its src and dst are set and fit a recording's fields). */
	c = &l->rows[0];
	memset(&rec, 0, sizeof rec);
	rec.duration = rec.size = -1;
	memcpy(rec.calldate, c->calldate, sizeof rec.calldate);
	if (c->recording_key[0]) {
		snprintf(rec.pbx_path, sizeof rec.pbx_path, "%s", c->recording);
		FUZZ_CHECK(check_join(l, &rec) >= 0, "row 0 has key \"%s\" but its recording does "
			   "not join", c->recording_key);
	} else if (c->src[0] && c->dst[0] && strlen(c->src) < sizeof rec.src &&
		   strlen(c->dst) < sizeof rec.dst) {
		memcpy(rec.src, c->src, strlen(c->src) + 1);
		memcpy(rec.dst, c->dst, strlen(c->dst) + 1);
		FUZZ_CHECK(check_join(l, &rec) >= 0, "row 0 (%s, %s -> %s) does not join by time",
			   c->calldate, c->src, c->dst);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cdr_list l;
	size_t first, second;
	int rc1, rc2;

	cdr_list_init(&l);
	rc1 = parse_once((const char *)data, size, &l, &first);
	rc2 = parse_once((const char *)data, size, &l, &second);
	FUZZ_CHECK(rc1 == rc2, "same answer gave %d then %d", rc1, rc2);
	FUZZ_CHECK(first == second, "same answer gave %zu then %zu rows", first, second);
	for (size_t i = 0; i < first; i++) {
		FUZZ_CHECK(same_row(&l.rows[i], &l.rows[first + i]),
			   "row %zu differs between the two parses", i);
		check_jsonl(&l.rows[i], i);
		check_to_json(&l.rows[i], i);
	}
	joins(&l);
	cdr_list_free(&l);
	FUZZ_CHECK(l.rows == NULL && l.count == 0 && l.totalcount == -1,
		   "cdr_list_free did not re-init");
	cdr_list_free(&l); /* a no-op on an init'ed list */
	return 0;
}
