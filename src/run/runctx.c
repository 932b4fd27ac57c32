/* runctx.c — opening and closing what the stages of a run share (run.h): set up once per
 * process, and the locked stretch during which the archive's state may change. `run` holds the
 * lock for its whole life; `watch` only for each batch it archives. */
#include "runctx.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdrsync.h"
#include "fetch.h"
#include "lanes.h"
#include "progress.h"
#include "offsite.h"
#include "run.h"
#include "sync.h"
#include "archive/attempts.h"
#include "archive/pending.h"
#include "archive/head.h"
#include "archive/leftover.h"
#include "archive/manifest.h"
#include "archive/mansig.h"
#include "archive/seal.h"
#include "archive/sealq.h"
#include "archive/state.h"
#include "archive/store.h"
#include "base/exitcode.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "crypto/age.h"
#include "crypto/hash.h"
#include "crypto/minisign.h"
#include "pbx/pbx.h"

/* [encryption] recipients → r->recipients. Returns 0, or -1 (printed: a config error). */
static int load_recipients(struct run *r)
{
	const struct config *cfg = r->cfg;
	struct age_recipients *rs = &r->recipient_list;
	char err[512];

	age_recipients_init(rs);
	if (cfg->encryption.recipients) {
		char *list = strdup(cfg->encryption.recipients), *save = NULL;
		for (char *tok = list ? strtok_r(list, " \t", &save) : NULL; tok;
		     tok = strtok_r(NULL, " \t", &save)) {
			if (age_recipients_add(rs, tok, err, sizeof err) != 0) {
				log_error("%s: [encryption] recipients: %s", cfg->path, err);
				free(list);
				return -1;
			}
		}
		free(list);
	} else if (cfg->encryption.recipients_file &&
		   age_recipients_load_file(rs, cfg->encryption.recipients_file, err,
					    sizeof err) != 0) {
		log_error("%s: [encryption] recipients_file: %s", cfg->path, err);
		return -1;
	}
	if (age_recipients_count(rs) > 0)
		r->recipients = rs;
	return 0;
}

/* The keys a signed day may be checked with before it is added to: ours, then the keys
 * rotated out ([signing] previous_public_key_file). Returns 0, or -1 (printed). */
static int load_signing_checks(struct run *r)
{
	const struct config *cfg = r->cfg;
	char err[512];

	r->sign_pub[r->nsign_pub] = minisign_secret_public(r->sign_key);
	if (!r->sign_pub[r->nsign_pub]) {
		log_error("out of memory");
		return -1;
	}
	r->nsign_pub++;
	for (int i = 0; i < cfg->signing.nprevious; i++) {
		const char *path = cfg->signing.previous_public_key_files[i];
		r->sign_pub[r->nsign_pub] = minisign_public_load(path, err, sizeof err);
		if (!r->sign_pub[r->nsign_pub]) {
			log_error("%s: [signing] previous_public_key_file: %s", cfg->path, err);
			return -1;
		}
		r->nsign_pub++;
	}
	return 0;
}

#define PLAIN_HTTP_NOTED "plain-http" /* .state/: the config's hash when last warned */

/* Plain http is worth a warning, but one that repeats every night gets cron's mail ignored:
 * it is said on the first run after the config changed (its SHA-256 differs from the one
 * noted in .state/plain-http), on a dry run, and with -v; otherwise only as debug. */
static void warn_plain_http(struct run *r)
{
	const struct config *cfg = r->cfg;
	char hex[SHA256_HEX_LEN + 1], seen[SHA256_HEX_LEN + 2], err[512];
	uint64_t size;
	ssize_t n = -1;
	int dfd, known = 0;

	if (strncmp(cfg->pbx.url, "http://", 7) != 0)
		return;
	if (sha256_file_at(r->hash, AT_FDCWD, cfg->path, hex, &size) == 0 && !r->dry_run) {
		dfd = store_open_dir(r->store, ".state", 0, err, sizeof err);
		if (dfd >= 0) {
			n = store_read_regular(dfd, PLAIN_HTTP_NOTED, seen, sizeof seen - 1);
			close(dfd);
		}
		known = n == SHA256_HEX_LEN + 1 && !memcmp(seen, hex, SHA256_HEX_LEN);
		if (!known) /* noted under the lock, when the run is done (run_unlock) */
			memcpy(r->plain_http_note, hex, sizeof hex);
	}
	if (known && !log_enabled(LOG_DEBUG)) {
		log_debug("%s is plain http (said when the config last changed)", cfg->pbx.url);
		return;
	}
	log_warn("%s is plain http: the password hash and the session travel in clear; "
		 "use https if the PBX offers it%s", cfg->pbx.url,
		 r->dry_run ? "" : " (said again when the config changes, or with -v)");
}

int run_setup(struct run *r, const struct config *cfg, int dry_run)
{
	struct pbx_options po = { cfg->pbx.url, cfg->pbx.username, cfg->pbx.password_md5,
				  cfg->pbx.ca_file, cfg->pbx.pinned_pubkey, cfg->pbx.insecure,
				  cfg->pbx.timeout, cfg->pbx.connect_timeout, cfg->pbx.retries };
	char err[512];

	memset(r, 0, sizeof *r);
	r->cfg = cfg;
	r->dry_run = dry_run;
	r->lockfd = -1;
	r->newest_seen = -1;
	r->span.to = -1; /* no span until a walk sets one */
	r->span.oldest_seen = -1;
	r->listed_until = -1;
	r->started = progress_now();
	/* Keys first: a bad one is a config error, found before any work. */
	if (load_recipients(r) != 0)
		return EXIT_USAGE;
	if (cfg->signing.secret_key_file &&
	    !(r->sign_key = minisign_secret_load(cfg->signing.secret_key_file, err, sizeof err))) {
		log_error("%s: [signing] secret_key_file: %s", cfg->path, err);
		return EXIT_USAGE;
	}
	if (r->sign_key && load_signing_checks(r) != 0)
		return EXIT_USAGE;
	r->store = store_open(cfg->archive.dir, dry_run ? STORE_READ : STORE_WRITE, err, sizeof err);
	if (!r->store) {
		log_error("%s", err);
		return EXIT_STORAGE;
	}
	r->hash = sha256_new();
	r->cdr = cdrsync_new();
	r->sealer = sealer_new(r->store, r->recipients, err, sizeof err);
	if (r->sealer)
		r->sealq = sealq_new(err, sizeof err);
	if (!r->sealer || !r->sealq || !r->hash || !r->cdr) {
		log_error("%s", r->sealq ? "out of memory" : err);
		return EXIT_STORAGE;
	}
	warn_plain_http(r);
	r->pbx = pbx_new(&po, err, sizeof err);
	if (!r->pbx) {
		log_error("%s", err);
		return EXIT_STORAGE;
	}
	pbx_set_max_rate(r->pbx, cfg->pbx.max_rate);
	return 0;
}

/* mansig_check_append() with the run's keys. */
static int day_signature_holds(struct run *r, const char *day, char *why, size_t whylen)
{
	return mansig_check_append(r->store, day, (const struct minisign_public *const *)r->sign_pub,
				   r->nsign_pub, !r->head_refused, r->head.seq, why, whylen);
}

/* The manifest's append guard: a day is appended to only while it is what the newest head
 * says (not cut, rolled back or rewritten) and its signature, if it has one, holds. */
static int day_intact(void *ctx, const char *day)
{
	struct run *r = ctx;
	const struct head_day *hd = head_find(&r->head, day);
	char why[512], last[SHA256_HEX_LEN + 1];
	unsigned long lines;
	int rc = hd ? head_check_day(r->store, hd, why, sizeof why) : 0;

	/* Without a head to hold them to, days already written are not added to: one of them
	 * may be what the head would have shown rolled back. New days are. */
	if (rc == 0 && r->head_refused && head_day_tip(r->store, day, &lines, last, why,
						       sizeof why) == 0) {
		snprintf(why, sizeof why, "the newest head cannot be trusted (see above)");
		rc = 2;
	}

	if (rc == 0 && r->nsign_pub)
		rc = day_signature_holds(r, day, why, sizeof why);
	/* Noted like a day files are written into: should this run end before it signs, the
	 * next one signs what it appended (resign_noted_day). */
	if (rc == 0)
		return r->leftovers && !r->dry_run ? leftovers_note(r->leftovers, day) : 0;
	log_error("manifest day %s: %s; nothing is added to it or signed again until a person "
		  "looks (docs/security.md, \"A day whose signature fails\")", day, why);
	r->storage_error = 1;
	return -1;
}

/* After each commit, the days it appended to are signed at once: a run stopped later leaves
 * at most one commit's lines unsigned (which the next run signs only when they prove
 * themselves: mansig_check_append). */
static void sign_after_commit(void *ctx, struct manifest *m)
{
	struct run *r = ctx;

	(void)FAILPOINT("manifest.sign");
	if (mansig_sign_changed(r->store, m, r->sign_key, r->head.seq) != 0)
		r->storage_error = 1;
}

/* The newest head (head.h), checked with the run's keys. One that cannot be trusted is
 * reported and not built on: the run archives, but writes no head and exits 6. */
static int load_head(struct run *r)
{
	char why[512];
	int rc = head_load(r->store, (const struct minisign_public *const *)r->sign_pub,
			   r->nsign_pub, 1, &r->head, why, sizeof why);

	/* The first head is written before anything is appended, so that every day signed from
	 * now on names a head (mansig.h): removing the heads then shows. */
	if (rc == 1 && !r->dry_run)
		return head_write(r->store, &r->head, r->sign_key) == 0 ? 0 : -1;
	if (rc == 0 || rc == 1)
		return 0;
	if (rc < 0) {
		log_error("%s", why);
		return -1;
	}
	log_error("%s; no new head is written until a person looks (docs/security.md, \"A head "
		  "that fails\")", why);
	r->head_refused = 1;
	r->storage_error = 1;
	return 0;
}

/* A day an interrupted run wrote to: what it appended after the day's signature is signed now,
 * when the signed part still holds and the lines after it prove themselves
 * (mansig_check_append); else the day is reported, refused from now on, and verify names it. */
static void resign_noted_day(void *ctx, const char *day)
{
	struct run *r = ctx;
	char why[512];
	int rc = r->nsign_pub ? day_signature_holds(r, day, why, sizeof why) : 0;

	if (rc == 0) {
		(void)manifest_mark_changed(r->man, day);
	} else if (rc == 2) {
		log_error("manifest day %s: %s; not signed, nothing is added to it until a person "
			  "looks (docs/security.md, \"A day whose signature fails\")", day, why);
		r->storage_error = 1;
	}
	offsite_note_day(r, day); /* its files and manifest may not be offsite yet */
}

int run_lock(struct run *r, const char *role, int wait_s, long *holder)
{
	unsigned temps;
	char err[512];

	/* A dry run changes nothing, so it takes no lock: it may run beside a real run (and reads
	 * what that run has committed so far). */
	if (!r->dry_run) {
		r->lockfd = state_lock_wait(r->store, role, wait_s, holder);
		if (r->lockfd < 0)
			return r->lockfd == -2 ? EXIT_LOCKED : EXIT_STORAGE;
		temps = store_clean_temps(r->store);
		if (temps)
			log_info("removed %u temp files left by an interrupted run", temps);
	}
	r->man = manifest_open(r->store, err, sizeof err);
	if (!r->man) {
		log_error("%s", err);
		return EXIT_STORAGE;
	}
	if (load_head(r) != 0)
		return EXIT_STORAGE;
	manifest_set_append_guard(r->man, day_intact, r);
	if (r->sign_key)
		manifest_set_commit_hook(r->man, sign_after_commit, r);
	/* The offsite copy is the nightly run's (watch leaves it to the next run). */
	int rc = strcmp(role, "run") == 0 ? offsite_open(r) : 0;
	if (rc != 0)
		return rc;
	r->attempts = attempts_load(r->store);
	if (!r->dry_run) {
		int damaged;
		r->pending = pending_load(r->store, &damaged);
		if (!r->pending)
			return EXIT_STORAGE;
		if (damaged)
			log_warn("%s/.state/" PENDING_FILE " is unreadable; the list of recordings "
				 "only on the PBX starts again", store_root_path(r->store));
	}
	if (!r->attempts || (!r->dry_run && manifest_repair_tails(r->man) < 0))
		return EXIT_STORAGE;
	/* Files an interrupted run committed and never recorded (leftover.h). */
	r->leftovers = leftovers_new(r->store);
	if (!r->leftovers || (!r->dry_run && leftovers_sweep(r->store, r->man, resign_noted_day, r) < 0))
		return EXIT_STORAGE;
	/* How earlier runs reached this PBX: tried first, re-learned when it stops working. */
	state_read_pbx(r->store, &r->learned);
	pbx_learned_set(r->pbx, &r->learned);
	return 0;
}

/* pending_settle's question: does the manifest hold `pbx_path` of `day` now? 1 or 0; -1 when
 * the day cannot be read (then nobody can tell). */
static int pending_held(void *ctx, const char *day, const char *pbx_path)
{
	struct run *r = ctx;
	const struct manifest_entry *e;
	int found = manifest_lookup(r->man, day, pbx_path, &e);

	return found < 0 ? -1 : found == 1;
}

int run_unlock(struct run *r)
{
	int rc = 0;

	/* Whatever was appended is signed, even after errors: a signature covers what is on
	 * disk, and an unsigned day would be a finding for verify. */
	if (r->man && r->sign_key && !r->dry_run &&
	    mansig_sign_changed(r->store, r->man, r->sign_key, r->head.seq) != 0)
		rc = -1;
	/* Then the head over every day, the ones just signed included. */
	if (r->man && !r->dry_run && !r->head_refused &&
	    (head_note_changed(&r->head, r->man) != 0 ||
	     head_write(r->store, &r->head, r->sign_key) != 0))
		rc = -1;
	/* Then their offsite copies: every signed state is kept there (docs/offsite.md). */
	if (r->man && !r->dry_run && offsite_upload_manifests(r) != 0)
		rc = -1;
	head_release(&r->head);
	r->head_refused = 0;
	if (r->attempts && !r->dry_run && attempts_save(r->attempts, r->store) != 0)
		rc = -1;
	/* After the attempts: a recording listed before, gone from a window listed whole and
	 * never archived, is kept as vanished (pending.h). */
	if (r->pending && r->man) {
		size_t gone = pending_settle(r->pending, pending_held, r);
		if (gone)
			log_warn("%zu recording%s the PBX listed before %s no longer listed and was "
				 "never archived (vanished: see `nexo-archive report`)", gone,
				 gone == 1 ? "" : "s", gone == 1 ? "is" : "are");
		/* Kept as listed whole only up to the PBX's own newest time (the newest call it
		 * showed, or the checkpoint: never past one) less the lookback, and never past
		 * r->listed_until (run.h): our clock's idea of its now may be hours off (its
		 * zone), and later calls may still land before it. (A recording listed before and gone from a window listed now is gone
		 * whatever the lookback: pending_settle judged with the whole windows.) */
		pbx_minute seen = r->newest_seen >= 0 ? r->newest_seen + 1 : -1, cp;
		if (state_read_checkpoint(r->store, &cp) == 1 && cp > seen)
			seen = cp;
		seen = seen >= 0 ? seen - r->cfg->sync.lookback : -1;
		pending_clip_run(r->pending, seen < r->listed_until ? seen : r->listed_until);
		if (pending_save(r->pending, r->store) != 0)
			rc = -1;
	}
	pending_free(r->pending);
	r->pending = NULL;
	if (r->lockfd >= 0 && !r->dry_run) {
		struct pbx_learned now;
		char err[512];
		pbx_learned_get(r->pbx, &now);
		if (state_write_pbx(r->store, &r->learned, &now) != 0)
			rc = -1;
		if (r->plain_http_note[0]) {
			r->plain_http_note[SHA256_HEX_LEN] = '\n';
			if (store_put(r->store, ".state", PLAIN_HTTP_NOTED, r->plain_http_note,
				      SHA256_HEX_LEN + 1, err, sizeof err) != 0) {
				log_error("cannot write .state/" PLAIN_HTTP_NOTED ": %s", err);
				rc = -1;
			}
			r->plain_http_note[0] = '\0';
		}
	}
	/* A run whose every committed file got its line needs no sweep next time. */
	if (leftovers_done(r->leftovers, !r->storage_error && !r->archive_error && !r->fatal && !rc) != 0)
		rc = -1;
	if (rc)
		r->storage_error = 1;
	leftovers_free(r->leftovers);
	r->leftovers = NULL;
	attempts_free(r->attempts);
	r->attempts = NULL;
	manifest_close(r->man);
	r->man = NULL;
	if (r->lockfd >= 0)
		close(r->lockfd);
	r->lockfd = -1;
	return rc;
}

void run_teardown(struct run *r)
{
	run_unlock(r);
	offsite_close(r);
	lanes_free(r);
	pbx_free(r->pbx);
	sealq_free(r->sealq);
	sealer_free(r->sealer);
	cdrsync_free(r->cdr);
	sha256_free(r->hash);
	store_close(r->store);
	minisign_secret_free(r->sign_key);
	for (size_t i = 0; i < r->nsign_pub; i++)
		minisign_public_free(r->sign_pub[i]);
	age_recipients_free(&r->recipient_list);
	sync_ahead_free(r);
	memset(r, 0, sizeof *r);
	r->lockfd = -1;
}
