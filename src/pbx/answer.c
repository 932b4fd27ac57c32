/* answer.c — the HTTP answer classifier (see answer.h). */
#include "answer.h"

enum answer_kind answer_classify(long status, const unsigned char *head, size_t len,
				 int want_tar)
{
	size_t i = 0;

	if (status == 408 || status == 429 || (status >= 500 && status <= 599 && status != 501 &&
					       status != 505))
		return ANSWER_TRANSIENT;
	if (status == 414)
		return ANSWER_TOO_LONG;
	if ((status >= 300 && status < 400) || status == 401 || status == 403)
		return ANSWER_SESSION;
	if (status < 200 || status >= 300)
		return ANSWER_FAILED;
	if (len >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF)
		i = 3; /* a UTF-8 byte order mark before a page */
	while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
		i++;
	if (i < len && head[i] == '<')
		return ANSWER_SESSION; /* a login page where data was expected */
	if (want_tar && i < len && (head[i] == '{' || head[i] == '['))
		return ANSWER_SESSION; /* an error object where recordings were expected */
	return ANSWER_DATA;
}
