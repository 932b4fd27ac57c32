/* minisign.h — minisign-compatible keys and signatures, built on libsodium alone.
 *
 * Owns minisign's three text formats: the secret key file (only the unencrypted kind that
 * `minisign -G -W` writes: a job that runs unattended has nobody to type a password), the
 * public key file and the 4-line .minisig signature. Signatures we make are prehashed
 * (algorithm "ED": Ed25519 over BLAKE2b-512 of the file), exactly what `minisign -S` writes
 * and `minisign -V` checks; the legacy "Ed" kind (Ed25519 over the whole file) is verified but
 * never made. Secret key bytes live only in sodium_malloc memory and are wiped on every path.
 * This module never writes a signature file (the caller commits it through store.c) and never
 * prints: every failure comes back as one line in `err`. */
#ifndef NEXO_MINISIGN_H
#define NEXO_MINISIGN_H

#include <stddef.h>
#include <stdint.h>

#define MINISIGN_KEYID_HEX_LEN 16    /* "748BABE31CF122E0", as minisign prints key ids */
#define MINISIGN_PUBLIC_B64_LEN 56   /* the base64 line of a public key */
#define MINISIGN_TRUSTED_MAX 8173    /* bytes of a trusted comment: what fits minisign's line */
#define MINISIGN_UNTRUSTED_MAX 1003  /* bytes of an untrusted comment, likewise */
#define MINISIGN_SIG_TEXT_MAX 16384  /* cap on a .minisig text handed to minisign_verify_fd */
#define MINISIGN_LEGACY_MAX (256L << 20) /* cap on a file checked against a legacy "Ed" sig */

struct minisign_secret;
struct minisign_public;

/* Makes a new key pair: the secret key (unencrypted, with its BLAKE2b checksum) in minisign's
 * secret-key format at `secret_path`, mode 0600, and the public key in minisign's public-key
 * format at `secret_path` + ".pub", mode 0644. Both are created with O_CREAT|O_EXCL|O_NOFOLLOW
 * (an existing file or symlink at either name is never touched), written, fsynced, and then
 * their folder is fsynced. Returns 0, or -1 with `err` set; on -1 neither file is left behind
 * (except one that already existed, untouched). */
int minisign_keygen(const char *secret_path, char *err, size_t errlen);

/* Reads a secret key file: ours, or one made by `minisign -G -W`. The checksum is checked when
 * present (minisign -W writes an all-zero one) and the public half of the key must match the
 * secret seed. A password-protected (scrypt) key is refused with a message that says how to
 * make an unattended one. Returns the key (in sodium_malloc memory, read-only) for
 * minisign_secret_free, or NULL with `err` set. */
struct minisign_secret *minisign_secret_load(const char *path, char *err, size_t errlen);

/* Wipes and frees the key. NULL is a no-op. */
void minisign_secret_free(struct minisign_secret *k);

/* The key id as minisign prints it (16 uppercase hex digits and a NUL). */
void minisign_secret_keyid(const struct minisign_secret *k, char hex[MINISIGN_KEYID_HEX_LEN + 1]);

/* Reads a public key file ("untrusted comment: ..." line, then the base64 line).
 * Returns the key for minisign_public_free, or NULL with `err` set. */
struct minisign_public *minisign_public_load(const char *path, char *err, size_t errlen);

/* Parses a public key given as its base64 line alone (what `minisign -P` takes; one trailing
 * "\n" or "\r\n" is allowed). Returns the key for minisign_public_free, or NULL with `err`
 * set. */
struct minisign_public *minisign_public_parse(const char *base64_line, char *err,
					      size_t errlen);

/* Frees the key. NULL is a no-op. */
void minisign_public_free(struct minisign_public *pk);

/* The key id as minisign prints it (16 uppercase hex digits and a NUL). */
void minisign_public_keyid(const struct minisign_public *pk, char hex[MINISIGN_KEYID_HEX_LEN + 1]);

/* Writes the base64 line of the key (what `minisign -P` takes) and a NUL into `out`.
 * Returns 0, or -1 when `outlen` is below MINISIGN_PUBLIC_B64_LEN + 1 (nothing written). */
int minisign_public_base64(const struct minisign_public *pk, char *out, size_t outlen);

/* Signs the whole content of `fd`, read with pread from offset 0 to its end (the file offset
 * is left alone, so `fd` must be a regular file), in minisign's prehashed mode, then signs
 * the signature and `trusted_comment` together (the global signature). `trusted_comment`
 * NULL means "timestamp:<unix seconds>\thashed"; `untrusted_comment` NULL means "signature
 * from nexo-archive secret key". A trusted comment holds at most MINISIGN_TRUSTED_MAX bytes
 * of printable UTF-8 (tab allowed; "\n", "\r" and other control characters are refused, as
 * minisign -V refuses them), an untrusted one at most MINISIGN_UNTRUSTED_MAX bytes without
 * control characters. Returns 0 with `*sig_out` set to the malloc'd .minisig text (4 lines,
 * each ending "\n", NUL-terminated; the caller frees it) and `*sig_len` to its length, or -1
 * with `err` set and `*sig_out` NULL. */
int minisign_sign_fd(const struct minisign_secret *k, int fd, const char *trusted_comment,
		     const char *untrusted_comment, char **sig_out, size_t *sig_len, char *err,
		     size_t errlen);

/* Checks the .minisig text `sig_text` (`sig_len` bytes, at most MINISIGN_SIG_TEXT_MAX; it need
 * not be NUL-terminated) against the whole content of `fd` (pread from offset 0) as
 * `minisign -V` does: the key id must be `pk`'s, the signature ("ED" prehashed, or legacy
 * "Ed" for files up to MINISIGN_LEGACY_MAX bytes) must match the content, and the global
 * signature must cover the signature and the trusted comment. On 0 the trusted comment (without
 * its "trusted comment: " prefix) is copied into `trusted_comment_out` when that is not NULL
 * (`tc_len` of MINISIGN_TRUSTED_MAX + 1 always suffices).
 * Returns 0 valid; 1 not valid, with `err` naming what failed (the key id, the signature of
 * the file, or the trusted comment's signature); -1 when the text is malformed, the content
 * cannot be read, or the comment does not fit `tc_len` (`err` set). */
int minisign_verify_fd(const struct minisign_public *pk, int fd, const char *sig_text,
		       size_t sig_len, char *trusted_comment_out, size_t tc_len, char *err,
		       size_t errlen);

/* The same for the first `len` bytes of `fd` only (len < 0: all of it): what a signature made
 * before later appends covers. -1 also when the file is shorter than `len`. */
int minisign_verify_fd_prefix(const struct minisign_public *pk, int fd, int64_t len,
			      const char *sig_text, size_t sig_len, char *trusted_comment_out,
			      size_t tc_len, char *err, size_t errlen);

/* The public half of secret key `k` (for checking what it signed), for minisign_public_free;
 * NULL when out of memory. */
struct minisign_public *minisign_secret_public(const struct minisign_secret *k);

#endif
