/* test_minisign.c — minisign keys and signatures (minisign.c): keygen → load → sign → verify
 * round trip; a verification that must fail after any one byte of the file, the signature
 * line, the trusted comment or the global signature changes, or with another key; keygen
 * that never overwrites or follows a link and makes the secret 0600; secret keys refused when
 * password-protected, damaged or inconsistent; comments that cannot be signed; malformed
 * signature texts; a legacy ("Ed") signature. The interop cases run the real `minisign`
 * (skipped when it is not on PATH): our signatures verify with it and fail with it after one
 * flipped byte, its -W keys load and sign here, and its signatures verify here. Each case works
 * in its own temp folder under /tmp. */
#include <errno.h>
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "crypto/minisign.h"

#define SK_REC_LEN 158 /* minisign's secret key record: see minisign.c */
#define SK_KDFALG 2
#define SK_KEYNUM 54
#define SK_KEY 62
#define SK_CHK 126

struct fixture {
	char dir[64];
	char key[PATH_MAX];  /* dir/k: our key pair, k and k.pub */
	char pub[PATH_MAX];
	char file[PATH_MAX]; /* dir/f: 200000 bytes to sign */
	mode_t umask_saved;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) != 0)
		fail_msg("cannot write %s: %s", path, strerror(errno));
}

/* A whole file, malloc'd and NUL-terminated; *len set when not NULL. */
static char *read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) != 0)
		fail_msg("cannot read %s: %s", path, strerror(errno));
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	buf[st.st_size] = '\0';
	if (len)
		*len = (size_t)st.st_size;
	return buf;
}

static void path_in(const struct fixture *f, char *out, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", f->dir, name);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	unsigned char *data;
	char err[512];

	if (!f || sodium_init() < 0)
		return -1;
	f->umask_saved = umask(022);
	snprintf(f->dir, sizeof f->dir, "/tmp/nexo-test-minisign.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	path_in(f, f->key, "k");
	path_in(f, f->pub, "k.pub");
	path_in(f, f->file, "f");
	data = malloc(200000);
	if (!data)
		return -1;
	randombytes_buf(data, 200000);
	write_file(f->file, data, 200000);
	free(data);
	if (minisign_keygen(f->key, err, sizeof err) != 0) {
		print_error("keygen: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	umask(f->umask_saved);
	free(f);
	return 0;
}

static struct minisign_secret *load_secret(const char *path)
{
	char err[512] = "";
	struct minisign_secret *k = minisign_secret_load(path, err, sizeof err);

	if (!k)
		fail_msg("minisign_secret_load(%s): %s", path, err);
	return k;
}

static struct minisign_public *load_public(const char *path)
{
	char err[512] = "";
	struct minisign_public *pk = minisign_public_load(path, err, sizeof err);

	if (!pk)
		fail_msg("minisign_public_load(%s): %s", path, err);
	return pk;
}

/* Signs `path` with the key file `key`; returns the .minisig text (caller frees). */
static char *sign_path(const char *key, const char *path, const char *tc, size_t *len)
{
	struct minisign_secret *k = load_secret(key);
	char err[512] = "", *sig = NULL;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	if (minisign_sign_fd(k, fd, tc, NULL, &sig, len, err, sizeof err) != 0)
		fail_msg("minisign_sign_fd(%s): %s", path, err);
	close(fd);
	minisign_secret_free(k);
	return sig;
}

/* minisign_verify_fd of `path` against `sig`; err and tc (when not NULL) are filled. */
static int verify_path(const struct minisign_public *pk, const char *path, const char *sig,
		       size_t len, char *tc, char *err)
{
	char tc_buf[MINISIGN_TRUSTED_MAX + 1], err_buf[512];
	int fd = open(path, O_RDONLY), rc;

	assert_true(fd >= 0);
	rc = minisign_verify_fd(pk, fd, sig, len, tc ? tc : tc_buf, sizeof tc_buf,
				err ? err : err_buf, 512);
	close(fd);
	return rc;
}

/* Flips byte `at` of the file `path` (xor 0x01). */
static void flip_byte(const char *path, off_t at)
{
	unsigned char b;
	int fd = open(path, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, at), 1);
	b ^= 0x01;
	assert_int_equal(pwrite(fd, &b, 1, at), 1);
	close(fd);
}

/* The start of line `n` (1-based) of `text`. */
static char *line_at(char *text, int n)
{
	while (--n > 0) {
		text = strchr(text, '\n');
		assert_non_null(text);
		text++;
	}
	return text;
}

/* A different base64 character than `c`. */
static char other_b64(char c)
{
	return c == 'A' ? 'B' : 'A';
}

static void round_trip(void **state)
{
	struct fixture *f = *state;
	char tc[MINISIGN_TRUSTED_MAX + 1], err[512] = "", id1[17], id2[17], b64[64];
	struct minisign_secret *k = load_secret(f->key);
	struct minisign_public *pk = load_public(f->pub), *pk2;
	char *sig, *pubtext, *l;
	size_t len;
	struct stat st;

	assert_int_equal(lstat(f->key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(lstat(f->pub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	minisign_secret_keyid(k, id1);
	minisign_public_keyid(pk, id2);
	assert_string_equal(id1, id2);
	assert_int_equal(strlen(id1), 16);
	pubtext = read_file(f->pub, NULL);
	assert_true(strncmp(pubtext, "untrusted comment: minisign public key ", 39) == 0);
	assert_memory_equal(pubtext + 39, id2, 16);
	assert_int_equal(minisign_public_base64(pk, b64, sizeof b64), 0);
	assert_int_equal(strlen(b64), MINISIGN_PUBLIC_B64_LEN);
	assert_memory_equal(line_at(pubtext, 2), b64, MINISIGN_PUBLIC_B64_LEN);
	assert_string_equal(line_at(pubtext, 2) + MINISIGN_PUBLIC_B64_LEN, "\n");
	assert_int_equal(minisign_public_base64(pk, b64, MINISIGN_PUBLIC_B64_LEN), -1);
	free(pubtext);
	pk2 = minisign_public_parse(b64, err, sizeof err);
	assert_non_null(pk2);
	minisign_public_keyid(pk2, id1);
	assert_string_equal(id1, id2);
	minisign_public_free(pk2);
	minisign_secret_free(k);

	sig = sign_path(f->key, f->file, "file:f\tsha256:00", &len);
	assert_int_equal(strlen(sig), len);
	/* 4 lines, each ending "\n", minisign's prefixes, the prehashed "ED" algorithm */
	assert_true(strncmp(sig, "untrusted comment: ", 19) == 0);
	l = line_at(sig, 2);
	assert_true(strncmp(l, "RU", 2) == 0); /* base64 of "ED" (legacy "Ed" is "RW") */
	assert_int_equal(strchr(l, '\n') - l, 100);
	l = line_at(sig, 3);
	assert_true(strncmp(l, "trusted comment: file:f\tsha256:00\n", 34) == 0);
	l = line_at(sig, 4);
	assert_int_equal(strchr(l, '\n') - l, 88);
	assert_string_equal(l + 88, "\n");

	assert_int_equal(verify_path(pk, f->file, sig, len, tc, err), 0);
	assert_string_equal(tc, "file:f\tsha256:00");
	/* A trusted comment too big for the caller's buffer is an error, not a truncation. */
	{
		int fd = open(f->file, O_RDONLY);
		char small[8];

		assert_int_equal(minisign_verify_fd(pk, fd, sig, len, small, sizeof small, err,
						    sizeof err), -1);
		assert_int_equal(minisign_verify_fd(pk, fd, sig, len, NULL, 0, err, sizeof err),
				 0);
		close(fd);
	}
	free(sig);

	/* The default trusted comment, and an empty one. */
	sig = sign_path(f->key, f->file, NULL, &len);
	assert_int_equal(verify_path(pk, f->file, sig, len, tc, err), 0);
	assert_true(strncmp(tc, "timestamp:", 10) == 0);
	assert_non_null(strstr(tc, "\thashed"));
	free(sig);
	sig = sign_path(f->key, f->file, "", &len);
	assert_int_equal(verify_path(pk, f->file, sig, len, tc, err), 0);
	assert_string_equal(tc, "");
	free(sig);
	minisign_public_free(pk);
}

static void empty_file(void **state)
{
	struct fixture *f = *state;
	struct minisign_public *pk = load_public(f->pub);
	char path[PATH_MAX], *sig;
	size_t len;

	path_in(f, path, "empty");
	write_file(path, "", 0);
	sig = sign_path(f->key, path, "empty", &len);
	assert_int_equal(verify_path(pk, path, sig, len, NULL, NULL), 0);
	free(sig);
	minisign_public_free(pk);
}

static void message_byte_changed(void **state)
{
	static const off_t at[] = { 0, 1, 4095, 65536, 100000, 199998, 199999 };
	struct fixture *f = *state;
	struct minisign_public *pk = load_public(f->pub);
	char err[512], *sig;
	size_t len;
	int fd;

	sig = sign_path(f->key, f->file, "m", &len);
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		flip_byte(f->file, at[i]);
		err[0] = '\0';
		assert_int_equal(verify_path(pk, f->file, sig, len, NULL, err), 1);
		assert_non_null(strstr(err, "the file is not the one signed"));
		flip_byte(f->file, at[i]);
		assert_int_equal(verify_path(pk, f->file, sig, len, NULL, err), 0);
	}
	/* One byte more, one byte less. */
	fd = open(f->file, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "x", 1), 1);
	assert_int_equal(verify_path(pk, f->file, sig, len, NULL, err), 1);
	assert_int_equal(ftruncate(fd, 199999), 0);
	close(fd);
	assert_int_equal(verify_path(pk, f->file, sig, len, NULL, err), 1);
	free(sig);
	minisign_public_free(pk);
}

/* Every character of line `n` replaced by another base64 character must fail verification;
 * `want_one` is the message expected for a change in the middle of the line. */
static void tamper_b64_line(const struct fixture *f, int n, const char *want_one)
{
	struct minisign_public *pk = load_public(f->pub);
	char err[512], *sig, *l;
	size_t len, linelen;
	int rc;

	sig = sign_path(f->key, f->file, "line", &len);
	l = line_at(sig, n);
	linelen = (size_t)(strchr(l, '\n') - l);
	for (size_t i = 0; i < linelen; i++) {
		char saved = l[i];

		l[i] = other_b64(saved);
		err[0] = '\0';
		rc = verify_path(pk, f->file, sig, len, NULL, err);
		if (rc == 0)
			fail_msg("line %d: a change at column %zu still verifies", n, i);
		if (i >= 16 && i < linelen - 4) {
			assert_int_equal(rc, 1);
			assert_non_null(strstr(err, want_one));
		}
		l[i] = saved;
	}
	/* Not base64 at all. */
	l[10] = '*';
	assert_int_equal(verify_path(pk, f->file, sig, len, NULL, err), -1);
	free(sig);
	minisign_public_free(pk);
}

static void signature_line_changed(void **state)
{
	tamper_b64_line(*state, 2, "the file is not the one signed");
}

static void global_signature_changed(void **state)
{
	tamper_b64_line(*state, 4, "trusted comment signature verification failed");
}

static void trusted_comment_changed(void **state)
{
	struct fixture *f = *state;
	struct minisign_public *pk = load_public(f->pub);
	char err[512], *sig, *tc;
	size_t len, tclen;

	sig = sign_path(f->key, f->file, "file:2021/05/07/a.wav size:1234", &len);
	tc = line_at(sig, 3) + strlen("trusted comment: ");
	tclen = (size_t)(strchr(tc, '\n') - tc);
	for (size_t i = 0; i < tclen; i++) {
		char saved = tc[i];

		tc[i] = saved == 'x' ? 'y' : 'x';
		err[0] = '\0';
		assert_int_equal(verify_path(pk, f->file, sig, len, NULL, err), 1);
		assert_non_null(strstr(err, "trusted comment"));
		tc[i] = saved;
	}
	assert_int_equal(verify_path(pk, f->file, sig, len, NULL, err), 0);
	/* A control character in the comment is malformed, like minisign -V says. */
	tc[3] = '\x1b';
	assert_int_equal(verify_path(pk, f->file, sig, len, NULL, err), -1);
	free(sig);
	minisign_public_free(pk);
}

static void other_key(void **state)
{
	struct fixture *f = *state;
	char other[PATH_MAX], other_pub[PATH_MAX], err[512] = "", b64[64], *sig;
	unsigned char rec[42];
	struct minisign_public *pk, *mixed;
	size_t len, got;

	path_in(f, other, "other");
	path_in(f, other_pub, "other.pub");
	assert_int_equal(minisign_keygen(other, err, sizeof err), 0);
	pk = load_public(other_pub);
	sig = sign_path(f->key, f->file, "t", &len);
	assert_int_equal(verify_path(pk, f->file, sig, len, NULL, err), 1);
	assert_non_null(strstr(err, "key id mismatch"));

	/* The other key under our key id: the id matches, the signature must still fail. */
	assert_int_equal(minisign_public_base64(pk, b64, sizeof b64), 0);
	assert_int_equal(sodium_base642bin(rec, sizeof rec, b64, strlen(b64), NULL, &got, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	minisign_public_free(pk);
	pk = load_public(f->pub);
	assert_int_equal(minisign_public_base64(pk, b64, sizeof b64), 0);
	{
		unsigned char ours[42];

		assert_int_equal(sodium_base642bin(ours, sizeof ours, b64, strlen(b64), NULL, &got,
						   NULL, sodium_base64_VARIANT_ORIGINAL), 0);
		memcpy(rec + 2, ours + 2, 8);
	}
	sodium_bin2base64(b64, sizeof b64, rec, sizeof rec, sodium_base64_VARIANT_ORIGINAL);
	mixed = minisign_public_parse(b64, err, sizeof err);
	assert_non_null(mixed);
	assert_int_equal(verify_path(mixed, f->file, sig, len, NULL, err), 1);
	assert_non_null(strstr(err, "the file is not the one signed"));
	minisign_public_free(mixed);
	minisign_public_free(pk);
	free(sig);
}

static void keygen_never_overwrites(void **state)
{
	struct fixture *f = *state;
	char err[512] = "", path[PATH_MAX], pub[PATH_MAX], *before, *before_pub, *after;

	before = read_file(f->key, NULL);
	before_pub = read_file(f->pub, NULL);
	assert_int_equal(minisign_keygen(f->key, err, sizeof err), -1);
	assert_non_null(strstr(err, "exists"));
	after = read_file(f->key, NULL);
	assert_string_equal(before, after);
	free(after);
	after = read_file(f->pub, NULL);
	assert_string_equal(before_pub, after);
	free(after);

	/* Only FILE.pub exists: refused, and no secret key is left behind. */
	path_in(f, path, "lonely");
	path_in(f, pub, "lonely.pub");
	write_file(pub, "keep me\n", 8);
	assert_int_equal(minisign_keygen(path, err, sizeof err), -1);
	assert_int_equal(access(path, F_OK), -1);
	after = read_file(pub, NULL);
	assert_string_equal(after, "keep me\n");
	free(after);

	/* A symlink at the secret key's name is neither followed nor replaced. */
	path_in(f, path, "link");
	path_in(f, pub, "target");
	write_file(pub, "target\n", 7);
	assert_int_equal(symlink(pub, path), 0);
	assert_int_equal(minisign_keygen(path, err, sizeof err), -1);
	after = read_file(pub, NULL);
	assert_string_equal(after, "target\n");
	free(after);
	path_in(f, pub, "link.pub");
	assert_int_equal(access(pub, F_OK), -1);
	/* Nor a dangling one: nothing is made where it points. */
	path_in(f, path, "dangling");
	path_in(f, pub, "nowhere");
	assert_int_equal(symlink(pub, path), 0);
	assert_int_equal(minisign_keygen(path, err, sizeof err), -1);
	assert_int_equal(access(pub, F_OK), -1);

	/* A folder that does not exist: an error with the path. */
	path_in(f, path, "missing/k");
	assert_int_equal(minisign_keygen(path, err, sizeof err), -1);
	assert_non_null(strstr(err, "missing/k"));
	free(before);
	free(before_pub);
}

static void keygen_modes_under_strict_umask(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], pub[PATH_MAX], err[512];
	struct stat st;

	umask(077);
	path_in(f, path, "strict");
	path_in(f, pub, "strict.pub");
	assert_int_equal(minisign_keygen(path, err, sizeof err), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(lstat(pub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	umask(022);
}

/* Decodes the key record of the secret key file `path`. */
static void secret_record(const char *path, unsigned char rec[SK_REC_LEN])
{
	char *text = read_file(path, NULL), *l = line_at(text, 2);
	size_t got;

	assert_int_equal(sodium_base642bin(rec, SK_REC_LEN, l, strcspn(l, "\n"), NULL, &got, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	assert_int_equal(got, SK_REC_LEN);
	sodium_memzero(text, strlen(text));
	free(text);
}

/* Writes a secret key file holding `rec`. */
static void write_secret(const char *path, const unsigned char rec[SK_REC_LEN])
{
	char text[400];
	size_t n = (size_t)snprintf(text, sizeof text, "untrusted comment: test\n");

	sodium_bin2base64(text + n, sizeof text - n, rec, SK_REC_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
	n = strlen(text);
	text[n++] = '\n';
	write_file(path, text, n);
}

/* minisign_secret_load must refuse `path`, with `want` in the message. */
static void expect_refused(const char *path, const char *want)
{
	char err[512] = "";

	assert_null(minisign_secret_load(path, err, sizeof err));
	if (!strstr(err, want))
		fail_msg("expected \"%s\" in: %s", want, err);
}

static void secret_keys_refused(void **state)
{
	struct fixture *f = *state;
	unsigned char rec[SK_REC_LEN], copy[SK_REC_LEN];
	char path[PATH_MAX];
	struct minisign_secret *k;

	path_in(f, path, "bad.key");
	secret_record(f->key, rec);

	/* Password-protected (kdf "Sc"), as `minisign -G` without -W writes. */
	memcpy(copy, rec, sizeof copy);
	memcpy(copy + SK_KDFALG, "Sc", 2);
	write_secret(path, copy);
	expect_refused(path, "password-protected minisign keys cannot be used unattended; make "
			     "one with `minisign -G -W` or `nexo-archive keygen --sign`");

	/* A damaged key byte: the checksum says so. */
	memcpy(copy, rec, sizeof copy);
	copy[SK_KEY + 5] ^= 1;
	write_secret(path, copy);
	expect_refused(path, "checksum");

	/* A damaged checksum. */
	memcpy(copy, rec, sizeof copy);
	copy[SK_CHK] ^= 1;
	write_secret(path, copy);
	expect_refused(path, "checksum");

	/* An all-zero checksum is what minisign -W writes: accepted. */
	memcpy(copy, rec, sizeof copy);
	memset(copy + SK_CHK, 0, 32);
	write_secret(path, copy);
	k = load_secret(path);
	minisign_secret_free(k);

	/* ... but then a public half that does not match the seed is caught. */
	copy[SK_KEY + 40] ^= 1;
	write_secret(path, copy);
	expect_refused(path, "public half");

	/* Other algorithms, other files. */
	memcpy(copy, rec, sizeof copy);
	memcpy(copy + SK_KDFALG, "Xx", 2);
	write_secret(path, copy);
	expect_refused(path, "key derivation");
	memcpy(copy, rec, sizeof copy);
	copy[0] = 'X';
	write_secret(path, copy);
	expect_refused(path, "signature algorithm");
	expect_refused(f->pub, "not a minisign secret key");
	write_file(path, "", 0);
	expect_refused(path, "not a minisign secret key");
	path_in(f, path, "absent.key");
	expect_refused(path, "absent.key");
	sodium_memzero(rec, sizeof rec);
	sodium_memzero(copy, sizeof copy);
}

static void public_keys_refused(void **state)
{
	struct fixture *f = *state;
	char err[512], path[PATH_MAX], b64[64];
	struct minisign_public *pk = load_public(f->pub), *pk2;

	assert_null(minisign_public_load(f->key, err, sizeof err));
	assert_null(minisign_public_parse("RWQ=", err, sizeof err));
	assert_null(minisign_public_parse("", err, sizeof err));
	assert_int_equal(minisign_public_base64(pk, b64, sizeof b64), 0);
	b64[0] = 'X'; /* not "Ed" any more */
	assert_null(minisign_public_parse(b64, err, sizeof err));
	assert_int_equal(minisign_public_base64(pk, b64, sizeof b64), 0);
	memcpy(b64 + MINISIGN_PUBLIC_B64_LEN, "\n", 2);
	pk2 = minisign_public_parse(b64, err, sizeof err);
	assert_non_null(pk2);
	minisign_public_free(pk2);
	path_in(f, path, "junk.pub");
	write_file(path, "untrusted comment: x\nRWQ=\nmore\n", 31);
	assert_null(minisign_public_load(path, err, sizeof err));
	minisign_public_free(pk);
	minisign_public_free(NULL);
	minisign_secret_free(NULL);
}

static void comments_refused(void **state)
{
	static const char *bad_tc[] = { "a\nb", "a\rb", "end\n", "\x01", "del\x7f", "\xff",
					"\xc0\xaf", "\xed\xa0\x80", "c1 \xc2\x85" };
	struct fixture *f = *state;
	struct minisign_secret *k = load_secret(f->key);
	char err[512], *sig = (char *)"x", *big;
	size_t len = 7;
	int fd = open(f->file, O_RDONLY);

	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof bad_tc / sizeof bad_tc[0]; i++) {
		err[0] = '\0';
		assert_int_equal(minisign_sign_fd(k, fd, bad_tc[i], NULL, &sig, &len, err,
						  sizeof err), -1);
		assert_null(sig);
		assert_int_equal(len, 0);
		assert_non_null(strstr(err, "trusted comment"));
	}
	assert_int_equal(minisign_sign_fd(k, fd, "ok", "two\nlines", &sig, &len, err, sizeof err),
			 -1);
	assert_non_null(strstr(err, "untrusted comment"));
	/* UTF-8 and tabs are fine. */
	assert_int_equal(minisign_sign_fd(k, fd, "Grüße\t✓", "ünt", &sig, &len, err, sizeof err),
			 0);
	free(sig);

	/* The largest trusted comment minisign can read back, and one byte more. */
	big = malloc(MINISIGN_TRUSTED_MAX + 2);
	assert_non_null(big);
	memset(big, 'c', MINISIGN_TRUSTED_MAX + 1);
	big[MINISIGN_TRUSTED_MAX + 1] = '\0';
	assert_int_equal(minisign_sign_fd(k, fd, big, NULL, &sig, &len, err, sizeof err), -1);
	big[MINISIGN_TRUSTED_MAX] = '\0';
	assert_int_equal(minisign_sign_fd(k, fd, big, NULL, &sig, &len, err, sizeof err), 0);
	{
		struct minisign_public *pk = load_public(f->pub);
		char *tc = malloc(MINISIGN_TRUSTED_MAX + 1);

		assert_non_null(tc);
		assert_int_equal(verify_path(pk, f->file, sig, len, tc, err), 0);
		assert_string_equal(tc, big);
		free(tc);
		minisign_public_free(pk);
	}
	free(sig);
	free(big);
	close(fd);
	minisign_secret_free(k);
}

static void malformed_signatures(void **state)
{
	struct fixture *f = *state;
	struct minisign_public *pk = load_public(f->pub);
	char err[512], *sig, *bad, *l;
	size_t len;

	sig = sign_path(f->key, f->file, "m", &len);
	bad = malloc(MINISIGN_SIG_TEXT_MAX + 2);
	assert_non_null(bad);

	assert_int_equal(verify_path(pk, f->file, "", 0, NULL, err), -1);
	/* Cut after each line, and in the middle of the last. */
	for (int n = 2; n <= 4; n++) {
		l = line_at(sig, n);
		assert_int_equal(verify_path(pk, f->file, sig, (size_t)(l - sig), NULL, err), -1);
	}
	assert_int_equal(verify_path(pk, f->file, sig, len - 10, NULL, err), -1);
	/* Without the last "\n" it still verifies; with text after it, it does not. */
	assert_int_equal(verify_path(pk, f->file, sig, len - 1, NULL, err), 0);
	memcpy(bad, sig, len);
	memcpy(bad + len, "extra\n", 6);
	assert_int_equal(verify_path(pk, f->file, bad, len + 6, NULL, err), -1);
	assert_non_null(strstr(err, "after line 4"));
	/* Prefixes. */
	memcpy(bad, sig, len);
	bad[0] = 'U';
	assert_int_equal(verify_path(pk, f->file, bad, len, NULL, err), -1);
	memcpy(bad, sig, len);
	line_at(bad, 3)[0] = 'T';
	assert_int_equal(verify_path(pk, f->file, bad, len, NULL, err), -1);
	/* The algorithm: "Ed" (legacy) does not match a prehashed signature; "\x01D" is not one
	 * minisign knows. */
	memcpy(bad, sig, len);
	line_at(bad, 2)[1] = 'W';
	assert_int_equal(verify_path(pk, f->file, bad, len, NULL, err), 1);
	memcpy(bad, sig, len);
	line_at(bad, 2)[0] = 'A';
	assert_int_equal(verify_path(pk, f->file, bad, len, NULL, err), -1);
	assert_non_null(strstr(err, "algorithm"));
	/* Over the cap. */
	memset(bad, '\n', MINISIGN_SIG_TEXT_MAX + 1);
	memcpy(bad, sig, len);
	assert_int_equal(verify_path(pk, f->file, bad, MINISIGN_SIG_TEXT_MAX + 1, NULL, err), -1);
	assert_non_null(strstr(err, "larger"));
	/* CRLF line ends are read as minisign reads them. */
	{
		size_t o = 0;

		for (size_t i = 0; i < len; i++) {
			if (sig[i] == '\n')
				bad[o++] = '\r';
			bad[o++] = sig[i];
		}
		assert_int_equal(verify_path(pk, f->file, bad, o, NULL, err), 0);
	}
	free(bad);
	free(sig);
	minisign_public_free(pk);
}

/* A legacy ("Ed", not prehashed) signature made here from the key record: still verified. */
static void legacy_signature(void **state)
{
	struct fixture *f = *state;
	struct minisign_public *pk = load_public(f->pub);
	unsigned char rec[SK_REC_LEN], sig[74], global[64], signed_tc[64 + 6];
	char text[400], tc[64], err[512];
	size_t msg_len, n;
	char *msg = read_file(f->file, &msg_len);

	secret_record(f->key, rec);
	memcpy(sig, "Ed", 2);
	memcpy(sig + 2, rec + SK_KEYNUM, 8);
	crypto_sign_detached(sig + 10, NULL, (unsigned char *)msg, msg_len, rec + SK_KEY);
	memcpy(signed_tc, sig + 10, 64);
	memcpy(signed_tc + 64, "legacy", 6);
	crypto_sign_detached(global, NULL, signed_tc, sizeof signed_tc, rec + SK_KEY);
	sodium_memzero(rec, sizeof rec);

	n = (size_t)snprintf(text, sizeof text, "untrusted comment: old\n");
	sodium_bin2base64(text + n, sizeof text - n, sig, sizeof sig,
			  sodium_base64_VARIANT_ORIGINAL);
	n = strlen(text);
	n += (size_t)snprintf(text + n, sizeof text - n, "\ntrusted comment: legacy\n");
	sodium_bin2base64(text + n, sizeof text - n, global, sizeof global,
			  sodium_base64_VARIANT_ORIGINAL);
	n = strlen(text);
	text[n++] = '\n';
	assert_int_equal(verify_path(pk, f->file, text, n, tc, err), 0);
	assert_string_equal(tc, "legacy");
	flip_byte(f->file, 1234);
	assert_int_equal(verify_path(pk, f->file, text, n, tc, err), 1);
	free(msg);
	minisign_public_free(pk);
}

/* ---- interop with the real minisign ---- */

/* Runs argv (stdin /dev/null, output discarded); returns its exit code, 127 when it cannot
 * be run. */
static int run(const char *const argv[])
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void need_minisign(void)
{
	const char *const argv[] = { "minisign", "-v", NULL };

	if (run(argv) == 127)
		skip();
}

static void write_sig(const char *file, const char *sig, size_t len)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof path, "%s.minisig", file);
	write_file(path, sig, len);
}

static void minisign_verifies_ours(void **state)
{
	struct fixture *f = *state;
	struct minisign_public *pk;
	char b64[64], *sig;
	size_t len;

	need_minisign();
	pk = load_public(f->pub);
	assert_int_equal(minisign_public_base64(pk, b64, sizeof b64), 0);
	minisign_public_free(pk);
	sig = sign_path(f->key, f->file, "file:f\tfrom nexo-archive", &len);
	write_sig(f->file, sig, len);
	free(sig);
	{
		const char *const by_file[] = { "minisign", "-V", "-m", f->file,
						"-p", f->pub, NULL };
		const char *const by_string[] = { "minisign", "-V", "-m", f->file,
						  "-P", b64, NULL };
		const char *const prehash_only[] = { "minisign", "-V", "-H", "-m", f->file,
						     "-p", f->pub, NULL };

		assert_int_equal(run(by_file), 0);
		assert_int_equal(run(by_string), 0);
		assert_int_equal(run(prehash_only), 0);
		flip_byte(f->file, 777);
		assert_int_not_equal(run(by_file), 0);
		assert_int_not_equal(run(by_string), 0);
		flip_byte(f->file, 777);
		assert_int_equal(run(by_file), 0);
	}
}

static void minisign_keys_work_here(void **state)
{
	struct fixture *f = *state;
	char pub[PATH_MAX], sec[PATH_MAX], tc[MINISIGN_TRUSTED_MAX + 1], err[512];
	char path[PATH_MAX + 16];
	struct minisign_public *pk;
	char *sig;
	size_t len;

	need_minisign();
	path_in(f, pub, "m.pub");
	path_in(f, sec, "m.key");
	{
		const char *const gen[] = { "minisign", "-G", "-W", "-p", pub, "-s", sec, NULL };

		assert_int_equal(run(gen), 0);
	}
	/* Its -W key signs here, and minisign verifies that. */
	sig = sign_path(sec, f->file, "signed here with a minisign key", &len);
	write_sig(f->file, sig, len);
	pk = load_public(pub);
	assert_int_equal(verify_path(pk, f->file, sig, len, tc, err), 0);
	free(sig);
	{
		const char *const ver[] = { "minisign", "-V", "-m", f->file, "-p", pub, NULL };

		assert_int_equal(run(ver), 0);
	}
	/* Its own signatures, prehashed and legacy, verify here. */
	{
		const char *const s[] = { "minisign", "-S", "-s", sec, "-m", f->file, "-t",
					  "made by minisign", NULL };
		const char *const legacy[] = { "minisign", "-S", "-l", "-s", sec, "-m", f->file,
					       NULL };

		snprintf(path, sizeof path, "%s.minisig", f->file);
		assert_int_equal(run(s), 0);
		sig = read_file(path, &len);
		assert_int_equal(verify_path(pk, f->file, sig, len, tc, err), 0);
		assert_string_equal(tc, "made by minisign");
		flip_byte(f->file, 0);
		assert_int_equal(verify_path(pk, f->file, sig, len, tc, err), 1);
		flip_byte(f->file, 0);
		free(sig);

		assert_int_equal(run(legacy), 0);
		sig = read_file(path, &len);
		assert_true(strncmp(line_at(sig, 2), "RW", 2) == 0); /* "Ed": legacy */
		assert_int_equal(verify_path(pk, f->file, sig, len, tc, err), 0);
		assert_non_null(strstr(tc, "timestamp:"));
		assert_null(strstr(tc, "hashed"));
		flip_byte(f->file, 199999);
		assert_int_equal(verify_path(pk, f->file, sig, len, tc, err), 1);
		free(sig);
	}
	/* And its signature does not verify with our (other) key. */
	minisign_public_free(pk);
	pk = load_public(f->pub);
	sig = read_file(path, &len);
	assert_int_equal(verify_path(pk, f->file, sig, len, NULL, err), 1);
	assert_non_null(strstr(err, "key id mismatch"));
	free(sig);
	minisign_public_free(pk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_file, setup, teardown),
		cmocka_unit_test_setup_teardown(message_byte_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(signature_line_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(global_signature_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(trusted_comment_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(other_key, setup, teardown),
		cmocka_unit_test_setup_teardown(keygen_never_overwrites, setup, teardown),
		cmocka_unit_test_setup_teardown(keygen_modes_under_strict_umask, setup, teardown),
		cmocka_unit_test_setup_teardown(secret_keys_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(public_keys_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(comments_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_signatures, setup, teardown),
		cmocka_unit_test_setup_teardown(legacy_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(minisign_verifies_ours, setup, teardown),
		cmocka_unit_test_setup_teardown(minisign_keys_work_here, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
