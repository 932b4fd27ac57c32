/* cdrsync_archive.c — the CDR archive after the walk (cdrsync.h "Archive", cdrsync_internal.h):
 * each day not done with is refreshed from 9006 and 9005 until it can be sealed with a
 * "cdr_archived" line, then, with [cdr] delete_from_pbx, deleted from the PBX with 9004 and
 * recorded with a "cdr_deleted" line; the days not done with are kept in .state/cdr-days. */
#include "cdrsync_internal.h"

#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "window.h"
#include "archive/cdrfile.h"
#include "archive/manifest.h"
#include "archive/store.h"
#include "base/log.h"
#include "base/pbxtime.h"
#include "base/stop.h"
#include "crypto/hash.h"
#include "pbx/csv.h"
#include "pbx/pbx.h"

#define DAYS_FILE "cdr-days"

static void hash_hex(struct run *r, const struct cdrfile_buf *b, char hex[SHA256_HEX_LEN + 1])
{
	unsigned char d[SHA256_LEN];

	sha256_start(r->hash);
	sha256_update(r->hash, b->p ? b->p : "", b->len);
	sha256_finish(r->hash, d);
	sha256_to_hex(d, hex);
}

static int commit(struct run *r)
{
	char err[512];

	if (manifest_commit(r->man, err, sizeof err) != 0) {
		log_error("%s", err);
		r->storage_error = 1;
		return -1;
	}
	return 0;
}

/* Seals `day` from the files on disk (what an auditor will hash). Returns 0 sealed, 1 not
 * sealable yet (warned), -1 error. */
static int seal_day(struct run *r, const char *day, struct cdr_list *rows)
{
	char jname[24], cname[24], jhash[SHA256_HEX_LEN + 1], chash[SHA256_HEX_LEN + 1];
	char err[256], now[21];
	struct cdrfile_buf j = { 0 }, c = { 0 };
	size_t records = 0;
	int header = 0, rc = -1;
	json_object *o;

	snprintf(jname, sizeof jname, "%s.jsonl", day);
	snprintf(cname, sizeof cname, "%s.csv", day);
	if (cdrfile_read(r->store, jname, &j) != 1 || cdrfile_read(r->store, cname, &c) != 1) {
		log_error("cdr/%s or cdr/%s is missing; the day's CDR archive is not sealed", jname,
			  cname);
		goto out;
	}
	if (cdrfile_parse_jsonl(day, &j, rows) != 0)
		goto out;
	if (csv_count(c.p, c.len, CDR_CSV_FIRST_COLUMN, &records, &header, err, sizeof err)) {
		log_warn("cdr/%s is not readable CSV (%s); the day's CDRs stay open", cname, err);
		rc = 1;
		goto out;
	}
	if (records != rows->count) {
		log_warn("the PBX's CDRs of %s disagree: 9006 gave %zu rows, 9005 %zu; the day's CDR "
			 "archive stays open", day, rows->count, records);
		rc = 1;
		goto out;
	}
	hash_hex(r, &j, jhash);
	hash_hex(r, &c, chash);
	pbxtime_utc_stamp(now);
	o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string("cdr_archived"));
	json_object_object_add(o, "day", json_object_new_string(day));
	json_object_object_add(o, "rows", json_object_new_int64((int64_t)rows->count));
	json_object_object_add(o, "jsonl", json_object_new_string(jname));
	json_object_object_add(o, "jsonl_sha256", json_object_new_string(jhash));
	json_object_object_add(o, "csv", json_object_new_string(cname));
	json_object_object_add(o, "csv_sha256", json_object_new_string(chash));
	json_object_object_add(o, "archived_at", json_object_new_string(now));
	if (manifest_add_day_event(r->man, day, o) != 0 || commit(r) != 0)
		goto out;
	r->t.cdr_sealed++;
	rc = 0;
out:
	free(j.p);
	free(c.p);
	return rc;
}

/* The data rows of 9005's export of [a, b], or -1 (warned). */
static long export_rows(struct run *r, const char *a, const char *b)
{
	struct cdrfile_buf csv = { 0 };
	size_t records = 0;
	int header;
	char err[256];
	long n = -1;

	if (pbx_cdr(r->pbx, PBX_CDR_EXPORT, a, b, cdrfile_take_csv, &csv) == PBX_OK) {
		if (csv_count(csv.p ? csv.p : "", csv.len, CDR_CSV_FIRST_COLUMN, &records, &header,
			      err, sizeof err) == 0)
			n = (long)records;
		else
			log_warn("9005's export of %s to %s is not readable CSV: %s", a, b, err);
	}
	free(csv.p);
	return n;
}

/* Deletes a sealed day's CDRs from the PBX (see cdrsync.h). `archived`: the sealed rows.
 * Returns 0 done, 1 left for a later run (warned), -1 error. */
static int delete_day(struct run *r, const char *day, const struct cdr_list *archived)
{
	char a[PBXTIME_MINUTE_LEN + 1], b[PBXTIME_MINUTE_LEN + 1], now[21];
	struct cdr_list fresh;
	long extra = 0;
	size_t had;
	json_object *o;
	int rc = -1;

	snprintf(a, sizeof a, "%s 00:00", day);
	snprintf(b, sizeof b, "%s 23:59", day);
	cdr_list_init(&fresh);
	if (cdrsync_query(r, a, b, &fresh) != PBX_OK ||
	    (extra = cdrfile_rows_lacking(archived, &fresh)) < 0)
		goto out;
	if (extra > 0) {
		log_warn("the PBX holds %ld CDRs of %s that the sealed archive lacks; none of the "
			 "day's CDRs are deleted", extra, day);
		rc = 1;
		goto out;
	}
	/* 9004 deletes by filter: every row of the day, also any a capped 9006 did not show.
	 * So the count must be known whole: from 9006's totalcount, else from 9005's export. */
	if (fresh.totalcount >= 0 ? (size_t)fresh.totalcount != fresh.count
				  : export_rows(r, a, b) != (long)fresh.count) {
		log_warn("cannot tell that 9006 showed every CDR of %s (its count and 9005's "
			 "export disagree with it); none of the day's CDRs are deleted", day);
		rc = 1;
		goto out;
	}
	had = fresh.count;
	if (had > 0) {
		if (pbx_cdr(r->pbx, PBX_CDR_DELETE, a, b, NULL, NULL) != PBX_OK ||
		    cdrsync_query(r, a, b, &fresh) != PBX_OK)
			goto out;
		if (fresh.count > 0) {
			log_warn("asked the PBX to delete the CDRs of %s, but %zu remain; tried again "
				 "next run", day, fresh.count);
			rc = 1;
			goto out;
		}
	}
	pbxtime_utc_stamp(now);
	o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string("cdr_deleted"));
	json_object_object_add(o, "day", json_object_new_string(day));
	json_object_object_add(o, "rows", json_object_new_int64((int64_t)had));
	json_object_object_add(o, "deleted_at", json_object_new_string(now));
	if (manifest_add_day_event(r->man, day, o) != 0 || commit(r) != 0)
		goto out;
	r->t.cdr_deleted += had;
	rc = 0;
out:
	cdr_list_free(&fresh);
	return rc;
}

/* 9006 of a whole day into `rows`, asked with a minute of padding at both ends (window.h) and
 * kept to the day's calls: the day's last minute whatever the PBX's reading of the end bound.
 * rows->totalcount is -2 when the answer was fewer rows than it counted. Returns a
 * pbx_result. */
static int query_day(struct run *r, const char *day, struct cdr_list *rows)
{
	char a[PBXTIME_MINUTE_LEN + 1], b[PBXTIME_MINUTE_LEN + 1], text[PBXTIME_MINUTE_LEN + 1];
	pbx_minute first, from, to;
	size_t k = 0;
	int rc;

	snprintf(text, sizeof text, "%s 00:00", day);
	if (pbxtime_parse(text, &first) != 0)
		return PBX_FAILED;
	window_request(first, first + 1439, &from, &to);
	pbxtime_format(from, a);
	pbxtime_format(to, b);
	rc = cdrsync_query(r, a, b, rows);
	if (rc != PBX_OK)
		return rc;
	if (rows->totalcount >= 0 && (size_t)rows->totalcount != rows->count)
		rows->totalcount = -2;
	for (size_t i = 0; i < rows->count; i++)
		if (strncmp(rows->rows[i].calldate, day, 10) == 0)
			rows->rows[k++] = rows->rows[i];
	rows->count = k;
	return PBX_OK;
}

/* 9005's export of a whole day, kept byte for byte, into `csv` (its data rows into *records):
 * the bounds that make it hold exactly the day's `want` rows under the PBX's reading of the
 * end bound — "DAY 23:59" (read through :59), else "DAY+1 00:00" (read as :00, exclusive or
 * not). Returns 1 found, 0 neither holds `want` rows (`err` says what came), -1 failed. */
static int export_day(struct run *r, const char *day, size_t want, struct cdrfile_buf *csv,
		      size_t *records, char *err, size_t errlen)
{
	char a[PBXTIME_MINUTE_LEN + 1], b[PBXTIME_MINUTE_LEN + 1];
	pbx_minute first;
	int header;

	snprintf(a, sizeof a, "%s 00:00", day);
	if (pbxtime_parse(a, &first) != 0)
		return -1;
	for (int next = 0; next <= 1; next++) {
		pbxtime_format(first + 1439 + next, b);
		free(csv->p);
		memset(csv, 0, sizeof *csv);
		if (pbx_cdr(r->pbx, PBX_CDR_EXPORT, a, b, cdrfile_take_csv, csv) != PBX_OK)
			return -1;
		if (csv_count(csv->p ? csv->p : "", csv->len, CDR_CSV_FIRST_COLUMN, records, &header,
			      err, errlen) != 0)
			return 0;
		if (*records == want)
			return 1;
		snprintf(err, errlen, "%zu rows", *records);
	}
	return 0;
}

/* Refreshes the files of a day not sealed yet. Returns 0 when both files now hold the PBX's
 * whole day, consistent with each other; 1 when the PBX's answers were not whole or lost
 * rows the archive holds (warned; the files are left as they were); -1 error. */
static int refresh_day(struct run *r, const char *day)
{
	char jname[24], cname[24], err[512];
	struct cdr_list rows, old;
	struct cdrfile_buf csv = { 0 }, jsonl = { 0 }, oldj = { 0 }, oldc = { 0 };
	size_t records = 0, old_records = 0;
	int rc = -1, header, got;
	long gone;

	snprintf(jname, sizeof jname, "%s.jsonl", day);
	snprintf(cname, sizeof cname, "%s.csv", day);
	cdr_list_init(&rows);
	cdr_list_init(&old);
	if (query_day(r, day, &rows) != PBX_OK)
		goto out;
	rc = 1;
	if (rows.totalcount == -2) {
		log_warn("the PBX sent fewer CDRs than it counts around %s; the day's CDR archive is "
			 "left as it was", day);
		goto out;
	}
	got = export_day(r, day, rows.count, &csv, &records, err, sizeof err);
	if (got < 0)
		goto out;
	if (got == 0) {
		log_warn("the PBX's CDRs of %s disagree: 9006 sent %zu rows, 9005 %s; the day's CDR "
			 "archive is left as it was", day, rows.count, err);
		goto out;
	}
	/* A refresh never loses a row: a PBX that forgot some (deleted by hand, a disk swapped)
	 * leaves the archived files as they were. */
	got = cdrfile_read(r->store, jname, &oldj);
	if (got < 0 || (got == 1 && cdrfile_parse_jsonl(day, &oldj, &old) != 0) ||
	    cdrfile_read(r->store, cname, &oldc) < 0 || (gone = cdrfile_rows_lacking(&rows, &old)) < 0) {
		rc = -1;
		goto out;
	}
	if (oldc.p && csv_count(oldc.p, oldc.len, CDR_CSV_FIRST_COLUMN, &old_records, &header, err,
				sizeof err) != 0)
		old_records = 0; /* an unreadable old export is replaced by a readable one */
	if (gone > 0 || records < old_records) {
		log_warn("the PBX no longer reports %ld CDRs of %s that the archive holds; the "
			 "archived files are kept as they are", gone > 0 ? gone : (long)(old_records - records),
			 day);
		goto out;
	}
	if (cdrfile_render_jsonl(&rows, &jsonl) != 0) {
		rc = -1;
		goto out;
	}
	/* The export first: a crash between the two leaves a pair the next refresh rewrites. */
	if (cdrfile_put_if_changed(r->store, cname, &csv, &oldc, err, sizeof err) != 0 ||
	    cdrfile_put_if_changed(r->store, jname, &jsonl, &oldj, err, sizeof err) != 0) {
		log_error("%s", err);
		r->storage_error = 1;
		rc = -1;
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		r->archive_error = 1;
	if (rc > 0)
		r->t.cdr_stuck++;
	cdr_list_free(&rows);
	cdr_list_free(&old);
	free(csv.p);
	free(jsonl.p);
	free(oldj.p);
	free(oldc.p);
	return rc;
}

/* The rows of a sealed day, from its files, after checking both against their sealed hashes.
 * Returns 0, or -1 (printed: a deletion must not go ahead). */
static int sealed_rows(struct run *r, const char *day, const struct manifest_day_cdr *st,
		       struct cdr_list *rows)
{
	struct cdrfile_buf f[2] = { { 0 }, { 0 } };
	const char *want[2] = { st->jsonl_sha256, st->csv_sha256 }, *ext[2] = { "jsonl", "csv" };
	char name[2][24], hex[SHA256_HEX_LEN + 1];
	int rc = 0;

	for (int i = 0; i < 2 && rc == 0; i++) {
		snprintf(name[i], sizeof name[i], "%s.%s", day, ext[i]);
		if (cdrfile_read(r->store, name[i], &f[i]) == 1)
			hash_hex(r, &f[i], hex);
		if (!f[i].p || strcmp(hex, want[i]) != 0) {
			log_error("cdr/%s is missing or no longer matches its sealed hash; the day's "
				  "CDRs are not deleted from the PBX (run verify)", name[i]);
			rc = -1;
		}
	}
	if (rc == 0 && cdrfile_parse_jsonl(day, &f[0], rows) != 0)
		rc = -1;
	free(f[0].p);
	free(f[1].p);
	return rc;
}

/* One day's step. Returns 0 when it is done with, 1 to look at it again next run, 2 when it
 * is sealed and waits for delete_from_pbx. */
static int archive_day(struct run *r, const char *day, pbx_minute horizon, int may_delete)
{
	struct manifest_day_cdr st;
	struct cdr_list rows;
	char last[PBXTIME_MINUTE_LEN + 1];
	pbx_minute day_end;
	int rc, deleting = r->cfg->cdr.delete_from_pbx;

	snprintf(last, sizeof last, "%s 23:59", day);
	if (pbxtime_parse(last, &day_end) != 0)
		return 0; /* not a day: a stray name in .state or cdr/ */
	if (manifest_day_cdr(r->man, day, &st) != 0) {
		r->archive_error = 1;
		return 1;
	}
	cdr_list_init(&rows);
	if (!st.archived) {
		rc = refresh_day(r, day);
		/* Sealed once no window can list the day again (wholly before the horizon), and
		 * only right after a refresh that found the PBX's whole day. */
		if (rc != 0 || day_end >= horizon) {
			cdr_list_free(&rows);
			return 1;
		}
		rc = seal_day(r, day, &rows);
		if (rc != 0) {
			if (rc < 0)
				r->archive_error = 1;
			cdr_list_free(&rows);
			return 1;
		}
		st.archived = 1;
	} else if (deleting && !st.deleted && may_delete) {
		if (sealed_rows(r, day, &st, &rows) != 0) {
			r->t.blocked++;
			cdr_list_free(&rows);
			return 2;
		}
	}
	rc = 0;
	/* With [offsite] required_for_delete, the PBX's rows go only once both sealed files are
	 * confirmed in the bucket ("cdr_offsite"), as recordings wait for theirs. */
	if (deleting && !st.deleted && may_delete && r->cfg->offsite.url &&
	    r->cfg->offsite.required_for_delete && !st.offsite) {
		r->t.offsite_waiting++;
		cdr_list_free(&rows);
		return 2;
	}
	if (deleting && !st.deleted && may_delete) {
		rc = delete_day(r, day, &rows);
		if (rc < 0)
			r->archive_error = 1;
	}
	cdr_list_free(&rows);
	/* Sealed and kept on the PBX: remembered (cheaply) in case delete_from_pbx is turned
	 * on later, or the deletion failed. */
	return st.deleted || (rc == 0 && deleting && may_delete) ? 0 : 2;
}

/* Days to look at: those remembered, else (first use, or a lost .state) every cdr/ file. */
static int load_days(struct run *r, struct cdrsync *c)
{
	char err[256], day[11];
	int dfd = store_open_dir(r->store, ".state", 0, err, sizeof err), fd;

	fd = dfd >= 0 ? store_open_regular(dfd, DAYS_FILE) : -1;
	if (dfd >= 0)
		close(dfd);
	if (fd >= 0) {
		FILE *f = fdopen(fd, "r");
		char line[64];
		/* "YYYY-MM-DD open" or "YYYY-MM-DD sealed" */
		while (f && fgets(line, sizeof line, f))
			if (strlen(line) >= 11 && line[10] == ' ') {
				memcpy(day, line, 10);
				day[10] = '\0';
				int sealed = strncmp(line + 11, "sealed", 6) == 0;
				if (cdrsync_note_day(c, day, sealed) != 0)
					break;
			}
		if (f)
			fclose(f);
		else
			close(fd);
		return 0;
	}
	dfd = store_open_dir(r->store, "cdr", 0, err, sizeof err);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return 0;
	}
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		if (manifest_is_day_file(e->d_name)) { /* cdr/ names its days the same way */
			memcpy(day, e->d_name, 10);
			day[10] = '\0';
			cdrsync_note_day(c, day, 0);
		}
	closedir(d);
	return 0;
}

static int by_day(const void *x, const void *y)
{
	const struct day_item *a = x, *b = y;
	int c = memcmp(a->day, b->day, 10);

	return c ? c : a->sealed - b->sealed; /* a day seen now comes before its old state */
}

int cdrsync_archive(struct run *r, pbx_minute now, int may_delete)
{
	struct cdrsync *c = r->cdr;
	struct cdrfile_buf keep = { 0 };
	char err[512];
	int rc = 0;

	/* A day is final a day after it ended, or after the lookback if that is longer: calls
	 * that run past midnight and CDRs the PBX writes late land before it is sealed. */
	pbx_minute horizon = r->cfg->sync.lookback > 1440 ? r->cfg->sync.lookback : 1440;

	if (!c || !r->cfg->cdr.archive || r->dry_run || c->off)
		return 0;
	load_days(r, c);
	if (c->ndays) /* qsort's array may not be NULL, even for no element */
		qsort(c->days, c->ndays, sizeof *c->days, by_day);
	keep.p = malloc(c->ndays * 18 + 1);
	if (!keep.p) {
		log_error("out of memory");
		return -1;
	}
	for (size_t i = 0; i < c->ndays; i++) {
		const struct day_item *d = &c->days[i];
		int state = d->sealed ? 2 : 1;

		if (i > 0 && memcmp(d->day, c->days[i - 1].day, 10) == 0)
			continue;
		/* A sealed day costs nothing until it may be deleted. */
		if (!r->fatal && !stop_requested() &&
		    (!d->sealed || (r->cfg->cdr.delete_from_pbx && may_delete)))
			state = archive_day(r, d->day, now - horizon, may_delete);
		if (state)
			keep.len += (size_t)snprintf(keep.p + keep.len, 19, "%s %s\n", d->day,
						     state == 2 ? "sealed" : "open");
	}
	if (store_put(r->store, ".state", DAYS_FILE, keep.p, keep.len, err, sizeof err) != 0) {
		log_error("%s", err);
		r->storage_error = 1;
		rc = -1;
	}
	free(keep.p);
	return rc < 0 || r->archive_error ? -1 : 0;
}
