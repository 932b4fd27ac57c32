/* retention.c — freeing the PBX, and only of what is safe to free. A recording is deleted only
 * when it is older than [retention] pbx_keep_days, the manifest records it as archived, and its
 * archived file, read back from disk right before the delete, still hashes to the manifest's
 * value. At most [retention] max_delete per run. The PBX's answer to a delete proves nothing:
 * a re-list decides, and only recordings gone from it get a "pbx_deleted" line. */
#include "retention.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "run.h"
#include "window.h"
#include "archive/manifest.h"
#include "archive/recpath.h"
#include "archive/store.h"
#include "base/exitcode.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "base/stop.h"
#include "crypto/hash.h"
#include "pbx/pbx.h"

struct candidate {
	const struct recording *rec;
	struct recpath where;
	pbx_minute minute;
};

static int oldest_first(const void *x, const void *y)
{
	const struct candidate *a = x, *b = y;
	int c = strcmp(a->rec->calldate, b->rec->calldate);
	return c ? c : strcmp(a->rec->pbx_path, b->rec->pbx_path);
}

static const char *candidate_path_at(const void *items, size_t i)
{
	return ((const struct candidate *)items)[i].rec->pbx_path;
}

/* Reads the archived copy back and compares it with the manifest. Returns 1 when it matches. */
static int still_intact(struct run *r, const struct candidate *c, const struct manifest_entry *e)
{
	char err[512], hex[SHA256_HEX_LEN + 1], esc[512], dir[sizeof e->file];
	const char *name = recpath_basename(e->file);
	uint64_t size = 0;
	int fd, ok;

	/* The copy is where the manifest says it is. */
	snprintf(dir, sizeof dir, "%.*s", (int)(name - e->file - (name > e->file)), e->file);
	fd = store_open_dir(r->store, dir, 0, err, sizeof err);

	if (fd < 0) {
		log_error("NOT deleting %s from the PBX: its archived copy cannot be read: %s",
			  log_escape(c->rec->pbx_path, esc, sizeof esc), err);
		return 0;
	}
	ok = sha256_file_at(r->hash, fd, name, hex, &size) == 0;
	if (!ok)
		log_error("NOT deleting %s from the PBX: its archived copy %s cannot be read: %s",
			  log_escape(c->rec->pbx_path, esc, sizeof esc), e->file, strerror(errno));
	close(fd);
	/* An encrypted copy was checked with its file key when it was stored; from then on its
	 * own hash (stored_sha256) is what proves it unchanged. */
	const char *want = e->stored_sha256[0] ? e->stored_sha256 : e->sha256;
	if (ok && (size != e->size || strcmp(hex, want) != 0)) {
		log_error("NOT deleting %s from the PBX: the archived copy %s no longer matches the "
			  "manifest (sha256 %s, %llu bytes; recorded %s, %llu bytes)",
			  log_escape(c->rec->pbx_path, esc, sizeof esc), e->file, hex,
			  (unsigned long long)size, want, (unsigned long long)e->size);
		ok = 0;
	}
	return ok;
}

/* Deletes one batch, then re-lists its minutes to learn what really went. */
static int delete_batch(struct run *r, struct candidate *c, size_t n)
{
	const char **paths = calloc(n, sizeof *paths);
	struct listing after;
	pbx_minute lo = c[0].minute, hi = c[0].minute;
	char err[512], esc[512];
	size_t k = 0;
	int rc;

	if (!paths) {
		log_error("out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct manifest_entry *e;
		if (manifest_lookup(r->man, c[i].where.day, c[i].rec->pbx_path, &e) != 1 ||
		    !still_intact(r, &c[i], e)) {
			r->t.blocked++;
			c[i].rec = NULL;
			continue;
		}
		paths[k++] = c[i].rec->pbx_path;
		lo = c[i].minute < lo ? c[i].minute : lo;
		hi = c[i].minute > hi ? c[i].minute : hi;
	}
	if (k == 0) {
		free(paths);
		return 0;
	}
	(void)FAILPOINT("retention.delete");
	rc = pbx_delete(r->pbx, paths, k);
	free(paths);
	if (rc == PBX_REFUSED || rc == PBX_UNREACHABLE) {
		r->fatal = rc == PBX_REFUSED ? EXIT_LOGIN : EXIT_UNREACHABLE;
		return -1;
	}
	/* Whatever the PBX said, the re-list decides. */
	(void)FAILPOINT("retention.relist");
	listing_init(&after);
	if (window_list(r, lo, hi, &after) != 0) {
		listing_free(&after);
		r->t.unconfirmed += k;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int present = 0;
		if (!c[i].rec)
			continue;
		for (size_t j = 0; j < after.n && !present; j++)
			present = strcmp(after.rows[j].pbx_path, c[i].rec->pbx_path) == 0;
		if (present) {
			r->t.unconfirmed++;
			log_warn("%s is still listed after its delete; it stays for the next run",
				 log_escape(c[i].rec->pbx_path, esc, sizeof esc));
		} else if (manifest_add_mark(r->man, c[i].where.day, c[i].rec->pbx_path,
					     MANIFEST_PBX_DELETED, NULL) != 0) {
			listing_free(&after);
			return -1;
		} else {
			r->t.deleted++;
		}
	}
	listing_free(&after);
	(void)FAILPOINT("retention.record");
	if (manifest_commit(r->man, err, sizeof err) != 0) {
		log_error("%s", err);
		r->storage_error = 1;
		return -1;
	}
	return 0;
}

int retention_apply(struct run *r, pbx_minute now)
{
	const struct config *cfg = r->cfg;
	pbx_minute cutoff = now - cfg->retention.pbx_keep_days * 1440, first;
	struct listing l;
	struct candidate *cand = NULL;
	size_t ncand = 0, done = 0;
	char day[11], first_text[PBXTIME_MINUTE_LEN + 1], err[256];
	int rc = 0;

	if (manifest_first_day(r->man, day) != 1)
		return 0;
	snprintf(first_text, sizeof first_text, "%s 00:00", day);
	if (pbxtime_parse(first_text, &first) != 0 || first > cutoff - 1)
		return 0;
	/* Everything still on the PBX from the archive's first day up to the cutoff. (A listing
	 * left incomplete by a lying count only means fewer candidates: each is still read back
	 * and its deletion confirmed by a complete re-list.) */
	listing_init(&l);
	if (window_list(r, first, cutoff - 1, &l) < 0) {
		listing_free(&l);
		return -1;
	}
	cand = calloc(l.n ? l.n : 1, sizeof *cand);
	if (!cand) {
		listing_free(&l);
		log_error("out of memory");
		return -1;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct candidate *c = &cand[ncand];
		const struct manifest_entry *e;

		if (recpath_parse(l.rows[i].pbx_path, &c->where, err, sizeof err) != 0 ||
		    pbxtime_parse(l.rows[i].calldate, &c->minute) != 0 || c->minute >= cutoff)
			continue;
		if (manifest_lookup(r->man, c->where.day, l.rows[i].pbx_path, &e) != 1)
			continue; /* not archived (yet): never deleted */
		if (e->pruned || e->forgotten || e->unavailable)
			continue; /* no archived copy (any more): the PBX keeps its own */
		if (e->invalid)
			continue; /* archived as it was, flagged: never made deletable */
		c->rec = &l.rows[i];
		ncand++;
	}
	qsort(cand, ncand, sizeof *cand, oldest_first);
	/* A listing can repeat a row; deleting it once is enough. */
	size_t u = 0;
	for (size_t i = 0; i < ncand; i++)
		if (u == 0 || strcmp(cand[u - 1].rec->pbx_path, cand[i].rec->pbx_path) != 0)
			cand[u++] = cand[i];
	ncand = u;
	if (ncand > (size_t)cfg->retention.max_delete) {
		log_warn("%zu recordings are due for deletion from the PBX, more than [retention] "
			 "max_delete = %ld; deleting the oldest %ld (a guard against a wrong clock or "
			 "config)", ncand, cfg->retention.max_delete, cfg->retention.max_delete);
		r->t.deferred = ncand - (size_t)cfg->retention.max_delete;
		ncand = (size_t)cfg->retention.max_delete;
	}
	if (r->dry_run) {
		printf("dry run: %zu recordings would be deleted from the PBX (each read back "
		       "first)\n", ncand);
		ncand = 0;
	}
	while (done < ncand && !r->fatal && !stop_requested()) {
		size_t n = batch_len(r, candidate_path_at, cand, done, ncand);
		if (delete_batch(r, cand + done, n) != 0) {
			rc = -1;
			break;
		}
		done += n;
	}
	free(cand);
	listing_free(&l);
	return rc;
}
