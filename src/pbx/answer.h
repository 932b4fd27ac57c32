/* answer.h — what an HTTP answer from the PBX amounts to, judged by its status and the first
 * bytes of its body. Pure: the one place that decides "data", "log in again", "try again
 * later", "ask for less" or "failed", so it can be tested and fuzzed on its own. */
#ifndef NEXO_ANSWER_H
#define NEXO_ANSWER_H

#include <stddef.h>

enum answer_kind {
	ANSWER_DATA,       /* 2xx with a body that may be what was asked for */
	ANSWER_SESSION,    /* 3xx, 401, 403, or an HTML page (or, where a tar was expected, a
			    * JSON object): the session is dead or was never there */
	ANSWER_TRANSIENT,  /* 408, 429, 5xx other than 501/505: retry after a pause */
	ANSWER_TOO_LONG,   /* 414: the request line was too long; ask for fewer files */
	ANSWER_FAILED,     /* any other status */
};

/* `head`/`len`: the first bytes of the body (any number, 0 allowed). `want_tar`: the request
 * expected a tar or a WAV (20036), not JSON. */
enum answer_kind answer_classify(long status, const unsigned char *head, size_t len,
				 int want_tar);

#endif
