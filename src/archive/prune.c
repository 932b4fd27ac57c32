/* prune.c — removing archived files by age (prune) and on request (forget), each removal
 * followed by its manifest mark and, when configured, a fresh signature of the day. */
#include "prune.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hold.h"
#include "head.h"
#include "manifest.h"
#include "mansig.h"
#include "recpath.h"
#include "store.h"
#include "base/log.h"

void prune_cutoff(pbx_minute now, long keep_days, char out[11])
{
	char buf[PBXTIME_MINUTE_LEN + 1];
	pbx_minute today = now - ((now % 1440) + 1440) % 1440;

	pbxtime_format(today - (pbx_minute)keep_days * 1440, buf);
	memcpy(out, buf, 10);
	out[10] = '\0';
}

/* Removes an entry's file. Returns 1 removed (its size in *size), 0 it was already gone, -1
 * error (printed). */
static int remove_file(struct store *s, const struct manifest_entry *e, uint64_t *size)
{
	char dir[64], err[512], esc[600];
	const char *name;
	struct stat st;
	int dfd, rc;

	*size = 0;
	if (store_split_file(e->file, dir, sizeof dir, &name) != 0) {
		log_error("the manifest names an unsafe file '%s'; not touching it",
			  log_escape(e->file, esc, sizeof esc));
		return -1;
	}
	dfd = store_open_dir(s, dir, 0, err, sizeof err);
	if (dfd < 0 && errno == ENOENT)
		return 0;
	if (dfd < 0) {
		log_error("%s", err);
		return -1;
	}
	rc = fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW);
	close(dfd);
	if (rc != 0 && errno == ENOENT)
		return 0;
	if (rc != 0) {
		log_error("cannot stat %s: %s", log_escape(e->file, esc, sizeof esc),
			  strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_error("%s is not a regular file; not touching it",
			  log_escape(e->file, esc, sizeof esc));
		return -1;
	}
	if (store_remove(s, dir, name, err, sizeof err) != 0) {
		log_error("%s", log_escape(err, esc, sizeof esc));
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return 1;
}

struct prune_ctx {
	struct store *s;
	struct manifest *m;
	const struct holds *h;
	const struct prune_options *o;
	struct prune_report *rep;
	const char *day;
	char reason[64];
	int queued;
	struct head head;
};

static int prune_entry(void *ctx, const struct manifest_entry *e)
{
	struct prune_ctx *c = ctx;
	const struct hold *hold;
	uint64_t size;
	int rc;

	if (e->pruned || e->forgotten || e->unavailable || (c->o->offload && e->offloaded))
		return 0;
	if (c->o->offload && !e->offsite) {
		c->rep->not_offsite++;
		return 0;
	}
	hold = hold_match(c->h, e);
	if (hold) {
		c->rep->held++;
		if (c->o->note)
			c->o->note(c->o->note_ctx, PRUNE_HELD, e, hold);
		return 0;
	}
	if (c->o->dry_run) {
		c->rep->pruned++;
		c->rep->bytes += e->size;
		if (c->o->note)
			c->o->note(c->o->note_ctx, PRUNE_WOULD, e, NULL);
		return 0;
	}
	rc = remove_file(c->s, e, &size);
	if (rc < 0 ||
	    manifest_add_mark(c->m, c->day, e, c->o->offload ? MANIFEST_OFFLOADED : MANIFEST_PRUNED,
			      c->reason) != 0) {
		c->rep->storage_error = 1;
		return 1;
	}
	c->queued++;
	c->rep->pruned++;
	c->rep->bytes += size;
	if (rc == 0)
		c->rep->gone++;
	if (c->o->note)
		c->o->note(c->o->note_ctx, rc ? PRUNE_REMOVED : PRUNE_GONE, e, NULL);
	return 0;
}

/* Whether `day` may be changed and re-signed: not when it is no longer what head `hd` says,
 * nor when its signature (if it has one) fails to verify. Returns 0 fine, -1 refused
 * (printed). */
static int signature_allows(struct store *s, const struct head *hd, const char *day,
			    const struct minisign_secret *key, const struct minisign_public *pk)
{
	const struct head_day *d = head_find(hd, day);
	char why[512];
	int rc;

	if (d && (rc = head_check_day(s, d, why, sizeof why)) != 0) {
		log_error("manifest/%s.jsonl: %s; leaving the day alone (nexo-archive verify says "
			  "more)", day, why);
		return -1;
	}
	if (!key || !pk)
		return 0;
	rc = mansig_verify_day(s, day, pk, NULL, 0, why, sizeof why);
	if (rc == 0 || rc == 1)
		return 0; /* valid, or never signed (days from before signing was set up) */
	log_error("manifest/%s.jsonl: its signature %s (%s); leaving the day alone rather than "
		  "re-signing it (nexo-archive verify says more)", day,
		  rc == 2 ? "does not verify" : "cannot be checked", why);
	return -1;
}

/* The newest head, checked with `pk`, into `h` (the first one written now when there is none
 * and `key` may change the archive). Returns 0, or -1 (printed: nothing may be changed while
 * the head cannot be trusted). */
static int load_head(struct store *s, const struct minisign_public *pk,
		     const struct minisign_secret *key, int dry_run, struct head *h)
{
	const struct minisign_public *keys[1] = { pk };
	char why[512];
	int rc = head_load(s, keys, pk ? 1 : 0, 1, h, why, sizeof why);

	if (rc == 1 && !dry_run)
		return head_write(s, h, key);
	if (rc == 0 || rc == 1)
		return 0;
	log_error("%s; changing nothing until a person looks (docs/security.md, \"A head that "
		  "fails\")", why);
	return -1;
}

/* Prunes one day with its own manifest handle. */
static void prune_day(struct prune_ctx *c, const char *day)
{
	char err[512];
	int rc;

	if (signature_allows(c->s, &c->head, day, c->o->key, c->o->pk) != 0) {
		c->rep->bad_days++;
		return;
	}
	c->m = manifest_open(c->s, err, sizeof err);
	if (!c->m) {
		log_error("%s", err);
		c->rep->storage_error = 1;
		return;
	}
	c->day = day;
	c->queued = 0;
	rc = manifest_each_entry(c->m, day, prune_entry, c);
	if (rc < 0 && !c->rep->storage_error) {
		/* manifest.c said why; the day is left as it is. */
		c->rep->bad_days++;
	}
	/* Whatever was removed gets its mark, even after an error further on. */
	if (c->queued && manifest_commit(c->m, err, sizeof err) != 0) {
		log_error("%s (the removed files are recorded by the next prune)", err);
		c->rep->storage_error = 1;
	} else if (c->queued && c->o->key && mansig_sign_changed(c->s, c->m, c->o->key, c->head.seq) != 0) {
		c->rep->storage_error = 1;
	}
	if (c->queued && head_note_changed(&c->head, c->m) != 0)
		c->rep->storage_error = 1;
	if (c->queued && c->o->changed)
		c->o->changed(c->o->note_ctx, day);
	manifest_close(c->m);
	c->m = NULL;
}

struct day_list {
	char (*v)[11];
	size_t n, cap;
	const char *before; /* only days before this one */
	int oom;
};

static int collect_day(void *ctx, const char *day)
{
	struct day_list *l = ctx;

	if (l->before && strcmp(day, l->before) >= 0)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char (*p)[11] = realloc(l->v, cap * sizeof *p);
		if (!p) {
			l->oom = 1;
			return 1;
		}
		l->v = p;
		l->cap = cap;
	}
	memcpy(l->v[l->n++], day, 11);
	return 0;
}

/* The manifest days (before `before`, when not NULL), oldest first. Returns 0 or -1. */
static int list_days(struct store *s, const char *before, struct day_list *l)
{
	char err[512];
	struct manifest *m = manifest_open(s, err, sizeof err);
	int rc;

	memset(l, 0, sizeof *l);
	l->before = before;
	if (!m) {
		log_error("%s", err);
		return -1;
	}
	rc = manifest_each_day(m, collect_day, l);
	manifest_close(m);
	if (l->oom)
		log_error("out of memory listing manifest days");
	return rc == 0 && !l->oom ? 0 : -1;
}

int prune_archive(struct store *s, const struct holds *h, const struct prune_options *o,
		  struct prune_report *rep)
{
	struct prune_ctx c;
	struct day_list days;

	memset(rep, 0, sizeof *rep);
	memset(&c, 0, sizeof c);
	prune_cutoff(o->now, o->keep_days, rep->cutoff);
	c.s = s;
	c.h = h;
	c.o = o;
	c.rep = rep;
	snprintf(c.reason, sizeof c.reason, "%s = %ld", o->offload ? "local_keep_days"
								   : "archive_keep_days", o->keep_days);
	if (load_head(s, o->pk, o->key, o->dry_run, &c.head) != 0 ||
	    list_days(s, rep->cutoff, &days) != 0) {
		free(days.v);
		head_release(&c.head);
		rep->storage_error = 1;
		return -1;
	}
	for (size_t i = 0; i < days.n && !rep->storage_error; i++)
		prune_day(&c, days.v[i]);
	free(days.v);
	if (!o->dry_run && head_write(s, &c.head, o->key) != 0)
		rep->storage_error = 1;
	head_release(&c.head);
	if (rep->storage_error)
		return -1;
	return rep->bad_days ? 1 : 0;
}

/* ---- forget ---- */

struct forget_ctx {
	const char *path;
	struct manifest_entry found;
	int hit;
};

/* The entry `path` names: its file, or its PBX path — the first version not yet forgotten when
 * it has several (each call of forget erases one; prune_forget repeats until none is left). */
static int find_entry(void *ctx, const struct manifest_entry *e)
{
	struct forget_ctx *f = ctx;

	if (e->unavailable ||
	    (strcmp(e->file, f->path) != 0 && strcmp(e->pbx_path, f->path) != 0))
		return 0;
	if (f->hit && (e->forgotten || !f->found.forgotten))
		return 0; /* keep the first one still to be erased */
	f->found = *e;
	f->hit = 1;
	return 0;
}

/* The day a path names: "YYYY/MM/DD/..." (an archived file) or a PBX path. */
static int day_of_path(const char *path, char day[11])
{
	struct recpath rp;
	char err[128];

	if (strlen(path) > 11 && path[4] == '/' && path[7] == '/' && path[10] == '/') {
		snprintf(day, 11, "%.4s-%.2s-%.2s", path, path + 5, path + 8);
		return 0;
	}
	if (recpath_parse(path, &rp, err, sizeof err) == 0) {
		memcpy(day, rp.day, 11);
		return 0;
	}
	return -1;
}

/* Looks `path` up in `day`. Returns 1 found, 0 not there, -1 the day is unusable. */
static int search_day(struct store *s, const char *day, struct forget_ctx *f)
{
	char err[512];
	struct manifest *m = manifest_open(s, err, sizeof err);
	int rc;

	if (!m) {
		log_error("%s", err);
		return -1;
	}
	rc = manifest_each_entry(m, day, find_entry, f);
	manifest_close(m);
	if (rc < 0)
		return -1;
	return f->hit;
}

/* Finds the entry: first in the day the path names, then anywhere. */
static int locate(struct store *s, struct forget_ctx *f, char day[11])
{
	struct day_list days;
	int rc = 0, bad = 0;

	if (day_of_path(f->path, day) == 0) {
		rc = search_day(s, day, f);
		if (rc != 0)
			return rc;
	}
	if (list_days(s, NULL, &days) != 0) {
		free(days.v);
		return -1;
	}
	for (size_t i = 0; i < days.n && rc == 0; i++) {
		rc = search_day(s, days.v[i], f);
		if (rc < 0) {
			bad = 1; /* printed; keep looking: it may be in another day */
			rc = 0;
		} else if (rc == 1) {
			memcpy(day, days.v[i], 11);
		}
	}
	free(days.v);
	return rc == 1 ? 1 : bad ? -1 : 0;
}

/* prune_forget() of one version. */
static int forget_one(struct store *s, struct head *hd, const struct holds *h, const char *path,
		      const char *reason, const struct minisign_secret *key,
		      const struct minisign_public *pk, struct forget_info *out)
{
	struct forget_ctx f;
	const struct manifest_entry *e = &f.found;
	const struct hold *hold;
	struct manifest *m;
	uint64_t size;
	char err[512];
	int rc;

	memset(out, 0, sizeof *out);
	memset(&f, 0, sizeof f);
	f.path = path;
	rc = locate(s, &f, out->day);
	if (rc < 0)
		return FORGET_ERROR;
	if (rc == 0)
		return FORGET_UNKNOWN;
	snprintf(out->file, sizeof out->file, "%s", e->file);
	snprintf(out->pbx_path, sizeof out->pbx_path, "%s", e->pbx_path);
	out->pbx_deleted = e->pbx_deleted;
	out->was_pruned = e->pruned;
	if (e->forgotten)
		return FORGET_ALREADY;
	hold = hold_match(h, e);
	if (hold) {
		snprintf(out->hold_id, sizeof out->hold_id, "%s", hold->id);
		snprintf(out->hold_reason, sizeof out->hold_reason, "%s", hold->reason);
		return FORGET_HELD;
	}
	if (signature_allows(s, hd, out->day, key, pk) != 0)
		return FORGET_ERROR;
	rc = remove_file(s, e, &size);
	if (rc < 0)
		return FORGET_ERROR;
	out->file_was_missing = rc == 0;
	m = manifest_open(s, err, sizeof err);
	if (!m) {
		log_error("%s", err);
		return FORGET_ERROR;
	}
	rc = FORGET_DONE;
	if (manifest_add_mark(m, out->day, e, MANIFEST_FORGOTTEN, reason) != 0) {
		rc = FORGET_ERROR;
	} else if (manifest_commit(m, err, sizeof err) != 0) {
		log_error("%s (the file is gone; run forget again to record it)", err);
		rc = FORGET_ERROR;
	} else if (key && mansig_sign_changed(s, m, key, hd->seq) != 0) {
		rc = FORGET_ERROR;
	}
	if (head_note_changed(hd, m) != 0)
		rc = FORGET_ERROR;
	manifest_close(m);
	return rc;
}

int prune_forget(struct store *s, const struct holds *h, const char *path, const char *reason,
		 const struct minisign_secret *key, const struct minisign_public *pk,
		 struct forget_info *out)
{
	struct head hd;
	int rc;

	memset(out, 0, sizeof *out);
	if (load_head(s, pk, key, 0, &hd) != 0)
		return FORGET_ERROR;
	rc = forget_one(s, &hd, h, path, reason, key, pk, out);
	/* A PBX path archived in several versions: every one of them. */
	while (rc == FORGET_DONE) {
		struct forget_info more;
		int next = forget_one(s, &hd, h, path, reason, key, pk, &more);

		if (next == FORGET_ALREADY || next == FORGET_UNKNOWN)
			break;
		*out = more;
		rc = next;
	}
	if (hd.dirty && head_write(s, &hd, key) != 0)
		rc = FORGET_ERROR;
	head_release(&hd);
	return rc;
}
