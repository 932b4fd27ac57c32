/* verify_heads.c — the audit's proof across days (verify_internal.h): each day's minisign
 * signature and its trusted comment, the newest head and its history, and the auditor's
 * witness. Reads only; findings go through verify_finding. */
#include "verify_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "head.h"
#include "mansig.h"
#include "crypto/hash.h"
#include "crypto/minisign.h"

/* The value of `key` ("lines:", "last:") in a trusted comment, into `out`. 0 or -1. */
static int tc_field(const char *tc, const char *key, char *out, size_t outlen)
{
	const char *at = strstr(tc, key);
	size_t n;

	if (!at)
		return -1;
	at += strlen(key);
	n = strcspn(at, "\t");
	if (n == 0 || n >= outlen)
		return -1;
	memcpy(out, at, n);
	out[n] = '\0';
	return 0;
}

void verify_check_signature(struct vctx *c, const char *day)
{
	char why[512], path[64], tc[MINISIGN_TRUSTED_MAX + 1], lines_tc[24], last_tc[80];
	char last[SHA256_HEX_LEN + 1], count[24];
	unsigned long lines;
	int rc = mansig_verify_day(c->s, day, c->o->pk, tc, sizeof tc, why, sizeof why);

	snprintf(path, sizeof path, "manifest/%s.jsonl.minisig", day);
	if (rc == 1)
		verify_finding(c, path, "missing: the manifest day is not signed");
	else if (rc == 2)
		verify_finding(c, path, "does not verify: %s", why);
	else if (rc < 0)
		verify_finding(c, path, "cannot be checked: %s", why);
	if (rc != 0)
		return;
	/* What the signer says it signed must be what is there (an auditor reads the comment). */
	if (tc_field(tc, "\tlines:", lines_tc, sizeof lines_tc) != 0 ||
	    tc_field(tc, "\tlast:", last_tc, sizeof last_tc) != 0) {
		verify_finding(c, path, "its trusted comment names no line count and last line");
		return;
	}
	if (head_day_tip(c->s, day, &lines, last, why, sizeof why) < 0) {
		verify_finding(c, path, "cannot be compared with its day: %s", why);
		return;
	}
	snprintf(count, sizeof count, "%lu", lines);
	if (strcmp(count, lines_tc) != 0 || strcmp(last, last_tc) != 0)
		verify_finding(c, path, "its trusted comment says %s lines ending in %.16s..., "
			       "the day holds %s ending in %.16s...", lines_tc, last_tc, count,
			       last);
}

void verify_check_head_day(struct vctx *c, const char *day)
{
	const struct head_day *hd = head_find(&c->head, day);
	char why[512], path[64];
	int rc;

	if (!hd)
		return;
	snprintf(path, sizeof path, "manifest/%s.jsonl", day);
	rc = head_check_day(c->s, hd, why, sizeof why);
	if (rc == 2)
		verify_finding(c, path, "%s (head %llu)", why, c->head.seq);
	else if (rc < 0)
		verify_finding(c, path, "cannot be checked against the head: %s", why);
}

/* ---- the head across days ---- */

/* The auditor's witness (a copy of the newest head a clean verify saw, kept off the archive):
 * the head here may have grown since, never gone back or forked. */
static void check_witness(struct vctx *c)
{
	struct head w;
	char err[512], why[512], *buf = NULL, hex[SHA256_HEX_LEN + 1];
	unsigned char dg[SHA256_LEN];
	const char *wp = c->o->witness;
	size_t len = 0;
	int rc = head_read_file(wp, &buf, &len, err, sizeof err);

	if (rc == 1)
		return; /* a first verify: nothing witnessed yet */
	if (rc != 0 || head_parse(buf, len, &w, err, sizeof err) != 0) {
		verify_finding(c, wp, "the witness cannot be used: %s", err);
		free(buf);
		return;
	}
	sha256_start(c->hash);
	sha256_update(c->hash, buf, len);
	sha256_finish(c->hash, dg);
	sha256_to_hex(dg, hex);
	free(buf);
	if (c->head.seq == 0) {
		verify_finding(c, "manifest/heads",
			       "the witness saw head %llu; there is none here now", w.seq);
	} else if (w.seq > c->head.seq) {
		verify_finding(c, "manifest/heads", "rolled back: the witness saw head %llu, "
			       "the newest here is %llu", w.seq, c->head.seq);
	} else if (w.seq == c->head.seq && strcmp(hex, c->head.sha256) != 0) {
		verify_finding(c, "manifest/heads",
			       "head %llu is not the one the witness saw (replaced)", w.seq);
	} else if (w.seq < c->head.seq) {
		for (size_t i = 0; i < w.n; i++) {
			const struct head_day *now = head_find(&c->head, w.days[i].day);
			char path[64];

			if (!verify_in_range(c->o, w.days[i].day))
				continue;
			snprintf(path, sizeof path, "manifest/%s.jsonl", w.days[i].day);
			if (!now || now->lines < w.days[i].lines)
				verify_finding(c, path, "the witness saw %lu lines in head %llu; "
					       "head %llu %s",
					       w.days[i].lines, w.seq, c->head.seq,
					       now ? "says fewer" : "does not list the day");
			else if (head_check_day(c->s, &w.days[i], why, sizeof why) != 0)
				verify_finding(c, path, "%s (as the witness saw it in head %llu)",
					       why, w.seq);
		}
	}
	head_release(&w);
}

void verify_check_heads(struct vctx *c, struct days *d)
{
	const struct minisign_public *pk[1] = { c->o->pk };
	char why[512];
	int rc = head_load(c->s, pk, c->o->pk ? 1 : 0, 0, &c->head, why, sizeof why);

	if (rc == 1) {
		if (d->n)
			verify_finding(c, "manifest/heads", "no head: days can be removed or "
				       "rolled back unseen (the next run writes one)");
	} else if (rc != 0) {
		verify_finding(c, "manifest/heads", "%s", why);
	} else {
		c->rep->head_seq = c->head.seq;
		if (c->o->pk && !c->head.is_signed)
			verify_finding(c, "manifest/heads", "the newest head is not signed");
		rc = head_check_history(c->s, &c->head, why, sizeof why);
		if (rc == 1)
			verify_finding(c, "manifest/heads/history.jsonl", "missing");
		else if (rc != 0)
			verify_finding(c, "manifest/heads/history.jsonl", "%s", why);
		if (head_check_named(c->s, &c->head, why, sizeof why) != 0)
			verify_finding(c, "manifest/heads", "%s", why);
		for (size_t i = 0; i < c->head.n; i++)
			if (verify_in_range(c->o, c->head.days[i].day) &&
			    verify_days_add(d, c->head.days[i].day, HAS_HEAD) != 0)
				c->oom = 1;
	}
	if (c->o->witness)
		check_witness(c);
}
