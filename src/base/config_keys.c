/* config_keys.c — one setter per config key, by section: each validates its value and says
 * what it must be, naming the section and key (config_internal.h). Paths are taken relative to
 * the config file's folder; secrets go to sodium_malloc'd memory. */
#include "config_internal.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

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

int config_on_key(void *user, const char *sec, const char *key, const char *val)
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

