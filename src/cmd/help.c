/* help.c — one entry per command: its synopsis (the overview's lines) and what `help COMMAND`
 * adds. The overview, each command's help and the man page's COMMANDS list the same names
 * (tests/e2e/t_man.sh checks it). */
#include "help.h"

#include <string.h>

#include "archive/marker.h"

#ifndef NEXO_VERSION
#define NEXO_VERSION "unknown"
#endif

struct command_help {
	const char *name;
	const char *synopsis; /* after "nexo-archive [OPTIONS] "; one or more lines */
	const char *summary;  /* the overview's description, indented lines */
	const char *details;  /* help COMMAND's extra text, or NULL */
	int config;           /* reads the config */
};

/* What run, backfill and reconcile share. */
#define LIMITS_HELP \
	"Limits (run, backfill, reconcile):\n" \
	"  --max-rate RATE      cap downloads at RATE bytes/s, all lanes together (500K, 4M;\n" \
	"                       0: none; overrides [pbx] max_rate)\n" \
	"  --max-duration D     stop after D (90s, 45m, 2h, 1h30m; 0: none; overrides [sync]\n" \
	"                       max_duration)\n" \
	"  --stop-at HH:MM      stop when the host's clock next shows HH:MM\n" \
	"At a limit the run finishes the file it is writing, records what landed, deletes\n" \
	"nothing and exits 1; the next run (or the same backfill) picks up there.\n"

static const struct command_help commands[] = {
	{ "init", "init [--owner USER]",
	  "make the archive folder ([archive] dir) an archive: creates it and its\n"
	  "marker .nexo-archive; run, backfill, reconcile and watch refuse any other",
	  "  --owner USER   give the archive to USER (the service's user, nexo-archive):\n"
	  "                 the folder and everything in it, mode 0750\n"
	  "A folder that is already an archive (an older version's too) is marked and kept.\n",
	  1 },
	{ "run", "run [LIMITS] [--json]",
	  "the nightly job: archive what is new since the checkpoint, then\n"
	  "(if [retention] delete_from_pbx) free the PBX",
	  "With --dry-run: lists and plans, writes nothing (no folder, lock or state), and\n"
	  "ends with what it would fetch (recordings, bytes by the listing's sizes) and\n"
	  "delete. [sync] partial_alarm partial runs in a row exit 7.\n"
	  "  --json   print the run report (also in .state/last-run.json) instead of the\n"
	  "           summary line (run, backfill, reconcile)\n"
	  LIMITS_HELP,
	  1 },
	{ "backfill", "backfill --from T --to T [LIMITS] [--json]",
	  "the same pipeline over one window (\"YYYY-MM-DD HH:MM\" or \"YYYY-MM-DD\");\n"
	  "the checkpoint is untouched and nothing is deleted; the same backfill\n"
	  "again resumes where one that stopped short stopped",
	  LIMITS_HELP, 1 },
	{ "reconcile", "reconcile [--from T] [--to T] [LIMITS] [--json]",
	  "list the PBX's whole history (or a span), month by month,\n"
	  "and archive what the manifest lacks; deletes nothing",
	  LIMITS_HELP, 1 },
	{ "watch", "watch",
	  "archive each recording seconds after its call ends, as the\n"
	  "PBX's AMI announces it ([ami]); never deletes",
	  "Exits 0 after SIGTERM/SIGINT, 2 without [ami] username and secret, 5 when AMI\n"
	  "refuses the login, 6 on an archive error.\n",
	  1 },
	{ "keygen", "keygen [--sign] [-o FILE]",
	  "make an age identity for [encryption] and print its recipient;\n"
	  "with --sign, a minisign key pair (FILE, FILE.pub) for [signing]",
	  "The identity and the secret key are created mode 0600 (FILE.pub 0644);\n"
	  "no file is ever overwritten.\n", 0 },
	{ "decrypt", "decrypt -i IDENTITY FILE.age... [-o DIR | -o -]",
	  "decrypt archived recordings (also files made by age -r)",
	  "Output is written to a temp file and renamed only once fully authenticated.\n"
	  "Exit 0, 1 when a file failed, 2 on a usage error.\n",
	  0 },
	{ "verify", "verify [--from DAY] [--to DAY] [--deep -i IDENTITY] [--json] [--sample PERCENT]\n"
		    "[--witness FILE] [--offsite]",
	  "check manifests, signatures, the head across days and every archived file",
	  "  --witness FILE   the head the last clean verify of every day saw, kept off the\n"
	  "                   archive host: a head rolled back or replaced since is a finding;\n"
	  "                   a clean verify of every day moves FILE on to the head it saw\n"
	  "  --offsite        the [offsite] bucket too: every object there, its size, ETag and\n"
	  "                   lock, and its newest head against ours (--deep: its bytes hashed)\n",
	  1 },
	{ "restore", "restore --to DIR [--from DAY] [--until DAY]",
	  "rebuild a local archive in DIR from the [offsite] bucket alone",
	  "Manifests, signatures, heads and files of the days in range are downloaded and\n"
	  "checked; `verify` then accepts DIR as an archive (docs/offsite.md).\n",
	  1 },
	{ "prune", "prune [--dry-run]",
	  "remove recordings older than [retention] archive_keep_days,\n"
	  "except those under a legal hold",
	  "With [offsite] and [retention] local_keep_days, it also removes the local copies\n"
	  "of older calls whose offsite copy is confirmed (\"offloaded\"; restore brings\n"
	  "them back). --dry-run lists what it would remove.\n",
	  1 },
	{ "hold", "hold add (--number EXT | --from DAY --to DAY | --path GLOB) --reason TEXT\n"
		  "hold remove ID | hold list [--json]",
	  "legal holds: held recordings are never pruned or forgotten", NULL, 1 },
	{ "forget", "forget PATH --reason TEXT",
	  "erase one recording from the archive (leaves a tombstone)", NULL, 1 },
	{ "find", "find [--from DAY] [--to DAY] [--src N] [--dst N] [--number N]\n"
		  "[--disposition D] [--uniqueid ID] [--calltype T] [--json]",
	  "search the manifests for recordings by call data; prints\n"
	  "call data and archive path",
	  "Lists archived recordings (pruned and forgotten ones too) that match every filter.\n"
	  "  --from/--to DAY   call days YYYY-MM-DD, inclusive; only those manifests are read\n"
	  "  --src N, --dst N  the caller / the called number, the recording's or its CDR's\n"
	  "  --number N        either side. N matches a number equal to it or to the part before\n"
	  "                    or inside its parentheses (202 matches \"820(202)\"); a trailing *\n"
	  "                    makes it a prefix (\"+4930*\")\n"
	  "  --disposition D   the CDR's, any case (\"no answer\"); no CDR never matches\n"
	  "  --uniqueid ID     the CDR's, exactly\n"
	  "  --calltype T      any case, spaces ignored (\"Call Back\"); \"Interval\" = Internal\n"
	  "  --json            JSON Lines, one object per recording, and no count line\n"
	  "Columns: calldate, src → dst, calltype, disposition, billsec, uniqueid (\"-\": no CDR),\n"
	  "file under the archive folder or (pruned)/(forgotten); then \"N recordings\".\n"
	  "Exit: 0 ran (also with no match), 2 usage error, 6 the archive cannot be read.\n",
	  1 },
	{ "status", "status [--warning-age D] [--critical-age D]",
	  "one line for Nagios/Icinga (Monitoring Plugins): OK, WARNING,\n"
	  "CRITICAL or UNKNOWN, from the archive alone (no PBX traffic)",
	  "  --warning-age D    WARNING when the last successful run ended longer ago (26h)\n"
	  "  --critical-age D   CRITICAL then (50h)\n"
	  "CRITICAL also for a missing or unmarked archive folder, [sync] partial_alarm\n"
	  "partial runs in a row, a manifest head that fails or a newest day that no longer\n"
	  "matches it, and no successful run yet; WARNING when the last run exited 2 or more;\n"
	  "UNKNOWN without a run report (.state/last-run.json) or on a usage error.\n"
	  "Exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Perfdata: last_success_age,\n"
	  "partial_runs, the last run's archived, failed, missing, not_started.\n",
	  1 },
	{ "report", "report (--html FILE | --json) [--from DAY] [--to DAY]",
	  "the coverage calendar: per day what is archived, only on the\n"
	  "PBX, in progress, deleted, held...; one offline HTML page or JSON",
	  "  --html FILE   one self-contained HTML page (no script, font or image to fetch;\n"
	  "                prints well), written atomically\n"
	  "  --json        the same numbers as one JSON object on stdout\n"
	  "  --from/--to DAY  call days YYYY-MM-DD, inclusive (default: the last three months\n"
	  "                with data, or the whole archive when it is younger)\n"
	  "Per day: archived, only on PBX (listed, not archived yet), in progress (growing),\n"
	  "unavailable, invalid, deleted from the PBX, held, forgotten, vanished (listed, then\n"
	  "gone, never archived), and with [cdr] archive the recordings the CDR names (a day\n"
	  "whose count differs is marked); totals, the manifest head and the last runs.\n"
	  "Reads the archive alone (no PBX traffic, no lock); counts are cached per day in\n"
	  ".state/coverage.json against the signed head.\n"
	  "Exit: 0 written, 2 usage error, 6 the archive cannot be read or FILE written.\n",
	  1 },
	{ "help", "help [COMMAND]", "this overview, or one command's help", NULL, 0 },
};

#define NCOMMANDS (sizeof commands / sizeof *commands)

static const char options[] =
	"options:\n"
	"  -c, --config FILE   config file (default " NEXO_DEFAULT_CONFIG ")\n"
	"  -o SECTION.KEY=VAL  override one config key (not passwords)\n"
	"  -n, --dry-run       list and plan; download, write and delete nothing\n"
	"  -v, --verbose       debug messages (never passwords or cookies)\n"
	"  -q, --quiet         warnings and errors only; a run that succeeds prints nothing\n"
	"  -h, --help          this help (COMMAND --help: that command's)\n"
	"      --version       the version\n";

static const char exit_codes[] =
	"exit codes:\n"
	"  0 success   1 partial (something left for the next run)   2 usage or config error\n"
	"  3 another run holds the lock   4 PBX unreachable   5 PBX refused the login\n"
	"  6 archive error (storage, or a missing or unmarked archive folder: init)\n"
	"  7 partial, [sync] partial_alarm runs in a row\n";

/* Prints `text`'s lines, each after `indent` spaces (the first after `first` instead). */
static void lines(FILE *out, const char *text, const char *first, const char *indent)
{
	const char *p = text;

	while (*p) {
		size_t n = strcspn(p, "\n");
		fprintf(out, "%s%.*s\n", p == text ? first : indent, (int)n, p);
		p += n + (p[n] == '\n');
	}
}

void help_overview(FILE *out)
{
	fputs("usage: nexo-archive [-c FILE] [-o SECTION.KEY=VALUE]... [-v|-q] [--dry-run] COMMAND\n"
	      "\ncommands:\n", out);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct command_help *h = &commands[i];
		lines(out, h->synopsis, "  ", "    ");
		lines(out, h->summary, "      ", "      ");
	}
	fputs("\n", out);
	fputs(options, out);
	fputs("\n", out);
	fputs(exit_codes, out);
	fputs("\nnexo-archive help COMMAND, or COMMAND --help: one command. man nexo-archive.\n", out);
}

int help_command(const char *name, FILE *out)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct command_help *h = &commands[i];
		if (strcmp(h->name, name) != 0)
			continue;
		lines(out, h->synopsis, h->config ? "usage: nexo-archive [-c FILE] [OPTIONS] "
						  : "usage: nexo-archive ",
		      "       nexo-archive ... ");
		fputs("\n", out);
		lines(out, h->summary, "", "");
		if (h->details) {
			fputs("\n", out);
			fputs(h->details, out);
		}
		if (h->config)
			fputs("\nReads the config (-c FILE, default " NEXO_DEFAULT_CONFIG ").\n", out);
		return 0;
	}
	return -1;
}

int help_is_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return 1;
	return 0;
}

void help_version(FILE *out)
{
	fprintf(out, "nexo-archive %s (archive format %d)\n", NEXO_VERSION, MARKER_FORMAT);
}

int help_asked(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}
