/* minisign_keys.c — minisign key files: a new unencrypted pair written as minisign -G -W
 * writes it, a secret key loaded (its checksum checked), a public key loaded or parsed from
 * its base64 line. Secret bytes only ever sit in sodium_malloc memory, wiped when freed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "minisign_internal.h"
#include "base/fdio.h"
#include "base/log.h"

#define KEYFILE_MAX 4096 /* a key file: a comment line minisign reads (<1024) and one record */

/* BLAKE2b-256 over "Ed" || keynum || sk, minisign's secret key checksum. */
static void secret_checksum(const unsigned char *rec, unsigned char chk[CHK_LEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, CHK_LEN);
	crypto_generichash_update(&st, rec + SK_SIGALG, 2);
	crypto_generichash_update(&st, rec + SK_KEYNUM, KEYNUM_LEN);
	crypto_generichash_update(&st, rec + SK_KEY, SK_LEN);
	crypto_generichash_final(&st, chk, CHK_LEN);
	sodium_memzero(&st, sizeof st);
}

/* Reads a whole small file into buf (`cap` bytes; the file must be shorter). Returns its
 * length, or -1 with `err` set. */
static ssize_t read_small(const char *path, const char *what, unsigned char *buf, size_t cap,
			  char *err, size_t errlen)
{
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK); /* a FIFO: no hang */
	if (fd < 0) {
		err_set(err, errlen, "cannot open %s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err_set(err, errlen, "%s %s is not a regular file", what, path);
		close(fd);
		return -1;
	}
	while (len < cap) {
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(err, errlen, "cannot read %s %s: %s", what, path, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len == cap) {
		err_set(err, errlen, "%s %s is larger than %d bytes: not a minisign key", what, path,
		       (int)cap - 1);
		return -1;
	}
	return (ssize_t)len;
}

/* Writes `text` to a new file `path` (which must not exist) with `mode`, fsynced.
 * Returns 0; 1 when the file was made but could not be written (the caller removes it);
 * -1 when it could not be made (`err` set either way). */
static int write_new(const char *path, mode_t mode, const char *text, size_t len, char *err,
		     size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

	if (fd < 0) {
		if (errno == EEXIST)
			err_set(err, errlen, "%s exists already; a key file is never overwritten",
			       path);
		else
			err_set(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) != 0 || fd_write_all(fd, text, len) != 0 || fsync(fd) != 0) {
		err_set(err, errlen, "cannot write %s: %s", path, strerror(errno));
		close(fd);
		return 1;
	}
	if (close(fd) != 0) {
		err_set(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return 1;
	}
	return 0;
}

int minisign_keygen(const char *secret_path, char *err, size_t errlen)
{
	static const char sk_comment[] =
		UNTRUSTED_PREFIX "nexo-archive secret key (no password, minisign -W format)\n";
	const size_t sk_text_len = PREFIX_LEN(sk_comment) + B64_LEN(SK_REC_LEN) + 1;
	unsigned char pk_rec[PK_REC_LEN], *rec = NULL;
	char pk_text[128], *sk_text = NULL, *pub_path = NULL, hex[MINISIGN_KEYID_HEX_LEN + 1];
	size_t pk_text_len, plen = strlen(secret_path);
	int rc = -1, made_sk = 0, made_pk = 0, w;

	if (ms_ready(err, errlen) != 0)
		return -1;
	rec = sodium_malloc(SK_REC_LEN);
	sk_text = sodium_malloc(sk_text_len + 1);
	pub_path = malloc(plen + sizeof ".pub");
	if (!rec || !sk_text || !pub_path) {
		err_set(err, errlen, "out of memory");
		goto out;
	}
	memcpy(pub_path, secret_path, plen);
	memcpy(pub_path + plen, ".pub", sizeof ".pub");

	/* Key record: kdf algorithm and its parameters stay zero (no password), as -W writes. */
	memset(rec, 0, SK_REC_LEN);
	memcpy(rec + SK_SIGALG, "Ed", 2);
	memcpy(rec + SK_CHKALG, "B2", 2);
	randombytes_buf(rec + SK_KEYNUM, KEYNUM_LEN);
	crypto_sign_ed25519_keypair(pk_rec + PK_KEY, rec + SK_KEY);
	secret_checksum(rec, rec + SK_CHK);
	memcpy(pk_rec, "Ed", 2);
	memcpy(pk_rec + PK_KEYNUM, rec + SK_KEYNUM, KEYNUM_LEN);

	memcpy(sk_text, sk_comment, PREFIX_LEN(sk_comment));
	sodium_bin2base64(sk_text + PREFIX_LEN(sk_comment), B64_LEN(SK_REC_LEN) + 1, rec,
			  SK_REC_LEN, sodium_base64_VARIANT_ORIGINAL);
	sk_text[sk_text_len - 1] = '\n';

	ms_keyid_hex(pk_rec + PK_KEYNUM, hex);
	pk_text_len = (size_t)snprintf(pk_text, sizeof pk_text,
				       UNTRUSTED_PREFIX "minisign public key %s\n", hex);
	sodium_bin2base64(pk_text + pk_text_len, sizeof pk_text - pk_text_len, pk_rec, PK_REC_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
	pk_text_len += B64_LEN(PK_REC_LEN);
	pk_text[pk_text_len++] = '\n';

	w = write_new(secret_path, 0600, sk_text, sk_text_len, err, errlen);
	made_sk = w >= 0;
	if (w != 0)
		goto out;
	w = write_new(pub_path, 0644, pk_text, pk_text_len, err, errlen);
	made_pk = w >= 0;
	if (w != 0)
		goto out;
	if (fsync_parent(secret_path) != 0) {
		err_set(err, errlen, "cannot sync the folder of %s: %s", secret_path,
		       strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rc != 0 && made_pk)
		unlink(pub_path);
	if (rc != 0 && made_sk)
		unlink(secret_path);
	sodium_free(rec);
	sodium_free(sk_text);
	free(pub_path);
	return rc;
}

/* Checks a decoded secret key record and copies the key into `k`. Returns 0 or -1. */
static int secret_from_record(const unsigned char *rec, struct minisign_secret *k,
			      const char *path, char *err, size_t errlen)
{
	unsigned char *scratch;
	int bad;

	if (memcmp(rec + SK_SIGALG, "Ed", 2) != 0) {
		err_set(err, errlen, "%s: unsupported signature algorithm (not Ed25519)", path);
		return -1;
	}
	if (memcmp(rec + SK_KDFALG, "Sc", 2) == 0) {
		err_set(err, errlen,
		       "%s: password-protected minisign keys cannot be used unattended; make one "
		       "with `minisign -G -W` or `nexo-archive keygen --sign`", path);
		return -1;
	}
	if (!sodium_is_zero(rec + SK_KDFALG, 2)) {
		err_set(err, errlen, "%s: unsupported key derivation function", path);
		return -1;
	}
	if (memcmp(rec + SK_CHKALG, "B2", 2) != 0) {
		err_set(err, errlen, "%s: unsupported checksum function", path);
		return -1;
	}
	/* chk, the seed's own public key, a copy of sk */
	scratch = sodium_malloc(CHK_LEN + PK_LEN + SK_LEN);
	if (!scratch) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	/* minisign -W leaves the checksum zero; any other value must be right. */
	secret_checksum(rec, scratch);
	bad = !sodium_is_zero(rec + SK_CHK, CHK_LEN) &&
	      sodium_memcmp(scratch, rec + SK_CHK, CHK_LEN) != 0;
	if (bad) {
		err_set(err, errlen, "%s: wrong checksum: the secret key is damaged", path);
	} else {
		/* Ed25519 signs with the public half stored in sk: a wrong one leaks the key. */
		crypto_sign_ed25519_seed_keypair(scratch + CHK_LEN, scratch + CHK_LEN + PK_LEN,
						 rec + SK_KEY);
		bad = sodium_memcmp(scratch + CHK_LEN, rec + SK_KEY + SK_LEN - PK_LEN,
				    PK_LEN) != 0;
		if (bad)
			err_set(err, errlen, "%s: the public half does not match the secret key",
			       path);
	}
	sodium_free(scratch);
	if (bad)
		return -1;
	memcpy(k->keynum, rec + SK_KEYNUM, KEYNUM_LEN);
	memcpy(k->sk, rec + SK_KEY, SK_LEN);
	return 0;
}

struct minisign_secret *minisign_secret_load(const char *path, char *err, size_t errlen)
{
	struct minisign_secret *k = NULL;
	unsigned char *file = NULL, *rec = NULL;
	struct cursor c;
	const char *line;
	size_t len;
	ssize_t n;
	int ok = 0;

	if (ms_ready(err, errlen) != 0)
		return NULL;
	file = sodium_malloc(KEYFILE_MAX);
	rec = sodium_malloc(SK_REC_LEN);
	k = sodium_malloc(sizeof *k);
	if (!file || !rec || !k) {
		err_set(err, errlen, "out of memory");
		goto out;
	}
	n = read_small(path, "secret key", file, KEYFILE_MAX, err, errlen);
	if (n < 0)
		goto out;
	c.p = (const char *)file;
	c.end = c.p + n;
	if (ms_next_line(&c, &line, &len) != 1 ||
	    !ms_has_prefix(line, len, UNTRUSTED_PREFIX, PREFIX_LEN(UNTRUSTED_PREFIX))) {
		err_set(err, errlen,
		       "%s: not a minisign secret key (no \"untrusted comment:\" line)", path);
		goto out;
	}
	if (ms_next_line(&c, &line, &len) < 0 || ms_b64_exact(rec, SK_REC_LEN, line, len) != 0 ||
	    !ms_only_blank(&c)) {
		err_set(err, errlen, "%s: not a minisign secret key (its second line is not a "
		       "%d-character key)", path, (int)B64_LEN(SK_REC_LEN));
		goto out;
	}
	if (secret_from_record(rec, k, path, err, errlen) != 0)
		goto out;
	sodium_mprotect_readonly(k);
	ok = 1;
out:
	sodium_free(file);
	sodium_free(rec);
	if (!ok) {
		sodium_free(k);
		k = NULL;
	}
	return k;
}

void minisign_secret_free(struct minisign_secret *k)
{
	sodium_free(k); /* wipes it first, whatever its protection */
}

void minisign_secret_keyid(const struct minisign_secret *k, char hex[MINISIGN_KEYID_HEX_LEN + 1])
{
	ms_keyid_hex(k->keynum, hex);
}

static struct minisign_public *public_from_b64(const char *b64, size_t len, const char *where,
					       char *err, size_t errlen)
{
	unsigned char rec[PK_REC_LEN];
	struct minisign_public *pk;

	if (ms_b64_exact(rec, PK_REC_LEN, b64, len) != 0) {
		err_set(err, errlen, "%s: not a minisign public key (expected %d characters of "
		       "base64)", where, MINISIGN_PUBLIC_B64_LEN);
		return NULL;
	}
	if (memcmp(rec, "Ed", 2) != 0) {
		err_set(err, errlen, "%s: unsupported signature algorithm (not Ed25519)", where);
		return NULL;
	}
	pk = malloc(sizeof *pk);
	if (!pk) {
		err_set(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(pk->keynum, rec + PK_KEYNUM, KEYNUM_LEN);
	memcpy(pk->pk, rec + PK_KEY, PK_LEN);
	return pk;
}

struct minisign_public *minisign_public_load(const char *path, char *err, size_t errlen)
{
	unsigned char file[KEYFILE_MAX];
	struct cursor c;
	const char *line;
	size_t len;
	ssize_t n;

	if (ms_ready(err, errlen) != 0)
		return NULL;
	n = read_small(path, "public key", file, sizeof file, err, errlen);
	if (n < 0)
		return NULL;
	c.p = (const char *)file;
	c.end = c.p + n;
	if (ms_next_line(&c, &line, &len) != 1 ||
	    !ms_has_prefix(line, len, UNTRUSTED_PREFIX, PREFIX_LEN(UNTRUSTED_PREFIX))) {
		err_set(err, errlen,
		       "%s: not a minisign public key (no \"untrusted comment:\" line)", path);
		return NULL;
	}
	if (ms_next_line(&c, &line, &len) < 0 || !ms_only_blank(&c)) {
		err_set(err, errlen, "%s: not a minisign public key (expected two lines)", path);
		return NULL;
	}
	return public_from_b64(line, len, path, err, errlen);
}

struct minisign_public *minisign_public_parse(const char *base64_line, char *err, size_t errlen)
{
	size_t len = strlen(base64_line);

	if (ms_ready(err, errlen) != 0)
		return NULL;
	if (len > 0 && base64_line[len - 1] == '\n')
		len--;
	if (len > 0 && base64_line[len - 1] == '\r')
		len--;
	return public_from_b64(base64_line, len, "public key string", err, errlen);
}

void minisign_public_free(struct minisign_public *pk)
{
	free(pk);
}

struct minisign_public *minisign_secret_public(const struct minisign_secret *k)
{
	struct minisign_public *pk = malloc(sizeof *pk);

	if (!pk)
		return NULL;
	memcpy(pk->keynum, k->keynum, KEYNUM_LEN);
	crypto_sign_ed25519_sk_to_pk(pk->pk, k->sk);
	return pk;
}

void minisign_public_keyid(const struct minisign_public *pk, char hex[MINISIGN_KEYID_HEX_LEN + 1])
{
	ms_keyid_hex(pk->keynum, hex);
}

int minisign_public_base64(const struct minisign_public *pk, char *out, size_t outlen)
{
	unsigned char rec[PK_REC_LEN];

	if (outlen < MINISIGN_PUBLIC_B64_LEN + 1)
		return -1;
	memcpy(rec, "Ed", 2);
	memcpy(rec + PK_KEYNUM, pk->keynum, KEYNUM_LEN);
	memcpy(rec + PK_KEY, pk->pk, PK_LEN);
	sodium_bin2base64(out, outlen, rec, PK_REC_LEN, sodium_base64_VARIANT_ORIGINAL);
	return 0;
}
