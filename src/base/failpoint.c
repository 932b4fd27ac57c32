/* failpoint.c — the test-build side of failpoint.h. Empty in the real program. */
#include "failpoint.h"

#ifdef NEXO_FAILPOINTS
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LABELS 64

/* Files are committed on the read-back thread too: one lock for all of this module's state. */
static pthread_mutex_t fp_lock = PTHREAD_MUTEX_INITIALIZER;

static struct {
	char label[32];
	long hits;
} seen[MAX_LABELS];

/* An errno by number or name ("5", "EIO"). */
static long errno_of(const char *s)
{
	static const struct { const char *name; int value; } names[] = {
		{ "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EROFS", EROFS }, { "EDQUOT", EDQUOT },
		{ "EACCES", EACCES }, { "EPERM", EPERM }, { "ENOMEM", ENOMEM }, { "EINTR", EINTR },
	};

	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].value;
	return strtol(s, NULL, 10);
}

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
		*err = *end == ':' ? errno_of(end + 1) : 0;
	return at;
}

/* Operations a power loss could still undo, oldest first. */
enum pending_kind { P_RENAME, P_APPEND, P_CREATE };
static struct pending {
	enum pending_kind kind;
	int dir, fromdir;           /* dups: the callers close theirs */
	char name[256], from[256];  /* `name` in `dir`; for P_RENAME, moved from `from` */
	off_t size_before;          /* P_APPEND */
	int backup;                 /* P_RENAME over an existing file: kept as BACKUP_PREFIX+name */
} pending[32];
static int npending;
#define BACKUP_PREFIX ".fp-backup-"

static int power_loss(void)
{
	const char *v = getenv("NEXO_POWER_LOSS");
	return v && *v == '1';
}

static int same_dir(int a, int b)
{
	struct stat sa, sb;
	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static struct pending *add(enum pending_kind kind, int dir, const char *name)
{
	struct pending *p;

	if (!power_loss() || npending == (int)(sizeof pending / sizeof *pending))
		return NULL;
	p = &pending[npending++];
	memset(p, 0, sizeof *p);
	p->kind = kind;
	p->dir = dup(dir);
	p->fromdir = -1;
	snprintf(p->name, sizeof p->name, "%s", name);
	return p;
}

static void drop(int i)
{
	close(pending[i].dir);
	if (pending[i].fromdir >= 0)
		close(pending[i].fromdir);
	memmove(&pending[i], &pending[i + 1], (size_t)(npending - i - 1) * sizeof *pending);
	npending--;
}

static void locked_rename_begin(int fromdir, const char *from, int todir, const char *to)
{
	struct pending *p = add(P_RENAME, todir, to);
	char backup[300];

	if (!p)
		return;
	p->fromdir = dup(fromdir);
	snprintf(p->from, sizeof p->from, "%s", from);
	snprintf(backup, sizeof backup, BACKUP_PREFIX "%s", to);
	p->backup = linkat(todir, to, todir, backup, 0) == 0;
}

static void locked_append_begin(int dir, const char *name, off_t size_before)
{
	struct pending *p = add(P_APPEND, dir, name);

	if (p)
		p->size_before = size_before;
}

static void locked_created(int dir, const char *name)
{
	add(P_CREATE, dir, name);
}

static void locked_file_synced(int dir, const char *name)
{
	for (int i = npending - 1; i >= 0; i--)
		if (pending[i].kind == P_APPEND && strcmp(pending[i].name, name) == 0 &&
		    same_dir(pending[i].dir, dir))
			drop(i);
}

static void locked_dir_synced(int dir)
{
	char backup[300];

	for (int i = npending - 1; i >= 0; i--) {
		if (pending[i].kind == P_APPEND || !same_dir(pending[i].dir, dir))
			continue;
		if (pending[i].kind == P_RENAME && pending[i].backup) {
			snprintf(backup, sizeof backup, BACKUP_PREFIX "%s", pending[i].name);
			unlinkat(dir, backup, 0);
		}
		drop(i);
	}
}

/* The power goes: newest first, every operation not yet durable is undone. */
static void lose_power(void)
{
	char backup[300];

	for (int i = npending - 1; i >= 0; i--) {
		struct pending *p = &pending[i];
		struct stat st;
		int fd;

		switch (p->kind) {
		case P_APPEND: /* half of the unsynced bytes made it: a torn tail */
			fd = openat(p->dir, p->name, O_WRONLY | O_NOFOLLOW);
			if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > p->size_before &&
			    ftruncate(fd, p->size_before + (st.st_size - p->size_before) / 2) != 0)
				perror("power loss: truncate");
			if (fd >= 0)
				close(fd);
			break;
		case P_CREATE:
			unlinkat(p->dir, p->name, 0);
			break;
		case P_RENAME:
			renameat(p->dir, p->name, p->fromdir, p->from);
			if (p->backup) {
				snprintf(backup, sizeof backup, BACKUP_PREFIX "%s", p->name);
				renameat(p->dir, backup, p->dir, p->name);
			}
			break;
		}
	}
}

static int locked_hit(const char *label)
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
	if (wanted(getenv("NEXO_CRASH_AT"), label, NULL) == hits) {
		if (power_loss())
			lose_power();
		kill(getpid(), SIGKILL);
	}
	if (wanted(getenv("NEXO_FAILPOINT"), label, &err) == hits && err > 0)
		return (int)err;
	return 0;
}
void failpoint_rename_begin(int fromdir, const char *from, int todir, const char *to)
{
	pthread_mutex_lock(&fp_lock);
	locked_rename_begin(fromdir, from, todir, to);
	pthread_mutex_unlock(&fp_lock);
}

void failpoint_append_begin(int dir, const char *name, off_t size_before)
{
	pthread_mutex_lock(&fp_lock);
	locked_append_begin(dir, name, size_before);
	pthread_mutex_unlock(&fp_lock);
}

void failpoint_created(int dir, const char *name)
{
	pthread_mutex_lock(&fp_lock);
	locked_created(dir, name);
	pthread_mutex_unlock(&fp_lock);
}

void failpoint_file_synced(int dir, const char *name)
{
	pthread_mutex_lock(&fp_lock);
	locked_file_synced(dir, name);
	pthread_mutex_unlock(&fp_lock);
}

void failpoint_dir_synced(int dir)
{
	pthread_mutex_lock(&fp_lock);
	locked_dir_synced(dir);
	pthread_mutex_unlock(&fp_lock);
}

int failpoint_hit(const char *label)
{
	pthread_mutex_lock(&fp_lock);
	int err = locked_hit(label);
	pthread_mutex_unlock(&fp_lock);
	return err;
}
#else
/* ISO C wants something in a translation unit. */
typedef int failpoint_unused;
#endif
