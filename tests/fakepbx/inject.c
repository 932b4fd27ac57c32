/*
 * inject.c — answer-level faults: other status codes, login pages where
 * data was expected, a skewed clock and monstrous headers.
 *
 * Owns the bodies and headers of those answers; which request they hit
 * is counted by fault.c. It never reads the recordings.
 */
#include "inject.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

#define INJECT_FLOOD_LINES 1000
#define INJECT_LONG_BYTES (64 * 1024)

bool inject_gate(const struct fpx_config *cfg, struct http_req *r, unsigned cgi,
		 struct http_reply *rep)
{
	const struct fault_set *set = &cfg->faults;
	for (size_t i = 0; i < set->n; i++) {
		const struct fault_inst *f = &set->v[i];
		if (f->id != FAULT_STATUS && f->id != FAULT_REDIRECT_LOGIN &&
		    f->id != FAULT_HTML_200)
			continue;
		if (!fault_use(set, f, cgi))
			continue;
		http_note_fault(r, f->id);
		if (f->id == FAULT_REDIRECT_LOGIN) {
			*rep = http_reply_redirect_login();
		} else if (f->id == FAULT_HTML_200) {
			*rep = http_reply_login_page();
		} else {
			char msg[48];
			snprintf(msg, sizeof msg, "injected HTTP %ld", f->value);
			*rep = http_reply_fail((unsigned)f->value, msg);
			rep->retry_after = f->value == 429 || f->value == 503;
		}
		return true;
	}
	return false;
}

/* t as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). */
static void inject_http_date(time_t t, char out[40])
{
	static const char *const wday[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mon[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", wday[tm.tm_wday % 7], tm.tm_mday,
		 mon[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void inject_flood(struct MHD_Response *resp)
{
	for (int i = 0; i < INJECT_FLOOD_LINES; i++) {
		char name[32];
		snprintf(name, sizeof name, "X-Fakepbx-Flood-%04d", i);
		MHD_add_response_header(resp, name, "header flood");
	}
}

static void inject_long(struct MHD_Response *resp)
{
	char *v = malloc(INJECT_LONG_BYTES + 1);
	if (!v)
		return;
	for (size_t i = 0; i < INJECT_LONG_BYTES; i++)
		v[i] = (char)('a' + i % 26);
	v[INJECT_LONG_BYTES] = '\0';
	MHD_add_response_header(resp, "X-Fakepbx-Long", v);
	free(v);
}

void inject_headers(const struct fpx_config *cfg, struct http_req *r,
		    const struct http_reply *rep, struct MHD_Response *resp)
{
	const struct fault_set *set = &cfg->faults;
	/* the PBX's clock: Date and a Retry-After date agree with each other */
	time_t now = (time_t)clock_unix() + (time_t)fault_arg(set, FAULT_CLOCK_SKEW);
	char v[40];
	/* a Retry-After date is Date + SECONDS only if both come from one now:
	 * libmicrohttpd's own Date may fall in the next second */
	bool date_retry = rep->retry_after && fault_on(set, FAULT_RETRY_AFTER_DATE);
	if (fault_on(set, FAULT_CLOCK_SKEW) || clock_owns_date() || date_retry) {
		inject_http_date(now, v);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_DATE, v);
	}
	if (rep->retry_after) {
		long secs = fault_on(set, FAULT_RETRY_AFTER) ? fault_arg(set, FAULT_RETRY_AFTER) : 1;
		if (fault_on(set, FAULT_RETRY_AFTER_DATE))
			inject_http_date(now + (time_t)secs, v);
		else
			snprintf(v, sizeof v, "%ld", secs);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
	}
	if (http_fault(r, FAULT_HEADER_FLOOD))
		inject_flood(resp);
	if (http_fault(r, FAULT_HEADER_LONG))
		inject_long(resp);
}
