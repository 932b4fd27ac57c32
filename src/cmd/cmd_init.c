/* cmd_init.c — init: the marker (archive/marker.h) and, for a service that runs as its own
 * user, the ownership that lets it write there. Ownership is given to the whole tree: an
 * archive a root run once wrote into would otherwise hold files the service cannot replace. */
#include "cmd_init.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_archive_internal.h"
#include "archive/marker.h"
#include "base/config.h"
#include "base/exitcode.h"
#include "base/log.h"

static const char init_usage[] = "usage: nexo-archive [-c FILE] init [--owner USER]\n";

/* nftw() takes no context: the owner being given, and the first failure. */
static uid_t give_uid;
static gid_t give_gid;
static int give_errno;
static char give_path[1024];

static int give_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	/* lchown: a symlink planted in the archive is changed itself, never what it points to. */
	if (lchown(path, give_uid, give_gid) != 0) {
		give_errno = errno;
		snprintf(give_path, sizeof give_path, "%s", path);
		return 1;
	}
	return 0;
}

/* Gives `root` and everything under it to `user`. Returns 0, or -1 (printed). */
static int give_to(const char *root, const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (!pw) {
		log_error("init --owner: no user '%s' (the package creates nexo-archive)", user);
		return -1;
	}
	give_uid = pw->pw_uid;
	give_gid = pw->pw_gid;
	if (nftw(root, give_one, 32, FTW_PHYS | FTW_MOUNT) != 0) {
		log_error("init --owner: cannot give %s to %s: %s", give_path[0] ? give_path : root,
			  user, strerror(give_errno ? give_errno : errno));
		return -1;
	}
	if (chmod(root, 0750) != 0) {
		log_error("init: chmod 0750 %s: %s", root, strerror(errno));
		return -1;
	}
	return 0;
}

int cmd_init(const struct config *cfg, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "owner", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	const char *owner = NULL;
	char err[1024];
	int c, rc;

	cmd_restart_getopt();
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'u')
			return cmd_usage_error(init_usage);
		owner = optarg;
	}
	if (optind != argc)
		return cmd_usage_error(init_usage);
	rc = marker_create(cfg->archive.dir, err, sizeof err);
	if (rc < 0) {
		log_error("init: %s", err);
		return EXIT_STORAGE;
	}
	if (owner && give_to(cfg->archive.dir, owner) != 0)
		return EXIT_STORAGE;
	printf("%s %s (archive format %d)%s%s\n", rc == 1 ? "initialised" : "already an archive:",
	       cfg->archive.dir, MARKER_FORMAT, owner ? ", owned by " : "", owner ? owner : "");
	return EXIT_OK;
}
