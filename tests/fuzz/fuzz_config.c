/* fuzz_config.c — config_load (src/base/config.h) on a hostile INI file and -o overrides.
 *
 * Input: split at NUL bytes. The first part is written as the config file (mode 0600, in a
 * private temp dir made once under $TMPDIR); up to four more parts are "-o" overrides
 * ("section.key=value"). The temp dir also holds password files the input may name:
 * "pw" (0600, "secret"), "pw-open" (0644: must be refused) and "pw-empty" (0600, empty
 * first line). The harness writes nothing outside that dir, and removes it at exit.
 *
 * Invariants: never a crash or a leak; 0 or -1; on -1 a non-empty message and *cfg all
 * zero (freed); an override that sets a password key always fails; on 0 every field holds
 * what config.h and the setters promise: an http(s) URL with a host, no blank, '?', '#' or
 * trailing '/'; a username; a 32-digit lowercase hex MD5; an archive dir; numbers inside
 * their documented ranges; booleans 0/1; not both recipients and recipients_file;
 * require_https only with an https URL; archive_keep_days off or >= archive_min_days. */
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "base/config.h"
#include "base/units.h"

#define MAX_OVERRIDES 4

static char dir[4096];
static char conf_path[4200];
static const char *const own_files[] = { "nexo.conf", "pw", "pw-open", "pw-empty" };

static void put_file(const char *name, const void *data, size_t len, mode_t mode)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0, "cannot write %s", path);
	FUZZ_CHECK(fchmod(fd, mode) == 0, "chmod %s", path);
	FUZZ_CHECK(len == 0 || write(fd, data, len) == (ssize_t)len, "write %s", path);
	close(fd);
}

static void cleanup(void)
{
	char path[4200];

	if (!dir[0])
		return;
	for (size_t i = 0; i < sizeof own_files / sizeof own_files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, own_files[i]);
		unlink(path);
	}
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	fuzz_keep_stderr();
	FUZZ_CHECK(sodium_init() >= 0, "sodium_init");
	snprintf(dir, sizeof dir, "%s/nexo-fuzz-config.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	FUZZ_CHECK(mkdtemp(dir) != NULL, "mkdtemp %s", dir); /* mode 0700 */
	atexit(cleanup);
	snprintf(conf_path, sizeof conf_path, "%s/nexo.conf", dir);
	put_file("pw", "secret\n", 7, 0600);
	put_file("pw-open", "secret\n", 7, 0644);
	put_file("pw-empty", "\nsecret\n", 8, 0600);
	return 0;
}

static int is_password_override(const char *o)
{
	return !strncmp(o, "pbx.password=", 13) || !strncmp(o, "pbx.password_md5=", 17) ||
	       !strncmp(o, "pbx.password_file=", 18);
}

static int all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static void check_loaded(const struct config *c)
{
	const char *u = c->pbx.url;
	size_t ul;

	FUZZ_CHECK(c->path && strcmp(c->path, conf_path) == 0, "path");
	FUZZ_CHECK(u && (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8)), "url \"%s\"",
		   u ? u : "(null)");
	ul = strlen(u);
	FUZZ_CHECK(!strpbrk(u, " \t?#"), "url \"%s\" has a blank, '?' or '#'", u);
	FUZZ_CHECK(u[ul - 1] != '/', "url \"%s\" ends in '/'", u);
	{
		const char *host = strstr(u, "://") + 3;
		FUZZ_CHECK(*host && *host != '/' && *host != ':', "url \"%s\" has no host", u);
	}
	FUZZ_CHECK(c->pbx.username && c->pbx.username[0], "username");
	FUZZ_CHECK(c->pbx.password_md5 && strlen(c->pbx.password_md5) == 32 &&
			   strspn(c->pbx.password_md5, "0123456789abcdef") == 32,
		   "password_md5 is not 32 lowercase hex digits");
	FUZZ_CHECK(!c->pbx.ca_file || c->pbx.ca_file[0], "empty ca_file");
	FUZZ_CHECK(c->pbx.insecure == 0 || c->pbx.insecure == 1, "insecure %d", c->pbx.insecure);
	FUZZ_CHECK(c->pbx.timeout >= 1 && c->pbx.timeout <= 86400, "timeout %ld", c->pbx.timeout);
	FUZZ_CHECK(c->pbx.connect_timeout >= 1 && c->pbx.connect_timeout <= 86400,
		   "connect_timeout %ld", c->pbx.connect_timeout);
	FUZZ_CHECK(c->pbx.retries >= 0 && c->pbx.retries <= 20, "retries %d", c->pbx.retries);
	FUZZ_CHECK(!c->pbx.timezone || (c->pbx.timezone[0] && c->pbx.timezone[0] != '/' &&
					!strstr(c->pbx.timezone, "..")),
		   "timezone \"%s\"", c->pbx.timezone);
	FUZZ_CHECK(!c->pbx.pinned_pubkey || !strncmp(c->pbx.pinned_pubkey, "sha256//", 8),
		   "pinned_pubkey");
	FUZZ_CHECK(c->pbx.require_https == 0 || c->pbx.require_https == 1, "require_https");
	FUZZ_CHECK(!c->pbx.require_https || !strncmp(u, "https://", 8),
		   "require_https with url \"%s\"", u);
	FUZZ_CHECK(c->pbx.max_clock_skew >= 0, "max_clock_skew %ld", c->pbx.max_clock_skew);
	FUZZ_CHECK(c->pbx.max_rate == 0 ||
			   (c->pbx.max_rate >= UNITS_RATE_MIN && c->pbx.max_rate <= UNITS_RATE_MAX),
		   "max_rate %lld", (long long)c->pbx.max_rate);
	FUZZ_CHECK(c->sync.max_duration >= 0 && c->sync.max_duration <= 366LL * 86400,
		   "max_duration %lld", (long long)c->sync.max_duration);
	FUZZ_CHECK(c->archive.dir && c->archive.dir[0], "archive.dir");
	FUZZ_CHECK(c->sync.since == -1 || c->sync.since >= 0, "since %lld",
		   (long long)c->sync.since);
	FUZZ_CHECK(c->sync.lookback >= 0, "lookback %lld", (long long)c->sync.lookback);
	FUZZ_CHECK(c->sync.window >= 1, "window %lld", (long long)c->sync.window);
	FUZZ_CHECK(c->sync.batch_files >= 1 && c->sync.batch_files <= 10000, "batch_files %d",
		   c->sync.batch_files);
	FUZZ_CHECK(c->sync.batch_url_bytes >= 256 && c->sync.batch_url_bytes <= (1u << 20),
		   "batch_url_bytes %zu", c->sync.batch_url_bytes);
	FUZZ_CHECK(c->sync.invalid_retries >= 1 && c->sync.invalid_retries <= 1000,
		   "invalid_retries %d", c->sync.invalid_retries);
	FUZZ_CHECK(c->retention.delete_from_pbx == 0 || c->retention.delete_from_pbx == 1,
		   "delete_from_pbx");
	FUZZ_CHECK(c->retention.pbx_keep_days >= 0 && c->retention.pbx_keep_days <= 36500,
		   "pbx_keep_days %ld", c->retention.pbx_keep_days);
	FUZZ_CHECK(c->retention.max_delete >= 0 && c->retention.max_delete <= 100000000,
		   "max_delete %ld", c->retention.max_delete);
	FUZZ_CHECK(c->retention.archive_min_days >= 0 && c->retention.archive_min_days <= 36500,
		   "archive_min_days %ld", c->retention.archive_min_days);
	FUZZ_CHECK(c->retention.archive_keep_days == -1 ||
			   (c->retention.archive_keep_days >= c->retention.archive_min_days &&
			    c->retention.archive_keep_days <= 36500),
		   "archive_keep_days %ld (min %ld)", c->retention.archive_keep_days,
		   c->retention.archive_min_days);
	FUZZ_CHECK(!c->encryption.recipients || !strncmp(c->encryption.recipients, "age1", 4),
		   "recipients");
	FUZZ_CHECK(!(c->encryption.recipients && c->encryption.recipients_file),
		   "both recipients and recipients_file");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size);
	char *overrides[MAX_OVERRIDES];
	size_t n = 0, file_len = strlen(text);
	int password_override = 0, rc;
	struct config cfg;
	char err[512];

	/* The parts after the file's NUL: each one an override, up to MAX_OVERRIDES. */
	for (size_t off = file_len + 1; off <= size && n < MAX_OVERRIDES; n++) {
		overrides[n] = text + off;
		password_override |= is_password_override(overrides[n]);
		off += strlen(text + off) + 1;
	}
	put_file("nexo.conf", text, file_len, 0600);

	memset(&cfg, 0x5a, sizeof cfg);
	memset(err, 0, sizeof err);
	rc = config_load(conf_path, overrides, n, &cfg, err, sizeof err);
	FUZZ_CHECK(rc == 0 || rc == -1, "result %d", rc);
	FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL, "err not NUL-terminated");
	if (rc != 0) {
		FUZZ_CHECK(err[0] != '\0', "failed without a message");
		FUZZ_CHECK(all_zero(&cfg, sizeof cfg), "a failed load did not free the config");
	} else {
		FUZZ_CHECK(!password_override, "a password key was taken from -o");
		check_loaded(&cfg);
		config_free(&cfg);
		FUZZ_CHECK(all_zero(&cfg, sizeof cfg), "config_free left fields set");
	}
	config_free(&cfg); /* on a freed (zeroed) config: a no-op */
	free(text);
	return 0;
}
