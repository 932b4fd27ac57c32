/* s3.h — an S3-compatible bucket over HTTP(S): PUT a file streamed from disk, HEAD, GET into a
 * file, list keys, and the bucket's Object Lock configuration. Path-style URLs
 * (`https://HOST[:PORT]/BUCKET[/PREFIX]`), requests signed with AWS SigV4 by libcurl
 * (CURLOPT_AWS_SIGV4). Knows keys, bytes and lock headers, not the archive.
 *
 * Every request carries `x-amz-content-sha256` (the payload's SHA-256, which the server checks
 * against what arrives) and a length; an upload also carries `Content-MD5` (the server refuses
 * a body that does not match it). A file is never held in memory: it is read twice, once for
 * its MD5 and once as the body. The secret key lives in sodium_malloc'd memory and is never
 * printed: errors name the key of the object and the server's error code, nothing else.
 * Transient failures (no connection, timeouts, 500, 502, 503 SlowDown, 504) are retried with
 * capped backoff ([offsite] retries). */
#ifndef NEXO_S3_H
#define NEXO_S3_H

#include <stddef.h>
#include <stdint.h>

struct s3;

struct s3_options {
	const char *url;         /* http(s)://HOST[:PORT]/BUCKET[/PREFIX] */
	const char *region;      /* "us-east-1" */
	const char *access_key;
	const char *secret_key;  /* copied; the caller wipes its own */
	const char *ca_file;     /* or NULL */
	int insecure;
	int64_t max_rate;        /* bytes/s for uploads; 0 unlimited */
	long timeout;            /* seconds below 1 byte/s before a transfer is dropped */
	long connect_timeout;
	int retries;             /* extra attempts for transient failures */
};

/* What a request came to (every function below returns one). */
enum s3_status {
	S3_OK = 0,
	S3_NOT_FOUND = 1,   /* 404 */
	S3_DENIED = 2,      /* 403: keys wrong or without the right (AccessDenied,
			     * InvalidAccessKeyId, SignatureDoesNotMatch) */
	S3_SKEWED = 3,      /* 403 RequestTimeTooSkewed: this host's clock is off */
	S3_DOWN = 4,        /* no answer, or 5xx/SlowDown after every retry */
	S3_FAILED = 5,      /* any other answer (400 BadDigest, ...) or a local error */
};

/* An object as HEAD shows it. */
struct s3_object {
	uint64_t size;
	char etag[80];          /* without its quotes: the MD5 hex of a single-part upload */
	char version_id[192];   /* "" when the bucket keeps no versions */
	char lock_mode[16];     /* "COMPLIANCE", "GOVERNANCE" or "" */
	char retain_until[48];  /* as the server wrote it ("2027-01-01T00:00:00.000Z"), or "" */
};

/* An upload: `size` bytes of `fd` from offset 0 (the caller keeps the fd). */
struct s3_put {
	const char *key;          /* relative to the URL's prefix, unencoded */
	int fd;
	uint64_t size;
	const char *sha256;       /* hex of those bytes, as the archive recorded them */
	const char *lock_mode;    /* "COMPLIANCE", "GOVERNANCE", or NULL: no lock headers */
	const char *retain_until; /* "YYYY-MM-DDTHH:MM:SSZ" with a lock_mode */
};

/* A handle for `o` (copied). Returns it, or NULL with `err` set (a bad URL). */
struct s3 *s3_new(const struct s3_options *o, char *err, size_t errlen);
void s3_free(struct s3 *s); /* NULL is a no-op; wipes the secret */

/* "https://host/bucket/prefix/KEY" for messages (never a secret). */
const char *s3_where(const struct s3 *s);

/* Whether the bucket has Object Lock enabled: *enabled 1 or 0. Returns an enum s3_status (a
 * bucket without a lock configuration is S3_OK with *enabled 0); `err` says why otherwise. */
int s3_bucket_lock(struct s3 *s, int *enabled, char *err, size_t errlen);

/* Uploads `p`; on S3_OK, *out is what the PUT answered (etag, version id; the lock fields are
 * left "": HEAD confirms them). The MD5 is computed from the file first; the body must hash to
 * p->sha256 or the server refuses it. Returns an enum s3_status, `err` set when not S3_OK. */
int s3_put_file(struct s3 *s, const struct s3_put *p, struct s3_object *out, char *err,
		size_t errlen);

/* The MD5 of `size` bytes of `fd` from offset 0, as lowercase hex (what a single-part upload's
 * ETag is). Returns 0, or -1 with errno set. */
int s3_md5_fd(int fd, uint64_t size, char hex[33]);

/* HEADs `key`. Returns S3_OK with *out filled, S3_NOT_FOUND, or another status (`err` set). */
int s3_head(struct s3 *s, const char *key, struct s3_object *out, char *err, size_t errlen);

/* GETs `key` (its latest version) into `fd`, streamed, at most `cap` bytes. Returns an enum
 * s3_status; `err` set when not S3_OK. */
int s3_get(struct s3 *s, const char *key, int fd, uint64_t cap, char *err, size_t errlen);

/* Calls fn(ctx, key, size, etag) for every object under the prefix (keys relative to it),
 * page by page (ListObjectsV2). A nonzero `fn` result stops the walk. Returns an enum
 * s3_status (S3_OK after the last page or a stop), `err` set when not S3_OK. */
int s3_list(struct s3 *s,
	    int (*fn)(void *ctx, const char *key, uint64_t size, const char *etag), void *ctx,
	    char *err, size_t errlen);

#endif
