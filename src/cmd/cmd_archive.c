/* cmd_archive.c — what the commands on the archive alone share (cmd_archive_internal.h):
 * getopt restarts, usage errors, day arguments, opening an existing archive, the run lock and
 * the signing keys. The commands themselves (cmd_archive.h) live in cmd_verify.c (verify),
 * cmd_prune.c (prune, forget) and cmd_hold.c (hold); the work in verify.c, prune.c, hold.c.
 * Opens nothing it does not hand back, and never creates an archive. */
#include "cmd_archive_internal.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/state.h"
#include "archive/store.h"
#include "base/config.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "base/pbxtime.h"
#include "crypto/minisign.h"

/* optind = 0 rather than 1: glibc then re-reads the option string, so main's "+" (stop at the
 * first operand) does not carry over and options may follow operands ("forget PATH --reason
 * TEXT"). argv[0] is skipped either way. */
void cmd_restart_getopt(void)
{
	optind = 0;
}

int cmd_usage_error(const char *usage)
{
	fputs(usage, stderr);
	return EXIT_USAGE;
}

int cmd_valid_day(const char *s)
{
	char buf[32];
	pbx_minute m;

	if (strlen(s) != 10)
		return 0;
	snprintf(buf, sizeof buf, "%s 00:00", s);
	return pbxtime_parse(buf, &m) == 0;
}

struct store *cmd_open_archive(const struct config *cfg)
{
	struct store *s;
	char err[512];

	if (!cfg->archive.dir) {
		log_error("%s: [archive] dir is not set", cfg->path ? cfg->path : "config");
		return NULL;
	}
	s = store_open(cfg->archive.dir, STORE_WRITE, err, sizeof err);
	if (!s)
		log_error("%s", err);
	return s;
}

int cmd_lock(const struct config *cfg, struct store *s, const char *what)
{
	long holder;
	int fd = state_lock(s, &holder);

	if (fd == -2) {
		log_error("another nexo-archive (pid %ld) holds the lock on %s; %s later", holder,
			  cfg->archive.dir, what);
		return -EXIT_LOCKED;
	}
	return fd < 0 ? -EXIT_STORAGE : fd;
}

int cmd_load_public(const struct config *cfg, struct minisign_public **pk)
{
	char err[512];

	*pk = NULL;
	if (!cfg->signing.public_key_file)
		return 0;
	*pk = minisign_public_load(cfg->signing.public_key_file, err, sizeof err);
	if (!*pk) {
		log_error("%s: [signing] public_key_file: %s", cfg->path, err);
		return -1;
	}
	return 0;
}

int cmd_load_keys(const struct config *cfg, struct minisign_secret **k,
		  struct minisign_public **pk)
{
	char err[512];

	*k = NULL;
	if (cmd_load_public(cfg, pk) != 0)
		return -1;
	if (!cfg->signing.secret_key_file) {
		if (*pk)
			log_warn("[signing] secret_key_file is not set: days changed now keep "
				 "their old signatures, which will no longer verify");
		return 0;
	}
	*k = minisign_secret_load(cfg->signing.secret_key_file, err, sizeof err);
	if (!*k) {
		log_error("%s: [signing] secret_key_file: %s", cfg->path, err);
		minisign_public_free(*pk);
		*pk = NULL;
		return -1;
	}
	return 0;
}
