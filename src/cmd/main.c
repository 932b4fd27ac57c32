/* main.c — the command line: options, dispatch, exit codes. No pipeline logic lives here. */
#include <getopt.h>
#include <sys/resource.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_age.h"
#include "cmd_archive.h"
#include "cmd_sign.h"
#include "find.h"
#include "base/config.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "base/units.h"
#include "run/job.h"
#include "run/watch.h"

#define DEFAULT_CONFIG "/etc/nexo-archive.conf"
#define MAX_OVERRIDES 32

static const char usage[] =
	"usage: nexo-archive [-c FILE] [-o SECTION.KEY=VALUE]... [-v|-q] [--dry-run] COMMAND\n"
	"\n"
	"commands:\n"
	"  run [LIMITS]              the nightly job: archive what is new since the checkpoint,\n"
	"                            then (if [retention] delete_from_pbx) free the PBX\n"
	"  backfill --from T --to T [LIMITS]\n"
	"                            the same pipeline over one window (\"YYYY-MM-DD HH:MM\");\n"
	"                            the checkpoint is untouched and nothing is deleted; the same\n"
	"                            backfill again resumes where one that stopped short stopped\n"
	"  reconcile [--from T] [--to T] [LIMITS]\n"
	"                            list the PBX's whole history (or a span), month by month,\n"
	"                            and archive what the manifest lacks; deletes nothing\n"
	"    LIMITS: --max-rate RATE       cap downloads at RATE bytes/s, all lanes together\n"
	"                                  (500K, 4M; 0: none; overrides [pbx] max_rate)\n"
	"            --max-duration D      stop after D (90s, 45m, 2h, 1h30m; 0: none;\n"
	"                                  overrides [sync] max_duration)\n"
	"            --stop-at HH:MM       stop when the host's clock next shows HH:MM\n"
	"            at the limit the run finishes the file it is writing, records what landed,\n"
	"            deletes nothing and exits 1; the next run picks up there\n"
	"  keygen [-o FILE]          make an age identity for [encryption]; prints the recipient\n"
	"  keygen --sign [-o FILE]   make a minisign key pair (FILE, FILE.pub) for [signing]\n"
	"  decrypt -i IDENTITY FILE.age... [-o DIR | -o -]\n"
	"                            decrypt archived recordings (also files made by age -r)\n"
	"  verify [--from DAY] [--to DAY] [--deep -i IDENTITY] [--json] [--sample PERCENT]\n"
	"         [--witness FILE]   check manifests, signatures, the head across days and every\n"
	"                            archived file (FILE: the head last seen, kept off the host)\n"
	"  prune [--dry-run]         remove recordings older than [retention] archive_keep_days,\n"
	"                            except those under a legal hold\n"
	"  hold add (--number EXT | --from DAY --to DAY | --path GLOB) --reason TEXT\n"
	"  hold remove ID | hold list [--json]\n"
	"                            legal holds: held recordings are never pruned or forgotten\n"
	"  forget PATH --reason TEXT erase one recording from the archive (leaves a tombstone)\n"
	"  find [--from DAY] [--to DAY] [--src N] [--dst N] [--number N] [--disposition D]\n"
	"       [--uniqueid ID] [--calltype T] [--json]\n"
	"                            search the manifests for recordings by call data; prints\n"
	"                            call data and archive path (find --help: matching rules)\n"
	"  watch                     archive each recording seconds after its call ends, as the\n"
	"                            PBX's AMI announces it ([ami]); never deletes\n"
	"\n"
	"options:\n"
	"  -c, --config FILE   config file (default " DEFAULT_CONFIG ")\n"
	"  -o SECTION.KEY=VAL  override one config key (not passwords)\n"
	"  -n, --dry-run       list and plan; download and delete nothing\n"
	"  -v, --verbose       debug messages (never passwords or cookies)\n"
	"  -q, --quiet         warnings and errors only\n"
	"\n"
	"exit codes:\n"
	"  0 success   1 partial (something left for the next run)   2 usage or config error\n"
	"  3 another run holds the lock   4 PBX unreachable   5 PBX refused the login\n"
	"  6 archive storage error\n";

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
		log_error(run ? "run takes --max-rate, --max-duration and --stop-at, and nothing else"
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
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = DEFAULT_CONFIG, *command;
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
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	command = argv[optind];
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
