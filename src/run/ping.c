/* ping.c — see ping.h. Its own libcurl handle (never the PBX's session): no cookies, no
 * redirects followed, the answer discarded. */
#include "ping.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * n;
}

int ping_send(const char *url, const char *suffix, const char *body, long timeout_s)
{
	char full[2048], esc[256];
	CURL *h;
	CURLcode cc;
	long status = 0;
	size_t len = body ? strlen(body) : 0;

	if ((size_t)snprintf(full, sizeof full, "%s%s", url, suffix) >= sizeof full) {
		log_warn("[report] ping_url is too long");
		return -1;
	}
	h = curl_easy_init();
	if (!h) {
		log_warn("ping %s: cannot start libcurl", log_escape(full, esc, sizeof esc));
		return -1;
	}
	curl_easy_setopt(h, CURLOPT_URL, full);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(len > PING_BODY_MAX ? PING_BODY_MAX : len));
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout_s);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "nexo-archive/" NEXO_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	if (cc != CURLE_OK || status < 200 || status > 299) {
		log_warn("monitoring ping %s failed (%s); the run is not affected",
			 log_escape(full, esc, sizeof esc),
			 cc != CURLE_OK ? curl_easy_strerror(cc) : "not a 2xx answer");
		return -1;
	}
	return 0;
}
