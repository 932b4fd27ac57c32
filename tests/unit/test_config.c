/* test_config.c — the INI file → struct config (config.c). Each case writes a config (and its
 * password file) into a fresh temp folder with the mode it needs, loads it, and checks either
 * the typed values or the one error line: "FILE:LINE: ..." for a bad line, "FILE: ..." for a
 * whole-file rule, "-o ...: ..." for an override. Secrets: a file holding a password must not be
 * readable by others, and a password can never come from the command line. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "base/config.h"
#include "base/pbxtime.h"

#define MD5_ADMIN "21232f297a57a5a743894a0e4a801fc3"

struct fixture {
	char dir[64];
	char conf[PATH_MAX];
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f || sodium_init() < 0)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/nexo-test-config.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->conf, sizeof f->conf, "%s/nexo.conf", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Writes `text` as dir/name with `mode` (made with mkdir -p of any folder in `name`). */
static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	for (char *p = path + strlen(dir) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", path, strerror(errno));
		*p = '/';
	}
	fp = fopen(path, "w");
	if (!fp)
		fail_msg("cannot write %s: %s", path, strerror(errno));
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

static void write_conf(struct fixture *f, const char *text, mode_t mode)
{
	write_file(f->dir, "nexo.conf", text, mode);
}

/* The case being checked, for failure messages of table-driven tests. */
static const char *current_case = "";

/* Loads f->conf; on failure, checks that err starts with "CONF:LINE: " (line > 0) or
 * "CONF: " (line 0) and contains `needle`. */
static void expect_error_at(struct fixture *f, char *const *ov, size_t n, int line,
			    const char *needle)
{
	struct config cfg;
	char err[512] = "", prefix[PATH_MAX + 32];

	memset(&cfg, 0x5a, sizeof cfg);
	if (config_load(f->conf, ov, n, &cfg, err, sizeof err) != -1)
		fail_msg("config_load accepted a config that should fail with '%s' %s", needle,
			 current_case);
	if (line > 0)
		snprintf(prefix, sizeof prefix, "%s:%d: ", f->conf, line);
	else
		snprintf(prefix, sizeof prefix, "%s: ", f->conf);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("error \"%s\" does not start with \"%s\"", err, prefix);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
	/* On error the struct is freed (and zeroed), so a second free is harmless. */
	assert_null(cfg.pbx.url);
	assert_null(cfg.path);
	config_free(&cfg);
}

/* Loads f->conf and expects a failure whose message contains both `a` and `b`. */
static void expect_error_naming(struct fixture *f, const char *a, const char *b)
{
	struct config cfg;
	char err[1024] = "";

	if (config_load(f->conf, NULL, 0, &cfg, err, sizeof err) != -1)
		fail_msg("config_load accepted a config that should fail with '%s'", b);
	if (!strstr(err, a) || !strstr(err, b))
		fail_msg("error \"%s\" does not mention \"%s\" and \"%s\"", err, a, b);
}

/* Loads f->conf with the one override `ov` and expects a failure whose message starts with
 * `prefix` and mentions `needle`, and never repeats the override's value (a secret typed by
 * mistake must not reach a log). */
static void expect_override_error(struct fixture *f, const char *ov, const char *prefix,
				  const char *needle)
{
	struct config cfg;
	char err[512] = "";
	const char *eq = strchr(ov, '=');
	char *ovs[1];

	ovs[0] = (char *)ov;
	if (config_load(f->conf, ovs, 1, &cfg, err, sizeof err) != -1)
		fail_msg("config_load accepted -o %s", ov);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("error \"%s\" does not start with \"%s\"", err, prefix);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
	if (eq && eq[1] && strstr(err, eq + 1))
		fail_msg("error \"%s\" repeats the value of -o %s", err, ov);
}

static void load_ok(struct fixture *f, char *const *ov, size_t n, struct config *cfg)
{
	char err[512] = "";

	if (config_load(f->conf, ov, n, cfg, err, sizeof err) != 0)
		fail_msg("config_load failed: %s", err);
}

static const char minimal[] = "[pbx]\n"
			      "url = http://pbx.example\n"
			      "username = admin\n"
			      "password = admin\n"
			      "[archive]\n"
			      "dir = /srv/archive\n";

static void full_file(void **state)
{
	struct fixture *f = *state;
	struct config cfg;
	char want[PATH_MAX];
	pbx_minute since;

	write_conf(f,
		   "; nexo-archive, every key\n"
		   "[pbx]\n"
		   "url = https://pbx.example:8443///\n"
		   "username = monitor\n"
		   "password_file = secret/pw\n"
		   "ca_file = certs/ca.pem\n"
		   "insecure = yes\n"
		   "timeout = 120\n"
		   "connect_timeout = 5\n"
		   "retries = 7\n"
		   "timezone = Europe/Berlin\n"
		   "max_rate = 1.5M\n"
		   "\n"
		   "[archive]\n"
		   "dir = store/calls\n"
		   "\n"
		   "[sync]\n"
		   "since = 2021-03-28 00:00\n"
		   "lookback = 6h\n"
		   "window = 1d\n"
		   "batch_files = 20\n"
		   "batch_url_bytes = 2048\n"
		   "max_duration = 1h30m\n"
		   "\n"
		   "[retention]\n"
		   "delete_from_pbx = true\n"
		   "pbx_keep_days = 90\n"
		   "max_delete = 100\n",
		   0644);
	write_file(f->dir, "secret/pw", "admin\nnot this line\n", 0600);
	load_ok(f, NULL, 0, &cfg);

	assert_string_equal(cfg.path, f->conf);
	assert_string_equal(cfg.pbx.url, "https://pbx.example:8443");
	assert_string_equal(cfg.pbx.username, "monitor");
	assert_string_equal(cfg.pbx.password_md5, MD5_ADMIN);
	snprintf(want, sizeof want, "%s/certs/ca.pem", f->dir);
	assert_string_equal(cfg.pbx.ca_file, want);
	assert_int_equal(cfg.pbx.insecure, 1);
	assert_int_equal(cfg.pbx.timeout, 120);
	assert_int_equal(cfg.pbx.connect_timeout, 5);
	assert_int_equal(cfg.pbx.retries, 7);
	assert_string_equal(cfg.pbx.timezone, "Europe/Berlin");
	assert_int_equal(cfg.pbx.max_rate, 3 * 512 * 1024);
	snprintf(want, sizeof want, "%s/store/calls", f->dir);
	assert_string_equal(cfg.archive.dir, want);
	assert_int_equal(pbxtime_parse("2021-03-28 00:00", &since), 0);
	assert_int_equal(cfg.sync.since, since);
	assert_int_equal(cfg.sync.since, (pbx_minute)18714 * 1440);
	assert_int_equal(cfg.sync.lookback, 360);
	assert_int_equal(cfg.sync.window, 1440);
	assert_int_equal(cfg.sync.batch_files, 20);
	assert_int_equal(cfg.sync.batch_url_bytes, 2048);
	assert_int_equal(cfg.sync.max_duration, 5400);
	assert_int_equal(cfg.retention.delete_from_pbx, 1);
	assert_int_equal(cfg.retention.pbx_keep_days, 90);
	assert_int_equal(cfg.retention.max_delete, 100);
	config_free(&cfg);
	assert_null(cfg.pbx.url);
	config_free(&cfg); /* a freed struct frees again harmlessly */
}

static void defaults(void **state)
{
	struct fixture *f = *state;
	struct config cfg;

	write_conf(f, minimal, 0600);
	load_ok(f, NULL, 0, &cfg);
	assert_string_equal(cfg.pbx.url, "http://pbx.example");
	assert_string_equal(cfg.pbx.password_md5, MD5_ADMIN);
	assert_string_equal(cfg.archive.dir, "/srv/archive"); /* absolute: kept */
	assert_null(cfg.pbx.ca_file);
	assert_null(cfg.pbx.timezone);
	assert_int_equal(cfg.pbx.insecure, 0);
	assert_int_equal(cfg.pbx.timeout, 60);
	assert_int_equal(cfg.pbx.connect_timeout, 10);
	assert_int_equal(cfg.pbx.retries, 3);
	assert_int_equal(cfg.sync.since, -1);
	assert_int_equal(cfg.sync.lookback, 360);
	assert_int_equal(cfg.sync.window, 1440);
	assert_int_equal(cfg.sync.batch_files, 50);
	assert_int_equal(cfg.sync.batch_url_bytes, 4000);
	assert_int_equal(cfg.pbx.max_rate, 0);      /* no cap */
	assert_int_equal(cfg.sync.max_duration, 0); /* no budget */
	assert_int_equal(cfg.retention.pbx_keep_days, 30);
	assert_int_equal(cfg.retention.max_delete, 5000);
	assert_int_equal(cfg.retention.delete_from_pbx, 0);
	config_free(&cfg);
}

static void value_forms(void **state)
{
	struct fixture *f = *state;
	struct config cfg;

	write_conf(f,
		   "[pbx]\n"
		   "url = http://10.0.0.5:8088/\n"
		   "username = admin\n"
		   "password_md5 = 21232F297A57A5A743894A0E4A801FC3\n"
		   "insecure = off\n"
		   "retries = 0\n"
		   "[archive]\n"
		   "dir = /srv/a\n"
		   "[sync]\n"
		   "since = 2024-02-29 23:59:30\n"
		   "lookback = 30m\n"
		   "window = 2w\n"
		   "[retention]\n"
		   "delete_from_pbx = no\n"
		   "pbx_keep_days = 0\n"
		   "max_delete = 0\n",
		   0600);
	load_ok(f, NULL, 0, &cfg);
	assert_string_equal(cfg.pbx.url, "http://10.0.0.5:8088");
	assert_string_equal(cfg.pbx.password_md5, MD5_ADMIN); /* lowercased */
	assert_int_equal(cfg.pbx.insecure, 0);
	assert_int_equal(cfg.pbx.retries, 0);
	assert_int_equal(cfg.sync.since, (pbx_minute)19782 * 1440 + 1439);
	assert_int_equal(cfg.sync.lookback, 30);
	assert_int_equal(cfg.sync.window, 2 * 7 * 1440);
	assert_int_equal(cfg.retention.delete_from_pbx, 0);
	assert_int_equal(cfg.retention.pbx_keep_days, 0);
	assert_int_equal(cfg.retention.max_delete, 0);
	config_free(&cfg);
}

/* A config given by a relative path: its relative paths are relative to its folder, still. */
static void relative_config_path(void **state)
{
	struct fixture *f = *state;
	struct config cfg;
	char cwd[PATH_MAX], err[512] = "";
	int rc;

	write_file(f->dir, "conf.d/nexo.conf",
		   "[pbx]\nurl = http://pbx\nusername = u\npassword_file = pw\n"
		   "[archive]\ndir = ../archive\n",
		   0644);
	write_file(f->dir, "conf.d/pw", "monitor\r\n", 0600);
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(f->dir), 0);
	rc = config_load("conf.d/nexo.conf", NULL, 0, &cfg, err, sizeof err);
	assert_int_equal(chdir(cwd), 0);
	if (rc != 0)
		fail_msg("config_load failed: %s", err);
	assert_string_equal(cfg.archive.dir, "conf.d/../archive");
	assert_string_equal(cfg.pbx.password_md5, "08b5411f848a2581a41672a759c87380");
	config_free(&cfg);
}

static void unknown_key(void **state)
{
	struct fixture *f = *state;

	write_conf(f,
		   "[pbx]\nurl = http://pbx\nusername = u\npassword = p\npasword = p\n"
		   "[archive]\ndir = /a\n",
		   0600);
	expect_error_at(f, NULL, 0, 5, "unknown key 'pasword'");

	write_conf(f,
		   "[pbx]\nurl = http://pbx\nusername = u\npassword = p\n"
		   "[archive]\ndir = /a\nfolder = /b\n",
		   0600);
	expect_error_at(f, NULL, 0, 7, "unknown key 'folder'");

	write_conf(f,
		   "[pbx]\nurl = http://pbx\nusername = u\npassword = p\n"
		   "[archive]\ndir = /a\n[sync]\nbatch = 3\n",
		   0600);
	expect_error_at(f, NULL, 0, 8, "unknown key 'batch'");

	write_conf(f,
		   "[pbx]\nurl = http://pbx\nusername = u\npassword = p\n"
		   "[archive]\ndir = /a\n[retention]\ndelete = yes\n",
		   0600);
	expect_error_at(f, NULL, 0, 8, "unknown key 'delete'");
}

static void unknown_section(void **state)
{
	struct fixture *f = *state;

	/* inih reports a section through its keys: the error names the key's line */
	write_conf(f,
		   "[pbx]\nurl = http://pbx\nusername = u\npassword = p\n"
		   "[archive]\ndir = /a\n[retension]\npbx_keep_days = 3\n",
		   0600);
	expect_error_at(f, NULL, 0, 8, "unknown section [retension]");

	/* a key before any section */
	write_conf(f, "dir = /a\n[pbx]\nurl = http://pbx\nusername = u\npassword = p\n", 0600);
	expect_error_at(f, NULL, 0, 1, "unknown section");
}

static void bad_values(void **state)
{
	static const struct {
		const char *line;
		const char *needle;
	} cases[] = {
		{ "[pbx]\ninsecure = maybe", "insecure" },
		{ "[pbx]\ninsecure =", "insecure" },
		{ "[retention]\ndelete_from_pbx = 2", "delete_from_pbx" },
		{ "[pbx]\ntimeout = 12s", "timeout" },
		{ "[pbx]\ntimeout = 0", "timeout" },
		{ "[pbx]\ntimeout = -5", "timeout" },
		{ "[pbx]\nconnect_timeout = ten", "connect_timeout" },
		{ "[pbx]\nretries = 21", "retries" },
		{ "[pbx]\nretries = 99999999999999999999", "retries" },
		{ "[sync]\nbatch_files = 0", "batch_files" },
		{ "[sync]\nbatch_files = 5x", "batch_files" },
		{ "[sync]\nbatch_url_bytes = 100", "batch_url_bytes" },
		{ "[retention]\npbx_keep_days = -1", "pbx_keep_days" },
		{ "[retention]\nmax_delete = many", "max_delete" },
		{ "[sync]\nlookback = 6x", "lookback" },
		{ "[sync]\nlookback = -1h", "lookback" },
		{ "[sync]\nwindow = 0", "window" },
		{ "[sync]\nwindow = 90s", "window" },
		{ "[sync]\nsince = 2021-03-28", "since" },
		{ "[sync]\nsince = 2021-02-30 00:00", "since" },
		{ "[sync]\nsince = yesterday", "since" },
		{ "[pbx]\nurl = ftp://pbx.example", "url" },
		{ "[pbx]\nurl = pbx.example", "url" },
		{ "[pbx]\nurl = http://pbx/?x=1", "url" },
		{ "[pbx]\nusername =", "username" },
		{ "[pbx]\ntimezone = ../../etc/passwd", "timezone" },
		{ "[pbx]\ntimezone = /etc/localtime", "timezone" },
		{ "[archive]\ndir =", "dir" },
		{ "[pbx]\nmax_rate = fast", "max_rate" },
		{ "[pbx]\nmax_rate = 2MB", "max_rate" },
		{ "[pbx]\nmax_rate = 1K", "max_rate" },
		{ "[pbx]\nmax_rate = -4M", "max_rate" },
		{ "[sync]\nmax_duration = 90", "max_duration" },
		{ "[sync]\nmax_duration = 30m1h", "max_duration" },
		{ "[sync]\nmax_duration = 400d", "max_duration" },
	};
	struct fixture *f = *state;
	char text[1024];

	/* lines 1-6 are a valid config; line 7 opens the section, line 8 is the bad value */
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, "%s%s\n", minimal, cases[i].line);
		write_conf(f, text, 0600);
		current_case = cases[i].line;
		expect_error_at(f, NULL, 0, 8, cases[i].needle);
	}
	current_case = "";
}

/* "http(s)://host[:port]": a URL without a host is a config error, found at load time with its
 * line, not a curl error at the first request. */
static void url_needs_a_host(void **state)
{
	static const char *const urls[] = { "http://", "https://", "http:///", "https:////" };
	struct fixture *f = *state;
	char text[1024], accepted[256] = "";
	struct config cfg;
	char err[512];

	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		snprintf(text, sizeof text,
			 "[pbx]\nurl = %s\nusername = u\npassword = p\n[archive]\ndir = /a\n",
			 urls[i]);
		write_conf(f, text, 0600);
		if (config_load(f->conf, NULL, 0, &cfg, err, sizeof err) == 0) {
			snprintf(accepted + strlen(accepted), sizeof accepted - strlen(accepted),
				 " '%s' (as '%s')", urls[i], cfg.pbx.url);
			config_free(&cfg);
		}
	}
	if (accepted[0])
		fail_msg("config_load accepted URLs without a host:%s", accepted);
	write_conf(f, "[pbx]\nurl = http://\nusername = u\npassword = p\n[archive]\ndir = /a\n",
		   0600);
	expect_error_at(f, NULL, 0, 2, "url");
}

static void line_without_equals(void **state)
{
	struct fixture *f = *state;

	write_conf(f,
		   "[pbx]\nurl = http://pbx\nusername = u\npassword = p\n"
		   "this line has no equals sign\n[archive]\ndir = /a\n",
		   0600);
	expect_error_at(f, NULL, 0, 5, "");
}

/* With several bad lines, the error names the first one, and its message is the first line's
 * own, not one of a later line. */
static void first_error_wins(void **state)
{
	struct fixture *f = *state;

	write_conf(f,
		   "[pbx]\nurl = http://pbx\nbogus = 1\nusername = u\npassword = p\n"
		   "insecure = maybe\n[archive]\ndir = /a\n",
		   0600);
	expect_error_at(f, NULL, 0, 3, "unknown key 'bogus'");

	write_conf(f,
		   "[pbx]\nno equals here\nurl = http://pbx\nusername = u\npassword = p\n"
		   "timeout = forever\n[archive]\ndir = /a\n",
		   0600);
	{
		struct config cfg;
		char err[512] = "", prefix[PATH_MAX + 16];

		assert_int_equal(config_load(f->conf, NULL, 0, &cfg, err, sizeof err), -1);
		snprintf(prefix, sizeof prefix, "%s:2: ", f->conf);
		if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, "timeout"))
			fail_msg("error \"%s\" should name line 2's syntax error alone", err);
	}
}

static void required_keys(void **state)
{
	struct fixture *f = *state;

	write_conf(f, "[pbx]\nusername = u\npassword = p\n[archive]\ndir = /a\n", 0600);
	expect_error_at(f, NULL, 0, 0, "url");
	write_conf(f, "[pbx]\nurl = http://pbx\npassword = p\n[archive]\ndir = /a\n", 0600);
	expect_error_at(f, NULL, 0, 0, "username");
	write_conf(f, "[pbx]\nurl = http://pbx\nusername = u\npassword = p\n", 0600);
	expect_error_at(f, NULL, 0, 0, "dir");
	write_conf(f, "", 0600);
	expect_error_at(f, NULL, 0, 0, "required");
}

static void password_key_count(void **state)
{
	struct fixture *f = *state;

	write_conf(f, "[pbx]\nurl = http://pbx\nusername = u\n[archive]\ndir = /a\n", 0600);
	expect_error_at(f, NULL, 0, 0, "exactly one");

	write_conf(f,
		   "[pbx]\nurl = http://pbx\nusername = u\npassword = p\n"
		   "password_md5 = " MD5_ADMIN "\n[archive]\ndir = /a\n",
		   0600);
	expect_error_at(f, NULL, 0, 0, "exactly one");

	write_file(f->dir, "pw", "admin\n", 0600);
	write_conf(f,
		   "[pbx]\nurl = http://pbx\nusername = u\npassword_file = pw\n"
		   "password = p\n[archive]\ndir = /a\n",
		   0600);
	expect_error_at(f, NULL, 0, 0, "exactly one");

	write_conf(f,
		   "[pbx]\nurl = http://pbx\nusername = u\npassword = p\npassword = q\n"
		   "[archive]\ndir = /a\n",
		   0600);
	expect_error_at(f, NULL, 0, 0, "exactly one");
}

static void password_md5_form(void **state)
{
	static const char *const bad[] = {
		"abc",
		"21232f297a57a5a743894a0e4a801fc",   /* 31 */
		"21232f297a57a5a743894a0e4a801fc3a", /* 33 */
		"g1232f297a57a5a743894a0e4a801fc3",
		"21232f297a57a5a7 3894a0e4a801fc3",
		"",
	};
	struct fixture *f = *state;
	char text[512];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(text, sizeof text,
			 "[pbx]\nurl = http://pbx\nusername = u\npassword_md5 = %s\n"
			 "[archive]\ndir = /a\n",
			 bad[i]);
		write_conf(f, text, 0600);
		expect_error_at(f, NULL, 0, 4, "password_md5");
	}
}

static void inline_password_mode(void **state)
{
	struct fixture *f = *state;
	struct config cfg;

	write_conf(f, minimal, 0644);
	expect_error_at(f, NULL, 0, 0, "chmod");
	write_conf(f, minimal, 0604);
	expect_error_at(f, NULL, 0, 0, "chmod");

	write_conf(f,
		   "[pbx]\nurl = http://pbx\nusername = u\npassword_md5 = " MD5_ADMIN "\n"
		   "[archive]\ndir = /a\n",
		   0644);
	expect_error_at(f, NULL, 0, 0, "chmod");

	write_conf(f, minimal, 0600);
	load_ok(f, NULL, 0, &cfg);
	assert_string_equal(cfg.pbx.password_md5, MD5_ADMIN);
	config_free(&cfg);
}

static void password_file_rules(void **state)
{
	struct fixture *f = *state;
	struct config cfg;
	char text[PATH_MAX + 256];

	write_conf(f,
		   "[pbx]\nurl = http://pbx\nusername = u\npassword_file = pw\n"
		   "[archive]\ndir = /a\n",
		   0644);
	write_file(f->dir, "pw", "admin\n", 0644);
	snprintf(text, sizeof text, "%s/pw", f->dir);
	expect_error_naming(f, text, "chmod");
	write_file(f->dir, "pw", "admin\n", 0604);
	expect_error_naming(f, text, "chmod");

	/* only the first line counts; no trailing newline needed */
	write_file(f->dir, "pw", "admin", 0600);
	load_ok(f, NULL, 0, &cfg);
	assert_string_equal(cfg.pbx.password_md5, MD5_ADMIN);
	config_free(&cfg);

	write_file(f->dir, "pw", "max123456\nadmin\n", 0600);
	load_ok(f, NULL, 0, &cfg);
	assert_string_equal(cfg.pbx.password_md5, "bda313358ca9daf69a08ecd18942b644");
	config_free(&cfg);

	write_file(f->dir, "pw", "\nadmin\n", 0600);
	expect_error_naming(f, text, "empty");

	/* a missing password file is an error naming it */
	assert_int_equal(remove(text), 0);
	expect_error_naming(f, text, strerror(ENOENT));

	/* an absolute password_file is taken as it is */
	write_file(f->dir, "elsewhere/secret", "monitor\n", 0600);
	snprintf(text, sizeof text,
		 "[pbx]\nurl = http://pbx\nusername = u\npassword_file = %s/elsewhere/secret\n"
		 "[archive]\ndir = /a\n",
		 f->dir);
	write_conf(f, text, 0644);
	load_ok(f, NULL, 0, &cfg);
	assert_string_equal(cfg.pbx.password_md5, "08b5411f848a2581a41672a759c87380");
	config_free(&cfg);
}

/* [signing]: the secret key must be private like the password file; previous_public_key_file
 * may be given up to 8 times (keys rotated out), each a path relative to the config. */
static void signing_keys(void **state)
{
	struct fixture *f = *state;
	struct config cfg;
	char text[4096], key[PATH_MAX + 16];
	size_t at;

	write_file(f->dir, "sign.key", "untrusted comment: x\nRWQ=\n", 0644);
	write_conf(f,
		   "[pbx]\nurl = http://pbx\nusername = u\npassword_md5 = " MD5_ADMIN "\n"
		   "[archive]\ndir = /a\n[signing]\nsecret_key_file = sign.key\n",
		   0600);
	snprintf(key, sizeof key, "%s/sign.key", f->dir);
	expect_error_naming(f, key, "chmod");
	write_file(f->dir, "sign.key", "untrusted comment: x\nRWQ=\n", 0600);
	load_ok(f, NULL, 0, &cfg);
	assert_int_equal(cfg.signing.nprevious, 0);
	config_free(&cfg);

	at = (size_t)snprintf(text, sizeof text,
			      "[pbx]\nurl = http://pbx\nusername = u\npassword_md5 = " MD5_ADMIN
			      "\n[archive]\ndir = /a\n[signing]\n");
	for (int i = 0; i < 8; i++)
		at += (size_t)snprintf(text + at, sizeof text - at,
				       "previous_public_key_file = old%d.pub\n", i);
	write_conf(f, text, 0600);
	load_ok(f, NULL, 0, &cfg);
	assert_int_equal(cfg.signing.nprevious, 8);
	snprintf(key, sizeof key, "%s/old7.pub", f->dir);
	assert_string_equal(cfg.signing.previous_public_key_files[7], key);
	config_free(&cfg);
	snprintf(text + at, sizeof text - at, "previous_public_key_file = old8.pub\n");
	write_conf(f, text, 0600);
	expect_error_naming(f, "previous_public_key_file", "more than 8");
}

/* [cdr] and [ami]: defaults, values, the rules between keys, and the AMI secret kept like the
 * password (never from -o, its file private). */
static void cdr_and_ami(void **state)
{
	struct fixture *f = *state;
	struct config cfg;
	char text[PATH_MAX + 256];
	char *ov[] = { "ami.port=6038", "cdr.join=false" };

	write_conf(f, minimal, 0600);
	load_ok(f, NULL, 0, &cfg);
	assert_int_equal(cfg.cdr.join, 1);
	assert_int_equal(cfg.cdr.archive, 0);
	assert_int_equal(cfg.cdr.delete_from_pbx, 0);
	assert_int_equal(cfg.ami.port, 5038);
	assert_null(cfg.ami.host);
	assert_null(cfg.ami.secret);
	assert_int_equal(cfg.ami.reconnect_max, 60);
	assert_int_equal(cfg.ami.coalesce_ms, 1000);
	config_free(&cfg);

	snprintf(text, sizeof text, "%s[cdr]\narchive = yes\ndelete_from_pbx = on\n[ami]\n"
		 "host = 10.0.0.5\nport = 5039\nusername = ami\nsecret = s3cret\n"
		 "reconnect_max = 120\ncoalesce_ms = 0\n", minimal);
	write_conf(f, text, 0600);
	load_ok(f, ov, 1, &cfg);
	assert_int_equal(cfg.cdr.archive, 1);
	assert_int_equal(cfg.cdr.delete_from_pbx, 1);
	assert_string_equal(cfg.ami.host, "10.0.0.5");
	assert_int_equal(cfg.ami.port, 6038);
	assert_string_equal(cfg.ami.username, "ami");
	assert_string_equal(cfg.ami.secret, "s3cret");
	assert_int_equal(cfg.ami.reconnect_max, 120);
	assert_int_equal(cfg.ami.coalesce_ms, 0);
	config_free(&cfg);
	/* archive needs join */
	expect_override_error(f, ov[1], f->conf, "archive needs join");

	/* a secret in a file others can read is refused, like a password */
	write_conf(f, text, 0644);
	expect_error_naming(f, f->conf, "chmod");
	write_conf(f, text, 0600);
	expect_override_error(f, "ami.secret=oops", "-o ami.secret", "command line");

	snprintf(text, sizeof text, "%s[cdr]\ndelete_from_pbx = true\n", minimal);
	write_conf(f, text, 0600);
	expect_error_at(f, NULL, 0, 0, "delete_from_pbx needs archive");
	snprintf(text, sizeof text, "%s[ami]\nport = 70000\n", minimal);
	write_conf(f, text, 0600);
	expect_error_at(f, NULL, 0, 8, "[ami] port");
	snprintf(text, sizeof text, "%s[sync]\nparallel = 9\n", minimal);
	write_conf(f, text, 0600);
	expect_error_at(f, NULL, 0, 8, "[sync] parallel");
	snprintf(text, sizeof text, "%s[sync]\nparallel = 4\n", minimal);
	write_conf(f, text, 0600);
	load_ok(f, NULL, 0, &cfg);
	assert_int_equal(cfg.sync.parallel, 4);
	config_free(&cfg);
	snprintf(text, sizeof text, "%s[cdr]\nkeep = 1\n", minimal);
	write_conf(f, text, 0600);
	expect_error_at(f, NULL, 0, 8, "unknown key 'keep' in [cdr]");

	/* secret_file: its first line */
	snprintf(text, sizeof text, "%s[ami]\nsecret_file = ami\n", minimal);
	write_conf(f, text, 0600);
	write_file(f->dir, "ami", "from-file\nsecond\n", 0600);
	load_ok(f, NULL, 0, &cfg);
	assert_string_equal(cfg.ami.secret, "from-file");
	config_free(&cfg);
	write_file(f->dir, "ami", "from-file\n", 0644);
	expect_error_naming(f, "ami", "chmod");
}

/* [offsite]: defaults, values, the secret kept like the password (never from -o, its file
 * private), and the rules between keys. */
static void offsite_keys(void **state)
{
	struct fixture *f = *state;
	struct config cfg;
	char text[PATH_MAX + 512];

	write_conf(f, minimal, 0600);
	load_ok(f, NULL, 0, &cfg);
	assert_null(cfg.offsite.url);
	assert_int_equal(cfg.offsite.lock, OFFSITE_LOCK_AUTO);
	assert_int_equal(cfg.offsite.lock_days, -1);
	assert_int_equal(cfg.offsite.required_for_delete, 1);
	config_free(&cfg);

	snprintf(text, sizeof text, "%s[retention]\narchive_keep_days = 100\n[offsite]\n"
		 "url = https://s3.example/bucket/pbx1\nregion = eu-central-1\naccess_key = AKIA1\n"
		 "secret_key_file = s3.secret\nlock = governance\nrequired_for_delete = false\n"
		 "max_rate = 4M\ninsecure = true\n", minimal);
	write_conf(f, text, 0600);
	write_file(f->dir, "s3.secret", "sekrit\n", 0600);
	load_ok(f, NULL, 0, &cfg);
	assert_string_equal(cfg.offsite.url, "https://s3.example/bucket/pbx1");
	assert_string_equal(cfg.offsite.region, "eu-central-1");
	assert_string_equal(cfg.offsite.access_key, "AKIA1");
	assert_string_equal(cfg.offsite.secret_key, "sekrit");
	assert_int_equal(cfg.offsite.lock, OFFSITE_LOCK_GOVERNANCE);
	assert_int_equal(cfg.offsite.lock_days, 100); /* from archive_keep_days */
	assert_int_equal(cfg.offsite.required_for_delete, 0);
	assert_int_equal(cfg.offsite.max_rate, 4 << 20); /* [pbx] max_rate's units */
	assert_int_equal(cfg.offsite.insecure, 1);
	config_free(&cfg);
	write_file(f->dir, "s3.secret", "sekrit\n", 0644);
	expect_error_naming(f, "s3.secret", "chmod");
	write_file(f->dir, "s3.secret", "sekrit\n", 0600);
	expect_override_error(f, "offsite.secret_key=oops", "-o offsite.secret_key", "command line");

	/* a rate as for [pbx]: a unit it does not know is named */
	snprintf(text, sizeof text, "%s[offsite]\nurl = http://rgw:8080/b\naccess_key = k\n"
		 "secret_key = s\nmax_rate = 2MB\n", minimal);
	write_conf(f, text, 0600);
	int rate_line = 5;
	for (const char *p = minimal; *p; p++)
		rate_line += *p == '\n';
	expect_error_at(f, NULL, 0, rate_line, "[offsite] max_rate");
	/* locking needs its days */
	snprintf(text, sizeof text, "%s[offsite]\nurl = http://rgw:8080/b\naccess_key = k\n"
		 "secret_key = s\nlock = compliance\n", minimal);
	write_conf(f, text, 0600);
	expect_error_at(f, NULL, 0, 0, "lock_days");
	/* keys are required */
	snprintf(text, sizeof text, "%s[offsite]\nurl = http://rgw:8080/b\n", minimal);
	write_conf(f, text, 0600);
	expect_error_at(f, NULL, 0, 0, "access_key");
	/* local copies go only when an offsite copy can be confirmed */
	snprintf(text, sizeof text, "%s[retention]\nlocal_keep_days = 30\n", minimal);
	write_conf(f, text, 0600);
	expect_error_at(f, NULL, 0, 0, "local_keep_days needs [offsite]");
	/* a URL without a bucket, an unknown lock */
	snprintf(text, sizeof text, "%s[offsite]\nurl = https://s3.example/\n", minimal);
	write_conf(f, text, 0600);
	expect_error_at(f, NULL, 0, 8, "BUCKET");
	snprintf(text, sizeof text, "%s[offsite]\nlock = forever\n", minimal);
	write_conf(f, text, 0600);
	expect_error_at(f, NULL, 0, 8, "[offsite] lock");
}

static void overrides(void **state)
{
	struct fixture *f = *state;
	struct config cfg;
	char *ov[] = { "sync.batch_files=7", "pbx.url=https://other.example/", "sync.lookback=1d",
		       "retention.delete_from_pbx=true" };

	write_conf(f, minimal, 0600);
	load_ok(f, ov, 4, &cfg);
	assert_int_equal(cfg.sync.batch_files, 7);
	assert_string_equal(cfg.pbx.url, "https://other.example");
	assert_int_equal(cfg.sync.lookback, 1440);
	assert_int_equal(cfg.retention.delete_from_pbx, 1);
	config_free(&cfg);

	expect_override_error(f, "pbx.password=Tr0ub4dor&3", "-o pbx.password: ", "-o");
	expect_override_error(f, "pbx.password_md5=" MD5_ADMIN, "-o pbx.password_md5: ", "-o");
	expect_override_error(f, "pbx.password_file=/tmp/pw-file", "-o pbx.password_file: ",
			      "-o");
	expect_override_error(f, "foo", "-o ", "section.key=value");
	expect_override_error(f, "foo=bar-value", "-o ", "section.key=value");
	expect_override_error(f, "sync.batch_files", "-o ", "section.key=value");
	expect_override_error(f, "sync.batch_files=abcdef", "-o sync.batch_files: ", "batch_files");
	expect_override_error(f, "sync.nosuch=1", "-o sync.nosuch: ", "nosuch");
	expect_override_error(f, "nosuch.key=1", "-o nosuch.key: ", "nosuch");
	expect_override_error(f, "pbx.url=gopher://x.example", "-o pbx.url: ", "url");
}

static void md5_hex(void **state)
{
	char hex[33];

	(void)state;
	config_md5_hex("monitor", 7, hex);
	assert_string_equal(hex, "08b5411f848a2581a41672a759c87380");
	config_md5_hex("max123456", 9, hex);
	assert_string_equal(hex, "bda313358ca9daf69a08ecd18942b644");
	config_md5_hex("admin", 5, hex);
	assert_string_equal(hex, MD5_ADMIN);
	config_md5_hex("", 0, hex);
	assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
	/* the length counts, not the NUL */
	config_md5_hex("admin-and-more", 5, hex);
	assert_string_equal(hex, MD5_ADMIN);
}

static void missing_file(void **state)
{
	struct fixture *f = *state;
	struct config cfg;
	char err[512] = "", path[PATH_MAX];

	snprintf(path, sizeof path, "%s/absent.conf", f->dir);
	assert_int_equal(config_load(path, NULL, 0, &cfg, err, sizeof err), -1);
	assert_non_null(strstr(err, path));
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(full_file, setup, teardown),
		cmocka_unit_test_setup_teardown(defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(value_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(relative_config_path, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_section, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(url_needs_a_host, setup, teardown),
		cmocka_unit_test_setup_teardown(line_without_equals, setup, teardown),
		cmocka_unit_test_setup_teardown(first_error_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(required_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(password_key_count, setup, teardown),
		cmocka_unit_test_setup_teardown(password_md5_form, setup, teardown),
		cmocka_unit_test_setup_teardown(inline_password_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(password_file_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(signing_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(overrides, setup, teardown),
		cmocka_unit_test_setup_teardown(cdr_and_ami, setup, teardown),
		cmocka_unit_test_setup_teardown(offsite_keys, setup, teardown),
		cmocka_unit_test(md5_hex),
		cmocka_unit_test_setup_teardown(missing_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
