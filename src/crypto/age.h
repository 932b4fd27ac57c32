/* age.h — the age v1 file format (age-encryption.org/v1, C2SP age.md) with X25519 recipients:
 * streaming encryption for the archiver with a read-back check that needs no identity,
 * streaming decryption (also of files made by `age -r`), and key files in age-keygen's format.
 *
 * Built only from libsodium primitives: X25519, ChaCha20-Poly1305 (IETF), HMAC-SHA-256 (for
 * HKDF-SHA-256), its CSPRNG and base64. File keys, payload keys, identities and plaintext
 * chunks live in sodium_malloc memory and are wiped on every path. Never supported: ASCII
 * armor, scrypt passphrases, post-quantum and plugin recipients (their stanzas are skipped when
 * decrypting; such recipients are refused). Never prints: every error comes back in `err`
 * (always NUL-terminated, cut to `errlen`), and no message ever holds key material.
 *
 * Every function that touches keys calls sodium_init() itself. */
#ifndef NEXO_AGE_H
#define NEXO_AGE_H

#include <stddef.h>
#include <stdint.h>

#define AGE_KEY_LEN 32                  /* an X25519 public or secret key */
#define AGE_RECIPIENT_LEN 62            /* "age1" + 52 data + 6 checksum characters */
#define AGE_RECIPIENT_SIZE (AGE_RECIPIENT_LEN + 1)
#define AGE_CHUNK_SIZE 65536            /* plaintext bytes per STREAM chunk */
#define AGE_TAG_LEN 16                  /* Poly1305 tag after each chunk */
#define AGE_HEADER_MAX (1024 * 1024)    /* a longer header is refused when decrypting */
#define AGE_KEY_FILE_MAX (1024 * 1024)  /* cap on a recipients or identity file */

/* ---- Recipients (public keys), "age1..." ----
 * The struct is the caller's (on the stack or in a config); its fields belong to age.c. */
struct age_recipients {
	unsigned char (*keys)[AGE_KEY_LEN];
	size_t n, cap;
};

void age_recipients_init(struct age_recipients *r);
/* Releases the keys; the struct is left as after init. Safe to call twice. */
void age_recipients_free(struct age_recipients *r);
size_t age_recipients_count(const struct age_recipients *r);

/* Adds one recipient: "age1" lowercase Bech32 (HRP "age") of a 32-byte X25519 key, with no
 * surrounding spaces. Returns 0, or -1 with `err` set (malformed Bech32, wrong HRP such as a
 * post-quantum "age1pq1...", uppercase, wrong length, a low-order point, out of memory). */
int age_recipients_add(struct age_recipients *r, const char *s, char *err, size_t errlen);

/* Adds every recipient of a file: one per line, blank lines and lines starting with '#'
 * ignored, a trailing CR tolerated (so `age-keygen -y` output works). Returns 0 when at least
 * one was added; -1 with `err` naming "path:line" and the problem (or the file, when it cannot
 * be read, is larger than AGE_KEY_FILE_MAX or holds no recipient), and then `r` is as before. */
int age_recipients_load_file(struct age_recipients *r, const char *path, char *err,
			     size_t errlen);

/* ---- Identities (secret keys), "AGE-SECRET-KEY-1..." ----
 * `keys` is sodium_malloc memory; free wipes it. Fields belong to age.c. */
struct age_identity;
struct age_identities {
	struct age_identity *keys;
	size_t n, cap;
};

void age_identities_init(struct age_identities *ids);
/* Wipes and releases the keys; the struct is left as after init. Safe to call twice. */
void age_identities_free(struct age_identities *ids);
size_t age_identities_count(const struct age_identities *ids);

/* Adds one identity: uppercase Bech32 with HRP "AGE-SECRET-KEY-" of a 32-byte key. The
 * caller owns (and wipes) `s`. Returns 0, or -1 with `err` set (never quoting `s`). */
int age_identities_add(struct age_identities *ids, const char *s, char *err, size_t errlen);

/* Adds every identity of a file written by age-keygen (or `nexo-archive keygen`): lines
 * starting with '#' and blank lines ignored, every other line must be an X25519 identity. The
 * file is read into sodium_malloc memory and wiped. Returns 0 when at least one was added; -1
 * with `err` naming "path:line" (or the file) otherwise, and then `ids` is as before. Several
 * files may be loaded into one set. */
int age_identities_load(struct age_identities *ids, const char *path, char *err, size_t errlen);

/* The recipient ("age1...") of identity `i` into `out`. Returns 0, or -1 when i is out of
 * range. */
int age_identities_recipient(const struct age_identities *ids, size_t i,
			     char out[AGE_RECIPIENT_SIZE]);

/* ---- Encryption: one streaming pass, then a read-back check ----
 * `out` receives the age file in order; it returns 0, or non-zero after reporting its own
 * error (the writer then fails and stays failed). */
typedef int (*age_out_fn)(void *ctx, const void *buf, size_t len);
struct age_writer;

/* Makes a fresh file key, one X25519 stanza per recipient (fresh ephemeral key each), the
 * header MAC and the payload nonce, and emits header and nonce through `out` before returning.
 * Keeps the file key, the header bytes and two chunk buffers (sodium_malloc) until free.
 * Returns the writer, or NULL with `err` set (no recipients, out of memory, sodium, or `out`
 * failed: "writing the age header failed"). */
struct age_writer *age_writer_new(const struct age_recipients *r, age_out_fn out, void *ctx,
				  char *err, size_t errlen);

/* Plaintext in. Each full 64 KiB chunk is encrypted and emitted as soon as a byte beyond it
 * arrives; only the current chunk is buffered and nothing is allocated. Returns 0, or -1 when
 * `out` failed (it said why), or the writer already failed or was finished. */
int age_writer_write(struct age_writer *w, const void *buf, size_t len);

/* Emits the final chunk: the buffered rest, which is a full chunk when the plaintext is a
 * non-zero multiple of 64 KiB and empty only when the whole plaintext is. Returns 0, or -1 as
 * age_writer_write. */
int age_writer_finish(struct age_writer *w);

/* The read-back check of a finished writer's file, without the identity: reads `fd` with
 * pread from offset 0 to its end and checks that header and nonce are byte for byte what was
 * emitted, that the header MAC recomputed with the kept file key matches, and that every chunk
 * authenticates under the kept file key with the last-chunk flag exactly on the last one,
 * nothing missing and nothing after it. Sets the SHA-256 of the plaintext and of the stored
 * bytes. Returns 0, or -1 with `err` naming the failure: "header differs from what was written
 * (first difference at byte N)", "header MAC differs from what was written", "payload nonce
 * differs from what was written", "header MAC does not verify", "truncated inside the header",
 * "truncated: no payload chunk after the header", "chunk N: authentication failed",
 * "truncated after chunk N (no final chunk)", "trailing data after the final chunk N",
 * "read: <errno text>", with "(file is X bytes, Y were written)" added when sizes differ.
 * Chunks are numbered from 0, as the STREAM counter. May be called more than once.
 * `stored_sha256` may be NULL: the stored bytes are then not hashed (the caller hashed them
 * as they were written; the header comparison and every chunk's tag prove the file holds
 * exactly those bytes). */
int age_writer_verify(struct age_writer *w, int fd, unsigned char plain_sha256[32],
		      unsigned char stored_sha256[32], char *err, size_t errlen);

/* Bytes emitted through `out` so far (header, nonce and chunks). */
uint64_t age_writer_bytes_out(const struct age_writer *w);

/* Wipes the file key, payload key and buffers and releases the writer. NULL is a no-op. */
void age_writer_free(struct age_writer *w);

/* ---- Decryption ---- */
enum age_status {
	AGE_OK = 0,           /* the whole file decrypted and authenticated */
	AGE_NO_MATCH = 1,     /* no identity unwraps any stanza ("no matching identity") */
	AGE_BAD_HMAC = 2,     /* the file key was found but the header MAC is wrong */
	AGE_BAD_HEADER = 3,   /* the header breaks the format ("header: ...", "header line N:
			       * ..."), including a malformed X25519 stanza, a low-order share,
			       * a missing nonce, ASCII armor */
	AGE_BAD_PAYLOAD = 4,  /* a chunk failed, the stream is truncated or has trailing data */
	AGE_IO_ERROR = 5,     /* reading failed, `out` failed, or out of memory */
};

/* Decrypts the age file read from `in_fd` (sequentially, from its current offset) with the
 * first identity that unwraps a stanza. The header is parsed strictly (version line, stanzas
 * with argument and 64-column body rules, canonical base64, the MAC line); unknown stanza
 * types are skipped; the MAC is checked once a file key is found. Then chunks stream through
 * one buffer: each chunk's plaintext goes to `out` only after its tag verified, so on
 * AGE_BAD_PAYLOAD or AGE_IO_ERROR earlier authenticated chunks may have been emitted (a caller
 * writing a file must discard it). Returns an enum age_status with `err` set unless AGE_OK:
 * "no matching identity", "header MAC does not verify", "header line N: <what>",
 * "header: <what>", "chunk N: authentication failed", "chunk N: empty last chunk not allowed",
 * "truncated after chunk N (no final chunk)", "truncated: ...", "trailing data after the
 * final chunk N", "writing the plaintext failed", "read: <errno text>". */
int age_decrypt(int in_fd, const struct age_identities *ids, age_out_fn out, void *ctx,
		char *err, size_t errlen);

/* ---- Keys ---- */

/* Makes a new X25519 identity and writes it in age-keygen's format, each line ending in LF:
 *   # created: 2006-01-02T15:04:05Z     (now, RFC 3339 in UTC)
 *   # public key: age1...
 *   AGE-SECRET-KEY-1...
 * to `path`, created with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600 (never overwriting), written
 * fully and fsynced with its folder; with `path` NULL or "-" to stdout. Sets `recipient_out`.
 * Returns 0, or -1 with `err` set (the file exists, cannot be written — a partial file is
 * removed — or sodium failed). */
int age_keygen_file(const char *path, char recipient_out[AGE_RECIPIENT_SIZE], char *err,
		    size_t errlen);

#endif
