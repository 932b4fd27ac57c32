/* hash.c — SHA-256 via libcrypto's EVP, one reusable context per struct sha256. */
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/log.h"

struct sha256 {
	EVP_MD_CTX *ctx;
};

struct sha256 *sha256_new(void)
{
	struct sha256 *h = calloc(1, sizeof *h);

	if (!h || !(h->ctx = EVP_MD_CTX_new())) {
		free(h);
		log_error("cannot allocate a SHA-256 context");
		return NULL;
	}
	sha256_start(h);
	return h;
}

void sha256_free(struct sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void sha256_start(struct sha256 *h)
{
	EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void sha256_update(struct sha256 *h, const void *buf, size_t len)
{
	EVP_DigestUpdate(h->ctx, buf, len);
}

void sha256_finish(struct sha256 *h, unsigned char out[SHA256_LEN])
{
	unsigned int n = SHA256_LEN;

	EVP_DigestFinal_ex(h->ctx, out, &n);
	sha256_start(h);
}

void sha256_to_hex(const unsigned char digest[SHA256_LEN], char hex[SHA256_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < SHA256_LEN; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 15];
	}
	hex[SHA256_HEX_LEN] = '\0';
}

int sha256_file_at(struct sha256 *h, int dirfd, const char *name, char hex[SHA256_HEX_LEN + 1],
		   uint64_t *size)
{
	enum { CHUNK = 1 << 18 };
	unsigned char digest[SHA256_LEN];
	unsigned char *buf;
	uint64_t total = 0;
	ssize_t got;
	int fd, saved;

	/* O_NONBLOCK + a regular-file check: a FIFO at the name is an error, not a hang. */
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	{
		struct stat st;
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			errno = EINVAL;
			return -1;
		}
	}
	buf = malloc(CHUNK);
	if (!buf) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	sha256_start(h);
	while ((got = read(fd, buf, CHUNK)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			saved = errno;
			free(buf);
			close(fd);
			errno = saved;
			return -1;
		}
		sha256_update(h, buf, (size_t)got);
		total += (uint64_t)got;
	}
	free(buf);
	close(fd);
	sha256_finish(h, digest);
	sha256_to_hex(digest, hex);
	*size = total;
	return 0;
}
