/* window.c — listing windows (window.h). */
#include "window.h"

#include <stdlib.h>
#include <string.h>

#include "live.h"
#include "run.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "pbx/pbx.h"

void window_request(pbx_minute start, pbx_minute end, pbx_minute *from, pbx_minute *to)
{
	*from = start > WINDOW_PAD ? start - WINDOW_PAD : 0; /* not before 1970 */
	*to = end + WINDOW_PAD;
}

int window_holds(pbx_minute start, pbx_minute end, const char *calldate)
{
	pbx_minute m;

	return pbxtime_parse(calldate, &m) != 0 || (m >= start && m <= end);
}

/* One 20053 request for [from, to] (request bounds), appended to `out`. Returns the rows it
 * brought, those refused by the parser included (the PBX counts them too), -2 when the answer
 * was larger than a listing may hold (nothing appended, nothing printed), or -1 (printed;
 * r->fatal set when the run must end). */
static long ask(struct run *r, pbx_minute from, pbx_minute to, struct listing *out)
{
	char a[PBXTIME_MINUTE_LEN + 1], b[PBXTIME_MINUTE_LEN + 1];
	size_t before = out->n, skipped = out->skipped;
	int rc;

	pbxtime_format(from, a);
	pbxtime_format(to, b);
	live_listing(from, to);
	rc = pbx_list(r->pbx, a, b, out);
	if (rc == PBX_TOO_LARGE)
		return -2; /* the caller narrows */
	if (rc != PBX_OK) {
		if (rc == PBX_REFUSED)
			r->fatal = EXIT_LOGIN;
		else if (rc == PBX_UNREACHABLE)
			r->fatal = EXIT_UNREACHABLE;
		r->archive_error = 1;
		return -1;
	}
	log_debug("listed %s to %s: %zu rows", a, b, out->n - before);
	/* A row in the end minute after its first second proves that this PBX reads an end bound
	 * through HH:MM:59. */
	for (size_t i = before; i < out->n && !r->end_reads_through; i++) {
		pbx_minute m;
		r->end_reads_through = pbxtime_parse(out->rows[i].calldate, &m) == 0 && m == to &&
				       strcmp(out->rows[i].calldate + 16, ":00") > 0;
	}
	return (long)(out->n - before + out->skipped - skipped);
}

/* Keeps, of out->rows[from..], the rows shown from `start` on. Those before it are another
 * window's (the padding minute). Those after the window's end are kept: a PBX that filters on
 * the call's start lists a call that started in the window and was answered after it (its
 * recording's time) here, and not in the next window, asked for from its own start (window.h).
 * A calldate that does not parse counts as inside (window_holds). */
static void keep_from(struct listing *out, size_t from, pbx_minute start)
{
	size_t k = from;

	for (size_t i = from; i < out->n; i++) {
		pbx_minute m;
		if (pbxtime_parse(out->rows[i].calldate, &m) != 0 || m >= start)
			out->rows[k++] = out->rows[i];
	}
	out->n = k;
}

/* Whether an answer of `n` rows (totalcount `count`, -1 when absent) may have been cut short:
 * 1 it was (fewer rows than counted), 2 it may have been (as large as the largest answer yet,
 * with no count to say otherwise), 0 it was whole. */
static int cut_short(const struct run *r, long n, long long count)
{
	if (count >= 0 && count > n)
		return 1;
	if ((count < 0 || count == n) && n >= WINDOW_CAP_MIN_ROWS &&
	    (size_t)n >= r->largest_answer)
		return 2;
	return 0;
}

/* Counts a minute the PBX would not list whole (capped, or more than a run holds). No PBX
 * has that many calls in one minute: a few such minutes mean a PBX that lies (a count, a
 * flood), and every further one costs a full answer or more; so after WINDOW_UNLISTABLE_MAX
 * a run's listing stops (not a watch's). Returns 1 (go on, the minute reported), or -1 (stop:
 * r->fatal). */
static int unlistable_minute(struct run *r)
{
	r->t.capped_minutes++;
	/* A watch lists only the last minutes, batch after batch, for days: it goes on. */
	if (r->watching || ++r->unlistable_minutes < WINDOW_UNLISTABLE_MAX)
		return 1;
	log_error("the PBX would not list %d single minutes whole: listing stops for this run "
		  "(is it the PBX? see docs/pbx-api.md, \"Caps\")", WINDOW_UNLISTABLE_MAX);
	r->archive_error = 1;
	r->fatal = EXIT_PARTIAL;
	return -1;
}

/* Whether this PBX sends more than `n` rows at once, asked of wider windows ending at minute
 * `m` (the hour, day, week, month before it, until one proves it): an answer of more
 * than `n` rows proves that an answer of `n` rows is whole (r->largest_answer), one that counts
 * more than it sends proves that its count is a true count (r->counts_beyond_rows). A PBX that
 * caps at `n` answers every one of them with at most `n` rows and such a count, so nothing
 * is proved there (a real cap stays reported). An answer too large to hold proves nothing.
 * Once nothing was proved for `n` rows, it is not asked again in this run (a watch's life)
 * for as few rows. Returns 1 (proved), 0 (not), -1 on failure (printed). */
static int probe_cap(struct run *r, pbx_minute m, long n, struct listing *out)
{
	static const pbx_minute spans[] = { 60, 24 * 60, 7 * 24 * 60, 31 * 24 * 60 };
	const size_t mark = out->n, skipped = out->skipped;

	if ((size_t)n <= r->cap_unproved)
		return 0;
	for (size_t i = 0; i < sizeof spans / sizeof *spans; i++) {
		long k = ask(r, m > spans[i] ? m - spans[i] : 0, m + 1, out);
		long long count = out->totalcount;

		out->n = mark; /* only its size matters */
		out->skipped = skipped;
		if (k == -2)
			break;
		if (k < 0)
			return -1;
		if ((size_t)k > r->largest_answer)
			r->largest_answer = (size_t)k;
		if (count > k)
			r->counts_beyond_rows = 1;
		if (k > n || count > k) {
			log_debug("an answer of %ld rows%s: the PBX does not cap at %ld", k,
				  count > k ? ", fewer than counted" : "", n);
			return 1;
		}
	}
	r->cap_unproved = (size_t)n;
	return 0;
}

/* One try of list_minute(): [m, m+1], then [m, m]. Returns 0 when one came back whole (its rows
 * replace the padded ones), 1 when neither did (*counted set when one counted more than it
 * sent), -1 on failure. */
static int minute_whole(struct run *r, pbx_minute m, long padded_rows, int why,
			struct listing *out, size_t padded_at, size_t skipped_before, int *counted)
{
	const size_t mark = out->n, skipped = out->skipped;

	for (int narrow = 1; narrow >= 0; narrow--) {
		long n = ask(r, m, m + narrow, out);
		int whole;

		if (n == -2) { /* more than a listing holds: as good as capped */
			out->n = mark;
			out->skipped = skipped;
			continue;
		}
		if (n < 0)
			return -1;
		/* A count decides once this PBX was seen counting more than it sent (a count that
		 * only ever equals the rows sent may be just that); else fewer rows than the
		 * capped answer brought, or than the largest answer yet, prove the minute whole. */
		if (out->totalcount > n)
			*counted = 1;
		if (out->totalcount >= 0 && (why == 1 || r->counts_beyond_rows))
			whole = out->totalcount <= n;
		else
			whole = n < padded_rows || (size_t)n < r->largest_answer;
		/* Only a PBX that reads the end through :59 answers [m, m] whole (this answer, or
		 * an earlier one, showed it: ask()). */
		if (whole && !narrow)
			whole = r->end_reads_through;
		if (whole) {
			size_t k = out->n - mark;
			out->skipped = skipped_before + (out->skipped - skipped);
			memmove(out->rows + padded_at, out->rows + mark, k * sizeof *out->rows);
			out->n = padded_at + k;
			keep_from(out, padded_at, m);
			return 0;
		}
		out->n = mark;
		out->skipped = skipped;
	}
	return 1;
}

/* A minute whose padded answer (`padded_rows` rows, already in `out`) was (`why` 1) or may
 * have been (2) capped, asked for again without the padding, which sees less of the
 * neighbouring minutes: [m, m+1] holds all of minute m under every reading of the end bound;
 * [m, m] holds it when the PBX reads through HH:MM:59 (any answer of the run with a row after
 * HH:MM:00 of its end minute proves it). The first of them that comes back whole replaces the
 * padded rows. An answer only suspected of a cap (`why` 2: as many rows as the largest answer
 * of the run, with no count or a count of just those rows) may be a busy minute in a run that
 * saw nothing larger (a watch's listing of the last hours): when neither narrow answer proves it
 * whole, wider windows are asked whether this PBX sends more rows at once (probe_cap), and if
 * so the minute is asked for again. Returns 0 then, 1 when neither did (the padded answer's rows
 * stay, reported by name), -1 on failure. */
static int list_minute(struct run *r, pbx_minute m, long padded_rows, int why,
		       struct listing *out, size_t padded_at, size_t skipped_before)
{
	char when[PBXTIME_MINUTE_LEN + 1];
	int counted = why == 1, rc;

	rc = minute_whole(r, m, padded_rows, why, out, padded_at, skipped_before, &counted);
	if (rc == 1 && why == 2) {
		rc = probe_cap(r, m, padded_rows, out);
		if (rc == 1)
			rc = minute_whole(r, m, padded_rows, why, out, padded_at, skipped_before,
					  &counted);
		else if (rc == 0)
			rc = 1;
	}
	if (rc <= 0)
		return rc;
	pbxtime_format(m, when);
	log_error("the PBX caps its answer for the minute %s (%ld rows%s): more calls started in "
		  "that minute than it sends at once, and not every recording of it can be listed; "
		  "the window stays open, nothing is deleted from it",
		  when, padded_rows,
		  counted		     ? ", fewer than it counts"
		  : out->totalcount >= 0 ? ", a count of just those, and no larger answer seen"
					 : ", no count");
	keep_from(out, padded_at, m);
	return unlistable_minute(r);
}

/* [start, end] asked for as two halves, appended to `out` (which held `before` rows). */
static int halves(struct run *r, pbx_minute start, pbx_minute end, struct listing *out,
		  size_t before, size_t skipped)
{
	pbx_minute mid = start + (end - start) / 2;
	int first = window_list(r, start, mid, out), second;

	if (first < 0 || first == 2) {
		out->n = before;
		out->skipped = skipped;
		return first;
	}
	second = window_list(r, mid + 1, end, out);
	if (second < 0 || second == 2) {
		out->n = before;
		out->skipped = skipped;
		return second;
	}
	return first | second;
}

/* An answer for [start, end] too large to hold. Halves fit where the answer alone was too
 * large; a listing already half full (a window of many calls) is the walk's to narrow (2); a
 * single minute is reported and left (1), like a capped one (unlistable_minute). */
static int too_large(struct run *r, pbx_minute start, pbx_minute end, struct listing *out,
		     size_t before, size_t skipped)
{
	char when[PBXTIME_MINUTE_LEN + 1];

	out->n = before;
	out->skipped = skipped;
	if (out->n >= LISTING_MAX_ROWS / 2)
		return 2;
	if (start < end) {
		log_debug("a listing too large to hold; asking in two halves");
		return halves(r, start, end, out, before, skipped);
	}
	pbxtime_format(start, when);
	log_error("the PBX lists more for the minute %s than a run holds (over %d rows, or an "
		  "answer over its size cap): that minute is not archived", when, LISTING_MAX_ROWS);
	return unlistable_minute(r);
}

int window_list(struct run *r, pbx_minute start, pbx_minute end, struct listing *out)
{
	const size_t before = out->n, skipped = out->skipped;
	pbx_minute from, to;
	long n;
	int why;

	window_request(start, end, &from, &to);
	n = ask(r, from, to, out);
	if (n == -2)
		return too_large(r, start, end, out, before, skipped);
	if (n < 0)
		return -1;
	why = cut_short(r, n, out->totalcount);
	if (why == 1)
		r->counts_beyond_rows = 1;
	if ((size_t)n > r->largest_answer)
		r->largest_answer = (size_t)n;
	if (!why) {
		keep_from(out, before, start);
		return 0;
	}
	if (start >= end)
		return list_minute(r, start, n, why, out, before, skipped);
	/* Asked again in parts: this answer's rows (and skipped rows) count no more. */
	out->n = before;
	out->skipped = skipped;
	log_debug("a listing of %ld rows%s; asking in two halves", n,
		  why == 1 ? ", fewer than counted" : " may be capped");
	return halves(r, start, end, out, before, skipped);
}

int window_count(struct run *r, pbx_minute start, pbx_minute end, long long *count,
		 long *rows)
{
	struct listing l;
	pbx_minute from, to;
	long n;

	listing_init(&l);
	window_request(start, end, &from, &to);
	n = ask(r, from, to, &l);
	if (n == -2) {
		*count = -1;
		*rows = LISTING_MAX_ROWS;
		listing_free(&l);
		return 0;
	}
	*count = l.totalcount;
	keep_from(&l, 0, start);
	*rows = (long)l.n;
	listing_free(&l);
	return n < 0 ? -1 : 0;
}

void window_walk_start(struct window_walk *w, pbx_minute start, pbx_minute end,
		       pbx_minute window)
{
	w->next = start;
	w->end = end;
	w->window = window > 0 ? window : 1;
	w->span = w->window;
}

int window_walk_next(struct window_walk *w, pbx_minute *a, pbx_minute *b)
{
	if (w->next > w->end)
		return 0;
	*a = w->next;
	*b = w->span > w->end - w->next ? w->end : w->next + w->span - 1;
	w->next = *b + 1;
	return 1;
}

int window_walk_narrow(struct window_walk *w, pbx_minute a)
{
	if (w->next - a <= 1)
		return 0;
	w->span = (w->next - a) / 2 > 0 ? (w->next - a) / 2 : 1;
	w->window = w->span < w->window ? w->span : w->window;
	w->next = a;
	return 1;
}

void window_walk_saw(struct window_walk *w, int had_recordings)
{
	if (had_recordings)
		w->span = w->window;
	else if (w->span <= w->end - w->next)
		w->span *= 2;
}
