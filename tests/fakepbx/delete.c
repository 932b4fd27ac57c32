/*
 * delete.c — CGI 20054 and the delete log, the tests' oracle.
 *
 * Owns the only code that removes recordings. Each deleted file's SHA-256
 * is written to the delete log before the unlink, so a test can check
 * that every deleted recording has a byte-identical archived copy. A
 * mutex serialises deletes so log lines never interleave.
 */
#include "delete.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "live.h"
#include "store.h"

#define DEL_READ (256 * 1024)

static pthread_mutex_t del_lock = PTHREAD_MUTEX_INITIALIZER;

/* SHA-256 of what remains to be read on fd, as 64 hex digits. */
static int del_sha256(int fd, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	int rc = -1;
	unsigned char *buf = malloc(DEL_READ);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!buf || !ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, DEL_READ);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
			goto out;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
		goto out;
	for (unsigned i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return rc;
}

static int del_write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Delete one path under dirfd (dry: only say whether it would be).
 * Returns 1 deleted, 0 not there, -1 error. */
static int del_one(const struct fpx_config *cfg, int dirfd, const char *path, bool dry)
{
	int fd = store_openat(dirfd, path, cfg->any_folder, O_RDONLY);
	struct stat sb;
	if (fd < 0)
		return 0;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return 0;
	}
	if (dry) {
		close(fd);
		return 1;
	}
	if (cfg->delete_log_fd >= 0) {
		char hex[65], line[400];
		if (del_sha256(fd, hex) < 0) {
			fprintf(stderr, "fakepbx: delete %s: cannot hash, kept\n", path);
			close(fd);
			return -1;
		}
		int n = snprintf(line, sizeof line, "%s %s\n", path, hex);
		/* the line must be on record before the file is gone */
		if (n < 0 || (size_t)n >= sizeof line ||
		    del_write_all(cfg->delete_log_fd, line, (size_t)n) < 0) {
			fprintf(stderr, "fakepbx: delete %s: cannot log, kept\n", path);
			close(fd);
			return -1;
		}
	}
	close(fd);
	if (store_unlinkat(dirfd, path, cfg->any_folder) < 0) {
		fprintf(stderr, "fakepbx: delete %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 1;
}

struct http_reply del_handle(const struct fpx_config *cfg, struct http_req *r)
{
	struct store_paths paths = { 0 };
	const char *v;
	int rc = 0;
	/* --delete-key (default both); the other spelling is not read at all */
	if (cfg->delete_key != FPX_KEY_WAVFILES && (v = http_param(r, "wavefiles", HTTP_SRC_ANY)))
		rc |= store_paths_add(&paths, v, cfg->any_folder);
	if (cfg->delete_key != FPX_KEY_WAVEFILES && (v = http_param(r, "wavfiles", HTTP_SRC_ANY)))
		rc |= store_paths_add(&paths, v, cfg->any_folder);
	if (rc < 0) {
		store_paths_free(&paths);
		return http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	/* the faults: a PBX that only pretends, or one that does it but says
	 * it failed; every real unlink still goes through del_one's log */
	bool noop = http_fault(r, FAULT_DELETE_NOOP) != NULL;
	bool lie_500 = !noop && http_fault(r, FAULT_DELETE_ERROR_BUT_DELETES) != NULL;
	size_t deleted = 0;
	pthread_mutex_lock(&del_lock);
	live_lock(); /* no live file is written while we delete */
	int dirfd = open(cfg->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; dirfd >= 0 && i < paths.n; i++)
		if (del_one(cfg, dirfd, paths.v[i], noop) == 1) {
			deleted++;
			if (!noop)
				live_deleted(paths.v[i]); /* a live recording never comes back */
		}
	if (dirfd >= 0)
		close(dirfd);
	live_unlock();
	pthread_mutex_unlock(&del_lock);
	store_paths_free(&paths);

	if (lie_500)
		return http_reply_fail(MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error");
	char body[64];
	int n = snprintf(body, sizeof body, "{\"status\":\"success\",\"deleted\":%zu}\n", deleted);
	struct http_reply rep = http_reply_buf(MHD_HTTP_OK, "application/json", body, (size_t)n);
	const struct fault_inst *f = http_fault(r, FAULT_JSON_TRUNCATED);
	if (f)
		http_reply_truncate(&rep, f);
	return rep;
}
