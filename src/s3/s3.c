/* s3.c — requests to an S3-compatible bucket (see s3.h): one libcurl handle, SigV4 by
 * libcurl, a retry loop over transient outcomes, answers read into capped buffers or a file;
 * the object requests (PUT, HEAD, GET). The bucket's own are s3bucket.c's.
 * Never logs or returns the secret key; never holds a file's bytes beyond curl's buffer. */
#include "s3.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "s3_internal.h"
#include "s3xml.h"
#include "base/log.h"
#include "pbx/http.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* One upload's body. */
struct body {
	int fd;
	uint64_t size, off;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct s3 *s3_new(const struct s3_options *o, char *err, size_t errlen)
{
	const char *p = o->url, *host, *slash, *bucket_end;
	struct s3 *s;
	size_t n;

	if (strncmp(p, "https://", 8) == 0)
		host = p + 8;
	else if (strncmp(p, "http://", 7) == 0)
		host = p + 7;
	else {
		snprintf(err, errlen, "[offsite] url must start with http:// or https://");
		return NULL;
	}
	slash = strchr(host, '/');
	if (!slash || slash == host || !slash[1] || slash[1] == '/') {
		snprintf(err, errlen, "[offsite] url must name a bucket: https://HOST[:PORT]/BUCKET[/PREFIX]");
		return NULL;
	}
	bucket_end = strchr(slash + 1, '/');
	if (!bucket_end)
		bucket_end = slash + strlen(slash);
	s = calloc(1, sizeof *s);
	if (!s || !(s->curl = curl_easy_init()) || !(s->secret = sodium_malloc(strlen(o->secret_key) + 1))) {
		snprintf(err, errlen, "out of memory");
		s3_free(s);
		return NULL;
	}
	memcpy(s->secret, o->secret_key, strlen(o->secret_key) + 1);
	snprintf(s->base, sizeof s->base, "%.*s", (int)(bucket_end - p), p);
	/* The prefix, without slashes at its ends, then one slash. */
	while (*bucket_end == '/')
		bucket_end++;
	n = strlen(bucket_end);
	while (n && bucket_end[n - 1] == '/')
		n--;
	if (n)
		snprintf(s->prefix, sizeof s->prefix, "%.*s/", (int)n, bucket_end);
	snprintf(s->where, sizeof s->where, "%s/%s", s->base, s->prefix);
	snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:s3", o->region ? o->region : "us-east-1");
	s->access_key = dup_or_null(o->access_key);
	s->ca_file = dup_or_null(o->ca_file);
	s->insecure = o->insecure;
	s->retries = o->retries;
	s->max_rate = o->max_rate;
	s->timeout = o->timeout;
	s->connect_timeout = o->connect_timeout;
	if (!s->access_key || (o->ca_file && !s->ca_file)) {
		snprintf(err, errlen, "out of memory");
		s3_free(s);
		return NULL;
	}
	return s;
}

void s3_free(struct s3 *s)
{
	if (!s)
		return;
	if (s->curl)
		curl_easy_cleanup(s->curl);
	sodium_free(s->secret);
	free(s->access_key);
	free(s->ca_file);
	free(s);
}

const char *s3_where(const struct s3 *s)
{
	return s->where;
}

/* Percent-encodes `in` as SigV4 wants it (unreserved characters kept; '/' kept when
 * `keep_slash`). Returns 0, or -1 when it does not fit. */
int s3_encode(const char *in, int keep_slash, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		int keep = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			   (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
			   *p == '~' || (keep_slash && *p == '/');
		if (n + 4 > len)
			return -1;
		if (keep) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	out[n] = '\0';
	return 0;
}

/* The URL of `key` (under the prefix), or of the bucket with `query` when key is NULL. */
int s3_object_url(const struct s3 *s, const char *key, const char *query, char *out,
		      size_t len)
{
	char full[2048], enc[6144];
	int n;

	if (key) {
		if ((size_t)snprintf(full, sizeof full, "%s%s", s->prefix, key) >= sizeof full ||
		    s3_encode(full, 1, enc, sizeof enc) != 0)
			return -1;
		n = snprintf(out, len, "%s/%s", s->base, enc);
	} else {
		n = snprintf(out, len, "%s%s", s->base, query ? query : "");
	}
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

void s3_trim_copy(char *dst, size_t len, const char *v, size_t n)
{
	while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
		n--;
	while (n && *v == ' ')
		v++, n--;
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
		v++, n -= 2; /* an ETag's quotes */
	snprintf(dst, len, "%.*s", (int)n, v);
}

static size_t on_header(char *buf, size_t size, size_t nmemb, void *ctx)
{
	struct answer *a = ctx;
	size_t n = size * nmemb;
	static const struct {
		const char *name;
		size_t off, len;
	} wanted[] = {
		{ "etag:", offsetof(struct s3_object, etag), sizeof a->obj.etag },
		{ "x-amz-version-id:", offsetof(struct s3_object, version_id), sizeof a->obj.version_id },
		{ "x-amz-object-lock-mode:", offsetof(struct s3_object, lock_mode), sizeof a->obj.lock_mode },
		{ "x-amz-object-lock-retain-until-date:", offsetof(struct s3_object, retain_until),
		  sizeof a->obj.retain_until },
	};

	if (n > 5 && strncmp(buf, "HTTP/", 5) == 0) {
		/* A new answer (after a 100 Continue): forget the last one's headers. Its status
		 * decides where the body goes (on_body), before curl knows it. */
		const char *sp = memchr(buf, ' ', n);
		a->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		memset(&a->obj, 0, sizeof a->obj);
		a->has_length = 0;
		return n;
	}
	for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
		size_t k = strlen(wanted[i].name);
		if (n > k && strncasecmp(buf, wanted[i].name, k) == 0)
			s3_trim_copy((char *)&a->obj + wanted[i].off, wanted[i].len, buf + k, n - k);
	}
	if (n > 15 && strncasecmp(buf, "content-length:", 15) == 0) {
		char num[32];
		s3_trim_copy(num, sizeof num, buf + 15, n - 15);
		a->obj.size = strtoull(num, NULL, 10);
		a->has_length = 1;
	}
	return n;
}

static size_t on_body(char *buf, size_t size, size_t nmemb, void *ctx)
{
	struct answer *a = ctx;
	size_t n = size * nmemb;

	if (a->to_fd && a->status / 100 == 2) {
		if (a->written + n > a->cap) {
			a->write_error = EFBIG;
			return 0;
		}
		for (size_t done = 0; done < n;) {
			ssize_t w = write(a->fd, buf + done, n - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				a->write_error = errno ? errno : EIO;
				return 0;
			}
			done += (size_t)w;
		}
		a->written += n;
		return n;
	}
	if (a->len + n > S3_ANSWER_CAP)
		return 0;
	char *grown = realloc(a->body, a->len + n + 1);
	if (!grown)
		return 0;
	a->body = grown;
	memcpy(a->body + a->len, buf, n);
	a->len += n;
	a->body[a->len] = '\0';
	return n;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ctx)
{
	struct body *b = ctx;
	size_t want = size * nmemb;
	ssize_t r;

	if (b->off >= b->size)
		return 0;
	if (want > b->size - b->off)
		want = (size_t)(b->size - b->off);
	do
		r = pread(b->fd, buf, want, (off_t)b->off);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return CURL_READFUNC_ABORT; /* the file shrank or cannot be read: no short body */
	b->off += (uint64_t)r;
	return (size_t)r;
}

static int on_seek(void *ctx, curl_off_t offset, int origin)
{
	struct body *b = ctx;

	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > b->size)
		return CURL_SEEKFUNC_CANTSEEK;
	b->off = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}


/* The S3 error code of an XML error answer, or "". */
void s3_error_code(const struct answer *a, char *code, size_t len)
{
	code[0] = '\0';
	if (a->body)
		(void)s3xml_value(a->body, a->body + a->len, "Code", code, len);
}

/* One attempt. Returns the curl code; fills `a`. */
static CURLcode attempt(struct s3 *s, const struct request *q, struct answer *a)
{
	CURL *c = s->curl;
	struct curl_slist *h = NULL;
	char sha[128];
	CURLcode rc;

	curl_easy_reset(c);
	snprintf(sha, sizeof sha, "x-amz-content-sha256: %s", q->sha256 ? q->sha256 : EMPTY_SHA256);
	for (struct curl_slist *l = q->headers; l; l = l->next)
		h = curl_slist_append(h, l->data);
	h = curl_slist_append(h, sha);
	/* No "Expect:" to turn 100-continue off: libcurl 7.88 would sign the header it then
	 * leaves out (403 SignatureDoesNotMatch). */
	if (!h)
		return CURLE_OUT_OF_MEMORY;
	curl_easy_setopt(c, CURLOPT_URL, q->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(c, CURLOPT_USERNAME, s->access_key);
	curl_easy_setopt(c, CURLOPT_PASSWORD, s->secret);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, s->connect_timeout);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, s->timeout);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	if (s->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
	if (s->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (strcmp(q->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(q->method, "PUT") == 0) {
		q->body->off = 0;
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, q->body);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, q->body);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)q->body->size);
		if (s->max_rate > 0)
			curl_easy_setopt(c, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)s->max_rate);
	}
	if (q->fd >= 0) {
		a->to_fd = 1;
		a->fd = q->fd;
		a->cap = q->cap;
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
	curl_slist_free_all(h);
	return rc;
}

/* Runs `q` with retries. Returns an enum s3_status; `a` holds the last answer (the caller
 * frees a->body). */
int s3_perform(struct s3 *s, const struct request *q, struct answer *a, char *err,
		   size_t errlen)
{
	char code[64];

	for (int n = 0;; n++) {
		int transient;
		CURLcode rc;

		free(a->body);
		memset(a, 0, sizeof *a);
		if (q->fd >= 0 && (ftruncate(q->fd, 0) != 0 || lseek(q->fd, 0, SEEK_SET) != 0)) {
			snprintf(err, errlen, "%s: cannot reset the local file: %s", q->what, strerror(errno));
			return S3_FAILED;
		}
		rc = attempt(s, q, a);
		s3_error_code(a, code, sizeof code);
		if (rc == CURLE_OK && a->status / 100 == 2)
			return S3_OK;
		if (rc == CURLE_OK && a->status == 404 && strcmp(code, "NoSuchBucket") != 0)
			return S3_NOT_FOUND;
		if (a->write_error) {
			snprintf(err, errlen, "%s: cannot write the local copy: %s", q->what,
				 strerror(a->write_error));
			return S3_FAILED;
		}
		transient = rc != CURLE_OK
				    ? rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
					      rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
					      rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE
				    : a->status >= 500 || a->status == 408 || a->status == 429;
		if (rc != CURLE_OK)
			snprintf(err, errlen, "%s %s: %s", q->method, q->what, curl_easy_strerror(rc));
		else
			snprintf(err, errlen, "%s %s: HTTP %ld%s%s", q->method, q->what, a->status,
				 code[0] ? " " : "", code);
		if (!transient || n >= s->retries) {
			if (rc == CURLE_OK && a->status == 403)
				return strcmp(code, "RequestTimeTooSkewed") == 0 ? S3_SKEWED : S3_DENIED;
			return transient || rc == CURLE_COULDNT_RESOLVE_HOST ? S3_DOWN : S3_FAILED;
		}
		log_debug("offsite: %s; retrying", err);
		http_backoff(n + 1, -1);
	}
}

int s3_md5_fd(int fd, uint64_t size, char hex[33])
{
	unsigned char buf[65536], md[16];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint64_t off = 0;
	int rc = -1;

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1)
		goto out;
	while (off < size) {
		size_t want = size - off < sizeof buf ? (size_t)(size - off) : sizeof buf;
		ssize_t r = pread(fd, buf, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO; /* shorter than recorded */
			goto out;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)r);
		off += (uint64_t)r;
	}
	if (EVP_DigestFinal_ex(ctx, md, NULL) != 1)
		goto out;
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int s3_put_file(struct s3 *s, const struct s3_put *p, struct s3_object *out, char *err,
		size_t errlen)
{
	char url[6400], md5hex[33], b64[32], h1[64], h2[64], h3[96];
	unsigned char md5[16];
	struct body b = { p->fd, p->size, 0 };
	struct curl_slist *hs = NULL;
	struct answer a = { 0 };
	struct request q = { "PUT", url, p->key, NULL, p->sha256, &b, -1, 0 };
	int rc;

	if (s3_object_url(s, p->key, NULL, url, sizeof url) != 0) {
		snprintf(err, errlen, "%s: key too long", p->key);
		return S3_FAILED;
	}
	if (s3_md5_fd(p->fd, p->size, md5hex) != 0) {
		snprintf(err, errlen, "%s: cannot read the local file: %s", p->key, strerror(errno));
		return S3_FAILED;
	}
	for (int i = 0; i < 16; i++) {
		unsigned v;
		sscanf(md5hex + 2 * i, "%2x", &v);
		md5[i] = (unsigned char)v;
	}
	sodium_bin2base64(b64, sizeof b64, md5, sizeof md5, sodium_base64_VARIANT_ORIGINAL);
	snprintf(h1, sizeof h1, "Content-MD5: %s", b64);
	hs = curl_slist_append(hs, h1);
	hs = curl_slist_append(hs, "Content-Type: application/octet-stream");
	if (p->lock_mode) {
		snprintf(h2, sizeof h2, "x-amz-object-lock-mode: %s", p->lock_mode);
		snprintf(h3, sizeof h3, "x-amz-object-lock-retain-until-date: %s", p->retain_until);
		hs = curl_slist_append(hs, h2);
		hs = curl_slist_append(hs, h3);
	}
	if (!hs) {
		snprintf(err, errlen, "out of memory");
		return S3_FAILED;
	}
	q.headers = hs;
	rc = s3_perform(s, &q, &a, err, errlen);
	curl_slist_free_all(hs);
	if (rc == S3_OK) {
		*out = a.obj;
		out->size = p->size;
		out->lock_mode[0] = out->retain_until[0] = '\0';
		if (strcasecmp(out->etag, md5hex) != 0) {
			snprintf(err, errlen, "PUT %s: the server's ETag %s is not the file's MD5 %s",
				 p->key, out->etag, md5hex);
			rc = S3_FAILED;
		}
	}
	free(a.body);
	return rc;
}

int s3_head(struct s3 *s, const char *key, struct s3_object *out, char *err, size_t errlen)
{
	char url[6400];
	struct answer a = { 0 };
	struct request q = { "HEAD", url, key, NULL, NULL, NULL, -1, 0 };
	int rc;

	if (s3_object_url(s, key, NULL, url, sizeof url) != 0) {
		snprintf(err, errlen, "%s: key too long", key);
		return S3_FAILED;
	}
	rc = s3_perform(s, &q, &a, err, errlen);
	if (rc == S3_OK)
		*out = a.obj;
	free(a.body);
	return rc;
}

int s3_get(struct s3 *s, const char *key, int fd, uint64_t cap, char *err, size_t errlen)
{
	char url[6400];
	struct answer a = { 0 };
	struct request q = { "GET", url, key, NULL, NULL, NULL, fd, cap };
	int rc;

	if (s3_object_url(s, key, NULL, url, sizeof url) != 0) {
		snprintf(err, errlen, "%s: key too long", key);
		return S3_FAILED;
	}
	rc = s3_perform(s, &q, &a, err, errlen);
	free(a.body);
	return rc;
}
