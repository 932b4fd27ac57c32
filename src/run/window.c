/* window.c — listings over spans of minutes (window.h). */
#include "window.h"

#include "run.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "pbx/pbx.h"

int window_list(struct run *r, pbx_minute start, pbx_minute end, struct listing *out)
{
	char a[PBXTIME_MINUTE_LEN + 1], b[PBXTIME_MINUTE_LEN + 1];
	size_t before = out->n;
	int rc;

	pbxtime_format(start, a);
	pbxtime_format(end, b);
	rc = pbx_list(r->pbx, a, b, out);
	if (rc != PBX_OK) {
		if (rc == PBX_REFUSED)
			r->fatal = EXIT_LOGIN;
		else if (rc == PBX_UNREACHABLE)
			r->fatal = EXIT_UNREACHABLE;
		r->archive_error = 1;
		return -1;
	}
	if (out->totalcount < 0 || (unsigned long long)out->totalcount <= out->n - before)
		return 0;
	/* A capped answer: fewer rows than the PBX says match. Split until every row is seen. */
	if (start >= end) {
		/* Nothing left to split: keep what came (it is archived), but the window is not
		 * complete, and a listing that decides deletions cannot be trusted. */
		log_warn("the PBX counts %lld recordings in the minute %s but returns only %zu; "
			 "the rest cannot be listed", out->totalcount, a, out->n - before);
		return 1;
	}
	log_debug("%s to %s: %zu of %lld rows; splitting", a, b, out->n - before,
		  out->totalcount);
	out->n = before;
	pbx_minute mid = start + (end - start) / 2;
	int first = window_list(r, start, mid, out);
	if (first < 0)
		return -1;
	int second = window_list(r, mid + 1, end, out);
	return second < 0 ? -1 : first | second;
}
