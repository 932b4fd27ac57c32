/* test_verify.c — verify.c and prune.c on small archives built here (store.c + manifest.c, no
 * PBX): a clean archive has no findings; each kind of damage is one finding naming its path;
 * sampling halves cover everything in two runs; --deep checks WAVs; prune honours the cutoff,
 * holds and dry runs, and completes a removal a crash left unrecorded; forget refuses held and
 * unknown recordings, erases once, and leaves an archive that verifies. */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "archive/head.h"
#include "archive/hold.h"
#include "archive/manifest.h"
#include "archive/mansig.h"
#include "archive/prune.h"
#include "archive/marker.h"
#include "archive/store.h"
#include "archive/verify.h"
#include "crypto/hash.h"
#include "crypto/minisign.h"
#include "pbx/recording.h"

#define MAX_FINDINGS 64

struct fixture {
	char dir[64];
	char root[PATH_MAX];
	struct store *s;
	char paths[MAX_FINDINGS][320];
	char reasons[MAX_FINDINGS][256];
	size_t n;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A 16-bit mono 8 kHz PCM WAV with `samples` samples, made distinct by `seed`. */
static size_t make_wav(unsigned char *buf, size_t samples, unsigned seed)
{
	uint32_t data = (uint32_t)(samples * 2), riff = 36 + data;
	unsigned char h[44] = { 'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E',
				'f', 'm', 't', ' ', 16, 0, 0, 0, 1, 0, 1, 0,
				0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0,
				'd', 'a', 't', 'a', 0, 0, 0, 0 };

	memcpy(h + 4, &riff, 4);
	memcpy(h + 40, &data, 4);
	memcpy(buf, h, 44);
	for (size_t i = 0; i < data; i++)
		buf[44 + i] = (unsigned char)(i * 7 + seed);
	return 44 + data;
}

static void hex_of(const void *buf, size_t len, char hex[SHA256_HEX_LEN + 1])
{
	struct sha256 *h = sha256_new();
	unsigned char d[SHA256_LEN];

	assert_non_null(h);
	sha256_start(h);
	sha256_update(h, buf, len);
	sha256_finish(h, d);
	sha256_to_hex(d, hex);
	sha256_free(h);
}

/* Archives one recording of `day` ("2024-03-01") numbered `i`, with `src`/`dst`. */
static void archive_one(struct fixture *f, struct manifest *m, const char *day, int i,
			const char *src, const char *dst, const void *content, size_t len)
{
	struct recording rec;
	struct manifest_file mf;
	char dir[16], name[128], file[160], hex[SHA256_HEX_LEN + 1], err[256];

	memset(&rec, 0, sizeof rec);
	snprintf(dir, sizeof dir, "%.4s/%.2s/%.2s", day, day + 5, day + 8);
	snprintf(name, sizeof name, "%.4s%.2s%.2s-10%04d-1-Inbound-96-%s-%s.wav", day, day + 5,
		 day + 8, i, src, dst);
	snprintf(file, sizeof file, "%s/%s", dir, name);
	snprintf(rec.pbx_path, sizeof rec.pbx_path, "%.4s%.2s%.2s/%s", day, day + 5, day + 8,
		 name);
	snprintf(rec.calldate, sizeof rec.calldate, "%s 10:%02d:00", day, i % 60);
	snprintf(rec.src, sizeof rec.src, "%s", src);
	snprintf(rec.dst, sizeof rec.dst, "%s", dst);
	snprintf(rec.calltype, sizeof rec.calltype, "Inbound");
	rec.duration = 1;
	rec.size = (long long)len;
	hex_of(content, len, hex);
	memset(&mf, 0, sizeof mf);
	mf.file = file;
	mf.size = len;
	mf.sha256 = hex;
	mf.audio_seconds = -1;
	assert_int_equal(store_put(f->s, dir, name, content, len, err, sizeof err), 0);
	assert_int_equal(manifest_add_archived(m, day, &rec, &mf), 0);
}

static const char *const days[] = { "2024-03-01", "2024-03-02", "2024-03-03" };
static const char *const dsts[] = { "620(202)", "203", "204" };

/* 3 days x 3 recordings; day 0's second call is to 620(202). */
/* What a run does after it committed and signed: the next head over the days `m` changed. */
static int write_head(struct fixture *f, struct manifest *m, const struct minisign_secret *key)
{
	struct head h;
	char why[512];
	int rc = head_load(f->s, NULL, 0, 1, &h, why, sizeof why);

	if (rc != 0 && rc != 1)
		return -1;
	rc = head_note_changed(&h, m) == 0 && head_write(f->s, &h, key) == 0 ? 0 : -1;
	head_release(&h);
	return rc;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	unsigned char wav[44 + 400];
	char err[256];
	struct manifest *m;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/nexo-test-verify.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->root, sizeof f->root, "%s/archive", f->dir);
	f->s = marker_create(f->root, err, sizeof err) < 0 ? NULL
		: store_open(f->root, STORE_WRITE, err, sizeof err);
	if (!f->s)
		return -1;
	m = manifest_open(f->s, err, sizeof err);
	if (!m)
		return -1;
	for (int d = 0; d < 3; d++)
		for (int i = 0; i < 3; i++) {
			size_t len = make_wav(wav, 100 + (size_t)i * 50, (unsigned)(d * 3 + i));
			archive_one(f, m, days[d], i, "506", dsts[(d + i) % 3], wav, len);
		}
	if (manifest_commit(m, err, sizeof err) != 0 || write_head(f, m, NULL) != 0)
		return -1;
	manifest_close(m);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->s);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void on_finding(void *ctx, const char *path, const char *reason)
{
	struct fixture *f = ctx;

	if (f->n < MAX_FINDINGS) {
		snprintf(f->paths[f->n], sizeof f->paths[f->n], "%s", path);
		snprintf(f->reasons[f->n], sizeof f->reasons[f->n], "%s", reason);
	}
	f->n++;
}

static struct verify_report run_verify(struct fixture *f, const struct verify_options *o)
{
	struct verify_options plain;
	struct verify_report rep;

	memset(&plain, 0, sizeof plain);
	f->n = 0;
	assert_int_equal(verify_archive(f->s, o ? o : &plain, on_finding, f, &rep), 0);
	assert_int_equal(rep.findings, f->n);
	return rep;
}

/* The finding about `path`, or fail. */
static const char *finding_for(struct fixture *f, const char *path)
{
	for (size_t i = 0; i < f->n && i < MAX_FINDINGS; i++)
		if (strcmp(f->paths[i], path) == 0)
			return f->reasons[i];
	fail_msg("no finding for %s (%zu findings)", path, f->n);
	return NULL;
}

/* The i-th regular file of day d's folder (d < 0: 2024-02-28), in name order, as
 * "YYYY/MM/DD/name". */
static void nth_file(struct fixture *f, int d, int i, char *out, size_t outlen)
{
	const char *day = d < 0 ? "2024-02-28" : days[d];
	char cmd[PATH_MAX + 128];
	FILE *p;

	snprintf(cmd, sizeof cmd, "cd '%s' && ls %.4s/%.2s/%.2s/* | sort | sed -n %dp", f->root,
		 day, day + 5, day + 8, i + 1);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, (int)outlen, p));
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

static void flip_byte(struct fixture *f, const char *rel, off_t at)
{
	char path[PATH_MAX + 320];
	unsigned char b;
	int fd;

	snprintf(path, sizeof path, "%s/%s", f->root, rel);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, at), 1);
	b ^= 0xff;
	assert_int_equal(pwrite(fd, &b, 1, at), 1);
	close(fd);
}

static void clean_archive(void **state)
{
	struct fixture *f = *state;
	struct verify_report rep = run_verify(f, NULL);

	assert_int_equal(rep.days, 3);
	assert_int_equal(rep.files, 9);
	assert_int_equal(rep.hashed, 9);
	assert_int_equal(rep.findings, 0);
	assert_false(rep.signatures_checked);
}

static void each_damage_is_one_finding(void **state)
{
	struct fixture *f = *state;
	char missing[320], altered[320], path[PATH_MAX + 400];
	struct verify_report rep;

	nth_file(f, 0, 0, missing, sizeof missing);
	nth_file(f, 1, 1, altered, sizeof altered);
	snprintf(path, sizeof path, "%s/%s", f->root, missing);
	assert_int_equal(unlink(path), 0);
	flip_byte(f, altered, 60);
	snprintf(path, sizeof path, "%s/2024/03/03/extra.wav", f->root);
	assert_int_equal(close(open(path, O_CREAT | O_WRONLY, 0640)), 0);
	snprintf(path, sizeof path, "%s/2024/03/03/link.wav", f->root);
	assert_int_equal(symlink("/etc/hostname", path), 0);
	snprintf(path, sizeof path, "%s/2024/notes.txt", f->root);
	assert_int_equal(close(open(path, O_CREAT | O_WRONLY, 0640)), 0);
	snprintf(path, sizeof path, "%s/2024/03/32", f->root);
	assert_int_equal(mkdir(path, 0750), 0);
	rep = run_verify(f, NULL);
	assert_int_equal(rep.findings, 6);
	assert_non_null(strstr(finding_for(f, missing), "missing"));
	assert_non_null(strstr(finding_for(f, altered), "SHA-256"));
	assert_non_null(strstr(finding_for(f, "2024/03/03/extra.wav"), "not named"));
	assert_non_null(strstr(finding_for(f, "2024/03/03/link.wav"), "symbolic link"));
	finding_for(f, "2024/notes.txt");
	finding_for(f, "2024/03/32");
	assert_int_equal(rep.files, 9);
	assert_int_equal(rep.hashed, 8); /* the missing one cannot be */

	/* --from/--to: only day 2024-03-02 is looked at (and strays in folders of its year and
	 * month, which the range touches). */
	{
		struct verify_options o;
		memset(&o, 0, sizeof o);
		o.from = o.to = "2024-03-02";
		rep = run_verify(f, &o);
		assert_int_equal(rep.days, 1);
		assert_int_equal(rep.files, 3);
		assert_int_equal(rep.findings, 2);
		finding_for(f, altered);
		finding_for(f, "2024/notes.txt");
	}
}

static void size_and_chain(void **state)
{
	struct fixture *f = *state;
	char victim[320], path[PATH_MAX + 400];
	FILE *fp;

	nth_file(f, 2, 2, victim, sizeof victim);
	snprintf(path, sizeof path, "%s/%s", f->root, victim);
	fp = fopen(path, "ab");
	assert_non_null(fp);
	fputc('x', fp);
	fclose(fp);
	/* The second line of day 2024-03-02 is edited: the chain breaks at line 3. */
	snprintf(path, sizeof path,
		 "cd '%s/manifest' && sed -i '2s/\"src\":\"506\"/\"src\":\"507\"/' %s.jsonl",
		 f->root, days[1]);
	assert_int_equal(system(path), 0);
	run_verify(f, NULL);
	assert_int_equal(f->n, 2);
	assert_non_null(strstr(finding_for(f, victim), "size"));
	assert_non_null(strstr(finding_for(f, "manifest/2024-03-02.jsonl"), "line 3"));
}

static void sampling_covers_all_in_two_runs(void **state)
{
	struct fixture *f = *state;
	struct verify_options o;
	struct verify_report rep;
	char seen[9][320], file[320];
	size_t nseen = 0;

	assert_int_equal(verify_sample_every(50), 2);
	assert_int_equal(verify_sample_every(100), 1);
	assert_int_equal(verify_sample_every(1), 100);
	assert_int_equal(verify_sample_every(33), 3);
	assert_int_equal(verify_sample_every(67), 1);
	assert_int_equal(verify_sample_every(10), 10);
	for (int d = 0; d < 3; d++)
		for (int i = 0; i < 3; i++) {
			nth_file(f, d, i, file, sizeof file);
			flip_byte(f, file, 50);
		}
	assert_int_equal(verify_sample_offset(f->s), 0);
	for (int run = 0; run < 2; run++) {
		memset(&o, 0, sizeof o);
		o.sample_every = 2;
		o.sample_offset = verify_sample_offset(f->s);
		assert_int_equal(o.sample_offset, (unsigned long)run);
		rep = run_verify(f, &o);
		assert_int_equal(rep.files, 9);
		assert_int_equal(rep.hashed, run == 0 ? 5 : 4);
		assert_int_equal(rep.findings, rep.hashed);
		for (size_t i = 0; i < f->n; i++) {
			for (size_t j = 0; j < nseen; j++)
				assert_string_not_equal(seen[j], f->paths[i]);
			snprintf(seen[nseen++], sizeof seen[0], "%s", f->paths[i]);
		}
		assert_int_equal(verify_sample_advance(f->s, o.sample_offset), 0);
	}
	assert_int_equal(nseen, 9);
}

static void deep_checks_wavs(void **state)
{
	struct fixture *f = *state;
	struct verify_options o;
	struct verify_report rep;
	unsigned char junk[300];
	char err[256];
	struct manifest *m = manifest_open(f->s, err, sizeof err);

	/* Not a WAV, but recorded with its true hash: only --deep can tell. */
	memset(junk, 'j', sizeof junk);
	assert_non_null(m);
	archive_one(f, m, "2024-03-03", 9, "506", "204", junk, sizeof junk);
	assert_int_equal(manifest_commit(m, err, sizeof err), 0);
	assert_int_equal(write_head(f, m, NULL), 0);
	manifest_close(m);
	rep = run_verify(f, NULL);
	assert_int_equal(rep.findings, 0);
	memset(&o, 0, sizeof o);
	o.deep = 1;
	rep = run_verify(f, &o);
	assert_int_equal(rep.files, 10);
	assert_int_equal(rep.findings, 1);
	assert_non_null(strstr(f->reasons[0], "not a valid WAV"));
	assert_non_null(strstr(f->paths[0], "2024/03/03/20240303-100009-"));
}

static struct prune_report do_prune(struct fixture *f, const struct holds *h, long keep,
				    int dry_run, int want_rc)
{
	struct prune_options o;
	struct prune_report rep;

	memset(&o, 0, sizeof o);
	assert_int_equal(pbxtime_parse("2024-03-04 12:30", &o.now), 0);
	o.keep_days = keep;
	o.dry_run = dry_run;
	assert_int_equal(prune_archive(f->s, h, &o, &rep), want_rc);
	return rep;
}

static void cutoff_arithmetic(void **state)
{
	pbx_minute now;
	char day[11];

	(void)state;
	assert_int_equal(pbxtime_parse("2024-03-01 00:00", &now), 0);
	prune_cutoff(now, 0, day);
	assert_string_equal(day, "2024-03-01");
	prune_cutoff(now, 1, day);
	assert_string_equal(day, "2024-02-29");
	assert_int_equal(pbxtime_parse("2024-03-01 23:59", &now), 0);
	prune_cutoff(now, 366, day);
	assert_string_equal(day, "2023-03-01");
}

static void prune_honours_cutoff_and_holds(void **state)
{
	struct fixture *f = *state;
	struct holds *h = holds_new();
	struct prune_report rep;
	char err[256], held[320], path[PATH_MAX + 400];
	struct stat st;

	assert_non_null(h);
	/* keep 2 days before 2024-03-04: 03-01 is due; its call to 620(202) is held. */
	assert_non_null(holds_add(h, HOLD_NUMBER, "202", NULL, NULL, "case", "t", err, sizeof err));
	rep = do_prune(f, h, 2, 1, 0);
	assert_string_equal(rep.cutoff, "2024-03-02");
	assert_int_equal(rep.pruned, 2);
	assert_int_equal(rep.held, 1);
	run_verify(f, NULL);
	assert_int_equal(f->n, 0); /* the dry run changed nothing */

	rep = do_prune(f, h, 2, 0, 0);
	assert_int_equal(rep.pruned, 2);
	assert_int_equal(rep.held, 1);
	assert_int_equal(rep.gone, 0);
	assert_true(rep.bytes > 0);
	nth_file(f, 0, 0, held, sizeof held);
	assert_non_null(strstr(held, "620(202)"));
	run_verify(f, NULL);
	assert_int_equal(f->n, 0);

	/* A crash between a removal and its mark, simulated: the held file removed by hand
	 * and the hold lifted. The next prune records the mark. */
	holds_free(h);
	h = holds_new();
	snprintf(path, sizeof path, "%s/%s", f->root, held);
	assert_int_equal(unlink(path), 0);
	run_verify(f, NULL);
	assert_int_equal(f->n, 1);
	rep = do_prune(f, h, 2, 0, 0);
	assert_int_equal(rep.pruned, 1);
	assert_int_equal(rep.gone, 1);
	assert_int_equal(rep.bytes, 0);
	run_verify(f, NULL);
	assert_int_equal(f->n, 0);
	/* The emptied day folder stays (empty folders are no finding). */
	snprintf(path, sizeof path, "%s/2024/03/01", f->root);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* A pruned file put back is a finding. */
	{
		unsigned char wav[600];
		size_t len = make_wav(wav, 100, 0);
		assert_int_equal(store_put(f->s, "2024/03/01", strrchr(held, '/') + 1, wav, len,
					   err, sizeof err), 0);
		run_verify(f, NULL);
		assert_int_equal(f->n, 1);
		assert_non_null(strstr(finding_for(f, held), "pruned"));
	}
	holds_free(h);
}

static void forget_once(void **state)
{
	struct fixture *f = *state;
	struct holds *h = holds_new();
	struct forget_info info;
	char err[256], victim[320], pbx[320];

	assert_non_null(h);
	nth_file(f, 1, 0, victim, sizeof victim);
	assert_non_null(holds_add(h, HOLD_RANGE, NULL, "2024-03-02", "2024-03-02", "audit", "t",
				  err, sizeof err));
	assert_int_equal(prune_forget(f->s, h, victim, "gdpr", NULL, NULL, &info), FORGET_HELD);
	assert_string_equal(info.hold_id, "h1");
	assert_int_equal(prune_forget(f->s, h, "2024/03/02/none.wav", "gdpr", NULL, NULL, &info),
			 FORGET_UNKNOWN);
	assert_int_equal(prune_forget(f->s, h, "elsewhere", "gdpr", NULL, NULL, &info), FORGET_UNKNOWN);
	assert_int_equal(holds_remove(h, "h1", "t"), 0);
	/* By its PBX path: "YYYYMMDD/name". */
	snprintf(pbx, sizeof pbx, "20240302/%s", strrchr(victim, '/') + 1);
	assert_int_equal(prune_forget(f->s, h, pbx, "gdpr", NULL, NULL, &info), FORGET_DONE);
	assert_string_equal(info.file, victim);
	assert_string_equal(info.day, "2024-03-02");
	assert_false(info.file_was_missing);
	assert_false(info.pbx_deleted);
	assert_int_equal(prune_forget(f->s, h, victim, "gdpr", NULL, NULL, &info), FORGET_ALREADY);
	run_verify(f, NULL);
	assert_int_equal(f->n, 0);
	holds_free(h);
}

/* Signed days: prune and forget re-sign what they change, and leave alone a day whose
 * signature does not verify (re-signing it would bless the damage). */
static void signed_days(void **state)
{
	struct fixture *f = *state;
	struct holds *h = holds_new();
	struct minisign_secret *key;
	struct minisign_public *pk;
	struct verify_options o;
	struct prune_options po;
	struct prune_report rep;
	struct forget_info info;
	struct manifest *m;
	unsigned char wav[600];
	char err[512], kpath[PATH_MAX], ppath[PATH_MAX + 8], sig[PATH_MAX + 400], victim[320];
	FILE *fp;

	snprintf(kpath, sizeof kpath, "%s/sign.key", f->dir);
	snprintf(ppath, sizeof ppath, "%s.pub", kpath);
	assert_int_equal(minisign_keygen(kpath, err, sizeof err), 0);
	key = minisign_secret_load(kpath, err, sizeof err);
	pk = minisign_public_load(ppath, err, sizeof err);
	assert_non_null(key);
	assert_non_null(pk);
	/* Day 2024-02-28, two recordings, signed as a run signs. */
	m = manifest_open(f->s, err, sizeof err);
	assert_non_null(m);
	for (int i = 0; i < 2; i++) {
		size_t len = make_wav(wav, 100, 40u + (unsigned)i);
		archive_one(f, m, "2024-02-28", i, "506", "203", wav, len);
	}
	assert_int_equal(manifest_commit(m, err, sizeof err), 0);
	assert_int_equal(mansig_sign_changed(f->s, m, key, 0), 0);
	assert_int_equal(write_head(f, m, key), 0);
	manifest_close(m);
	memset(&o, 0, sizeof o);
	o.pk = pk;
	run_verify(f, &o);
	/* The three days signed by no one are reported; the signed one is not. */
	assert_int_equal(f->n, 3);
	finding_for(f, "manifest/2024-03-01.jsonl.minisig");

	/* Tampering: the day's last line is cut (the chain still holds). */
	snprintf(sig, sizeof sig, "cd '%s/manifest' && sed -i '$d' 2024-02-28.jsonl", f->root);
	assert_int_equal(system(sig), 0);
	memset(&po, 0, sizeof po);
	assert_int_equal(pbxtime_parse("2024-03-04 12:30", &po.now), 0);
	po.keep_days = 2;
	po.key = key;
	po.pk = pk;
	assert_int_equal(prune_archive(f->s, h, &po, &rep), 1);
	assert_int_equal(rep.bad_days, 1);
	assert_int_equal(rep.pruned, 3); /* 2024-03-01, unsigned until now */
	run_verify(f, &o);
	finding_for(f, "manifest/2024-02-28.jsonl.minisig");
	assert_non_null(strstr(finding_for(f, "manifest/2024-02-28.jsonl.minisig"), "verify"));
	for (size_t i = 0; i < f->n; i++)
		assert_string_not_equal(f->paths[i], "manifest/2024-03-01.jsonl.minisig");
	nth_file(f, -1, 0, victim, sizeof victim);
	assert_int_equal(prune_forget(f->s, h, victim, "gdpr", key, pk, &info), FORGET_ERROR);
	snprintf(sig, sizeof sig, "%s/%s", f->root, victim);
	fp = fopen(sig, "rb");
	assert_non_null(fp); /* still there */
	fclose(fp);
	minisign_secret_free(key);
	minisign_public_free(pk);
	holds_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(clean_archive, setup, teardown),
		cmocka_unit_test_setup_teardown(each_damage_is_one_finding, setup, teardown),
		cmocka_unit_test_setup_teardown(size_and_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(sampling_covers_all_in_two_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(deep_checks_wavs, setup, teardown),
		cmocka_unit_test(cutoff_arithmetic),
		cmocka_unit_test_setup_teardown(prune_honours_cutoff_and_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(forget_once, setup, teardown),
		cmocka_unit_test_setup_teardown(signed_days, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
