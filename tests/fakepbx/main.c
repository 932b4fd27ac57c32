/*
 * main.c — fakepbx command line, start-up and shutdown.
 *
 * Owns option parsing (two modes: --generate writes a recording disk,
 * --data serves one), the listening address (loopback only), the port
 * file, TLS key material and signal handling. It is the only place that
 * exits: 0 ok, 1 run-time error, 2 usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ami.h"
#include "cdr.h"
#include "clock.h"
#include "fakepbx.h"
#include "generate.h"
#include "http.h"
#include "live.h"
#include "omit.h"
#include "wavcache.h"

#define MAIN_PEM_MAX (1024 * 1024)

enum {
	OPT_GENERATE = 256, OPT_DAYS, OPT_PER_DAY, OPT_SEED, OPT_START, OPT_MIN_S, OPT_MAX_S,
	OPT_QUEUE_PERCENT, OPT_QUEUE_MAX,
	OPT_DATA, OPT_LISTEN, OPT_PORT_FILE, OPT_TLS, OPT_USER, OPT_PASSWORD, OPT_MAX_ROWS,
	OPT_MAX_URL, OPT_FAULT, OPT_DELETE_LOG, OPT_LIST_STYLE, OPT_INT_VALUES, OPT_LIST_SIZES,
	OPT_BARE_SINGLE, OPT_TAR_NAMES, OPT_DOWNLOAD_KEY, OPT_LOGIN_STYLE, OPT_NO_SESSION,
	OPT_TOTALCOUNT_MISSING, OPT_REQUEST_LOG, OPT_CDR_STYLE, OPT_CDR_INT_VALUES,
	OPT_CDR_RECNAME, OPT_CDR_HIDE, OPT_CDR_CSV_NOHEADER, OPT_CDR_DELETE_LOG, OPT_AMI_LISTEN,
	OPT_AMI_PORT_FILE, OPT_AMI_USER, OPT_AMI_SECRET, OPT_SIMULATE_CALLS, OPT_AMI_OUTAGE,
	OPT_AMI_DROP_AFTER, OPT_CLOCK_FILE, OPT_CLOCK_OFFSET, OPT_ZONE_OFFSET, OPT_END_BOUND,
	OPT_START_BOUND, OPT_TOTALCOUNT_CAPPED, OPT_LONG_FIELDS,
	OPT_DELETE_KEY, OPT_DELETE_NO_SESSION, OPT_ANY_FOLDER, OPT_LIST_OMIT,
	OPT_LIST_OMIT_PATH, OPT_LIST_CALL_START, OPT_QUEUE_FILE, OPT_HELP,
};

static const struct option main_longopts[] = {
	{ "generate", required_argument, NULL, OPT_GENERATE },
	{ "days", required_argument, NULL, OPT_DAYS },
	{ "per-day", required_argument, NULL, OPT_PER_DAY },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "start", required_argument, NULL, OPT_START },
	{ "min-seconds", required_argument, NULL, OPT_MIN_S },
	{ "max-seconds", required_argument, NULL, OPT_MAX_S },
	{ "queue-percent", required_argument, NULL, OPT_QUEUE_PERCENT },
	{ "queue-max", required_argument, NULL, OPT_QUEUE_MAX },
	{ "data", required_argument, NULL, OPT_DATA },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "tls", required_argument, NULL, OPT_TLS },
	{ "user", required_argument, NULL, OPT_USER },
	{ "password", required_argument, NULL, OPT_PASSWORD },
	{ "max-rows", required_argument, NULL, OPT_MAX_ROWS },
	{ "max-url", required_argument, NULL, OPT_MAX_URL },
	{ "fault", required_argument, NULL, OPT_FAULT },
	{ "delete-log", required_argument, NULL, OPT_DELETE_LOG },
	{ "list-style", required_argument, NULL, OPT_LIST_STYLE },
	{ "int-values", no_argument, NULL, OPT_INT_VALUES },
	{ "list-sizes", no_argument, NULL, OPT_LIST_SIZES },
	{ "bare-single", no_argument, NULL, OPT_BARE_SINGLE },
	{ "tar-names", required_argument, NULL, OPT_TAR_NAMES },
	{ "download-key", required_argument, NULL, OPT_DOWNLOAD_KEY },
	{ "login-style", required_argument, NULL, OPT_LOGIN_STYLE },
	{ "no-session", required_argument, NULL, OPT_NO_SESSION },
	{ "totalcount-missing", no_argument, NULL, OPT_TOTALCOUNT_MISSING },
	{ "request-log", required_argument, NULL, OPT_REQUEST_LOG },
	{ "cdr-style", required_argument, NULL, OPT_CDR_STYLE },
	{ "cdr-int-values", no_argument, NULL, OPT_CDR_INT_VALUES },
	{ "cdr-recording-name", required_argument, NULL, OPT_CDR_RECNAME },
	{ "cdr-hide", required_argument, NULL, OPT_CDR_HIDE },
	{ "cdr-csv-noheader", no_argument, NULL, OPT_CDR_CSV_NOHEADER },
	{ "cdr-delete-log", required_argument, NULL, OPT_CDR_DELETE_LOG },
	{ "ami-listen", required_argument, NULL, OPT_AMI_LISTEN },
	{ "ami-port-file", required_argument, NULL, OPT_AMI_PORT_FILE },
	{ "ami-user", required_argument, NULL, OPT_AMI_USER },
	{ "ami-secret", required_argument, NULL, OPT_AMI_SECRET },
	{ "simulate-calls", required_argument, NULL, OPT_SIMULATE_CALLS },
	{ "ami-outage", required_argument, NULL, OPT_AMI_OUTAGE },
	{ "ami-drop-after", required_argument, NULL, OPT_AMI_DROP_AFTER },
	{ "clock-file", required_argument, NULL, OPT_CLOCK_FILE },
	{ "clock-offset", required_argument, NULL, OPT_CLOCK_OFFSET },
	{ "zone-offset", required_argument, NULL, OPT_ZONE_OFFSET },
	{ "end-bound", required_argument, NULL, OPT_END_BOUND },
	{ "start-bound", required_argument, NULL, OPT_START_BOUND },
	{ "totalcount-capped", no_argument, NULL, OPT_TOTALCOUNT_CAPPED },
	{ "long-fields", required_argument, NULL, OPT_LONG_FIELDS },
	{ "delete-key", required_argument, NULL, OPT_DELETE_KEY },
	{ "delete-no-session", required_argument, NULL, OPT_DELETE_NO_SESSION },
	{ "any-folder", no_argument, NULL, OPT_ANY_FOLDER },
	{ "list-omit", required_argument, NULL, OPT_LIST_OMIT },
	{ "list-omit-path", required_argument, NULL, OPT_LIST_OMIT_PATH },
	{ "list-call-start", no_argument, NULL, OPT_LIST_CALL_START },
	{ "queue-file", required_argument, NULL, OPT_QUEUE_FILE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static void main_usage(FILE *out)
{
	fputs("usage:\n"
	      "  fakepbx --generate DIR --days N --per-day K [--seed S] [--start YYYY-MM-DD]\n"
	      "          [--min-seconds A] [--max-seconds B] [--queue-percent P]\n"
	      "          [--queue-max S]\n"
	      "  fakepbx --data DIR --listen 127.0.0.1:PORT [--port-file F] [--tls CERT KEY]\n"
	      "          [--user U] [--password P] [--max-rows N] [--max-url N]\n"
	      "          [--fault NAME[=VALUE][:N][@CGI]]... [--delete-log FILE]\n"
	      "          [--request-log FILE]\n"
	      "          [--list-style array|numbered|keyed|bare] [--int-values]\n"
	      "          [--list-sizes]\n"
	      "          [--bare-single] [--tar-names full|base|dotslash]\n"
	      "          [--download-key both|wavefiles|wavfiles] [--login-style any|post|query]\n"
	      "          [--no-session json|html|401|redirect|status6] [--totalcount-missing]\n"
	      "          [--totalcount-capped] [--long-fields N]\n"
	      "          [--delete-key both|wavefiles|wavfiles] [--delete-no-session N]\n"
	      "          [--any-folder] [--list-omit N] [--list-omit-path PATH]...\n"
	      "          [--list-call-start]\n"
	      "          [--cdr-style array|numbered] [--cdr-int-values]\n"
	      "          [--cdr-recording-name relative|full|none] [--cdr-hide N]\n"
	      "          [--cdr-csv-noheader] [--cdr-delete-log FILE]\n"
	      "          [--ami-listen 127.0.0.1:PORT] [--ami-port-file F] [--ami-user U]\n"
	      "          [--ami-secret S] [--simulate-calls PER_MINUTE] [--ami-outage SECONDS]\n"
	      "          [--ami-drop-after N] [--queue-file FILE]\n"
	      "          [--clock-file FILE] [--clock-offset +-SECONDS] [--zone-offset +-SECONDS]\n"
	      "          [--end-bound through|minute|exclusive] [--start-bound inclusive|exclusive]\n"
	      "how this PBX reads the guide (README.md has the exact effect of each):\n"
	      "    --end-bound R          enddate HH:MM: through <=:59, minute <=:00, exclusive <:00\n"
	      "    --start-bound R        startdate HH:MM: inclusive >=:00, exclusive >:00\n"
	      "    --clock-file FILE      now = the unix seconds in FILE, re-read on every use\n"
	      "    --clock-offset S       its clock is off by S s: Date and every time it makes\n"
	      "    --zone-offset S        its zone is off by S s: every local time, not Date\n"
	      "    --totalcount-capped    totalcount = the rows sent (after --max-rows)\n"
	      "    --long-fields N        src/dst/trunk (CDRs: 6 fields) padded to N characters\n"
	      "    --any-folder           recordings in any .../YYYYMMDD/ folder chain, or bare\n"
	      "    --list-omit N          the N oldest recordings are never listed\n"
	      "    --list-omit-path P     recording P is never listed (repeatable)\n"
	      "    --list-call-start      20053 dates filter on the call's start (its CDR), rows\n"
	      "                           show the recording's time (its answer)\n"
	      "    --queue-file FILE      an added call first reads FILE (then removed): the\n"
	      "                           seconds it waited in a queue before it rang\n"
	      "    --delete-key K         the spelling 20054 reads (both|wavefiles|wavfiles)\n"
	      "    --no-session status6   no session: 200 {\"status\":-6}\n"
	      "    --delete-no-session N  the first N valid 20054 requests: the session died\n"
	      "    DIR/.live.jsonl        (a file, not an option) recordings still growing\n"
	      "signals: SIGUSR1 adds a call now, SIGUSR2 starts an AMI outage\n"
	      "faults:\n", out);
	fault_print_help(out);
	fputs("exit codes: 0 ok (also after SIGTERM/SIGINT), 1 run-time error, 2 usage error\n",
	      out);
}

static int main_long(const char *opt, const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "fakepbx: --%s wants a number in %ld..%ld, not '%s'\n", opt, min,
			max, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* Index of s in the NULL-terminated names, or -1 (message printed). */
static int main_choice(const char *opt, const char *s, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	fprintf(stderr, "fakepbx: --%s: unknown value '%s' (see --help)\n", opt, s);
	return -1;
}

static int main_md5_hex(const char *s, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (EVP_Digest(s, strlen(s), md, &n, EVP_md5(), NULL) != 1 || n != 16) {
		fprintf(stderr, "fakepbx: MD5 unavailable in libcrypto\n");
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[32] = '\0';
	return 0;
}

/* Only loopback: this server exists for tests on one machine. */
static int main_listen(const char *opt, const char *s, struct sockaddr_in *sa)
{
	const char *colon = strrchr(s, ':');
	char host[64];
	long port;
	if (!colon || (size_t)(colon - s) >= sizeof host) {
		fprintf(stderr, "fakepbx: --%s wants 127.0.0.1:PORT, not '%s'\n", opt, s);
		return -1;
	}
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1 ||
	    (ntohl(sa->sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "fakepbx: --%s: only 127.x.x.x addresses, not '%s'\n", opt, host);
		return -1;
	}
	if (main_long(opt, colon + 1, 0, 65535, &port) < 0)
		return -1;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

static char *main_read_pem(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = f ? malloc(MAIN_PEM_MAX + 1) : NULL;
	size_t n = buf ? fread(buf, 1, MAIN_PEM_MAX, f) : 0;
	if (!f || !buf || ferror(f) || n == 0 || n == MAIN_PEM_MAX) {
		fprintf(stderr, "fakepbx: cannot read PEM file %s\n", path);
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Write the port atomically, so a test polling for the file never reads
 * half a number. */
static int main_port_file(const char *path, unsigned port)
{
	char tmp[4096], line[16];
	int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	int len = snprintf(line, sizeof line, "%u\n", port);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, (size_t)len) != len || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		fprintf(stderr, "fakepbx: port file %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

struct main_args {
	const char *generate, *start, *data, *listen, *port_file, *cert, *key, *delete_log;
	const char *request_log;
	const char *password;
	const char *cdr_delete_log, *ami_listen, *ami_port_file, *clock_file;
	bool help;
	long days, per_day, min_s, max_s, cdr_hide, clock_offset, zone_offset, list_omit;
	long queue_percent, queue_max;
	const char **omit_paths;  /* --list-omit-path, argc slots */
	size_t nomit_paths;
	struct ami_opts ami;
	unsigned long long seed;
};

static int main_parse(int argc, char **argv, struct main_args *a, struct fpx_config *cfg)
{
	static const char *const list_styles[] = { "array", "numbered", "keyed", "bare", NULL };
	static const char *const tar_names[] = { "full", "base", "dotslash", NULL };
	static const char *const dl_keys[] = { "both", "wavefiles", "wavfiles", NULL };
	static const char *const login_styles[] = { "any", "post", "query", NULL };
	static const char *const no_sess[] = { "json", "html", "401", "redirect", "status6", NULL };
	static const char *const cdr_styles[] = { "array", "numbered", NULL };
	static const char *const cdr_spellings[] = { "relative", "full", "none", NULL };
	static const char *const end_bounds[] = { "through", "minute", "exclusive", NULL };
	static const char *const start_bounds[] = { "inclusive", "exclusive", NULL };
	int c, i, bad = 0;
	long lv = 0;
	char *end;
	/* "+": stop at the first non-option, so --tls can take its KEY from argv */
	while (!bad && (c = getopt_long(argc, argv, "+", main_longopts, NULL)) != -1) {
		switch (c) {
		case OPT_GENERATE: a->generate = optarg; break;
		case OPT_DAYS: bad = main_long("days", optarg, 1, 36500, &a->days); break;
		case OPT_PER_DAY: bad = main_long("per-day", optarg, 1, 86400, &a->per_day); break;
		case OPT_SEED:
			errno = 0;
			a->seed = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-') {
				fprintf(stderr, "fakepbx: --seed wants a number, not '%s'\n", optarg);
				bad = -1;
			}
			break;
		case OPT_START: a->start = optarg; break;
		case OPT_MIN_S: bad = main_long("min-seconds", optarg, 1, 86400, &a->min_s); break;
		case OPT_MAX_S: bad = main_long("max-seconds", optarg, 1, 86400, &a->max_s); break;
		case OPT_QUEUE_PERCENT:
			bad = main_long("queue-percent", optarg, 0, 100, &a->queue_percent);
			break;
		case OPT_QUEUE_MAX: bad = main_long("queue-max", optarg, 1, 86400, &a->queue_max); break;
		case OPT_DATA: a->data = optarg; break;
		case OPT_LISTEN: a->listen = optarg; break;
		case OPT_PORT_FILE: a->port_file = optarg; break;
		case OPT_TLS:
			if (optind >= argc || argv[optind][0] == '-') {
				fprintf(stderr, "fakepbx: --tls wants CERT KEY\n");
				bad = -1;
				break;
			}
			a->cert = optarg;
			a->key = argv[optind++];
			break;
		case OPT_USER: cfg->user = optarg; break;
		case OPT_PASSWORD: a->password = optarg; break;
		case OPT_MAX_ROWS: bad = main_long("max-rows", optarg, 1, 1L << 40, &cfg->max_rows); break;
		case OPT_MAX_URL: bad = main_long("max-url", optarg, 1, 1L << 40, &cfg->max_url); break;
		case OPT_FAULT: bad = fault_parse(&cfg->faults, optarg); break;
		case OPT_DELETE_LOG: a->delete_log = optarg; break;
		case OPT_REQUEST_LOG: a->request_log = optarg; break;
		case OPT_LIST_STYLE:
			if ((bad = i = main_choice("list-style", optarg, list_styles)) >= 0)
				bad = 0, cfg->list_style = (enum fpx_list_style)i;
			break;
		case OPT_TAR_NAMES:
			if ((bad = i = main_choice("tar-names", optarg, tar_names)) >= 0)
				bad = 0, cfg->tar_names = (enum fpx_tar_names)i;
			break;
		case OPT_DOWNLOAD_KEY:
			if ((bad = i = main_choice("download-key", optarg, dl_keys)) >= 0)
				bad = 0, cfg->download_key = (enum fpx_dl_key)i;
			break;
		case OPT_DELETE_KEY:
			if ((bad = i = main_choice("delete-key", optarg, dl_keys)) >= 0)
				bad = 0, cfg->delete_key = (enum fpx_dl_key)i;
			break;
		case OPT_DELETE_NO_SESSION:
			bad = main_long("delete-no-session", optarg, 0, 1L << 40, &cfg->delete_no_session);
			break;
		case OPT_LOGIN_STYLE:
			if ((bad = i = main_choice("login-style", optarg, login_styles)) >= 0)
				bad = 0, cfg->login_style = (enum fpx_login_style)i;
			break;
		case OPT_NO_SESSION:
			if ((bad = i = main_choice("no-session", optarg, no_sess)) >= 0)
				bad = 0, cfg->no_session = (enum fpx_nosess)i;
			break;
		case OPT_INT_VALUES: cfg->int_values = true; break;
		case OPT_LIST_SIZES: cfg->list_sizes = true; break;
		case OPT_BARE_SINGLE: cfg->bare_single = true; break;
		case OPT_TOTALCOUNT_MISSING: cfg->totalcount_missing = true; break;
		case OPT_TOTALCOUNT_CAPPED: cfg->totalcount_capped = true; break;
		case OPT_ANY_FOLDER: cfg->any_folder = true; break;
		case OPT_LIST_OMIT: bad = main_long("list-omit", optarg, 0, 1L << 40, &a->list_omit); break;
		case OPT_LIST_OMIT_PATH: a->omit_paths[a->nomit_paths++] = optarg; break;
		case OPT_LIST_CALL_START: cfg->list_call_start = true; break;
		case OPT_QUEUE_FILE: a->ami.queue_file = optarg; break;
		case OPT_LONG_FIELDS:
			bad = main_long("long-fields", optarg, 1, 1048576, &lv);
			cfg->long_fields = (size_t)lv;
			break;
		case OPT_CDR_STYLE:
			if ((bad = i = main_choice("cdr-style", optarg, cdr_styles)) >= 0)
				bad = 0, cfg->cdr_style = (enum fpx_cdr_style)i;
			break;
		case OPT_CDR_RECNAME:
			if ((bad = i = main_choice("cdr-recording-name", optarg, cdr_spellings)) >= 0)
				bad = 0, cfg->cdr_recname = (enum fpx_cdr_recname)i;
			break;
		case OPT_CDR_INT_VALUES: cfg->cdr_int_values = true; break;
		case OPT_CDR_CSV_NOHEADER: cfg->cdr_csv_noheader = true; break;
		case OPT_CDR_HIDE: bad = main_long("cdr-hide", optarg, 0, 1L << 40, &a->cdr_hide); break;
		case OPT_CDR_DELETE_LOG: a->cdr_delete_log = optarg; break;
		case OPT_AMI_LISTEN: a->ami_listen = optarg; break;
		case OPT_AMI_PORT_FILE: a->ami_port_file = optarg; break;
		case OPT_AMI_USER: a->ami.user = optarg; break;
		case OPT_AMI_SECRET: a->ami.secret = optarg; break;
		case OPT_SIMULATE_CALLS:
			bad = main_long("simulate-calls", optarg, 0, 6000, &a->ami.per_minute);
			break;
		case OPT_AMI_OUTAGE:
			bad = main_long("ami-outage", optarg, 0, 3600, &a->ami.outage_secs);
			break;
		case OPT_AMI_DROP_AFTER:
			bad = main_long("ami-drop-after", optarg, 0, 1L << 40, &a->ami.drop_after);
			break;
		case OPT_END_BOUND:
			if ((bad = i = main_choice("end-bound", optarg, end_bounds)) >= 0)
				bad = 0, cfg->end_bound = (enum fpx_end_bound)i;
			break;
		case OPT_START_BOUND:
			if ((bad = i = main_choice("start-bound", optarg, start_bounds)) >= 0)
				bad = 0, cfg->start_bound = (enum fpx_start_bound)i;
			break;
		case OPT_CLOCK_FILE: a->clock_file = optarg; break;
		case OPT_CLOCK_OFFSET:
			bad = main_long("clock-offset", optarg, -315360000, 315360000, &a->clock_offset);
			break;
		case OPT_ZONE_OFFSET:
			bad = main_long("zone-offset", optarg, -315360000, 315360000, &a->zone_offset);
			break;
		case OPT_HELP: a->help = true; return 0;
		default: bad = -1; break;
		}
	}
	if (bad)
		return -1;
	if (optind < argc) {
		fprintf(stderr, "fakepbx: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (!a->generate == !a->data) {
		fprintf(stderr, "fakepbx: give exactly one of --generate DIR or --data DIR\n");
		return -1;
	}
	if (a->generate && (!a->days || !a->per_day || a->min_s > a->max_s)) {
		fprintf(stderr, "fakepbx: --generate needs --days, --per-day and min <= max seconds\n");
		return -1;
	}
	if (a->data && !a->listen) {
		fprintf(stderr, "fakepbx: --data needs --listen 127.0.0.1:PORT\n");
		return -1;
	}
	if (a->ami_port_file && !a->ami_listen) {
		fprintf(stderr, "fakepbx: --ami-port-file needs --ami-listen\n");
		return -1;
	}
	return 0;
}

/* Open FILE for appending into *fd. Returns 0, or -1 (message printed). */
static int main_open_log(const char *path, int *fd)
{
	if (!path)
		return 0;
	*fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (*fd < 0) {
		fprintf(stderr, "fakepbx: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int main_serve(struct main_args *a, struct fpx_config *cfg)
{
	struct sockaddr_in sa;
	char *cert = NULL, *key = NULL;
	struct MHD_Daemon *d = NULL;
	struct ami *ami = NULL;
	int rc = 1;
	sigset_t sigs;

	cfg->data_dir = a->data;
	if (main_listen("listen", a->listen, &sa) < 0)
		return 2;
	if (a->ami_listen && main_listen("ami-listen", a->ami_listen, &a->ami.addr) < 0)
		return 2;
	if (main_md5_hex(a->password ? a->password : "admin", cfg->password_md5) < 0)
		return 1;
	if (a->cert && (!(cert = main_read_pem(a->cert)) || !(key = main_read_pem(a->key))))
		goto out;
	if (main_open_log(a->delete_log, &cfg->delete_log_fd) < 0 ||
	    main_open_log(a->request_log, &cfg->request_log_fd) < 0 ||
	    main_open_log(a->cdr_delete_log, &cfg->cdr_delete_log_fd) < 0)
		goto out;
	if (!(cfg->cdrs = cdr_store_open(a->data, a->cdr_hide)))
		goto out;
	if (omit_setup(a->data, cfg->any_folder, a->list_omit, a->omit_paths, a->nomit_paths) < 0)
		goto out;
	live_setup(a->data, cfg->any_folder);
	/* Block the signals before any thread starts, so they all inherit the
	 * mask and only sigwait() below ever sees them: SIGUSR1/SIGUSR2 are
	 * then handed to the AMI thread as bytes on its pipe. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	a->ami.data_dir = a->data;
	a->ami.cdrs = cfg->cdrs;
	a->ami.listen = a->ami_listen != NULL;
	uint16_t ami_port = 0, port = 0;
	if (!(ami = ami_start(&a->ami, &ami_port)))
		goto out;
	if (a->ami_port_file && main_port_file(a->ami_port_file, ami_port) < 0)
		goto out;
	d = http_start(cfg, &sa, cert, key, &port);
	if (!d)
		goto out;
	if (a->port_file && main_port_file(a->port_file, port) < 0)
		goto out;
	fprintf(stderr, "fakepbx: serving %s on %s://%s:%u\n", a->data, cert ? "https" : "http",
		inet_ntoa(sa.sin_addr), port);
	if (a->ami_listen)
		fprintf(stderr, "fakepbx: AMI on %s:%u\n", inet_ntoa(a->ami.addr.sin_addr), ami_port);
	for (;;) {
		int sig = 0;
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			ami_kick(ami, 'c');
			continue;
		}
		if (sig == SIGUSR2) {
			ami_kick(ami, 'o');
			continue;
		}
		fprintf(stderr, "fakepbx: signal %d, stopping\n", sig);
		break;
	}
	rc = 0;
out:
	http_stop(d);
	ami_stop(ami);
	cdr_store_close(cfg->cdrs);
	omit_free();
	live_free();
	wcache_clear();
	if (cfg->delete_log_fd >= 0)
		close(cfg->delete_log_fd);
	if (cfg->request_log_fd >= 0)
		close(cfg->request_log_fd);
	if (cfg->cdr_delete_log_fd >= 0)
		close(cfg->cdr_delete_log_fd);
	free(cert);
	free(key);
	return rc;
}

static int main_run(int argc, char **argv, struct main_args *a, struct fpx_config *cfg)
{
	if (main_parse(argc, argv, a, cfg) < 0) {
		main_usage(stderr);
		return 2;
	}
	if (a->help) {
		main_usage(stdout);
		return 0;
	}
	clock_setup(a->clock_file, a->clock_offset, a->zone_offset);
	if (a->generate) {
		struct gen_opts g = { a->generate, (int)a->days, (int)a->per_day, a->seed, a->start,
				      (int)a->min_s, (int)a->max_s, (int)a->queue_percent,
				      (int)a->queue_max };
		return gen_run(&g) == 0 ? 0 : 1;
	}
	return main_serve(a, cfg);
}

int main(int argc, char **argv)
{
	struct main_args a = { .seed = 1, .min_s = 1, .max_s = 20, .queue_max = 2400,
			       .ami = { .user = "admin", .secret = "password", .outage_secs = 3 } };
	struct fpx_config cfg = { .user = "admin", .delete_log_fd = -1, .request_log_fd = -1,
				  .cdr_delete_log_fd = -1 };
	a.omit_paths = calloc((size_t)argc, sizeof *a.omit_paths);
	if (!a.omit_paths) {
		fprintf(stderr, "fakepbx: out of memory\n");
		return 1;
	}
	int rc = main_run(argc, argv, &a, &cfg);
	free(a.omit_paths);
	return rc;
}
