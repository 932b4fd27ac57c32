/* Unit tests for s3xml.c: values out of S3's XML answers (an error's Code, a list page's
 * Contents and paging), entities decoded, malformed text refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "s3/s3xml.h"

static const char page[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>b</Name>"
	"<Prefix>pbx1/</Prefix><IsTruncated>true</IsTruncated>"
	"<NextContinuationToken>1ZmQ&amp;x</NextContinuationToken>"
	"<Contents><Key>pbx1/2021/05/07/a-620(202).wav</Key><Size>176044</Size>"
	"<ETag>&quot;010caa6b&quot;</ETag></Contents>"
	"<Contents><Key>pbx1/manifest/2021-05-07.jsonl</Key><Size>12</Size>"
	"<ETag>&#34;ff&#x22;</ETag></Contents></ListBucketResult>";

static void list_page(void **state)
{
	const char *p = page, *end = page + strlen(page), *in, *in_end;
	char v[128];
	int n = 0;

	(void)state;
	assert_non_null(s3xml_value(page, end, "IsTruncated", v, sizeof v));
	assert_string_equal(v, "true");
	assert_non_null(s3xml_value(page, end, "NextContinuationToken", v, sizeof v));
	assert_string_equal(v, "1ZmQ&x");
	while ((p = s3xml_next(p, end, "Contents", &in, &in_end)) != NULL) {
		assert_non_null(s3xml_value(in, in_end, "Key", v, sizeof v));
		assert_string_equal(v, n ? "pbx1/manifest/2021-05-07.jsonl"
					 : "pbx1/2021/05/07/a-620(202).wav");
		assert_non_null(s3xml_value(in, in_end, "ETag", v, sizeof v));
		assert_string_equal(v, n ? "\"ff\"" : "\"010caa6b\"");
		/* a value of the next element is not this one's */
		assert_null(s3xml_value(in, in_end, "Name", v, sizeof v));
		n++;
	}
	assert_int_equal(n, 2);
}

static void errors_and_edges(void **state)
{
	static const char err[] = "<Error><Code>RequestTimeTooSkewed</Code></Error>";
	char v[8];

	(void)state;
	assert_non_null(s3xml_value(err, err + strlen(err), "Code", v, sizeof v));
	assert_string_equal(v, "Request"); /* cut to fit */
	assert_null(s3xml_value(err, err + strlen(err), "Message", v, sizeof v));
	/* unclosed, a bad entity, a wide character reference */
	static const char *const bad[] = { "<Code>x", "<Code>a&bogus;</Code>", "<Code>&#300;</Code>",
					   "<Code>&#;</Code>" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_null(s3xml_value(bad[i], bad[i] + strlen(bad[i]), "Code", v, sizeof v));
	/* the end bound is respected */
	assert_null(s3xml_value(err, err + 10, "Code", v, sizeof v));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(list_page),
		cmocka_unit_test(errors_and_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
