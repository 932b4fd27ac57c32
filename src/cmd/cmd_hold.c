/* cmd_hold.c — `nexo-archive hold add|remove|list` (cmd_archive.h): options, the run lock for
 * changes, output and exit codes. holds.json itself (reading, changing, saving) is hold.c's. */
#include "cmd_archive.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_archive_internal.h"
#include "archive/hold.h"
#include "archive/store.h"
#include "base/config.h"
#include "base/exitcode.h"
#include "base/log.h"

static const char hold_usage[] =
	"usage: nexo-archive hold add (--number EXT | --from DAY --to DAY | --path GLOB)"
	" --reason TEXT\n"
	"       nexo-archive hold remove ID\n"
	"       nexo-archive hold list [--json]\n";

static void print_hold(const struct hold *x)
{
	char v[CMD_ESC], r[CMD_ESC], w[CMD_ESC], rb[CMD_ESC];

	if (x->kind == HOLD_RANGE)
		snprintf(v, sizeof v, "%s..%s", x->from, x->to);
	else
		log_escape(x->value, v, sizeof v);
	log_escape(x->who, w, sizeof w);
	printf("%s  %s  %s %s  created %s by %s", x->id, x->removed ? "removed " : "in force",
	       hold_kind_name(x->kind), v, x->created, w);
	if (x->removed)
		printf("  removed %s by %s", x->removed_at,
		       log_escape(x->removed_by, rb, sizeof rb));
	printf("  reason: %s\n", log_escape(x->reason, r, sizeof r));
}

static int hold_list(struct store *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct holds *h;
	char err[512];
	int c, json = 0;

	cmd_restart_getopt();
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'j')
			return cmd_usage_error(hold_usage);
		json = 1;
	}
	if (optind != argc)
		return cmd_usage_error(hold_usage);
	h = holds_load(s, err, sizeof err);
	if (!h) {
		log_error("%s", err);
		return EXIT_STORAGE;
	}
	if (json) {
		char *text = holds_to_json(h);
		if (!text) {
			holds_free(h);
			log_error("out of memory");
			return EXIT_STORAGE;
		}
		fputs(text, stdout);
		free(text);
	} else {
		for (size_t i = 0; i < holds_count(h); i++)
			print_hold(holds_at(h, i));
		if (holds_count(h) == 0)
			printf("no holds\n");
	}
	holds_free(h);
	return EXIT_OK;
}

/* add/remove: parse, then change and save under the lock. */
static int hold_change(const struct config *cfg, struct store *s, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "number", required_argument, NULL, 'N' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "path", required_argument, NULL, 'p' },
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *number = NULL, *from = NULL, *to = NULL, *glob = NULL, *reason = NULL, *id;
	int add = strcmp(argv[0], "add") == 0, c, lockfd, rc = EXIT_STORAGE, kinds;
	const struct hold *added;
	struct holds *h;
	char err[512], who[HOLD_WHO_MAX], esc[CMD_ESC];

	cmd_restart_getopt();
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char **slot = c == 'N' ? &number : c == 'f' ? &from : c == 't' ? &to
				  : c == 'p' ? &glob : c == 'r' ? &reason : NULL;
		if (!add || !slot)
			return cmd_usage_error(hold_usage);
		*slot = optarg;
	}
	kinds = !!number + !!glob + !!(from || to);
	if (add ? optind != argc || kinds != 1 || !reason : optind + 1 != argc) {
		if (add && kinds != 1)
			log_error("hold add takes exactly one of --number, --from/--to, --path");
		else if (add && !reason)
			log_error("hold add needs --reason");
		return cmd_usage_error(hold_usage);
	}
	lockfd = cmd_lock(cfg, s, add ? "add the hold" : "remove the hold");
	if (lockfd < 0)
		return -lockfd;
	h = holds_load(s, err, sizeof err);
	if (!h) {
		log_error("%s", err);
		close(lockfd);
		return EXIT_STORAGE;
	}
	holds_whoami(who, sizeof who);
	if (add) {
		enum hold_kind k = number ? HOLD_NUMBER : glob ? HOLD_PATH : HOLD_RANGE;
		added = holds_add(h, k, number ? number : glob, from, to, reason, who, err,
				  sizeof err);
		if (!added) {
			log_error("hold add: %s", err);
			rc = EXIT_USAGE;
			goto out;
		}
		id = added->id;
	} else {
		id = argv[optind];
		c = holds_remove(h, id, who);
		if (c != 0) {
			log_error("hold remove %s: %s (see hold list)",
				  log_escape(id, esc, sizeof esc),
				  c == 1 ? "no hold has that id" : "that hold was already removed");
			rc = EXIT_PARTIAL;
			goto out;
		}
	}
	if (holds_save(h, s, err, sizeof err) != 0) {
		log_error("cannot write %s/" HOLDS_FILE ": %s", cfg->archive.dir, err);
		goto out;
	}
	printf("%s hold %s\n", add ? "added" : "removed", log_escape(id, esc, sizeof esc));
	rc = EXIT_OK;
out:
	holds_free(h);
	close(lockfd);
	return rc;
}

int cmd_hold(const struct config *cfg, int argc, char **argv)
{
	struct store *s;
	int rc;

	if (argc < 2)
		return cmd_usage_error(hold_usage);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(hold_usage, stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "add") && strcmp(argv[1], "remove") && strcmp(argv[1], "list"))
		return cmd_usage_error(hold_usage);
	s = cmd_open_archive(cfg);
	if (!s)
		return EXIT_STORAGE;
	if (!strcmp(argv[1], "list"))
		rc = hold_list(s, argc - 1, argv + 1);
	else
		rc = hold_change(cfg, s, argc - 1, argv + 1);
	store_close(s);
	return rc;
}
