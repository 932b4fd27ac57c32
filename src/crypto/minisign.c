/* minisign.c — minisign's key and signature formats over libsodium's Ed25519 and BLAKE2b.
 *
 * The binary records are handled as byte offsets, not C structs, so no padding question arises.
 * Anything read from a file or handed in as signature text is hostile: every line has a cap,
 * base64 must decode to exactly the record's size, and a trusted comment must be printable
 * UTF-8 before it is returned. Secret bytes (key records, their base64, file contents of a
 * secret key) only ever sit in sodium_malloc memory, freed (and so wiped) on every path. */
#include "minisign.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"

#define UNTRUSTED_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
#define PREFIX_LEN(p) (sizeof(p) - 1)
#define B64_LEN(n) (sodium_base64_ENCODED_LEN((n), sodium_base64_VARIANT_ORIGINAL) - 1)
#define KEYFILE_MAX 4096 /* a key file: a comment line minisign reads (<1024) and one record */
#define CHUNK (1 << 18)

/* Record layouts (offsets in bytes), as minisign lays them out. */
enum {
	KEYNUM_LEN = 8,
	PK_LEN = crypto_sign_ed25519_PUBLICKEYBYTES,
	SK_LEN = crypto_sign_ed25519_SECRETKEYBYTES,
	SIG_LEN = crypto_sign_ed25519_BYTES,
	CHK_LEN = 32,
	PREHASH_LEN = 64,
	/* secret key: "Ed", kdf alg, "B2", kdf salt[32], opslimit[8], memlimit[8], keynum, sk,
	 * chk */
	SK_SIGALG = 0,
	SK_KDFALG = 2,
	SK_CHKALG = 4,
	SK_KEYNUM = 54,
	SK_KEY = SK_KEYNUM + KEYNUM_LEN,
	SK_CHK = SK_KEY + SK_LEN,
	SK_REC_LEN = SK_CHK + CHK_LEN,
	/* public key: "Ed", keynum, pk */
	PK_KEYNUM = 2,
	PK_KEY = PK_KEYNUM + KEYNUM_LEN,
	PK_REC_LEN = PK_KEY + PK_LEN,
	/* signature: "ED" (or legacy "Ed"), keynum, Ed25519 signature */
	SIG_KEYNUM = 2,
	SIG_SIG = SIG_KEYNUM + KEYNUM_LEN,
	SIG_REC_LEN = SIG_SIG + SIG_LEN,
};

_Static_assert(SK_REC_LEN == 158, "minisign secret key record is 158 bytes");
_Static_assert(crypto_generichash_BYTES_MAX == PREHASH_LEN, "BLAKE2b-512 prehash");
_Static_assert(B64_LEN(PK_REC_LEN) == MINISIGN_PUBLIC_B64_LEN, "public key line length");

struct minisign_secret {
	unsigned char keynum[KEYNUM_LEN];
	unsigned char sk[SK_LEN];
};

struct minisign_public {
	unsigned char keynum[KEYNUM_LEN];
	unsigned char pk[PK_LEN];
};

/* A read position in a text, split into lines. */
struct cursor {
	const char *p, *end;
};

static int ready(char *err, size_t errlen)
{
	if (sodium_init() < 0) {
		err_set(err, errlen, "libsodium cannot start");
		return -1;
	}
	return 0;
}

/* The next line of `c` without its "\n" and one "\r" before it. Returns 1 for a line ended
 * by "\n", 0 for a last line without one, -1 at the end of the text. */
static int next_line(struct cursor *c, const char **line, size_t *len)
{
	const char *nl;
	int ended;

	if (c->p >= c->end)
		return -1;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	ended = nl != NULL;
	if (!nl)
		nl = c->end;
	*line = c->p;
	*len = (size_t)(nl - c->p);
	if (*len > 0 && (*line)[*len - 1] == '\r')
		(*len)--;
	c->p = ended ? nl + 1 : nl;
	return ended;
}

/* 1 when nothing but line ends remain. */
static int only_blank(const struct cursor *c)
{
	for (const char *q = c->p; q < c->end; q++)
		if (*q != '\n' && *q != '\r')
			return 0;
	return 1;
}

static int has_prefix(const char *line, size_t len, const char *prefix, size_t plen)
{
	return len >= plen && memcmp(line, prefix, plen) == 0;
}

/* Decodes padded standard base64 that must make exactly `want` bytes. Returns 0 or -1. */
static int b64_exact(unsigned char *out, size_t want, const char *b64, size_t len)
{
	size_t got = 0;
	const char *stop = NULL;

	if (len != B64_LEN(want))
		return -1;
	if (sodium_base642bin(out, want, b64, len, NULL, &got, &stop,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return got == want && stop == b64 + len ? 0 : -1;
}

/* 1 when s[0..len) is UTF-8 without control characters (C0 but tab, DEL, C1), surrogates or
 * overlong forms: what minisign -V accepts in a trusted comment. */
static int printable_utf8(const unsigned char *s, size_t len)
{
	static const uint32_t min_cp[4] = { 0, 0x80, 0x800, 0x10000 };
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i], need;
		uint32_t cp;

		if (c == '\t' || (c >= 0x20 && c < 0x7f)) {
			i++;
			continue;
		}
		if (c < 0xc2 || c > 0xf4)
			return 0;
		need = c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
		if (len - i - 1 < need)
			return 0;
		cp = c & (0x3fu >> need);
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3fu);
		}
		if (cp < min_cp[need] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* 1 when s[0..len) holds an ASCII control character other than tab. */
static int has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return 1;
	return 0;
}

/* Key ids print as minisign prints them: the 8 bytes as a little-endian number, in hex. */
static void keyid_hex(const unsigned char keynum[KEYNUM_LEN], char hex[MINISIGN_KEYID_HEX_LEN + 1])
{
	static const char digits[] = "0123456789ABCDEF";

	for (int i = 0; i < KEYNUM_LEN; i++) {
		hex[2 * i] = digits[keynum[KEYNUM_LEN - 1 - i] >> 4];
		hex[2 * i + 1] = digits[keynum[KEYNUM_LEN - 1 - i] & 15];
	}
	hex[MINISIGN_KEYID_HEX_LEN] = '\0';
}

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

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* BLAKE2b-512 of everything in fd from offset 0. Returns 0, or -1 with `err` set. */
static int prehash_fd(int fd, int64_t limit, unsigned char out[PREHASH_LEN], char *err,
		      size_t errlen)
{
	crypto_generichash_state st;
	unsigned char *buf = malloc(CHUNK);
	off_t off = 0;
	ssize_t n;

	if (!buf) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	crypto_generichash_init(&st, NULL, 0, PREHASH_LEN);
	while ((limit < 0 || off < limit) &&
	       (n = pread(fd, buf, limit < 0 || limit - off > CHUNK ? CHUNK : (size_t)(limit - off),
			  off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(err, errlen, "cannot read the file to sign or verify: %s",
			       strerror(errno));
			free(buf);
			return -1;
		}
		crypto_generichash_update(&st, buf, (size_t)n);
		off += n;
	}
	if (limit >= 0 && off < limit) {
		free(buf);
		err_set(err, errlen, "the file is shorter than the part to verify");
		return -1;
	}
	free(buf);
	crypto_generichash_final(&st, out, PREHASH_LEN);
	return 0;
}

/* The whole content of fd (for a legacy signature), at most MINISIGN_LEGACY_MAX bytes.
 * Returns a malloc'd buffer with *len set, or NULL with `err` set. */
static unsigned char *slurp_fd(int fd, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	unsigned char *buf;
	size_t size, got = 0;
	ssize_t n = 0;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err_set(err, errlen, "the file to verify is not a regular file");
		return NULL;
	}
	if (st.st_size > MINISIGN_LEGACY_MAX) {
		err_set(err, errlen, "legacy (non-prehashed) signature: the file is larger than %ld "
		       "bytes, the cap for this kind", MINISIGN_LEGACY_MAX);
		return NULL;
	}
	size = (size_t)st.st_size;
	buf = malloc(size + 1);
	if (!buf) {
		err_set(err, errlen, "out of memory");
		return NULL;
	}
	while (got <= size) {
		n = pread(fd, buf + got, size + 1 - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (n < 0 || got != size) {
		err_set(err, errlen, "cannot read the file to verify: %s",
		       n < 0 ? strerror(errno) : "it changed size while being read");
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}

/* fsyncs the folder that holds `path`. Returns 0, or -1 with errno set. */
static int fsync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, rc, e;

	if (!slash)
		dir = strdup(".");
	else
		dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
	if (!dir)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	if (rc != 0 && e == EINVAL) /* a filesystem that cannot sync folders */
		rc = 0;
	errno = e;
	return rc;
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
	if (fchmod(fd, mode) != 0 || write_all(fd, text, len) != 0 || fsync(fd) != 0) {
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

	if (ready(err, errlen) != 0)
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

	keyid_hex(pk_rec + PK_KEYNUM, hex);
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

	if (ready(err, errlen) != 0)
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
	if (next_line(&c, &line, &len) != 1 ||
	    !has_prefix(line, len, UNTRUSTED_PREFIX, PREFIX_LEN(UNTRUSTED_PREFIX))) {
		err_set(err, errlen,
		       "%s: not a minisign secret key (no \"untrusted comment:\" line)", path);
		goto out;
	}
	if (next_line(&c, &line, &len) < 0 || b64_exact(rec, SK_REC_LEN, line, len) != 0 ||
	    !only_blank(&c)) {
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
	keyid_hex(k->keynum, hex);
}

static struct minisign_public *public_from_b64(const char *b64, size_t len, const char *where,
					       char *err, size_t errlen)
{
	unsigned char rec[PK_REC_LEN];
	struct minisign_public *pk;

	if (b64_exact(rec, PK_REC_LEN, b64, len) != 0) {
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

	if (ready(err, errlen) != 0)
		return NULL;
	n = read_small(path, "public key", file, sizeof file, err, errlen);
	if (n < 0)
		return NULL;
	c.p = (const char *)file;
	c.end = c.p + n;
	if (next_line(&c, &line, &len) != 1 ||
	    !has_prefix(line, len, UNTRUSTED_PREFIX, PREFIX_LEN(UNTRUSTED_PREFIX))) {
		err_set(err, errlen,
		       "%s: not a minisign public key (no \"untrusted comment:\" line)", path);
		return NULL;
	}
	if (next_line(&c, &line, &len) < 0 || !only_blank(&c)) {
		err_set(err, errlen, "%s: not a minisign public key (expected two lines)", path);
		return NULL;
	}
	return public_from_b64(line, len, path, err, errlen);
}

struct minisign_public *minisign_public_parse(const char *base64_line, char *err, size_t errlen)
{
	size_t len = strlen(base64_line);

	if (ready(err, errlen) != 0)
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
	keyid_hex(pk->keynum, hex);
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

/* Appends `len` bytes at *p. */
static void put(char **p, const void *data, size_t len)
{
	memcpy(*p, data, len);
	*p += len;
}

/* Appends the base64 of `len` bytes and a "\n" at *p (room for the NUL is required). */
static void put_b64_line(char **p, const unsigned char *data, size_t len)
{
	sodium_bin2base64(*p, B64_LEN(len) + 1, data, len, sodium_base64_VARIANT_ORIGINAL);
	*p += B64_LEN(len);
	*(*p)++ = '\n';
}

int minisign_sign_fd(const struct minisign_secret *k, int fd, const char *trusted_comment,
		     const char *untrusted_comment, char **sig_out, size_t *sig_len, char *err,
		     size_t errlen)
{
	unsigned char rec[SIG_REC_LEN], global[SIG_LEN], hash[PREHASH_LEN], *signed_tc;
	const char *uc = untrusted_comment ? untrusted_comment : "signature from nexo-archive "
								 "secret key";
	const char *tc = trusted_comment;
	char tc_default[64], *text, *p;
	size_t tclen, uclen, total;

	*sig_out = NULL;
	*sig_len = 0;
	if (!tc) {
		snprintf(tc_default, sizeof tc_default, "timestamp:%lld\thashed",
			 (long long)clock_unix());
		tc = tc_default;
	}
	tclen = strlen(tc);
	uclen = strlen(uc);
	if (strpbrk(tc, "\r\n")) {
		err_set(err, errlen,
		       "a trusted comment is one line: it cannot hold \"\\n\" or \"\\r\"");
		return -1;
	}
	if (tclen > MINISIGN_TRUSTED_MAX || !printable_utf8((const unsigned char *)tc, tclen)) {
		err_set(err, errlen,
		       "a trusted comment is at most %d bytes of UTF-8 without control characters",
		       MINISIGN_TRUSTED_MAX);
		return -1;
	}
	if (uclen > MINISIGN_UNTRUSTED_MAX || has_control(uc, uclen)) {
		err_set(err, errlen, "an untrusted comment is one line of at most %d bytes without "
		       "control characters", MINISIGN_UNTRUSTED_MAX);
		return -1;
	}
	if (prehash_fd(fd, -1, hash, err, errlen) != 0)
		return -1;
	memcpy(rec, "ED", 2);
	memcpy(rec + SIG_KEYNUM, k->keynum, KEYNUM_LEN);
	crypto_sign_ed25519_detached(rec + SIG_SIG, NULL, hash, PREHASH_LEN, k->sk);

	signed_tc = malloc(SIG_LEN + tclen);
	total = PREFIX_LEN(UNTRUSTED_PREFIX) + uclen + 1 + B64_LEN(SIG_REC_LEN) + 1 +
		PREFIX_LEN(TRUSTED_PREFIX) + tclen + 1 + B64_LEN(SIG_LEN) + 1;
	text = malloc(total + 1);
	if (!signed_tc || !text) {
		free(signed_tc);
		free(text);
		err_set(err, errlen, "out of memory");
		return -1;
	}
	memcpy(signed_tc, rec + SIG_SIG, SIG_LEN);
	memcpy(signed_tc + SIG_LEN, tc, tclen);
	crypto_sign_ed25519_detached(global, NULL, signed_tc, SIG_LEN + tclen, k->sk);
	free(signed_tc);

	p = text;
	put(&p, UNTRUSTED_PREFIX, PREFIX_LEN(UNTRUSTED_PREFIX));
	put(&p, uc, uclen);
	put(&p, "\n", 1);
	put_b64_line(&p, rec, SIG_REC_LEN);
	put(&p, TRUSTED_PREFIX, PREFIX_LEN(TRUSTED_PREFIX));
	put(&p, tc, tclen);
	put(&p, "\n", 1);
	put_b64_line(&p, global, SIG_LEN);
	*p = '\0';
	*sig_out = text;
	*sig_len = total;
	return 0;
}

/* The parts of a .minisig text. */
struct sigparts {
	unsigned char rec[SIG_REC_LEN];
	unsigned char global[SIG_LEN];
	const char *tc;
	size_t tclen;
};

/* Splits and decodes a .minisig text. Returns 0, or -1 with `err` set. */
static int sig_parse(const char *text, size_t len, struct sigparts *s, char *err, size_t errlen)
{
	struct cursor c = { text, text + len };
	const char *line;
	size_t n;

	if (len > MINISIGN_SIG_TEXT_MAX) {
		err_set(err, errlen, "signature: larger than %d bytes", MINISIGN_SIG_TEXT_MAX);
		return -1;
	}
	if (next_line(&c, &line, &n) != 1 ||
	    !has_prefix(line, n, UNTRUSTED_PREFIX, PREFIX_LEN(UNTRUSTED_PREFIX)) ||
	    n > PREFIX_LEN(UNTRUSTED_PREFIX) + MINISIGN_UNTRUSTED_MAX) {
		err_set(err, errlen, "signature: line 1 is not an untrusted comment of at most %d "
		       "bytes", MINISIGN_UNTRUSTED_MAX);
		return -1;
	}
	if (next_line(&c, &line, &n) != 1 || b64_exact(s->rec, SIG_REC_LEN, line, n) != 0) {
		err_set(err, errlen, "signature: line 2 is not a %d-character signature",
		       (int)B64_LEN(SIG_REC_LEN));
		return -1;
	}
	if (next_line(&c, &line, &n) != 1 ||
	    !has_prefix(line, n, TRUSTED_PREFIX, PREFIX_LEN(TRUSTED_PREFIX)) ||
	    n > PREFIX_LEN(TRUSTED_PREFIX) + MINISIGN_TRUSTED_MAX) {
		err_set(err, errlen,
		       "signature: line 3 is not a trusted comment of at most %d bytes",
		       MINISIGN_TRUSTED_MAX);
		return -1;
	}
	s->tc = line + PREFIX_LEN(TRUSTED_PREFIX);
	s->tclen = n - PREFIX_LEN(TRUSTED_PREFIX);
	if (!printable_utf8((const unsigned char *)s->tc, s->tclen)) {
		err_set(err, errlen, "signature: the trusted comment holds control characters or "
		       "invalid UTF-8");
		return -1;
	}
	if (next_line(&c, &line, &n) < 0 || b64_exact(s->global, SIG_LEN, line, n) != 0) {
		err_set(err, errlen, "signature: line 4 is not a %d-character global signature",
		       (int)B64_LEN(SIG_LEN));
		return -1;
	}
	if (!only_blank(&c)) {
		err_set(err, errlen, "signature: unexpected text after line 4");
		return -1;
	}
	return 0;
}

int minisign_verify_fd(const struct minisign_public *pk, int fd, const char *sig_text,
		       size_t sig_len, char *trusted_comment_out, size_t tc_len, char *err,
		       size_t errlen)
{
	return minisign_verify_fd_prefix(pk, fd, -1, sig_text, sig_len, trusted_comment_out,
					 tc_len, err, errlen);
}

int minisign_verify_fd_prefix(const struct minisign_public *pk, int fd, int64_t len,
			      const char *sig_text, size_t sig_len, char *trusted_comment_out,
			      size_t tc_len, char *err, size_t errlen)
{
	char sig_id[MINISIGN_KEYID_HEX_LEN + 1], pk_id[MINISIGN_KEYID_HEX_LEN + 1];
	unsigned char hash[PREHASH_LEN], *msg, *signed_tc;
	struct sigparts s;
	size_t msg_len;
	int bad;

	if (ready(err, errlen) != 0 || sig_parse(sig_text, sig_len, &s, err, errlen) != 0)
		return -1;
	if (trusted_comment_out && s.tclen >= tc_len) {
		err_set(err, errlen, "signature: the trusted comment is longer than the %zu bytes "
		       "given for it", tc_len);
		return -1;
	}
	if (memcmp(s.rec, "ED", 2) != 0 && memcmp(s.rec, "Ed", 2) != 0) {
		err_set(err, errlen, "signature: unsupported signature algorithm");
		return -1;
	}
	if (memcmp(s.rec + SIG_KEYNUM, pk->keynum, KEYNUM_LEN) != 0) {
		keyid_hex(s.rec + SIG_KEYNUM, sig_id);
		keyid_hex(pk->keynum, pk_id);
		err_set(err, errlen, "key id mismatch: the signature was made by key %s, the public "
		       "key is %s", sig_id, pk_id);
		return 1;
	}
	if (s.rec[1] == 'D') {
		if (prehash_fd(fd, len, hash, err, errlen) != 0)
			return -1;
		bad = crypto_sign_ed25519_verify_detached(s.rec + SIG_SIG, hash, PREHASH_LEN,
							  pk->pk) != 0;
	} else {
		msg = slurp_fd(fd, &msg_len, err, errlen);
		if (!msg)
			return -1;
		if (len >= 0 && (uint64_t)len > msg_len) {
			free(msg);
			err_set(err, errlen, "the file is shorter than the part to verify");
			return -1;
		}
		if (len >= 0)
			msg_len = (size_t)len;
		bad = crypto_sign_ed25519_verify_detached(s.rec + SIG_SIG, msg, msg_len,
							  pk->pk) != 0;
		free(msg);
	}
	if (bad) {
		err_set(err, errlen,
		       "signature verification failed: the file is not the one signed");
		return 1;
	}
	signed_tc = malloc(SIG_LEN + s.tclen);
	if (!signed_tc) {
		err_set(err, errlen, "out of memory");
		return -1;
	}
	memcpy(signed_tc, s.rec + SIG_SIG, SIG_LEN);
	memcpy(signed_tc + SIG_LEN, s.tc, s.tclen);
	bad = crypto_sign_ed25519_verify_detached(s.global, signed_tc, SIG_LEN + s.tclen,
						  pk->pk) != 0;
	free(signed_tc);
	if (bad) {
		err_set(err, errlen, "trusted comment signature verification failed: the trusted "
		       "comment or the global signature was altered");
		return 1;
	}
	if (trusted_comment_out) {
		memcpy(trusted_comment_out, s.tc, s.tclen);
		trusted_comment_out[s.tclen] = '\0';
	}
	return 0;
}
