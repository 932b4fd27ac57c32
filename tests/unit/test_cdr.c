/* test_cdr.c — the 9006 parser and the recording↔CDR join (cdr.c): the guide's example as the
 * PBX sends it, numbered objects, arrays under other keys, bare arrays, values as strings or
 * numbers, other spellings of field names, AMI full paths; rows refused whole (bad dates, bad
 * UTF-8, caps, missing UniqueID); hostile JSON; error objects; the join by name (legs,
 * duplicates), by time (inside and outside the window, other src/dst), and none; the manifest
 * object and the JSONL line, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "base/log.h"
#include "pbx/cdr.h"

/* The guide's Example 2 (section 1.3), as JSON: values are strings except port. */
static const char guide[] =
	"{\"json_array_astcdrs\":{"
	"\"0\":{\"calldate\":\"2021-05-07 01:05:02\",\"src\":\"506\",\"contact\":\"\","
	"\"groupname\":\"\",\"dst\":\"820(202)\",\"channel\":\"96\",\"dstchannel\":\"\","
	"\"duration\":\"6\",\"billsec\":\"3\",\"disposition\":\"ANSWERED\","
	"\"userfield\":\"CallBack\",\"accountcode\":\"\",\"cidname\":\"\",\"in_route\":\"\","
	"\"IVR\":\"\",\"Recording filename\":"
	"\"20210507/20210507-010506-1620378306-CallBack-96-506-820(202).wav\","
	"\"UniqueID\":\"1620378302.28\",\"port\":0},\n"
	"\"1\":{\"calldate\":\"2021-05-07 01:02:51\",\"src\":\"506\",\"contact\":\"\","
	"\"groupname\":\"\",\"dst\":\"820(202)\",\"channel\":\"96\",\"dstchannel\":\"\","
	"\"duration\":\"6\",\"billsec\":\"2\",\"disposition\":\"ANSWERED\","
	"\"userfield\":\"CallBack\",\"accountcode\":\"\",\"cidname\":\"\",\"in_route\":\"\","
	"\"IVR\":\"\",\"Recording filename\":"
	"\"20210507/20210507-010257-1620378177-CallBack-96-506-820(202).wav\","
	"\"UniqueID\":\"1620378171.24\",\"port\":0}}}\n";

/* A row with the fields the join reads; the rest "". */
#define ROW(cd, src, dst, dur, bill, disp, rec, uid)                                       \
	"{\"calldate\":\"" cd "\",\"src\":\"" src "\",\"dst\":\"" dst "\",\"duration\":\"" dur \
	"\",\"billsec\":\"" bill "\",\"disposition\":\"" disp "\",\"Recording filename\":\""  \
	rec "\",\"UniqueID\":\"" uid "\"}"

static struct cdr_list l;
static char err[256];

static int setup(void **state)
{
	(void)state;
	cdr_list_init(&l);
	err[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cdr_list_free(&l);
	return 0;
}

static int parse(const char *s)
{
	return cdr_parse(s, strlen(s), &l, err, sizeof err);
}

static void expect_bad(const char *s, const char *needle)
{
	size_t n = l.count;
	int rc = parse(s);

	if (rc != CDR_BAD)
		fail_msg("\"%s\": %d, not CDR_BAD (%s)", s, rc, err);
	assert_int_equal(l.count, n);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
}

static struct recording rec(const char *path, const char *calldate, const char *src,
			    const char *dst)
{
	struct recording r;

	memset(&r, 0, sizeof r);
	snprintf(r.pbx_path, sizeof r.pbx_path, "%s", path);
	snprintf(r.calldate, sizeof r.calldate, "%s", calldate);
	snprintf(r.src, sizeof r.src, "%s", src);
	snprintf(r.dst, sizeof r.dst, "%s", dst);
	r.duration = -1;
	r.size = -1;
	return r;
}

static void guide_example(void **state)
{
	const struct cdr *c;

	(void)state;
	assert_int_equal(parse(guide), CDR_OK);
	assert_int_equal(l.count, 2);
	assert_int_equal(l.totalcount, -1);
	c = &l.rows[0];
	assert_string_equal(c->calldate, "2021-05-07 01:05:02");
	assert_string_equal(c->src, "506");
	assert_string_equal(c->dst, "820(202)");
	assert_string_equal(c->channel, "96");
	assert_string_equal(c->disposition, "ANSWERED");
	assert_string_equal(c->userfield, "CallBack");
	assert_string_equal(c->uniqueid, "1620378302.28");
	assert_string_equal(c->recording,
			    "20210507/20210507-010506-1620378306-CallBack-96-506-820(202).wav");
	assert_string_equal(c->recording_key, "20210507-010506-1620378306-CallBack-96-506-820(202)");
	assert_int_equal(c->duration, 6);
	assert_int_equal(c->billsec, 3);
	assert_int_equal(c->port, 0);
	assert_string_equal(c->ivr, "");
	assert_string_equal(l.rows[1].uniqueid, "1620378171.24");
	assert_int_equal(l.rows[1].billsec, 2);
}

static void shapes(void **state)
{
	static const char *const answers[] = {
		"{\"json_array_astcdrs\":[" ROW("2021-05-07 01:05:02", "506", "1", "6", "3",
						 "ANSWERED", "a.wav", "1.1") ","
		ROW("2021-05-07 01:06:02", "507", "1", "6", "3", "BUSY", "", "1.2") "],"
		"\"json_obj_filter\":{\"totalcount\":\"2\"}}",
		"{\"0\":" ROW("2021-05-07 01:05:02", "506", "1", "6", "3", "ANSWERED", "a.wav",
			      "1.1") ",\"1\":" ROW("2021-05-07 01:06:02", "507", "1", "6", "3",
						   "BUSY", "", "1.2") "}",
		"{\"status\":\"ok\",\"list\":[\"x\"],\"rows\":[" ROW("2021-05-07 01:05:02", "506",
			"1", "6", "3", "ANSWERED", "a.wav", "1.1") ","
		ROW("2021-05-07 01:06:02", "507", "1", "6", "3", "BUSY", "", "1.2") "]}",
		"{\"data\":{\"0\":" ROW("2021-05-07 01:05:02", "506", "1", "6", "3", "ANSWERED",
					"a.wav", "1.1") ",\"1\":" ROW("2021-05-07 01:06:02", "507",
					"1", "6", "3", "BUSY", "", "1.2") "},"
		"\"json_obj_filter\":{\"totalcount\":2}}",
		" [" ROW("2021-05-07 01:05:02", "506", "1", "6", "3", "ANSWERED", "a.wav", "1.1")
		"," ROW("2021-05-07 01:06:02", "507", "1", "6", "3", "BUSY", "", "1.2") "]\r\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
		cdr_list_free(&l);
		if (parse(answers[i]) != CDR_OK)
			fail_msg("answer %zu: %s", i, err);
		assert_int_equal(l.count, 2);
		assert_int_equal(l.totalcount, i == 0 || i == 3 ? 2 : -1);
		assert_string_equal(l.rows[0].recording_key, "a");
		assert_string_equal(l.rows[1].src, "507");
		assert_string_equal(l.rows[1].recording_key, "");
	}
}

static void empty_answers(void **state)
{
	static const char *const answers[] = {
		"{}", "[]", "{\"json_array_astcdrs\":[]}", "{\"json_array_astcdrs\":{}}",
		"{\"json_array_astcdrs\":null}", "{\"json_array_astcdrs\":\"\"}",
		"{\"json_array_astcdrs\":[],\"json_obj_filter\":{\"totalcount\":0}}",
		"{\"json_obj_filter\":{\"totalcount\":\"0\"}}", "{\"other\":[]}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
		if (parse(answers[i]) != CDR_OK)
			fail_msg("answer %zu: %s", i, err);
		assert_int_equal(l.count, 0);
	}
}

static void error_object(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"status\":\"fail\",\"message\":\"not logged in\"}"),
			 CDR_ERROR_OBJECT);
	assert_string_equal(err, "{\"status\":\"fail\",\"message\":\"not logged in\"}");
	assert_int_equal(l.count, 0);
	expect_bad("{\"json_obj_filter\":{\"totalcount\":3}}", "says 3 CDRs but no rows");
	expect_bad("{\"json_obj_filter\":{\"totalcount\":\"x\"}}", "malformed totalcount");
}

static void values_and_names(void **state)
{
	(void)state;
	assert_int_equal(
		parse("[{\"CallDate\":\"2021-05-07 01:05\",\"SRC\":506,\"dst\":820.5,"
		      "\"duration\":6,\"billsec\":3.0,\"uniqueid\":1620378302.28,\"port\":\"2\","
		      "\"ivr\":\"IVR620\",\"Recording File Name\":"
		      "\"/media/usbStorage/monitor/20210422/20210422-010152-1619082112-Internal-205-204\"},"
		      "{\"calldate\":\"2021-05-07 01:05:02\",\"UniqueID\":\"9.1\",\"uniqueid\":\"9.2\","
		      "\"recordingfile\":\"20210507-x.WAV\",\"duration\":\"6s\",\"billsec\":\"x\","
		      "\"port\":-1,\"src\":null,\"dst\":true,\"channel\":{}},"
		      "{\"uniqueid\":\"9.3\",\"UniqueID\":\"9.4\",\"calldate\":\"2021-05-07 01:05:02\","
		      "\"recording\":\"x/a..b.wav\",\"duration\":\"-6\",\"port\":1.5},"
		      "{\"calldate\":\"2021-05-07 01:05:02\",\"UniqueID\":\"9.5\","
		      "\"Recording filename\":\"\",\"recording\":\"b.wav\"}]"),
		CDR_OK);
	assert_int_equal(l.count, 4);
	assert_string_equal(l.rows[0].calldate, "2021-05-07 01:05:00");
	assert_string_equal(l.rows[0].src, "506");
	assert_string_equal(l.rows[0].dst, "820.5");
	assert_int_equal(l.rows[0].duration, 6);
	assert_int_equal(l.rows[0].billsec, 3);
	assert_string_equal(l.rows[0].uniqueid, "1620378302.28");
	assert_int_equal(l.rows[0].port, 2);
	assert_string_equal(l.rows[0].ivr, "IVR620");
	assert_string_equal(l.rows[0].recording_key,
			    "20210422-010152-1619082112-Internal-205-204");
	/* an exact spelling wins over one that differs in case, in either order */
	assert_string_equal(l.rows[1].uniqueid, "9.1");
	assert_string_equal(l.rows[2].uniqueid, "9.4");
	assert_string_equal(l.rows[1].recording_key, "20210507-x");
	assert_int_equal(l.rows[1].duration, 6);
	assert_int_equal(l.rows[1].billsec, -1);
	assert_int_equal(l.rows[1].port, -1);
	assert_string_equal(l.rows[1].src, "");
	assert_string_equal(l.rows[1].dst, "");
	assert_string_equal(l.rows[1].channel, "");
	/* a name recname refuses is kept as sent, with no key: it joins nothing by name */
	assert_string_equal(l.rows[2].recording, "x/a..b.wav");
	assert_string_equal(l.rows[2].recording_key, "");
	assert_int_equal(l.rows[2].duration, -1);
	assert_int_equal(l.rows[2].port, -1);
	/* the guide's spelling is preferred to the other ones, even when empty */
	assert_string_equal(l.rows[3].recording, "");
	assert_string_equal(l.rows[3].recording_key, "");
}

static void refused_rows(void **state)
{
	char big[512], name[100];

	(void)state;
	/* rows already gathered from another window stay */
	assert_int_equal(parse(guide), CDR_OK);
	expect_bad("[" ROW("2021-05-07 01:05:02", "1", "2", "6", "3", "ANSWERED", "", "1.1") ","
		   ROW("2021-02-30 01:05:02", "1", "2", "6", "3", "ANSWERED", "", "1.2") "]",
		   "row 1: \"calldate\" \"2021-02-30 01:05:02\" is not a date");
	expect_bad("{\"json_array_astcdrs\":{\"0\":" ROW("07/05/2021 01:05", "1", "2", "6", "3",
		   "ANSWERED", "", "1.1") "}}", "row \"0\": \"calldate\"");
	expect_bad("[{\"calldate\":\"\",\"UniqueID\":\"1\"}]", "row 0: no \"calldate\"");
	expect_bad("[{\"UniqueID\":\"1\"}]", "row 0: no \"calldate\"");
	expect_bad("[{\"calldate\":\"2021-05-07 01:05:02\"}]", "row 0: no \"UniqueID\"");
	expect_bad("[{\"calldate\":\"2021-05-07 01:05:02\",\"UniqueID\":\"\"}]", "no \"UniqueID\"");
	expect_bad("[\"x\"]", "row 0: not an object");
	expect_bad("{\"json_array_astcdrs\":[1]}", "row 0: not an object");
	expect_bad("{\"json_array_astcdrs\":42}", "json_array_astcdrs is a int");
	expect_bad("[{\"calldate\":\"2021-05-07 01:05:02\",\"UniqueID\":\"1\",\"src\":\"\xc3\"}]",
		   "row 0: \"src\" is not valid UTF-8");
	expect_bad("[{\"calldate\":\"2021-05-07 01:05:02\",\"UniqueID\":\"1\",\"src\":\"\xed\xa0\x80\"}]",
		   "\"src\" is not valid UTF-8"); /* a surrogate */
	/* A field that is only shown never costs the row (nor the answer): it is kept cut, and
	 * the cut is said. A NUL would cut a C string silently: cut there, and said. */
	assert_int_equal(parse("[{\"calldate\":\"2021-05-07 01:05:02\",\"UniqueID\":\"1\","
			       "\"src\":\"a\\u0000b\"}]"), CDR_OK);
	assert_string_equal(l.rows[l.count - 1].src, "a");
	assert_true(l.rows[l.count - 1].cut != 0);
	memset(name, 'x', 80);
	name[80] = '\0';
	snprintf(big, sizeof big, "[{\"calldate\":\"2021-05-07 01:05:02\",\"UniqueID\":\"1\","
		 "\"dstchannel\":\"%s\"}]", name);
	assert_int_equal(parse(big), CDR_OK);
	assert_int_equal(strlen(l.rows[l.count - 1].dstchannel), 79);
	assert_true(l.rows[l.count - 1].cut != 0);
	name[79] = '\0';
	snprintf(big, sizeof big, "[{\"calldate\":\"2021-05-07 01:05:02\",\"UniqueID\":\"1\","
		 "\"dstchannel\":\"%s\"}]", name);
	assert_int_equal(parse(big), CDR_OK);
	assert_int_equal(strlen(l.rows[l.count - 1].dstchannel), 79);
	assert_int_equal(l.rows[l.count - 1].cut, 0);
	/* What decides (the date, the id, the recording's name) is still refused whole. */
	memset(name, '7', 80);
	snprintf(big, sizeof big, "[{\"calldate\":\"2021-05-07 01:05:02\",\"UniqueID\":\"%s\"}]",
		 name);
	expect_bad(big, "\"UniqueID\" does not fit");
	assert_int_equal(l.count, 5);
}

static void hostile_json(void **state)
{
	char deep[200];

	(void)state;
	expect_bad("", "empty answer");
	expect_bad(" \n", "empty answer");
	expect_bad("<html><body>Login</body></html>", "not JSON");
	expect_bad("\"x\"", "not JSON");
	expect_bad("{\"json_array_astcdrs\":[", "JSON ends early");
	expect_bad("{\"a\":1} x", "bytes after the JSON value");
	expect_bad("{\"a\":1}{}", "bytes after the JSON value");
	expect_bad("{\"a\":1,}", "not JSON");
	memset(deep, '[', 40);
	memset(deep + 40, ']', 40);
	deep[80] = '\0';
	expect_bad(deep, "not JSON");
	assert_int_equal(cdr_parse("[]\0[]", 5, &l, err, sizeof err), CDR_BAD);
	assert_int_equal(cdr_parse("{}", 2, &l, NULL, 0), CDR_OK);
}

static void join_by_name(void **state)
{
	struct recording r = rec("20210507/20210507-010506-1620378306-CallBack-96-506-820(202).wav",
				 "2021-05-07 01:05:06", "506", "820(202)");
	enum cdr_join_how how;

	(void)state;
	assert_int_equal(parse(guide), CDR_OK);
	assert_int_equal(cdr_join(&l, &r, &how), 0);
	assert_int_equal(how, CDR_JOIN_NAME);
	r = rec("20210507/20210507-010257-1620378177-CallBack-96-506-820(202).wav",
		"2021-05-07 01:02:57", "506", "820(202)");
	assert_int_equal(cdr_join(&l, &r, &how), 1);
	assert_int_equal(how, CDR_JOIN_NAME);
	/* the name wins even when the times say otherwise */
	snprintf(r.calldate, sizeof r.calldate, "2021-05-07 09:00:00");
	assert_int_equal(cdr_join(&l, &r, &how), 1);

	/* AMI's full path without ".wav" names the same recording */
	cdr_list_free(&l);
	assert_int_equal(parse("[" ROW("2021-04-22 01:01:50", "205", "204", "5", "3", "ANSWERED",
				       "/media/usbStorage/monitor/20210422/"
				       "20210422-010152-1619082112-Internal-205-204", "1619082110.0")
			       "]"), CDR_OK);
	r = rec("20210422/20210422-010152-1619082112-Internal-205-204.wav", "2021-04-22 01:01:52",
		"205", "204");
	assert_int_equal(cdr_join(&l, &r, &how), 0);
	assert_int_equal(how, CDR_JOIN_NAME);
}

static void join_duplicates(void **state)
{
	struct recording r = rec("20210507/20210507-010506-1-CallBack-96-506-920.wav",
				 "2021-05-07 01:05:06", "506", "920");
	enum cdr_join_how how;

	(void)state;
	/* ring-group legs sharing one recording: the answered leg, whatever its place */
	assert_int_equal(parse("[" ROW("2021-05-07 01:05:02", "506", "920", "20", "0", "NO ANSWER",
				       "20210507-010506-1-CallBack-96-506-920.wav", "1.1") ","
			       ROW("2021-05-07 01:05:02", "506", "920", "20", "0", "BUSY",
				   "20210507-010506-1-CallBack-96-506-920.wav", "1.2") ","
			       ROW("2021-05-07 01:05:03", "506", "920", "20", "14", "ANSWERED",
				   "20210507-010506-1-CallBack-96-506-920.wav", "1.3") ","
			       ROW("2021-05-07 01:05:02", "506", "920", "20", "12", "ANSWERED",
				   "20210507-010506-1-CallBack-96-506-920.wav", "1.4") "]"),
			 CDR_OK);
	assert_int_equal(cdr_join(&l, &r, &how), 2); /* ANSWERED, then the longest billsec */
	assert_int_equal(how, CDR_JOIN_NAME);

	/* the same row twice (overlapping windows; forked CDRs share a UniqueID): equal billsec,
	 * then the earliest calldate, then the first */
	cdr_list_free(&l);
	assert_int_equal(parse("[" ROW("2021-05-07 01:05:03", "506", "920", "20", "14", "ANSWERED",
				       "20210507-010506-1-CallBack-96-506-920.wav", "7.7") ","
			       ROW("2021-05-07 01:05:02", "506", "920", "20", "14", "ANSWERED",
				   "20210507-010506-1-CallBack-96-506-920.wav", "7.7") ","
			       ROW("2021-05-07 01:05:02", "506", "920", "20", "14", "ANSWERED",
				   "20210507-010506-1-CallBack-96-506-920.wav", "7.7") "]"),
			 CDR_OK);
	assert_int_equal(cdr_join(&l, &r, &how), 1);
	/* and in lower case: dispositions are compared without case */
	snprintf(l.rows[0].disposition, sizeof l.rows[0].disposition, "answered");
	snprintf(l.rows[1].disposition, sizeof l.rows[1].disposition, "NO ANSWER");
	snprintf(l.rows[2].disposition, sizeof l.rows[2].disposition, "NO ANSWER");
	assert_int_equal(cdr_join(&l, &r, &how), 0);
}

static void join_by_time(void **state)
{
	/* The recording's calldate is its answer time: 01:05:06 for a call started 01:05:02. */
	struct recording r = rec("20210507/20210507-010506-1620378306-Inbound-96-506-620.wav",
				 "2021-05-07 01:05:06", "506", "620");
	enum cdr_join_how how;

	(void)state;
	assert_int_equal(
		parse("["
		      /* 0: other src */
		      ROW("2021-05-07 01:05:02", "507", "620", "30", "20", "ANSWERED", "", "1.0") ","
		      /* 1: other dst */
		      ROW("2021-05-07 01:05:02", "506", "621", "30", "20", "ANSWERED", "", "1.1") ","
		      /* 2: starts after the recording */
		      ROW("2021-05-07 01:05:07", "506", "620", "30", "20", "ANSWERED", "", "1.2") ","
		      /* 3: ended more than 60 s before it (00:59:00 + 300 + 60 < 01:05:06) */
		      ROW("2021-05-07 00:59:00", "506", "620", "300", "20", "ANSWERED", "", "1.3") ","
		      /* 4: names another recording */
		      ROW("2021-05-07 01:05:04", "506", "620", "30", "20", "ANSWERED",
			  "20210507-010506-other.wav", "1.4") ","
		      /* 5: in the window */
		      ROW("2021-05-07 01:04:00", "506", "620", "30", "20", "ANSWERED", "", "1.5") ","
		      /* 6: in the window, closest before */
		      ROW("2021-05-07 01:05:02", "506", "620", "30", "20", "ANSWERED", "", "1.6") "]"),
		CDR_OK);
	assert_int_equal(cdr_join(&l, &r, &how), 6);
	assert_int_equal(how, CDR_JOIN_TIME);

	/* without 6, 5 (01:04:00 + 30 + 60 = 01:05:30 covers 01:05:06) */
	snprintf(l.rows[6].src, sizeof l.rows[6].src, "999");
	assert_int_equal(cdr_join(&l, &r, &how), 5);
	/* the window's edges are inclusive: start == recording, and end == recording */
	snprintf(l.rows[5].calldate, sizeof l.rows[5].calldate, "2021-05-07 01:05:06");
	assert_int_equal(cdr_join(&l, &r, &how), 5);
	snprintf(l.rows[5].calldate, sizeof l.rows[5].calldate, "2021-05-07 01:03:36");
	assert_int_equal(cdr_join(&l, &r, &how), 5);
	snprintf(l.rows[5].calldate, sizeof l.rows[5].calldate, "2021-05-07 01:03:35");
	assert_int_equal(cdr_join(&l, &r, &how), -1);
	assert_int_equal(how, CDR_JOIN_NONE);
	/* an unknown duration leaves 60 s; across midnight */
	cdr_list_free(&l);
	assert_int_equal(parse("[" ROW("2021-05-06 23:59:30", "506", "620", "", "", "ANSWERED", "",
				       "2.0") "]"), CDR_OK);
	r = rec("20210507/20210507-000030-1-Inbound-96-506-620.wav", "2021-05-07 00:00:30", "506",
		"620");
	assert_int_equal(cdr_join(&l, &r, &how), 0);
	assert_int_equal(how, CDR_JOIN_TIME);
	snprintf(r.calldate, sizeof r.calldate, "2021-05-07 00:00:31");
	assert_int_equal(cdr_join(&l, &r, &how), -1);
	/* no src or dst on the recording: no guessing */
	snprintf(r.calldate, sizeof r.calldate, "2021-05-07 00:00:30");
	r.src[0] = '\0';
	assert_int_equal(cdr_join(&l, &r, &how), -1);
}

static void join_missing(void **state)
{
	struct recording r = rec("20210507/20210507-010506-9-CallBack-96-506-820(202).wav",
				 "2021-05-07 01:05:06", "506", "820(202)");
	enum cdr_join_how how = CDR_JOIN_NAME;

	(void)state;
	assert_int_equal(cdr_join(&l, &r, &how), -1); /* no rows at all */
	assert_int_equal(how, CDR_JOIN_NONE);
	assert_int_equal(parse(guide), CDR_OK);
	/* both rows name other recordings: no time fallback over them */
	assert_int_equal(cdr_join(&l, &r, &how), -1);
	assert_int_equal(how, CDR_JOIN_NONE);
	/* a recording whose calldate is not a date joins only by name */
	cdr_list_free(&l);
	assert_int_equal(parse("[" ROW("2021-05-07 01:05:02", "506", "820(202)", "6", "3",
				       "ANSWERED", "", "1.1") "]"), CDR_OK);
	r.calldate[0] = '\0';
	assert_int_equal(cdr_join(&l, &r, &how), -1);
}

static void manifest_object(void **state)
{
	struct json_object *o;

	(void)state;
	assert_int_equal(parse(guide), CDR_OK);
	assert_int_equal(cdr_to_json(&l.rows[0], CDR_JOIN_NAME, &o), 0);
	assert_string_equal(
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE),
		"{\"uniqueid\":\"1620378302.28\",\"calldate\":\"2021-05-07 01:05:02\","
		"\"disposition\":\"ANSWERED\",\"duration\":6,\"billsec\":3,\"accountcode\":\"\","
		"\"cidname\":\"\",\"in_route\":\"\",\"ivr\":\"\",\"channel\":\"96\","
		"\"dstchannel\":\"\",\"userfield\":\"CallBack\",\"src\":\"506\","
		"\"dst\":\"820(202)\",\"joined_by\":\"name\"}");
	json_object_put(o);
	l.rows[0].duration = -1;
	l.rows[0].billsec = -1;
	snprintf(l.rows[0].ivr, sizeof l.rows[0].ivr, "IVR620");
	assert_int_equal(cdr_to_json(&l.rows[0], CDR_JOIN_TIME, &o), 0);
	assert_non_null(strstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			       "\"duration\":null,\"billsec\":null,"));
	assert_non_null(strstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			       "\"ivr\":\"IVR620\""));
	assert_non_null(strstr(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			       "\"joined_by\":\"time\"}"));
	json_object_put(o);
	o = (struct json_object *)&l; /* must be reset */
	assert_int_equal(cdr_to_json(&l.rows[0], CDR_JOIN_NONE, &o), -1);
	assert_null(o);
}

static void jsonl_line(void **state)
{
	char buf[CDR_JSONL_MAX], again[CDR_JSONL_MAX];
	struct cdr worst;
	int n;

	(void)state;
	assert_int_equal(parse(guide), CDR_OK);
	n = cdr_row_jsonl(&l.rows[0], buf, sizeof buf);
	assert_string_equal(
		buf, "{\"calldate\":\"2021-05-07 01:05:02\",\"src\":\"506\",\"contact\":\"\","
		     "\"groupname\":\"\",\"dst\":\"820(202)\",\"channel\":\"96\",\"dstchannel\":\"\","
		     "\"duration\":\"6\",\"billsec\":\"3\",\"disposition\":\"ANSWERED\","
		     "\"userfield\":\"CallBack\",\"accountcode\":\"\",\"cidname\":\"\","
		     "\"in_route\":\"\",\"IVR\":\"\",\"Recording filename\":"
		     "\"20210507/20210507-010506-1620378306-CallBack-96-506-820(202).wav\","
		     "\"UniqueID\":\"1620378302.28\",\"port\":0}\n");
	assert_int_equal(n, (int)strlen(buf));
	/* the same row, the same bytes */
	assert_int_equal(cdr_row_jsonl(&l.rows[0], again, sizeof again), n);
	assert_memory_equal(buf, again, (size_t)n + 1);
	/* too small: refused, not cut */
	assert_int_equal(cdr_row_jsonl(&l.rows[0], again, (size_t)n), -1);
	assert_int_equal(cdr_row_jsonl(&l.rows[0], again, (size_t)n + 1), n);

	l.rows[1].duration = l.rows[1].billsec = -1;
	l.rows[1].port = -1;
	n = cdr_row_jsonl(&l.rows[1], buf, sizeof buf);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "\"duration\":\"\",\"billsec\":\"\","));
	assert_non_null(strstr(buf, "\"port\":null}\n"));

	/* every text field full of bytes JSON escapes still fits CDR_JSONL_MAX */
	memset(&worst, 0, sizeof worst);
	memset(&worst, 0x01, offsetof(struct cdr, duration));
#define FILL(f) worst.f[sizeof worst.f - 1] = '\0'
	FILL(uniqueid); FILL(calldate); FILL(src); FILL(dst); FILL(contact); FILL(groupname);
	FILL(channel); FILL(dstchannel); FILL(disposition); FILL(userfield); FILL(accountcode);
	FILL(cidname); FILL(in_route); FILL(ivr); FILL(recording); FILL(recording_key);
	worst.duration = worst.billsec = 2147483647L;
	worst.port = 2147483647;
	n = cdr_row_jsonl(&worst, buf, sizeof buf);
	assert_true(n > 6 * 1000);
	assert_int_equal(buf[n - 1], '\n');
	assert_null(strchr(buf, '\x01'));
}

static void free_and_push(void **state)
{
	struct cdr c;

	(void)state;
	cdr_list_free(&l);
	assert_null(l.rows);
	assert_int_equal(l.totalcount, -1);
	memset(&c, 0, sizeof c);
	snprintf(c.uniqueid, sizeof c.uniqueid, "1.1");
	for (int i = 0; i < 1000; i++)
		assert_int_equal(cdr_list_push(&l, &c), 0);
	assert_int_equal(l.count, 1000);
	assert_string_equal(l.rows[999].uniqueid, "1.1");
	/* a parse appends after what is there */
	assert_int_equal(parse(guide), CDR_OK);
	assert_int_equal(l.count, 1002);
	assert_string_equal(l.rows[1001].uniqueid, "1620378171.24");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(guide_example, setup, teardown),
		cmocka_unit_test_setup_teardown(shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(error_object, setup, teardown),
		cmocka_unit_test_setup_teardown(values_and_names, setup, teardown),
		cmocka_unit_test_setup_teardown(refused_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(hostile_json, setup, teardown),
		cmocka_unit_test_setup_teardown(join_by_name, setup, teardown),
		cmocka_unit_test_setup_teardown(join_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(join_by_time, setup, teardown),
		cmocka_unit_test_setup_teardown(join_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(manifest_object, setup, teardown),
		cmocka_unit_test_setup_teardown(jsonl_line, setup, teardown),
		cmocka_unit_test_setup_teardown(free_and_push, setup, teardown),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
