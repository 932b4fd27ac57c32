/* clock.c — see clock.h. */
#include "clock.h"

#include <time.h>

#ifdef NEXO_FAILPOINTS
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* The test clock's file, when set and readable; else -1. */
static int64_t test_clock(void)
{
	const char *path = getenv("NEXO_TEST_CLOCK_FILE");
	char buf[64], *end;
	ssize_t n;
	double t;
	int fd;

	if (!path || !*path || (fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	t = strtod(buf, &end);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	return end != buf && *end == '\0' && t >= 0 && t < 1e12 ? (int64_t)t : -1;
}
#endif

int64_t clock_unix(void)
{
#ifdef NEXO_FAILPOINTS
	int64_t t = test_clock();
	if (t >= 0)
		return t;
#endif
	return (int64_t)time(NULL);
}
