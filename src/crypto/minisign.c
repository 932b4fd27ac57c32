/* minisign.c — minisign signatures, made and checked, over libsodium's Ed25519 and BLAKE2b.
 *
 * The binary records are handled as byte offsets, not C structs, so no padding question arises.
 * Anything read from a file or handed in as signature text is hostile: every line has a cap,
 * base64 must decode to exactly the record's size, and a trusted comment must be printable
 * UTF-8 before it is returned. Secret bytes (key records, their base64, file contents of a
 * secret key) only ever sit in sodium_malloc memory, freed (and so wiped) on every path. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "minisign_internal.h"
#include "base/clock.h"
#include "base/log.h"

#define CHUNK (1 << 18) /* the prehash reads this much at a time */

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
	if (ms_next_line(&c, &line, &n) != 1 ||
	    !ms_has_prefix(line, n, UNTRUSTED_PREFIX, PREFIX_LEN(UNTRUSTED_PREFIX)) ||
	    n > PREFIX_LEN(UNTRUSTED_PREFIX) + MINISIGN_UNTRUSTED_MAX) {
		err_set(err, errlen, "signature: line 1 is not an untrusted comment of at most %d "
		       "bytes", MINISIGN_UNTRUSTED_MAX);
		return -1;
	}
	if (ms_next_line(&c, &line, &n) != 1 || ms_b64_exact(s->rec, SIG_REC_LEN, line, n) != 0) {
		err_set(err, errlen, "signature: line 2 is not a %d-character signature",
		       (int)B64_LEN(SIG_REC_LEN));
		return -1;
	}
	if (ms_next_line(&c, &line, &n) != 1 ||
	    !ms_has_prefix(line, n, TRUSTED_PREFIX, PREFIX_LEN(TRUSTED_PREFIX)) ||
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
	if (ms_next_line(&c, &line, &n) < 0 || ms_b64_exact(s->global, SIG_LEN, line, n) != 0) {
		err_set(err, errlen, "signature: line 4 is not a %d-character global signature",
		       (int)B64_LEN(SIG_LEN));
		return -1;
	}
	if (!ms_only_blank(&c)) {
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

	if (ms_ready(err, errlen) != 0 || sig_parse(sig_text, sig_len, &s, err, errlen) != 0)
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
		ms_keyid_hex(s.rec + SIG_KEYNUM, sig_id);
		ms_keyid_hex(pk->keynum, pk_id);
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
