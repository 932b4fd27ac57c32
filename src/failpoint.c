/* failpoint.c — the test-build side of failpoint.h. Empty in the real program. */
#include "failpoint.h"

#ifdef NEXO_FAILPOINTS
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LABELS 64

static struct {
	char label[32];
	long hits;
} seen[MAX_LABELS];

/* "label:N[:ERR]" matching `label` → N (and ERR); 0 when it does not name this label. */
static long wanted(const char *spec, const char *label, long *err)
{
	size_t n = strlen(label);
	char *end;
	long at;

	if (!spec || strncmp(spec, label, n) != 0 || spec[n] != ':')
		return 0;
	at = strtol(spec + n + 1, &end, 10);
	if (err)
		*err = *end == ':' ? strtol(end + 1, NULL, 10) : 0;
	return at;
}

int failpoint_hit(const char *label)
{
	const char *log = getenv("NEXO_FAILPOINT_LOG");
	long hits = 0, err = 0;
	int i;

	for (i = 0; i < MAX_LABELS && seen[i].label[0]; i++)
		if (strcmp(seen[i].label, label) == 0)
			break;
	if (i < MAX_LABELS) {
		if (!seen[i].label[0])
			snprintf(seen[i].label, sizeof seen[i].label, "%s", label);
		hits = ++seen[i].hits;
	}
	if (log) {
		FILE *f = fopen(log, "ae");
		if (f) {
			fprintf(f, "%s %ld\n", label, hits);
			fclose(f);
		}
	}
	if (wanted(getenv("NEXO_CRASH_AT"), label, NULL) == hits)
		kill(getpid(), SIGKILL);
	if (wanted(getenv("NEXO_FAILPOINT"), label, &err) == hits && err > 0)
		return (int)err;
	return 0;
}
#else
/* ISO C wants something in a translation unit. */
typedef int failpoint_unused;
#endif
