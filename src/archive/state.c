/* state.c — the run lock (flock on .state/lock, holding our pid for the message a second run
 * prints) and the checkpoint (.state/checkpoint, one "YYYY-MM-DD HH:MM" line, replaced
 * atomically). */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "pbx/pbx.h"

/* One try; the holder's role ("" when unknown) into `role`. */
static int lock_once(struct store *s, const char *as, long *holder, char role[16])
{
	char err[512], buf[48];
	int dfd, fd;
	ssize_t n;

	*holder = 0;
	dfd = store_open_dir(s, ".state", 1, err, sizeof err);
	if (dfd < 0) {
		log_error("%s", err);
		return -1;
	}
	/* Owner only: whoever can open the lock file can hold its flock and block every run. */
	fd = openat(dfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	close(dfd);
	if (fd < 0) {
		log_error("cannot open %s/.state/lock: %s", store_root_path(s), strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    ((st.st_mode & 0077) && fchmod(fd, 0600) != 0)) {
		log_error("%s/.state/lock is not a regular file of ours (mode 0600)",
			  store_root_path(s));
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		if (e == EWOULDBLOCK) {
			n = pread(fd, buf, sizeof buf - 1, 0);
			role[0] = '\0';
			if (n > 0) {
				char *end;
				buf[n] = '\0';
				*holder = strtol(buf, &end, 10);
				sscanf(end, " %15[a-z]", role);
			}
			close(fd);
			return -2;
		}
		log_error("cannot lock %s/.state/lock: %s", store_root_path(s), strerror(e));
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof buf, "%ld %s\n", (long)getpid(), as);
	/* Written over the old line, then cut to length: the file is never empty for a process
	 * that looks in between (it reads our pid and role, "PID role\n", either way). */
	if (pwrite(fd, buf, (size_t)n, 0) != n || ftruncate(fd, n) != 0)
		log_warn("cannot write our pid into %s/.state/lock: %s", store_root_path(s),
			 strerror(errno));
	return fd;
}

int state_lock(struct store *s, long *holder)
{
	char role[16];

	return lock_once(s, "run", holder, role);
}

int state_lock_wait(struct store *s, const char *role, int wait_s, long *holder)
{
	char held_by[16];
	int fd, said = 0;

	for (long waited_ms = 0;; waited_ms += 200) {
		fd = lock_once(s, role, holder, held_by);
		/* The holder writes its role just after taking the lock: a first look may still
		 * see its predecessor's line, or none. Look once more before deciding. */
		if (fd == -2 && waited_ms == 0 && strcmp(held_by, "watch") != 0) {
			usleep(100 * 1000);
			fd = lock_once(s, role, holder, held_by);
		}
		if (fd != -2 || strcmp(held_by, "watch") != 0 || waited_ms >= wait_s * 1000L)
			return fd;
		if (!said++)
			log_info("nexo-archive watch (pid %ld) is archiving a batch; waiting for it",
				 *holder);
		if (usleep(200 * 1000) != 0 && errno == EINTR)
			return fd; /* a stop signal: give up waiting */
	}
}

/* Reads at most `cap` bytes of .state/NAME into `buf`, their count into *n. Returns 1, 0 when
 * the file is absent, -1 when it cannot be read (printed). */
static int read_state(struct store *s, const char *name, void *buf, size_t cap, ssize_t *n)
{
	char err[512];
	int dfd = store_open_dir(s, ".state", 0, err, sizeof err);

	if (dfd < 0) {
		if (errno == ENOENT)
			return 0; /* a new archive (or a dry run's, which creates nothing) */
		log_error("%s", err);
		return -1;
	}
	*n = store_read_regular(dfd, name, buf, cap);
	close(dfd);
	if (*n >= 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	log_error("cannot read %s/.state/%s: %s", store_root_path(s), name,
		  store_open_error(errno));
	return -1;
}

/* Reads .state/NAME, one "YYYY-MM-DD HH:MM" line. Returns 1 with *out set, 0 absent, -1 when
 * unreadable or malformed (printed with `what`). */
static int read_minute(struct store *s, const char *name, const char *what, pbx_minute *out)
{
	char buf[64];
	ssize_t n;
	int rc = read_state(s, name, buf, sizeof buf - 1, &n);

	if (rc <= 0)
		return rc;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (pbxtime_parse(buf, out) != 0) {
		log_error("%s/.state/%s does not hold a 'YYYY-MM-DD HH:MM' time; fix or remove it "
			  "(%s)", store_root_path(s), name, what);
		return -1;
	}
	return 1;
}

/* Replaces .state/NAME with `value`. Returns 0, or -1 (printed). */
static int write_minute(struct store *s, const char *name, pbx_minute value)
{
	char err[512], line[PBXTIME_MINUTE_LEN + 2];

	pbxtime_format(value, line);
	line[PBXTIME_MINUTE_LEN] = '\n';
	line[PBXTIME_MINUTE_LEN + 1] = '\0';
	if (store_put(s, ".state", name, line, strlen(line), err, sizeof err) != 0) {
		log_error("cannot write .state/%s: %s", name, err);
		return -1;
	}
	return 0;
}

int state_read_checkpoint(struct store *s, pbx_minute *out)
{
	return read_minute(s, "checkpoint", "the next run then starts from [sync] since", out);
}

int state_write_checkpoint(struct store *s, pbx_minute value)
{
	if ((errno = FAILPOINT("checkpoint.write")) != 0) {
		log_error("cannot write the checkpoint: %s", strerror(errno));
		return -1;
	}
	return write_minute(s, "checkpoint", value);
}

int state_read_reconciled(struct store *s, pbx_minute *out)
{
	return read_minute(s, "reconciled", "the next run then reconciles", out);
}

int state_write_reconciled(struct store *s, pbx_minute value)
{
	return write_minute(s, "reconciled", value);
}

#define BACKFILL "backfill"

int state_read_backfill(struct store *s, pbx_minute *from, pbx_minute *to, pbx_minute *resume)
{
	char err[512], buf[128], a[PBXTIME_MINUTE_LEN + 1], b[PBXTIME_MINUTE_LEN + 1];
	char c[PBXTIME_MINUTE_LEN + 1];
	int dfd, fd;
	ssize_t n;

	dfd = store_open_dir(s, ".state", 0, err, sizeof err);
	fd = dfd >= 0 ? store_open_regular(dfd, BACKFILL) : -1;
	if (dfd >= 0)
		close(dfd);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	/* "from YYYY-MM-DD HH:MM\nto ...\nresume ...\n" */
	if (n <= 0 ||
	    sscanf(buf, "from %16[0-9: -]\nto %16[0-9: -]\nresume %16[0-9: -]\n", a, b, c) != 3 ||
	    pbxtime_parse(a, from) != 0 || pbxtime_parse(b, to) != 0 ||
	    pbxtime_parse(c, resume) != 0) {
		log_warn("%s/.state/" BACKFILL " is not what a backfill writes; ignored (a backfill "
			 "lists its whole span)", store_root_path(s));
		return 0;
	}
	return 1;
}

int state_write_backfill(struct store *s, pbx_minute from, pbx_minute to, pbx_minute resume)
{
	char err[512], text[128], a[PBXTIME_MINUTE_LEN + 1], b[PBXTIME_MINUTE_LEN + 1];
	char c[PBXTIME_MINUTE_LEN + 1];
	int n;

	pbxtime_format(from, a);
	pbxtime_format(to, b);
	pbxtime_format(resume, c);
	n = snprintf(text, sizeof text, "from %s\nto %s\nresume %s\n", a, b, c);
	if (store_put(s, ".state", BACKFILL, text, (size_t)n, err, sizeof err) != 0) {
		log_error("cannot write .state/" BACKFILL ": %s", err);
		return -1;
	}
	return 0;
}

int state_clear_backfill(struct store *s)
{
	char err[512];

	if (store_remove(s, ".state", BACKFILL, err, sizeof err) != 0) {
		log_error("cannot remove .state/" BACKFILL ": %s", err);
		return -1;
	}
	return 0;
}

void state_read_pbx(struct store *s, struct pbx_learned *out)
{
	char err[512], buf[256], *line, *save = NULL;
	int dfd, fd;
	ssize_t n;

	memset(out, 0, sizeof *out);
	dfd = store_open_dir(s, ".state", 0, err, sizeof err);
	fd = dfd >= 0 ? store_open_regular(dfd, "pbx") : -1;
	if (dfd >= 0)
		close(dfd);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		log_warn("cannot read %s/.state/pbx (the PBX's ways are learned again): %s",
			 store_root_path(s), strerror(errno));
		return;
	}
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[32], value[16];
		if (sscanf(line, "%31s %15s", key, value) != 2)
			continue;
		if (!strcmp(key, "style"))
			out->style = !strcmp(value, "post")	 ? PBX_STYLE_POST
				     : !strcmp(value, "query") ? PBX_STYLE_QUERY
							       : 0;
		else if (!strcmp(key, "download_key"))
			snprintf(out->download_key, sizeof out->download_key, "%s", value);
		else if (!strcmp(key, "delete_key"))
			snprintf(out->delete_key, sizeof out->delete_key, "%s", value);
	}
}

int state_write_pbx(struct store *s, const struct pbx_learned *before,
		    const struct pbx_learned *now)
{
	struct pbx_learned merged = *before;
	char err[512], text[160];
	int n;

	/* What this run did not learn stays as an earlier run left it. */
	if (now->style)
		merged.style = now->style;
	if (now->download_key[0])
		memcpy(merged.download_key, now->download_key, sizeof merged.download_key);
	if (now->delete_key[0])
		memcpy(merged.delete_key, now->delete_key, sizeof merged.delete_key);
	if (memcmp(&merged, before, sizeof merged) == 0)
		return 0;
	n = snprintf(text, sizeof text, "style %s\ndownload_key %s\ndelete_key %s\n",
		     merged.style == PBX_STYLE_QUERY ? "query"
		     : merged.style == PBX_STYLE_POST ? "post" : "-",
		     merged.download_key[0] ? merged.download_key : "-",
		     merged.delete_key[0] ? merged.delete_key : "-");
	if (store_put(s, ".state", "pbx", text, (size_t)n, err, sizeof err) != 0) {
		log_error("cannot save what was learned of the PBX: %s", err);
		return -1;
	}
	return 0;
}

#define PARTIALS "partials"

int state_read_partials(struct store *s, long *out)
{
	char err[512], buf[32], *end;
	int dfd, fd;
	ssize_t n;

	*out = 0;
	dfd = store_open_dir(s, ".state", 0, err, sizeof err);
	if (dfd < 0)
		return errno == ENOENT ? 0 : (log_error("%s", err), -1);
	fd = store_open_regular(dfd, PARTIALS);
	close(dfd);
	if (fd < 0 && errno == ENOENT)
		return 0;
	n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n >= 0) {
		buf[n] = '\0';
		*out = strtol(buf, &end, 10);
	}
	if (n < 0 || end == buf || *out < 0 || (*end && *end != '\n')) {
		log_error("%s/.state/" PARTIALS " does not hold a count; fix or remove it",
			  store_root_path(s));
		return -1;
	}
	return 0;
}

int state_write_partials(struct store *s, long n)
{
	char err[512], text[32];
	long now;
	int len = snprintf(text, sizeof text, "%ld\n", n);

	if (n == 0 && state_read_partials(s, &now) == 0 && now == 0)
		return 0;
	if (store_put(s, ".state", PARTIALS, text, (size_t)len, err, sizeof err) != 0) {
		log_error("cannot write .state/" PARTIALS ": %s", err);
		return -1;
	}
	return 0;
}

#define DELETING "deleting"
#define DELETING_MAX (4u << 20)

int state_write_deleting(struct store *s, const char *const *paths, size_t n)
{
	char err[512], *text;
	size_t len = 0, at = 0;

	for (size_t i = 0; i < n; i++)
		len += strlen(paths[i]) + 1;
	text = malloc(len + 1);
	if (!text) {
		log_error("out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(paths[i]);
		memcpy(text + at, paths[i], k);
		text[at + k] = '\n';
		at += k + 1;
	}
	if (store_put(s, ".state", DELETING, text, at, err, sizeof err) != 0) {
		log_error("cannot write .state/" DELETING ": %s", err);
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

int state_read_deleting(struct store *s, char **out)
{
	char *buf = malloc(DELETING_MAX + 1);
	ssize_t n;

	*out = NULL;
	if (!buf) {
		log_error("out of memory");
		return -1;
	}
	int rc = read_state(s, DELETING, buf, DELETING_MAX, &n);
	if (rc <= 0) {
		free(buf);
		return rc; /* 0: none */
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

int state_clear_deleting(struct store *s)
{
	char err[512];

	if (store_remove(s, ".state", DELETING, err, sizeof err) != 0) {
		log_error("cannot remove .state/" DELETING ": %s", err);
		return -1;
	}
	return 0;
}
