/* config.c — INI → struct config. Each key has one setter that validates its value; errors name
 * FILE:LINE (or the -o override) and the key. Nothing here touches the network. */
#include "config.h"

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

struct parse_ctx {
	struct config *cfg;
	const char *base_dir;   /* relative paths are taken from here ("" = cwd) */
	int from_override;
	char *password;         /* plaintext from the file, sodium_malloc'd */
	char *password_file;
	char *ami_secret_file;
	char *offsite_secret_file;
	int password_keys;      /* how many of password / password_md5 / password_file */
	int inline_secret;      /* the file itself holds a password */
	FILE *file;
	int lines_read;         /* inih calls the handler right after reading the key's line */
	int msg_line;           /* the line `msg` is about */
	char msg[256];
};

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

static int set_string(char **slot, const char *v)
{
	char *copy = strdup(v);

	if (!copy)
		return -1;
	free(*slot);
	*slot = copy;
	return 0;
}

static int set_path(struct parse_ctx *c, char **slot, const char *v)
{
	char buf[PATH_MAX];

	if (!*v)
		return -1;
	if (v[0] == '/' || !c->base_dir[0])
		return set_string(slot, v);
	if ((size_t)snprintf(buf, sizeof buf, "%s/%s", c->base_dir, v) >= sizeof buf)
		return -1;
	return set_string(slot, buf);
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
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

static int parse_long(const char *v, long lo, long hi, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (!*v || *end || errno || n < lo || n > hi)
		return -1;
	*out = n;
	return 0;
}

/* inih goes on after an error and reports the first one's line: keep the first message too. */
static int bad(struct parse_ctx *c, const char *sec, const char *key, const char *what)
{
	if (!c->msg[0]) {
		snprintf(c->msg, sizeof c->msg, "[%s] %s: %s", sec, key, what);
		c->msg_line = c->lines_read;
	}
	return 0;
}

static int pbx_key(struct parse_ctx *c, const char *k, const char *v)
{
	struct config *cfg = c->cfg;
	long n;

	if (!strcmp(k, "url")) {
		size_t len = strlen(v);
		if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
			return bad(c, "pbx", k, "must start with http:// or https://");
		if (strpbrk(v, " \t?#"))
			return bad(c, "pbx", k, "must be a bare base URL (no spaces, '?' or '#')");
		const char *host = strstr(v, "://") + 3;
		if (*host == '\0' || *host == '/' || *host == ':')
			return bad(c, "pbx", k, "has no host");
		if (set_string(&cfg->pbx.url, v))
			return bad(c, "pbx", k, "out of memory");
		while (len > 8 && cfg->pbx.url[len - 1] == '/')
			cfg->pbx.url[--len] = '\0';
	} else if (!strcmp(k, "username")) {
		if (!*v || set_string(&cfg->pbx.username, v))
			return bad(c, "pbx", k, "must not be empty");
	} else if (!strcmp(k, "password") || !strcmp(k, "password_md5") ||
		   !strcmp(k, "password_file")) {
		if (c->from_override)
			return bad(c, "pbx", k, "cannot be given with -o (the command line is "
						"visible to every user); put it in the config file");
		c->password_keys++;
		if (!strcmp(k, "password_file")) {
			if (set_path(c, &c->password_file, v))
				return bad(c, "pbx", k, "must be a path");
			return 1;
		}
		c->inline_secret = 1;
		if (!strcmp(k, "password_md5")) {
			if (strlen(v) != 32 || strspn(v, "0123456789abcdefABCDEF") != 32)
				return bad(c, "pbx", k, "must be 32 hex digits (the MD5 of the "
							"password)");
			for (int i = 0; i < 33; i++)
				cfg->pbx.password_md5[i] = (char)(v[i] >= 'A' && v[i] <= 'F'
								  ? v[i] + 32 : v[i]);
		} else {
			size_t len = strlen(v);
			if (!len)
				return bad(c, "pbx", k, "must not be empty");
			config_md5_hex(v, len, cfg->pbx.password_md5);
		}
	} else if (!strcmp(k, "ca_file")) {
		if (set_path(c, &cfg->pbx.ca_file, v))
			return bad(c, "pbx", k, "must be a path");
	} else if (!strcmp(k, "insecure")) {
		if (parse_bool(v, &cfg->pbx.insecure))
			return bad(c, "pbx", k, "must be true or false");
	} else if (!strcmp(k, "timeout") || !strcmp(k, "connect_timeout")) {
		if (parse_long(v, 1, 86400, &n))
			return bad(c, "pbx", k, "must be seconds between 1 and 86400");
		*(!strcmp(k, "timeout") ? &cfg->pbx.timeout : &cfg->pbx.connect_timeout) = n;
	} else if (!strcmp(k, "retries")) {
		if (parse_long(v, 0, 20, &n))
			return bad(c, "pbx", k, "must be a number between 0 and 20");
		cfg->pbx.retries = (int)n;
	} else if (!strcmp(k, "pinned_pubkey")) {
		if (strncmp(v, "sha256//", 8) != 0 || strlen(v) < 8 + 43)
			return bad(c, "pbx", k, "must be sha256//<base64 of the key's SHA-256>, as "
						"curl --pinnedpubkey takes it");
		if (set_string(&cfg->pbx.pinned_pubkey, v))
			return bad(c, "pbx", k, "out of memory");
	} else if (!strcmp(k, "require_https")) {
		if (parse_bool(v, &cfg->pbx.require_https))
			return bad(c, "pbx", k, "must be true or false");
	} else if (!strcmp(k, "max_clock_skew")) {
		pbx_minute m;
		if (pbxtime_parse_span(v, &m) != 0)
			return bad(c, "pbx", k, "must be a span such as 10m or 1h");
		cfg->pbx.max_clock_skew = (long)m * 60;
	} else if (!strcmp(k, "max_rate")) {
		if (units_parse_rate(v, &cfg->pbx.max_rate))
			return bad(c, "pbx", k, "must be bytes per second such as 800K or 4M (K, M, G "
						"are 1024, 1024^2, 1024^3; at least 16K), or 0 for no cap");
	} else if (!strcmp(k, "timezone")) {
		if (!*v || strstr(v, "..") || v[0] == '/')
			return bad(c, "pbx", k, "must be a zone name such as Europe/Berlin");
		if (pbxtime_zone_known(v) == 0) {
			char what[200];
			snprintf(what, sizeof what, "'%.60s' is not a time zone this host knows (see "
				 "/usr/share/zoneinfo: e.g. Europe/Berlin, America/Los_Angeles)", v);
			return bad(c, "pbx", k, what);
		}
		if (set_string(&cfg->pbx.timezone, v))
			return bad(c, "pbx", k, "out of memory");
	} else {
		return -1;
	}
	return 1;
}

static int sync_key(struct parse_ctx *c, const char *k, const char *v)
{
	struct config *cfg = c->cfg;
	long n;

	if (!strcmp(k, "since")) {
		if (pbxtime_parse(v, &cfg->sync.since))
			return bad(c, "sync", k, "must be a PBX time \"YYYY-MM-DD HH:MM\"");
	} else if (!strcmp(k, "lookback")) {
		if (pbxtime_parse_span(v, &cfg->sync.lookback))
			return bad(c, "sync", k, "must be a span such as 30m, 6h, 2d");
	} else if (!strcmp(k, "window")) {
		if (pbxtime_parse_span(v, &cfg->sync.window) || cfg->sync.window < 1)
			return bad(c, "sync", k, "must be a span of at least 1m, such as 6h or 1d");
	} else if (!strcmp(k, "batch_files")) {
		if (parse_long(v, 1, 10000, &n))
			return bad(c, "sync", k, "must be a number between 1 and 10000");
		cfg->sync.batch_files = (int)n;
	} else if (!strcmp(k, "reconcile_days")) {
		if (parse_long(v, 0, 3650, &cfg->sync.reconcile_days))
			return bad(c, "sync", k, "must be a number of days between 0 (never) and 3650");
	} else if (!strcmp(k, "partial_alarm")) {
		if (parse_long(v, 0, 1000, &n))
			return bad(c, "sync", k, "must be a number of runs between 0 (never) and 1000");
		cfg->sync.partial_alarm = (int)n;
	} else if (!strcmp(k, "parallel")) {
		if (parse_long(v, 1, 8, &n))
			return bad(c, "sync", k, "must be a number between 1 and 8");
		cfg->sync.parallel = (int)n;
	} else if (!strcmp(k, "invalid_retries")) {
		if (parse_long(v, 1, 1000, &n))
			return bad(c, "sync", k, "must be a number between 1 and 1000");
		cfg->sync.invalid_retries = (int)n;
	} else if (!strcmp(k, "max_recording_bytes")) {
		int64_t bytes;
		if (units_parse_rate(v, &bytes) || bytes < (1 << 20))
			return bad(c, "sync", k, "must be a size of at least 1M, such as 2G");
		cfg->sync.max_recording_bytes = (unsigned long long)bytes;
	} else if (!strcmp(k, "max_duration")) {
		if (units_parse_duration(v, &cfg->sync.max_duration))
			return bad(c, "sync", k, "must be a duration such as 45m, 2h or 1h30m (up to "
						 "366d), or 0 for no budget");
	} else if (!strcmp(k, "batch_url_bytes")) {
		if (parse_long(v, 256, 1L << 20, &n))
			return bad(c, "sync", k, "must be a number of bytes between 256 and 1048576");
		cfg->sync.batch_url_bytes = (size_t)n;
	} else {
		return -1;
	}
	return 1;
}

static int retention_key(struct parse_ctx *c, const char *k, const char *v)
{
	struct config *cfg = c->cfg;

	if (!strcmp(k, "delete_from_pbx")) {
		if (parse_bool(v, &cfg->retention.delete_from_pbx))
			return bad(c, "retention", k, "must be true or false");
	} else if (!strcmp(k, "pbx_keep_days")) {
		if (parse_long(v, 0, 36500, &cfg->retention.pbx_keep_days))
			return bad(c, "retention", k, "must be a number of days between 0 and 36500");
	} else if (!strcmp(k, "max_delete")) {
		if (parse_long(v, 0, 100000000, &cfg->retention.max_delete))
			return bad(c, "retention", k, "must be a number, 0 or more");
	} else if (!strcmp(k, "verify_pbx_copy")) {
		if (!strcmp(v, "auto"))
			cfg->retention.verify_pbx_copy = VERIFY_AUTO;
		else if (!strcmp(v, "download"))
			cfg->retention.verify_pbx_copy = VERIFY_DOWNLOAD;
		else if (!strcmp(v, "listing"))
			cfg->retention.verify_pbx_copy = VERIFY_LISTING;
		else
			return bad(c, "retention", k, "must be auto, download or listing");
	} else if (!strcmp(k, "archive_keep_days") || !strcmp(k, "archive_min_days")) {
		long *slot = !strcmp(k, "archive_keep_days") ? &cfg->retention.archive_keep_days
							      : &cfg->retention.archive_min_days;
		if (!strcmp(k, "archive_keep_days") && !strcmp(v, "off"))
			*slot = -1;
		else if (parse_long(v, 0, 36500, slot))
			return bad(c, "retention", k, "must be a number of days between 0 and 36500");
	} else if (!strcmp(k, "local_keep_days")) {
		if (!strcmp(v, "off"))
			cfg->retention.local_keep_days = -1;
		else if (parse_long(v, 0, 36500, &cfg->retention.local_keep_days))
			return bad(c, "retention", k, "must be a number of days between 0 and 36500");
	} else {
		return -1;
	}
	return 1;
}

static int encryption_key(struct parse_ctx *c, const char *k, const char *v)
{
	struct config *cfg = c->cfg;

	if (!strcmp(k, "recipients")) {
		/* Checked fully (bech32) when the run loads them; here only the shape. */
		if (!*v || strncmp(v, "age1", 4) != 0)
			return bad(c, "encryption", k, "must be one or more age1... recipients");
		if (set_string(&cfg->encryption.recipients, v))
			return bad(c, "encryption", k, "out of memory");
	} else if (!strcmp(k, "recipients_file")) {
		if (set_path(c, &cfg->encryption.recipients_file, v))
			return bad(c, "encryption", k, "must be a path");
	} else {
		return -1;
	}
	return 1;
}

static int signing_key(struct parse_ctx *c, const char *k, const char *v)
{
	struct config *cfg = c->cfg;

	if (!strcmp(k, "secret_key_file")) {
		if (set_path(c, &cfg->signing.secret_key_file, v))
			return bad(c, "signing", k, "must be a path");
	} else if (!strcmp(k, "public_key_file")) {
		if (set_path(c, &cfg->signing.public_key_file, v))
			return bad(c, "signing", k, "must be a path");
	} else if (!strcmp(k, "previous_public_key_file")) {
		if (cfg->signing.nprevious == CONFIG_MAX_PREVIOUS_KEYS)
			return bad(c, "signing", k, "is given more than 8 times");
		if (set_path(c, &cfg->signing.previous_public_key_files[cfg->signing.nprevious], v))
			return bad(c, "signing", k, "must be a path");
		cfg->signing.nprevious++;
	} else {
		return -1;
	}
	return 1;
}

static int cdr_key(struct parse_ctx *c, const char *k, const char *v)
{
	struct config *cfg = c->cfg;
	int *slot = !strcmp(k, "join") ? &cfg->cdr.join
		    : !strcmp(k, "archive") ? &cfg->cdr.archive
		    : !strcmp(k, "delete_from_pbx") ? &cfg->cdr.delete_from_pbx : NULL;

	if (!slot)
		return -1;
	if (parse_bool(v, slot))
		return bad(c, "cdr", k, "must be true or false");
	return 1;
}

/* The AMI secret is kept like the password: in wiped memory, never from -o. */
static int ami_secret(struct parse_ctx *c, const char *k, const char *v)
{
	struct config *cfg = c->cfg;
	char *buf;
	size_t len = strlen(v);

	if (c->from_override)
		return bad(c, "ami", k, "cannot be given with -o (the command line is visible to "
					"every user); put it in the config file");
	if (!strcmp(k, "secret_file"))
		return set_path(c, &c->ami_secret_file, v) ? bad(c, "ami", k, "must be a path") : 1;
	if (!len)
		return bad(c, "ami", k, "must not be empty");
	if (!(buf = sodium_malloc(len + 1)))
		return bad(c, "ami", k, "out of memory");
	memcpy(buf, v, len + 1);
	if (cfg->ami.secret)
		sodium_free(cfg->ami.secret);
	cfg->ami.secret = buf;
	c->inline_secret = 1;
	return 1;
}

static int ami_key(struct parse_ctx *c, const char *k, const char *v)
{
	struct config *cfg = c->cfg;
	long n;

	if (!strcmp(k, "host")) {
		if (!*v || strpbrk(v, " \t/") || set_string(&cfg->ami.host, v))
			return bad(c, "ami", k, "must be a host name or address");
	} else if (!strcmp(k, "port")) {
		if (parse_long(v, 1, 65535, &n))
			return bad(c, "ami", k, "must be a TCP port (1-65535)");
		cfg->ami.port = (int)n;
	} else if (!strcmp(k, "username")) {
		if (!*v || set_string(&cfg->ami.username, v))
			return bad(c, "ami", k, "must not be empty");
	} else if (!strcmp(k, "secret") || !strcmp(k, "secret_file")) {
		return ami_secret(c, k, v);
	} else if (!strcmp(k, "reconnect_max")) {
		if (parse_long(v, 1, 3600, &cfg->ami.reconnect_max))
			return bad(c, "ami", k, "must be seconds between 1 and 3600");
	} else if (!strcmp(k, "coalesce_ms")) {
		if (parse_long(v, 0, 60000, &cfg->ami.coalesce_ms))
			return bad(c, "ami", k, "must be milliseconds between 0 and 60000");
	} else {
		return -1;
	}
	return 1;
}

/* [report]: what tells a person the run worked, besides its exit code. The ping URL must not
 * carry a password (it is sent, and logged on failure). */
static int report_key(struct parse_ctx *c, const char *k, const char *v)
{
	struct config *cfg = c->cfg;

	if (!strcmp(k, "prometheus_file")) {
		if (!*v || set_path(c, &cfg->report.prometheus_file, v))
			return bad(c, "report", k, "must be a path");
	} else if (!strcmp(k, "ping_url")) {
		const char *host = strstr(v, "://");
		if ((strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) || !host ||
		    strcspn(host + 3, "/") > strcspn(host + 3, "@") || strpbrk(v, " \t\"'") ||
		    set_string(&cfg->report.ping_url, v))
			return bad(c, "report", k, "must be an http(s) URL without user:password@");
	} else if (!strcmp(k, "ping_timeout")) {
		if (parse_long(v, 1, 120, &cfg->report.ping_timeout))
			return bad(c, "report", k, "must be seconds between 1 and 120");
	} else if (!strcmp(k, "on_failure")) {
		if (!*v || set_string(&cfg->report.on_failure, v))
			return bad(c, "report", k, "must be a command");
	} else {
		return -1;
	}
	return 1;
}

/* [offsite] (docs/offsite.md). The secret key is kept like the PBX password: wiped memory,
 * never from -o, a private file. */
static int offsite_key(struct parse_ctx *c, const char *k, const char *v)
{
	static const char *const locks[] = { "auto", "compliance", "governance", "off" };
	struct config *cfg = c->cfg;

	if (!strcmp(k, "url")) {
		const char *host = strstr(v, "://");
		if ((strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) || strpbrk(v, " \t?#") ||
		    !strchr(host + 3, '/') || strchr(host + 3, '/') == host + 3 ||
		    !strchr(host + 3, '/')[1])
			return bad(c, "offsite", k, "must be http(s)://HOST[:PORT]/BUCKET[/PREFIX]");
		if (set_string(&cfg->offsite.url, v))
			return bad(c, "offsite", k, "out of memory");
	} else if (!strcmp(k, "region")) {
		if (!*v || strpbrk(v, " \t:") || set_string(&cfg->offsite.region, v))
			return bad(c, "offsite", k, "must be a region name such as us-east-1");
	} else if (!strcmp(k, "access_key")) {
		if (!*v || strpbrk(v, " \t:") || set_string(&cfg->offsite.access_key, v))
			return bad(c, "offsite", k, "must be an access key id");
	} else if (!strcmp(k, "secret_key") || !strcmp(k, "secret_key_file")) {
		if (c->from_override)
			return bad(c, "offsite", k, "cannot be given with -o (the command line is "
						    "visible to every user); put it in the config file");
		if (!strcmp(k, "secret_key_file"))
			return set_path(c, &c->offsite_secret_file, v) ? bad(c, "offsite", k, "must be a path")
								       : 1;
		size_t len = strlen(v);
		char *buf = len ? sodium_malloc(len + 1) : NULL;
		if (!buf)
			return bad(c, "offsite", k, "must not be empty");
		memcpy(buf, v, len + 1);
		if (cfg->offsite.secret_key)
			sodium_free(cfg->offsite.secret_key);
		cfg->offsite.secret_key = buf;
		c->inline_secret = 1;
	} else if (!strcmp(k, "lock")) {
		size_t i = 0;
		while (i < 4 && strcmp(v, locks[i]) != 0)
			i++;
		if (i == 4)
			return bad(c, "offsite", k, "must be compliance, governance, off or auto");
		cfg->offsite.lock = (int)i;
	} else if (!strcmp(k, "lock_days")) {
		if (parse_long(v, 1, 36500, &cfg->offsite.lock_days))
			return bad(c, "offsite", k, "must be days between 1 and 36500");
	} else if (!strcmp(k, "required_for_delete")) {
		if (parse_bool(v, &cfg->offsite.required_for_delete))
			return bad(c, "offsite", k, "must be true or false");
	} else if (!strcmp(k, "max_rate")) {
		if (units_parse_rate(v, &cfg->offsite.max_rate))
			return bad(c, "offsite", k, "must be bytes per second such as 800K or 4M (K, M, "
						    "G are 1024, 1024^2, 1024^3; at least 16K), or 0 for "
						    "no cap");
	} else if (!strcmp(k, "ca_file")) {
		if (set_path(c, &cfg->offsite.ca_file, v))
			return bad(c, "offsite", k, "must be a path");
	} else if (!strcmp(k, "insecure")) {
		if (parse_bool(v, &cfg->offsite.insecure))
			return bad(c, "offsite", k, "must be true or false");
	} else {
		return -1;
	}
	return 1;
}

/* inih handler: 1 = ok, 0 = error (c->msg says why). */
static int on_key(void *user, const char *sec, const char *key, const char *val)
{
	struct parse_ctx *c = user;
	int r = -1;

	if (!strcmp(sec, "pbx"))
		r = pbx_key(c, key, val);
	else if (!strcmp(sec, "archive") && !strcmp(key, "dir"))
		r = set_path(c, &c->cfg->archive.dir, val) ? bad(c, "archive", key, "must be a path")
							    : 1;
	else if (!strcmp(sec, "sync"))
		r = sync_key(c, key, val);
	else if (!strcmp(sec, "retention"))
		r = retention_key(c, key, val);
	else if (!strcmp(sec, "encryption"))
		r = encryption_key(c, key, val);
	else if (!strcmp(sec, "signing"))
		r = signing_key(c, key, val);
	else if (!strcmp(sec, "cdr"))
		r = cdr_key(c, key, val);
	else if (!strcmp(sec, "ami"))
		r = ami_key(c, key, val);
	else if (!strcmp(sec, "report"))
		r = report_key(c, key, val);
	else if (!strcmp(sec, "offsite"))
		r = offsite_key(c, key, val);
	else if (strcmp(sec, "archive") != 0) {
		if (!c->msg[0]) {
			snprintf(c->msg, sizeof c->msg, "unknown section [%s]", sec);
			c->msg_line = c->lines_read;
		}
		return 0;
	}
	if (r < 0) {
		if (!c->msg[0]) {
			snprintf(c->msg, sizeof c->msg, "unknown key '%s' in [%s]", key, sec);
			c->msg_line = c->lines_read;
		}
		return 0;
	}
	return r;
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
	line = ini_parse_stream(read_line, &c, on_key, &c);
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
		if (!on_key(&c, sec, key, eq + 1)) {
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
