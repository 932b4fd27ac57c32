/* Unit tests for answer.c: the HTTP answer classifier. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pbx/answer.h"

static enum answer_kind classify(long status, const char *body, int want_tar)
{
	return answer_classify(status, (const unsigned char *)body, body ? strlen(body) : 0,
			       want_tar);
}

static void statuses(void **state)
{
	static const long transient[] = { 408, 429, 500, 502, 503, 504, 599 };
	static const long session[] = { 301, 302, 303, 307, 308, 401, 403 };
	static const long failed[] = { 0, 100, 199, 400, 404, 405, 410, 413, 501, 505, 600 };

	(void)state;
	for (size_t i = 0; i < sizeof transient / sizeof *transient; i++)
		assert_int_equal(classify(transient[i], "", 1), ANSWER_TRANSIENT);
	for (size_t i = 0; i < sizeof session / sizeof *session; i++)
		assert_int_equal(classify(session[i], "", 0), ANSWER_SESSION);
	for (size_t i = 0; i < sizeof failed / sizeof *failed; i++)
		assert_int_equal(classify(failed[i], "", 0), ANSWER_FAILED);
	assert_int_equal(classify(414, "", 1), ANSWER_TOO_LONG);
	assert_int_equal(classify(200, "", 1), ANSWER_DATA);
	assert_int_equal(classify(204, NULL, 0), ANSWER_DATA);
}

static void bodies(void **state)
{
	(void)state;
	/* A login page where data was expected, however it starts. */
	assert_int_equal(classify(200, "<!DOCTYPE html><html>", 0), ANSWER_SESSION);
	assert_int_equal(classify(200, "\r\n  \t<html>", 1), ANSWER_SESSION);
	assert_int_equal(classify(200, "\xEF\xBB\xBF<html>", 1), ANSWER_SESSION);
	/* JSON is data for a listing, a dead session for a download. */
	assert_int_equal(classify(200, "{\"status\":\"fail\"}", 0), ANSWER_DATA);
	assert_int_equal(classify(200, "{\"status\":\"fail\"}", 1), ANSWER_SESSION);
	assert_int_equal(classify(200, " [1]", 1), ANSWER_SESSION);
	/* A tar or a WAV. */
	assert_int_equal(classify(200, "RIFF\x24\x00\x00\x00WAVE", 1), ANSWER_DATA);
	assert_int_equal(classify(200, "20210329/20210329-001004.wav", 1), ANSWER_DATA);
	/* The status wins over the body. */
	assert_int_equal(classify(503, "<html>busy</html>", 1), ANSWER_TRANSIENT);
	assert_int_equal(classify(404, "RIFF", 1), ANSWER_FAILED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(statuses),
		cmocka_unit_test(bodies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
