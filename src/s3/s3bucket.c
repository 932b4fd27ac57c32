/* s3bucket.c — the bucket as a whole (see s3.h): its Object Lock configuration and the
 * listing of the objects under the prefix, page by page. */
#include "s3_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3xml.h"

int s3_bucket_lock(struct s3 *s, int *enabled, char *err, size_t errlen)
{
	char url[1200], v[32];
	struct request q = { "GET", url, "the bucket's object-lock configuration", NULL, NULL,
			     NULL, -1, 0 };
	struct answer a = { 0 };
	int rc;

	*enabled = 0;
	if (s3_object_url(s, NULL, "?object-lock=", url, sizeof url) != 0) {
		snprintf(err, errlen, "[offsite] url too long");
		return S3_FAILED;
	}
	rc = s3_perform(s, &q, &a, err, errlen);
	if (rc == S3_NOT_FOUND) {
		rc = S3_OK; /* ObjectLockConfigurationNotFoundError: a bucket without a lock */
	} else if (rc == S3_OK && a.body &&
		   s3xml_value(a.body, a.body + a.len, "ObjectLockEnabled", v, sizeof v)) {
		*enabled = strcmp(v, "Enabled") == 0;
	}
	free(a.body);
	return rc;
}

int s3_list(struct s3 *s,
	    int (*fn)(void *ctx, const char *key, uint64_t size, const char *etag), void *ctx,
	    char *err, size_t errlen)
{
	char token[1024] = "", etoken[3200], eprefix[1600], query[6000], url[7200];
	char key[2048], num[32], raw[96], etag[96], more[8];
	size_t plen = strlen(s->prefix);
	int rc = S3_OK;

	if (s3_encode(s->prefix, 0, eprefix, sizeof eprefix) != 0) {
		snprintf(err, errlen, "[offsite] url: prefix too long");
		return S3_FAILED;
	}
	do {
		struct answer a = { 0 };
		struct request q = { "GET", url, "the bucket's listing", NULL, NULL, NULL, -1, 0 };
		const char *p, *end, *in, *in_end;

		/* Query parameters in SigV4's order (sorted), values encoded. */
		if (s3_encode(token, 0, etoken, sizeof etoken) != 0)
			return S3_FAILED;
		snprintf(query, sizeof query, "?%s%s%slist-type=2&prefix=%s", token[0] ? "continuation-token=" : "",
			 etoken, token[0] ? "&" : "", eprefix);
		if (s3_object_url(s, NULL, query, url, sizeof url) != 0) {
			snprintf(err, errlen, "listing URL too long");
			return S3_FAILED;
		}
		rc = s3_perform(s, &q, &a, err, errlen);
		if (rc != S3_OK) {
			free(a.body);
			return rc == S3_NOT_FOUND ? S3_FAILED : rc;
		}
		p = a.body ? a.body : "";
		end = p + a.len;
		token[0] = '\0';
		while (rc == S3_OK && (p = s3xml_next(p, end, "Contents", &in, &in_end)) != NULL) {
			if (!s3xml_value(in, in_end, "Key", key, sizeof key) ||
			    !s3xml_value(in, in_end, "Size", num, sizeof num))
				continue;
			if (!s3xml_value(in, in_end, "ETag", raw, sizeof raw))
				raw[0] = '\0';
			s3_trim_copy(etag, sizeof etag, raw, strlen(raw));
			if (strncmp(key, s->prefix, plen) == 0 && fn(ctx, key + plen, strtoull(num, NULL, 10), etag))
				rc = -1;
		}
		if (rc == S3_OK && a.body &&
		    s3xml_value(a.body, end, "IsTruncated", more, sizeof more) && strcmp(more, "true") == 0 &&
		    !s3xml_value(a.body, end, "NextContinuationToken", token, sizeof token))
			token[0] = '\0';
		free(a.body);
	} while (rc == S3_OK && token[0]);
	return rc < 0 ? S3_OK : rc;
}
