/* s3_internal.h — what s3.c (the handle, the transport, objects) shares with s3bucket.c (the
 * bucket's listing and lock configuration): the handle, one request and its answer, and the
 * retrying transport. Not a contract for any other module; that is s3.h. */
#ifndef NEXO_S3_INTERNAL_H
#define NEXO_S3_INTERNAL_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "s3.h"

#define S3_ANSWER_CAP (4u << 20) /* an XML answer (a list page of 1000 keys is ~400 KB) */

struct s3 {
	CURL *curl;
	char base[1024];    /* scheme://host[:port]/bucket */
	char prefix[512];   /* "" or "pre/fix/" (with its slash) */
	char where[1600];   /* s3_where()'s text */
	char sigv4[128];    /* "aws:amz:REGION:s3" */
	char *access_key;
	char *secret;       /* sodium_malloc'd */
	char *ca_file;
	int insecure, retries;
	long long max_rate;
	long timeout, connect_timeout;
};

/* One request's answer. */
struct answer {
	long status;
	char *body;
	size_t len;
	int to_fd;          /* a 2xx body goes to `fd` instead */
	int fd;
	uint64_t written, cap;
	int write_error;
	struct s3_object obj;
	int has_length;
};

/* One upload's body. */
struct body;

struct request {
	const char *method;   /* GET, PUT, HEAD */
	const char *url;
	const char *what;     /* for messages: the key, or "the bucket" */
	struct curl_slist *headers; /* besides x-amz-content-sha256 */
	const char *sha256;   /* payload hash (NULL: the empty body's) */
	struct body *body;    /* PUT */
	int fd;               /* GET into a file: >= 0 */
	uint64_t cap;
};

/* Percent-encodes `in` as SigV4 wants it (unreserved characters kept; '/' kept when
 * `keep_slash`). Returns 0, or -1 when it does not fit. */
int s3_encode(const char *in, int keep_slash, char *out, size_t len);

/* The URL of `key` (under the prefix), or of the bucket with `query` when key is NULL.
 * Returns 0, or -1 when it does not fit. */
int s3_object_url(const struct s3 *s, const char *key, const char *query, char *out,
		  size_t len);

/* `n` bytes of `v` into `dst`, without surrounding blanks, line ends and an ETag's quotes. */
void s3_trim_copy(char *dst, size_t len, const char *v, size_t n);

/* The S3 error code of an XML error answer (`a`'s body), or "". */
void s3_error_code(const struct answer *a, char *code, size_t len);

/* Runs `q`, retrying transient outcomes. Returns an enum s3_status; `a` holds the last answer
 * (the caller frees a->body); `err` says why when not S3_OK. */
int s3_perform(struct s3 *s, const struct request *q, struct answer *a, char *err,
	       size_t errlen);

#endif
