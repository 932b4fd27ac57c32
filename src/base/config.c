/* config.c — INI → struct config: the file (read without following a FIFO), the -o overrides,
 * the defaults, the secrets read from their files, and the checks across keys. Each key's
 * setter, which validates its value, is in config_keys.c. Errors name FILE:LINE (or the -o
 * override) and the key. Nothing here touches the network. */
#include "config_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "units.h"


/* inih's reader: fgets that counts lines, so an error knows its line without inih's help. */
static char *read_line(char *buf, int size, void *user)
{
	struct parse_ctx *c = user;
	char *line = fgets(buf, size, c->file);

	if (line)
		c->lines_read++;
	return line;
}

void config_md5_hex(const char *password, size_t len, char hex[33])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(password, len, d, &n, EVP_md5(), NULL);
	for (unsigned i = 0; i < 16; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[32] = '\0';
	sodium_memzero(d, sizeof d);
}

/* fopen(path, "r") for a regular file only, without blocking on a FIFO at the path (which
 * would hang a run at start). NULL with errno set (EINVAL: not a regular file). */
static FILE *open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f)
		close(fd);
	return f;
}

static void set_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->pbx.timeout = 60;
	cfg->pbx.connect_timeout = 10;
	cfg->pbx.retries = 3;
	cfg->sync.since = -1;
	cfg->sync.lookback = 6 * 60;
	cfg->sync.window = 1440;
	cfg->sync.batch_files = 50;
	cfg->sync.batch_url_bytes = 4000;
	cfg->report.ping_timeout = 10;
	cfg->sync.invalid_retries = 3;
	cfg->sync.max_recording_bytes = 2ull << 30;
	cfg->sync.parallel = 1;
	cfg->sync.reconcile_days = 7;
	cfg->sync.partial_alarm = 3;
	cfg->pbx.max_clock_skew = 10 * 60;
	cfg->retention.pbx_keep_days = 30;
	cfg->retention.max_delete = 5000;
	cfg->retention.archive_keep_days = -1;
	cfg->retention.archive_min_days = 0;
	cfg->retention.local_keep_days = -1;
	cfg->cdr.join = 1;
	cfg->ami.port = 5038;
	cfg->ami.reconnect_max = 60;
	cfg->ami.coalesce_ms = 1000;
	cfg->offsite.lock_days = -1;
	cfg->offsite.required_for_delete = 1;
}

/* Whether this process is in group `gid` (its own group or a supplementary one). */
static int in_group(gid_t gid)
{
	gid_t groups[256];
	int n;

	if (gid == getegid())
		return 1;
	n = getgroups(sizeof groups / sizeof *groups, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

/* Others may not read a file that holds the PBX password (ssh refuses keys the same way). Its
 * group may, when that is our group: the packaged layout is 0640 root:nexo-archive, read by the
 * service running as nexo-archive. Root (who reads it anyway, and cannot know which group is
 * the service's) accepts a group too; the service's own run still checks it. */
static int check_private(const char *path, const char *what, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (st.st_mode & 0007) {
		snprintf(err, errlen, "%s: %s is accessible by others (mode %03o); run "
			 "'chmod o-rwx %s'", path, what, (unsigned)(st.st_mode & 0777), path);
		return -1;
	}
	if ((st.st_mode & 0070) && geteuid() != 0 && !in_group(st.st_gid)) {
		struct group *gr = getgrgid(st.st_gid);
		char gname[64];

		if (gr)
			snprintf(gname, sizeof gname, "%s", gr->gr_name);
		else
			snprintf(gname, sizeof gname, "%lu", (unsigned long)st.st_gid);
		snprintf(err, errlen, "%s: %s is accessible by group %s (mode %03o), which this "
			 "process is not in; make it the service's group ('chgrp nexo-archive %s') "
			 "or run 'chmod g-rwx %s'", path, what, gname, (unsigned)(st.st_mode & 0777),
			 path, path);
		return -1;
	}
	return 0;
}

/* The first line of the private file `path` (`what`: "the password file"), without its line
 * end, in sodium_malloc'd memory (the caller sodium_free()s it: wiped). Returns it, or NULL
 * with `err` set (not private, unreadable, first line empty). */
static char *read_secret_line(const char *path, const char *what, char *err, size_t errlen)
{
	char *buf = sodium_malloc(1024);
	FILE *f;
	size_t len;

	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (check_private(path, what, err, errlen) != 0)
		goto fail;
	if (!(f = open_regular(path))) {
		snprintf(err, errlen, "%s: %s", path,
			 errno == EINVAL ? "not a regular file" : strerror(errno));
		goto fail;
	}
	if (!fgets(buf, 1024, f))
		buf[0] = '\0';
	fclose(f);
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (len == 0) {
		snprintf(err, errlen, "%s: %s's first line is empty", path, what);
		goto fail;
	}
	return buf;
fail:
	sodium_free(buf);
	return NULL;
}

/* Reads the first line of password_file as the plaintext password. */
static int load_password_file(struct parse_ctx *c, char *err, size_t errlen)
{
	char *pw = read_secret_line(c->password_file, "the password file", err, errlen);

	if (!pw)
		return -1;
	config_md5_hex(pw, strlen(pw), c->cfg->pbx.password_md5);
	sodium_free(pw); /* wipes */
	return 0;
}

/* The first line of [ami] secret_file is the AMI secret. */
static int load_ami_secret_file(struct parse_ctx *c, char *err, size_t errlen)
{
	char *secret = read_secret_line(c->ami_secret_file, "the AMI secret file", err, errlen);

	if (!secret)
		return -1;
	if (c->cfg->ami.secret)
		sodium_free(c->cfg->ami.secret);
	c->cfg->ami.secret = secret;
	return 0;
}

static int finish(struct parse_ctx *c, const char *path, char *err, size_t errlen)
{
	struct config *cfg = c->cfg;

	if (!cfg->pbx.url || !cfg->pbx.username) {
		snprintf(err, errlen, "%s: [pbx] url and username are required", path);
		return -1;
	}
	if (c->password_keys != 1) {
		snprintf(err, errlen, "%s: [pbx] needs exactly one of password, password_md5, "
			 "password_file", path);
		return -1;
	}
	if (cfg->pbx.require_https && strncmp(cfg->pbx.url, "https://", 8) != 0) {
		snprintf(err, errlen, "%s: [pbx] require_https is on but url is not https", path);
		return -1;
	}
	if (!cfg->archive.dir) {
		snprintf(err, errlen, "%s: [archive] dir is required", path);
		return -1;
	}
	if (c->inline_secret && check_private(path, "the config file (it holds a password)", err,
					      errlen) != 0)
		return -1;
	if (cfg->signing.secret_key_file &&
	    check_private(cfg->signing.secret_key_file, "the signing secret key", err, errlen) != 0)
		return -1;
	if (c->password_file && load_password_file(c, err, errlen) != 0)
		return -1;
	if (c->ami_secret_file && load_ami_secret_file(c, err, errlen) != 0)
		return -1;
	if (c->offsite_secret_file) {
		char *key = read_secret_line(c->offsite_secret_file, "the offsite secret key file",
					     err, errlen);
		if (!key)
			return -1;
		if (cfg->offsite.secret_key)
			sodium_free(cfg->offsite.secret_key);
		cfg->offsite.secret_key = key;
	}
	if (cfg->offsite.url && (!cfg->offsite.access_key || !cfg->offsite.secret_key)) {
		snprintf(err, errlen, "%s: [offsite] needs access_key and secret_key or "
			 "secret_key_file", path);
		return -1;
	}
	if (cfg->offsite.lock_days < 0)
		cfg->offsite.lock_days = cfg->retention.archive_keep_days;
	if (cfg->offsite.url && cfg->offsite.lock_days < 0 &&
	    (cfg->offsite.lock == OFFSITE_LOCK_COMPLIANCE ||
	     cfg->offsite.lock == OFFSITE_LOCK_GOVERNANCE)) {
		snprintf(err, errlen, "%s: [offsite] lock needs lock_days (or [retention] "
			 "archive_keep_days)", path);
		return -1;
	}
	if (cfg->retention.local_keep_days >= 0 && !cfg->offsite.url) {
		snprintf(err, errlen, "%s: [retention] local_keep_days needs [offsite] (local copies "
			 "are removed only when their offsite copy is confirmed)", path);
		return -1;
	}
	if (cfg->cdr.archive && !cfg->cdr.join) {
		snprintf(err, errlen, "%s: [cdr] archive needs join = true", path);
		return -1;
	}
	if (cfg->cdr.delete_from_pbx && !cfg->cdr.archive) {
		snprintf(err, errlen, "%s: [cdr] delete_from_pbx needs archive = true (CDRs are "
			 "deleted only once archived)", path);
		return -1;
	}
	if (cfg->encryption.recipients && cfg->encryption.recipients_file) {
		snprintf(err, errlen, "%s: [encryption] takes recipients or recipients_file, not "
			 "both", path);
		return -1;
	}
	if (cfg->retention.archive_keep_days >= 0 &&
	    cfg->retention.archive_keep_days < cfg->retention.archive_min_days) {
		snprintf(err, errlen, "%s: [retention] archive_keep_days (%ld) is below the floor "
			 "archive_min_days (%ld)", path, cfg->retention.archive_keep_days,
			 cfg->retention.archive_min_days);
		return -1;
	}
	return 0;
}

int config_load(const char *path, char *const *overrides, size_t n, struct config *cfg,
		char *err, size_t errlen)
{
	struct parse_ctx c;
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	FILE *f;
	int line;

	set_defaults(cfg);
	memset(&c, 0, sizeof c);
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium cannot start");
		return -1;
	}
	c.cfg = cfg;
	cfg->path = strdup(path);
	cfg->pbx.password_md5 = sodium_malloc(33);
	if (!cfg->path || !cfg->pbx.password_md5) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	cfg->pbx.password_md5[0] = '\0';
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 0, path);
	if (slash == path)
		snprintf(dir, sizeof dir, "/");
	c.base_dir = dir;
	f = open_regular(path);
	if (!f) {
		snprintf(err, errlen, "cannot read config %s: %s", path,
			 errno == EINVAL ? "not a regular file" : strerror(errno));
		goto fail;
	}
	c.file = f;
	line = ini_parse_stream(read_line, &c, config_on_key, &c);
	fclose(f);
	if (line != 0) {
		snprintf(err, errlen, "%s:%d: %s", path, line,
			 c.msg[0] && c.msg_line == line
				 ? c.msg
				 : "syntax error (expected [section] or key = value)");
		goto fail;
	}
	c.base_dir = "";
	c.from_override = 1;
	for (size_t i = 0; i < n; i++) {
		char sec[32];
		const char *dot = strchr(overrides[i], '.');
		const char *eq = strchr(overrides[i], '=');
		char key[64];

		/* Messages name the key, never the value: it may be a secret typed by mistake. */
		if (!dot || !eq || dot > eq || (size_t)(dot - overrides[i]) >= sizeof sec ||
		    (size_t)(eq - dot - 1) >= sizeof key) {
			snprintf(err, errlen, "-o option %zu: expected section.key=value", i + 1);
			goto fail;
		}
		snprintf(sec, sizeof sec, "%.*s", (int)(dot - overrides[i]), overrides[i]);
		snprintf(key, sizeof key, "%.*s", (int)(eq - dot - 1), dot + 1);
		if (!config_on_key(&c, sec, key, eq + 1)) {
			snprintf(err, errlen, "-o %s.%s: %s", sec, key, c.msg);
			goto fail;
		}
	}
	if (finish(&c, path, err, errlen) != 0)
		goto fail;
	free(c.password_file);
	free(c.ami_secret_file);
	free(c.offsite_secret_file);
	return 0;
fail:
	free(c.password_file);
	free(c.ami_secret_file);
	free(c.offsite_secret_file);
	config_free(cfg);
	return -1;
}

void config_free(struct config *cfg)
{
	free(cfg->path);
	free(cfg->pbx.url);
	free(cfg->pbx.username);
	if (cfg->pbx.password_md5)
		sodium_free(cfg->pbx.password_md5);
	free(cfg->pbx.ca_file);
	free(cfg->pbx.timezone);
	free(cfg->pbx.pinned_pubkey);
	free(cfg->archive.dir);
	free(cfg->encryption.recipients);
	free(cfg->encryption.recipients_file);
	free(cfg->signing.secret_key_file);
	free(cfg->signing.public_key_file);
	for (int i = 0; i < cfg->signing.nprevious; i++)
		free(cfg->signing.previous_public_key_files[i]);
	free(cfg->ami.host);
	free(cfg->ami.username);
	free(cfg->report.prometheus_file);
	free(cfg->report.ping_url);
	free(cfg->report.on_failure);
	if (cfg->ami.secret)
		sodium_free(cfg->ami.secret);
	free(cfg->offsite.url);
	free(cfg->offsite.region);
	free(cfg->offsite.access_key);
	if (cfg->offsite.secret_key)
		sodium_free(cfg->offsite.secret_key);
	free(cfg->offsite.ca_file);
	memset(cfg, 0, sizeof *cfg);
}
