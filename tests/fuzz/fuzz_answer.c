/* fuzz_answer.c — answer_classify (src/pbx/answer.h): an HTTP status and the first bytes of a body.
 *
 * Input: bytes 0-1 give the status (big-endian, the top bit of byte 0 is want_tar, so the
 * status is 0-32767), the rest is the body (NULL when empty: len 0 is allowed). Invariants:
 * the result is one of the enum's values; and it is what answer.h promises, checked against
 * a model written from the header: 408, 429 and 5xx but 501/505 → TRANSIENT; 414 → TOO_LONG;
 * 3xx, 401, 403 → SESSION; other non-2xx → FAILED; a 2xx whose body starts (after an
 * optional UTF-8 BOM and blanks: space, tab, CR, LF) with '<' → SESSION (an HTML page), and
 * with '{' or '[' when a tar was expected → SESSION (an error object); other 2xx → DATA. */
#include <stdint.h>

#include "fuzz_common.h"
#include "pbx/answer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	return 0;
}

static enum answer_kind model(long status, const unsigned char *b, size_t len, int want_tar)
{
	size_t i = 0;

	if (status == 408 || status == 429 || (status >= 500 && status <= 599 && status != 501 &&
					       status != 505))
		return ANSWER_TRANSIENT;
	if (status == 414)
		return ANSWER_TOO_LONG;
	if ((status >= 300 && status <= 399) || status == 401 || status == 403)
		return ANSWER_SESSION;
	if (status < 200 || status > 299)
		return ANSWER_FAILED;
	if (len >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf)
		i = 3;
	while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
		i++;
	if (i < len && b[i] == '<')
		return ANSWER_SESSION;
	if (want_tar && i < len && (b[i] == '{' || b[i] == '['))
		return ANSWER_SESSION;
	return ANSWER_DATA;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *body;
	size_t len;
	long status;
	int want_tar;
	enum answer_kind k;

	if (size < 2)
		return -1;
	status = (long)((data[0] & 0x7f) << 8 | data[1]);
	want_tar = data[0] >> 7;
	len = size - 2;
	body = len ? data + 2 : NULL;
	k = answer_classify(status, body, len, want_tar);
	FUZZ_CHECK(k == ANSWER_DATA || k == ANSWER_SESSION || k == ANSWER_TRANSIENT ||
			   k == ANSWER_TOO_LONG || k == ANSWER_FAILED,
		   "result %d", (int)k);
	if (status == 200) {
		size_t i = 0;
		while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' ||
				   body[i] == '\n'))
			i++;
		if (i < len && body[i] == '<')
			FUZZ_CHECK(k == ANSWER_SESSION, "200 with an HTML body gave %d", (int)k);
	}
	FUZZ_CHECK(k == model(status, body, len, want_tar), "status %ld (want_tar %d) gave %d, "
		   "answer.h says %d", status, want_tar, (int)k,
		   (int)model(status, body, len, want_tar));
	return 0;
}
