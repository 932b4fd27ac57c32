/* hash.h — SHA-256 of content, through libcrypto's EVP (it uses the CPU's SHA extensions:
 * ~5x libsodium's portable code; see DESIGN.md "Speed facts"). One context is reused for many
 * files, so the hot path allocates nothing. */
#ifndef NEXO_HASH_H
#define NEXO_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_HEX_LEN 64

struct sha256;

/* Returns a new context, or NULL when libcrypto cannot give one (message printed). */
struct sha256 *sha256_new(void);
void sha256_free(struct sha256 *h);

/* start, feed, finish; finish leaves the context ready for the next start. */
void sha256_start(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *buf, size_t len);
void sha256_finish(struct sha256 *h, unsigned char out[SHA256_LEN]);

/* Lowercase hex of a digest into `hex` (65 bytes with the NUL). */
void sha256_to_hex(const unsigned char digest[SHA256_LEN], char hex[SHA256_HEX_LEN + 1]);

/* Reads the file `name` under directory fd `dirfd` (not following a final symlink) to its end
 * and hashes it. Returns 0 with `hex` and `size` set, -1 with errno set (nothing printed). */
int sha256_file_at(struct sha256 *h, int dirfd, const char *name, char hex[SHA256_HEX_LEN + 1],
		   uint64_t *size);

#endif
