/* main.c — the command line: options, dispatch, exit codes. No pipeline logic lives here. */
#include <getopt.h>
#include <sys/resource.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_age.h"
#include "cmd_init.h"
#include "cmd_archive.h"
#include "cmd_sign.h"
#include "find.h"
#include "help.h"
#include "base/config.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "run/job.h"
#include "run/watch.h"

#define MAX_OVERRIDES 32

/* "YYYY-MM-DD HH:MM", or a bare day: its first minute (`last`: its last one). */
static int parse_when(const char *text, int last, pbx_minute *out)
{
	char full[32];

	if (strlen(text) == 10) {
		snprintf(full, sizeof full, "%s %s", text, last ? "23:59" : "00:00");
		text = full;
	}
	return pbxtime_parse(text, out);
}

/* backfill --from T --to T (both needed), reconcile [--from T] [--to T] (the whole history up
 * to the PBX's now when left out). */
static int parse_span(const char *command, int argc, char **argv, struct job_options *opt)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int backfill = strcmp(command, "backfill") == 0, have_from = 0, have_to = 0, c;

	opt->from = 0;
	opt->to = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *what = c == 'f' ? "--from" : "--to";
		pbx_minute *slot = c == 'f' ? &opt->from : &opt->to;

		if (c != 'f' && c != 't')
			return -1;
		if (parse_when(optarg, c == 't', slot) != 0) {
			log_error("%s %s '%s': expected \"YYYY-MM-DD HH:MM\" or \"YYYY-MM-DD\"",
				  command, what, optarg);
			return -1;
		}
		*(c == 'f' ? &have_from : &have_to) = 1;
	}
	if (optind != argc || (backfill && (!have_from || !have_to))) {
		log_error(backfill ? "backfill needs --from and --to, and nothing else"
				   : "reconcile takes --from and --to, both optional, and nothing else");
		return -1;
	}
	if (have_to && opt->from > opt->to) {
		log_error("%s: --from is after --to", command);
		return -1;
	}
	*(backfill ? &opt->backfill : &opt->reconcile) = 1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NEXO_DEFAULT_CONFIG, *command;
	char *overrides[MAX_OVERRIDES];
	size_t noverrides = 0;
	struct job_options opt;
	struct config cfg;
	char err[1024];
	int c, rc;

	/* No core dumps: they would hold the password hash and the session cookie. */
	struct rlimit no_core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &no_core);
	memset(&opt, 0, sizeof opt);
	while ((c = getopt_long(argc, argv, "+c:o:nvqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'o':
			if (noverrides == MAX_OVERRIDES) {
				log_error("too many -o options");
				return EXIT_USAGE;
			}
			overrides[noverrides++] = optarg;
			break;
		case 'n':
			opt.dry_run = 1;
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		case 'q':
			log_set_level(LOG_WARN);
			break;
		case 'h':
			help_overview(stdout);
			return EXIT_OK;
		case 'V':
			help_version(stdout);
			return EXIT_OK;
		default:
			help_overview(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		help_overview(stderr);
		return EXIT_USAGE;
	}
	command = argv[optind];
	/* Help never needs a config: `help [COMMAND]`, `COMMAND --help`, `COMMAND -h`. */
	if (strcmp(command, "help") == 0) {
		if (optind + 1 >= argc) {
			help_overview(stdout);
			return EXIT_OK;
		}
		const char *what = argv[optind + 1];
		if (help_asked(2, argv + optind))
			what = "help";
		if (optind + 2 == argc && help_command(what, stdout) == 0)
			return EXIT_OK;
		log_error("help: no such command '%s' (nexo-archive help lists them)", argv[optind + 1]);
		return EXIT_USAGE;
	}
	if (help_is_command(command) && help_asked(argc - optind, argv + optind)) {
		help_command(command, stdout);
		return EXIT_OK;
	}
	if (sodium_init() < 0) {
		log_error("libsodium cannot start");
		return EXIT_USAGE;
	}
	/* Commands that need no config. */
	if (strcmp(command, "keygen") == 0) {
		for (int i = optind + 1; i < argc; i++)
			if (strcmp(argv[i], "--sign") == 0)
				return cmd_keygen_sign(argc - optind, argv + optind);
		return cmd_keygen(argc - optind, argv + optind);
	}
	if (strcmp(command, "decrypt") == 0)
		return cmd_decrypt(argc - optind, argv + optind);
	static const struct {
		const char *name;
		int (*fn)(const struct config *cfg, int argc, char **argv);
	} archive_cmds[] = {
		{ "verify", cmd_verify },
		{ "prune", cmd_prune },
		{ "hold", cmd_hold },
		{ "forget", cmd_forget },
		{ "find", cmd_find },
		{ "watch", cmd_watch },
	};
	int (*archive_cmd)(const struct config *, int, char **) = NULL;
	for (size_t i = 0; i < sizeof archive_cmds / sizeof *archive_cmds; i++)
		if (strcmp(command, archive_cmds[i].name) == 0)
			archive_cmd = archive_cmds[i].fn;
	if (archive_cmd) {
		if (opt.dry_run && strcmp(command, "prune") != 0) {
			log_error("--dry-run applies to run, backfill, reconcile and prune, not to %s", command);
			return EXIT_USAGE;
		}
	} else if (strcmp(command, "init") == 0) {
		if (opt.dry_run) {
			log_error("--dry-run does not apply to init");
			return EXIT_USAGE;
		}
	} else if (strcmp(command, "backfill") == 0 || strcmp(command, "reconcile") == 0) {
		if (parse_span(command, argc - optind, argv + optind, &opt) != 0)
			return EXIT_USAGE;
	} else if (strcmp(command, "run") != 0 || optind + 1 != argc) {
		log_error("unknown command or extra arguments: '%s' (try --help)", command);
		return EXIT_USAGE;
	}
	if (config_load(config_path, overrides, noverrides, &cfg, err, sizeof err) != 0) {
		log_error("%s", err);
		return EXIT_USAGE;
	}
	if (strcmp(command, "init") == 0) {
		rc = cmd_init(&cfg, argc - optind, argv + optind);
		config_free(&cfg);
		return rc;
	}
	if (archive_cmd) {
		/* `nexo-archive --dry-run prune` must not prune: pass it on. */
		char *args[64];
		int n = argc - optind;
		if (n + 2 > (int)(sizeof args / sizeof *args)) {
			log_error("too many arguments");
			config_free(&cfg);
			return EXIT_USAGE;
		}
		memcpy(args, argv + optind, (size_t)n * sizeof *args);
		if (opt.dry_run)
			args[n++] = (char *)"--dry-run";
		args[n] = NULL;
		rc = archive_cmd(&cfg, n, args);
		config_free(&cfg);
		return rc;
	}
	rc = job_run(&cfg, &opt);
	config_free(&cfg);
	return rc;
}
