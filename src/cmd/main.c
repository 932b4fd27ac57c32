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
#include "cmd_report.h"
#include "cmd_status.h"
#include "find.h"
#include "help.h"
#include "base/config.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "base/units.h"
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

/* The limits of one run (--max-rate, --max-duration), for the config once it is loaded;
 * -1 where not given. */
struct limits {
	int64_t max_rate, max_duration;
};

/* --max-rate, --max-duration, --stop-at. Returns 0, or -1 (printed). */
static int parse_limit(const char *command, int c, const char *arg, struct job_options *opt,
		       struct limits *lim)
{
	if (c == 'r' && units_parse_rate(arg, &lim->max_rate) == 0)
		return 0;
	if (c == 'd' && units_parse_duration(arg, &lim->max_duration) == 0)
		return 0;
	if (c == 's' && units_parse_clock(arg, &opt->stop_at) == 0)
		return 0;
	log_error(c == 'r'   ? "%s --max-rate '%s': expected bytes per second such as 800K or 4M "
			       "(K, M, G are 1024, 1024^2, 1024^3; at least 16K), or 0 for no cap"
		  : c == 'd' ? "%s --max-duration '%s': expected a duration such as 90s, 45m, 2h or "
			       "1h30m (up to 366d), or 0 for no budget"
			     : "%s --stop-at '%s': expected a time of day HH:MM (the host's clock)",
		  command, arg);
	return -1;
}

/* run [LIMITS], backfill --from T --to T [LIMITS] (both needed), reconcile [--from T]
 * [--to T] [LIMITS] (the whole history up to the PBX's now when left out). */
static int parse_job(const char *command, int argc, char **argv, struct job_options *opt,
		     struct limits *lim)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "max-rate", required_argument, NULL, 'r' },
		{ "max-duration", required_argument, NULL, 'd' },
		{ "stop-at", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int backfill = strcmp(command, "backfill") == 0, run = strcmp(command, "run") == 0;
	int have_from = 0, have_to = 0, bad = 0, c;

	opt->from = 0;
	opt->to = -1;
	opt->stop_at = -1;
	lim->max_rate = lim->max_duration = -1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *what = c == 'f' ? "--from" : "--to";
		pbx_minute *slot = c == 'f' ? &opt->from : &opt->to;

		if (c == 'j') {
			opt->json = 1;
			continue;
		}
		if (c == 'r' || c == 'd' || c == 's') {
			if (parse_limit(command, c, optarg, opt, lim) != 0)
				return -1;
			continue;
		}
		if ((c != 'f' && c != 't') || run) {
			bad = 1; /* said below */
			break;
		}
		if (parse_when(optarg, c == 't', slot) != 0) {
			log_error("%s %s '%s': expected \"YYYY-MM-DD HH:MM\" or \"YYYY-MM-DD\"",
				  command, what, optarg);
			return -1;
		}
		*(c == 'f' ? &have_from : &have_to) = 1;
	}
	if (bad || optind != argc || (backfill && (!have_from || !have_to))) {
		log_error(run ? "run takes --max-rate, --max-duration, --stop-at and --json, and "
				"nothing else"
			  : backfill ? "backfill needs --from and --to (and takes the limits), and "
				       "nothing else"
				     : "reconcile takes --from and --to, both optional (and the "
				       "limits), and nothing else");
		return -1;
	}
	if (have_to && opt->from > opt->to) {
		log_error("%s: --from is after --to", command);
		return -1;
	}
	if (!run)
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
	struct limits lim = { -1, -1 };
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
		{ "restore", cmd_restore },
		{ "prune", cmd_prune },
		{ "hold", cmd_hold },
		{ "forget", cmd_forget },
		{ "find", cmd_find },
		{ "watch", cmd_watch },
		{ "status", cmd_status },
		{ "report", cmd_report },
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
	} else if (strcmp(command, "backfill") == 0 || strcmp(command, "reconcile") == 0 ||
		   strcmp(command, "run") == 0) {
		if (parse_job(command, argc - optind, argv + optind, &opt, &lim) != 0)
			return EXIT_USAGE;
	} else {
		log_error("unknown command: '%s' (try --help)", command);
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
	/* The limits given for this run win over the config's. */
	if (lim.max_rate >= 0)
		cfg.pbx.max_rate = lim.max_rate;
	if (lim.max_duration >= 0)
		cfg.sync.max_duration = lim.max_duration;
	rc = job_run(&cfg, &opt);
	config_free(&cfg);
	return rc;
}
