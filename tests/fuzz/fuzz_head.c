/* fuzz_head.c — parsing a hostile head file (src/archive/head.h, head_format.c:
 * manifest/heads/SEQ.json, or an auditor's witness copy).
 *
 * Input: the whole input is the file's content. head_parse must return 0 or -1 without a
 * crash or leak; on -1 the head is zeroed and the error says something. On 0: seq >= 1, days
 * sorted and unique, each a "YYYY-MM-DD" with lines >= 1 and a 64-hex "last"; head_find
 * finds every day; head_format gives text that parses back to the same head, and formatting
 * that again gives the same bytes (what a witness compares). head_note_day of a listed day
 * with its own values changes nothing; of a new day keeps the days sorted. */
#include <string.h>

#include "fuzz_common.h"
#include "archive/head.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	return 0;
}

static int same(const struct head *a, const struct head *b)
{
	if (a->seq != b->seq || strcmp(a->time, b->time) || strcmp(a->prev, b->prev) || a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->days[i].day, b->days[i].day) || a->days[i].lines != b->days[i].lines ||
		    strcmp(a->days[i].last, b->days[i].last))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct head h, back;
	char err[512] = "", err2[512] = "";
	char *text, *again;
	size_t len, len2;

	if (head_parse((const char *)data, size, &h, err, sizeof err) != 0) {
		FUZZ_CHECK(h.seq == 0 && h.n == 0 && h.days == NULL, "a failed parse left a head");
		FUZZ_CHECK(err[0] != '\0', "a failed parse without a reason");
		return 0;
	}
	FUZZ_CHECK(h.seq >= 1, "seq %llu", h.seq);
	for (size_t i = 0; i < h.n; i++) {
		FUZZ_CHECK(strlen(h.days[i].day) == 10 && h.days[i].lines >= 1 &&
			   strlen(h.days[i].last) == 64, "day %zu malformed", i);
		FUZZ_CHECK(i == 0 || strcmp(h.days[i - 1].day, h.days[i].day) < 0, "days unsorted");
		FUZZ_CHECK(head_find(&h, h.days[i].day) == &h.days[i], "head_find misses %s",
			   h.days[i].day);
	}
	text = head_format(&h, &len);
	FUZZ_CHECK(text != NULL, "head_format failed");
	FUZZ_CHECK(head_parse(text, len, &back, err2, sizeof err2) == 0, "round trip: %s", err2);
	FUZZ_CHECK(same(&h, &back), "round trip changed the head");
	again = head_format(&back, &len2);
	FUZZ_CHECK(again && len2 == len && memcmp(text, again, len) == 0, "format not stable");
	if (h.n) {
		FUZZ_CHECK(head_note_day(&back, h.days[0].day, h.days[0].lines, h.days[0].last) == 0 &&
			   !back.dirty, "noting a day as it is changed the head");
	}
	FUZZ_CHECK(head_note_day(&back, "1999-12-31", 1, h.n ? h.days[0].last :
				 "0000000000000000000000000000000000000000000000000000000000000000") == 0,
		   "noting a new day failed");
	for (size_t i = 1; i < back.n; i++)
		FUZZ_CHECK(strcmp(back.days[i - 1].day, back.days[i].day) < 0, "note unsorted");
	free(again);
	free(text);
	head_release(&back);
	head_release(&h);
	return 0;
}
