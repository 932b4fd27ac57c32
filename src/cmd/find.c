/* find.c — the find command: the manifest days in range, one at a time, merged per pbx_path
 * into recordings, filtered and printed. Owns its own line reader rather than manifest.c's,
 * because a search must not refuse a whole day for one bad line or a broken chain. */
#include "find.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_archive_internal.h"
#include "help.h"
#include "archive/jsonfield.h"
#include "archive/manifest.h"
#include "base/config.h"
#include "base/exitcode.h"
#include "base/log.h"

#define MAX_DAY_BYTES (512u << 20) /* as manifest.c: a larger day file is not ours */
#define MAX_LINE_BYTES (64u << 10)
#define ESC 1024                   /* an escaped field: its first ~250 bytes at worst */
#define TYPE_MAX 64                /* a normalized calltype */

static const char find_usage[] =
	"usage: nexo-archive find [--from DAY] [--to DAY] [--src N] [--dst N] [--number N]\n"
	"                         [--disposition D] [--uniqueid ID] [--calltype T] [--json]\n";
enum { F_SRC, F_DST, F_NUMBER, F_DISPOSITION, F_UNIQUEID, F_CALLTYPE, F_FROM, F_TO, F_N };

struct filters {
	const char *v[F_N]; /* NULL: not given */
	char calltype[TYPE_MAX];
	int json;
};

/* One recording of the day being read. */
struct rec {
	json_object *line;  /* its archived line (a reference) */
	json_object *cdr;   /* the CDR in force (a reference), or NULL */
	const char *status; /* "archived", "pruned", "forgotten" */
	int pbx_deleted;
};

/* The day being read: its recordings in the order of their archived lines, and json-c's hash
 * table as the index from pbx_path to position. */
struct day {
	struct rec *v;
	size_t n, cap;
	json_object *index;
};

static struct rec *day_find(const struct day *d, const char *path)
{
	json_object *i;

	if (!d->index || !json_object_object_get_ex(d->index, path, &i))
		return NULL;
	return &d->v[json_object_get_int64(i)];
}

static struct rec *day_add(struct day *d, const char *path)
{
	json_object *i;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		struct rec *v = realloc(d->v, cap * sizeof *v);
		if (!v)
			return NULL;
		d->v = v;
		d->cap = cap;
	}
	if ((!d->index && !(d->index = json_object_new_object())) ||
	    !(i = json_object_new_int64((int64_t)d->n)) ||
	    json_object_object_add(d->index, path, i) != 0)
		return NULL;
	memset(&d->v[d->n], 0, sizeof d->v[d->n]);
	return &d->v[d->n++];
}

static void day_free(struct day *d)
{
	for (size_t i = 0; i < d->n; i++) {
		json_object_put(d->v[i].line);
		json_object_put(d->v[i].cdr);
	}
	free(d->v);
	json_object_put(d->index);
	memset(d, 0, sizeof *d);
}

/* The line's "cdr": 0 with *out an object or NULL (null or, unless `required`, absent), or -1
 * when it is something else. */
static int cdr_of(json_object *o, int required, json_object **out)
{
	json_object *v = NULL;

	*out = NULL;
	if (!json_object_object_get_ex(o, "cdr", &v))
		return required ? -1 : 0;
	if (v && !json_object_is_type(v, json_type_object))
		return -1;
	*out = v;
	return 0;
}

/* Applies one line to the day's recordings. Returns 0, or -1 with `why` set (a bad line). */
static int apply_line(struct day *d, json_object *o, const char **why)
{
	const char *event = jsonfield_str(o, "event"), *path = jsonfield_str(o, "pbx_path");
	struct rec *r;
	json_object *cdr;

	if (event && !path && strncmp(event, "cdr_", 4) == 0)
		return 0; /* a line about the day's CDR archive, not a recording */
	if (!event || !path) {
		*why = "no event or pbx_path";
		return -1;
	}
	r = day_find(d, path);
	if (strcmp(event, "archived") == 0) {
		if (!jsonfield_str(o, "file") || cdr_of(o, 0, &cdr) != 0) {
			*why = "archived line without a file, or with a cdr that is no object";
			return -1;
		}
		if (r) { /* archived again: the later line is the recording now */
			json_object_put(r->line);
			json_object_put(r->cdr);
			r->pbx_deleted = 0;
		} else if (!(r = day_add(d, path))) {
			*why = "out of memory";
			return -1;
		}
		r->line = json_object_get(o);
		r->cdr = json_object_get(cdr);
		r->status = "archived";
	} else if (!r) {
		return 0; /* unavailable, unknown events, marks of unknown recordings */
	} else if (strcmp(event, "cdr") == 0) {
		if (cdr_of(o, 1, &cdr) != 0) {
			*why = "cdr line without a cdr object";
			return -1;
		}
		json_object_put(r->cdr);
		r->cdr = json_object_get(cdr);
	} else if (strcmp(event, "pbx_deleted") == 0) {
		r->pbx_deleted = 1;
	} else if (strcmp(event, "pruned") == 0 && strcmp(r->status, "forgotten") != 0) {
		r->status = "pruned";
	} else if (strcmp(event, "forgotten") == 0) {
		r->status = "forgotten";
	}
	return 0;
}

/* ---- matching ---- */

static int cand(const char *s, size_t len, const char *pat, size_t n, int prefix)
{
	return (prefix ? len >= n : len == n) && strncmp(s, pat, n) == 0;
}

/* `field` ("202", "820(202)") carries `pat`: see find.h. */
static int number_in(const char *field, const char *pat)
{
	size_t n = strlen(pat);
	int prefix = n > 0 && pat[n - 1] == '*';
	const char *open, *close;

	if (!field)
		return 0;
	n -= (size_t)prefix;
	if (cand(field, strlen(field), pat, n, prefix))
		return 1;
	open = strchr(field, '(');
	close = open ? strchr(open, ')') : NULL;
	if (!close)
		return 0;
	return cand(field, (size_t)(open - field), pat, n, prefix) ||
	       cand(open + 1, (size_t)(close - open - 1), pat, n, prefix);
}

static int side_matches(const struct rec *r, const char *key, const char *pat)
{
	return number_in(jsonfield_str(r->line, key), pat) || number_in(jsonfield_str(r->cdr, key), pat);
}

/* Lower case, without spaces, '-' and '_'; the guide's "Interval" is Internal. */
static void norm_type(const char *in, char out[TYPE_MAX])
{
	size_t o = 0;

	for (; *in && o + 1 < TYPE_MAX; in++)
		if (*in != ' ' && *in != '-' && *in != '_')
			out[o++] = (*in >= 'A' && *in <= 'Z') ? (char)(*in - 'A' + 'a') : *in;
	out[o] = '\0';
	if (strcmp(out, "interval") == 0)
		memcpy(out, "internal", sizeof "internal");
}

static int matches(const struct filters *f, const struct rec *r)
{
	const char *const *v = f->v, *s;
	char t[TYPE_MAX];

	if (v[F_SRC] && !side_matches(r, "src", v[F_SRC]))
		return 0;
	if (v[F_DST] && !side_matches(r, "dst", v[F_DST]))
		return 0;
	if (v[F_NUMBER] && !side_matches(r, "src", v[F_NUMBER]) &&
	    !side_matches(r, "dst", v[F_NUMBER]))
		return 0;
	if (v[F_DISPOSITION] && (!(s = jsonfield_str(r->cdr, "disposition")) ||
				 strcasecmp(s, v[F_DISPOSITION]) != 0))
		return 0;
	if (v[F_UNIQUEID] && (!(s = jsonfield_str(r->cdr, "uniqueid")) || strcmp(s, v[F_UNIQUEID]) != 0))
		return 0;
	if (v[F_CALLTYPE]) {
		if (!(s = jsonfield_str(r->line, "calltype")))
			return 0;
		norm_type(s, t);
		if (strcmp(t, f->calltype) != 0)
			return 0;
	}
	return 1;
}

/* ---- output ---- */

/* Prints `s` (escaped already) and pads it to `width` columns (UTF-8 aware), then a gap. */
static void cell(const char *s, int width)
{
	int cols = 0;

	fputs(s, stdout);
	for (; *s; s++)
		cols += ((unsigned char)*s & 0xC0) != 0x80;
	for (; cols < width + 2; cols++)
		putchar(' ');
}

static const char *esc_or_dash(const char *s, char *out)
{
	return s && *s ? log_escape(s, out, ESC) : "-";
}

static void print_row(const struct rec *r)
{
	char cd[ESC], src[ESC], dst[ESC], sd[2 * ESC + 8], ty[ESC], disp[ESC], uid[ESC], file[ESC];
	char bs[32] = "-";
	json_object *v;

	snprintf(sd, sizeof sd, "%s → %s", esc_or_dash(jsonfield_str(r->line, "src"), src),
		 esc_or_dash(jsonfield_str(r->line, "dst"), dst));
	if (r->cdr && json_object_object_get_ex(r->cdr, "billsec", &v) &&
	    json_object_is_type(v, json_type_int))
		snprintf(bs, sizeof bs, "%lld", (long long)json_object_get_int64(v));
	cell(esc_or_dash(jsonfield_str(r->line, "calldate"), cd), 19);
	cell(sd, 20);
	cell(esc_or_dash(jsonfield_str(r->line, "calltype"), ty), 8);
	cell(esc_or_dash(jsonfield_str(r->cdr, "disposition"), disp), 10);
	printf("%5s  ", bs);
	cell(esc_or_dash(jsonfield_str(r->cdr, "uniqueid"), uid), 16);
	if (strcmp(r->status, "archived") == 0)
		printf("%s\n", esc_or_dash(jsonfield_str(r->line, "file"), file));
	else
		printf("(%s)\n", r->status);
}

static void print_json(const struct rec *r)
{
	static const char *const keys[] = { "pbx_path", "file", "status", "pbx_deleted",
					    "calldate", "src", "dst", "trunk", "calltype",
					    "duration", "sha256", "cdr" };
	json_object *o = json_object_new_object(), *v;

	if (!o) {
		log_error("out of memory");
		return;
	}
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		if (strcmp(keys[i], "status") == 0)
			v = json_object_new_string(r->status);
		else if (strcmp(keys[i], "pbx_deleted") == 0)
			v = json_object_new_boolean(r->pbx_deleted);
		else if (strcmp(keys[i], "cdr") == 0)
			v = json_object_get(r->cdr);
		else
			v = json_object_object_get_ex(r->line, keys[i], &v) ? json_object_get(v)
									   : NULL;
		json_object_object_add(o, keys[i], v);
	}
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* ---- reading ---- */

/* Reads manifest/NAME into `d`, warning about (and skipping) bad lines. Returns 0, or -1 when
 * the file cannot be read (printed). */
static int read_day(int mfd, const char *name, struct day *d)
{
	struct stat st;
	FILE *f = NULL;
	char *line = NULL;
	const char *why = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int fd, rc = -1;

	/* O_NONBLOCK: a FIFO planted under a day's name must not hang the search. */
	fd = openat(mfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_DAY_BYTES)
		why = "not a regular file of sane size";
	else if (!(f = fdopen(fd, "r")))
		why = strerror(errno);
	if (why) {
		log_error("cannot read manifest/%s: %s", name, why);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		json_object *o = NULL;

		why = NULL;
		lineno++;
		if (line[len - 1] != '\n') {
			log_warn("manifest/%s:%zu: no newline at its end (a torn or unfinished "
				 "write); skipped", name, lineno);
			break;
		}
		line[--len] = '\0';
		if (len == 0 || (size_t)len > MAX_LINE_BYTES || strlen(line) != (size_t)len)
			why = "empty, too long or holding a NUL byte";
		else if (!(o = json_tokener_parse(line)) || !json_object_is_type(o, json_type_object))
			why = "not a JSON object";
		else
			apply_line(d, o, &why);
		json_object_put(o);
		if (why && strcmp(why, "out of memory") == 0) {
			log_error("out of memory reading manifest/%s", name);
			goto out;
		}
		if (why)
			log_warn("manifest/%s:%zu: %s; skipped", name, lineno, why);
	}
	if (ferror(f)) {
		log_error("reading manifest/%s: %s", name, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(line);
	fclose(f);
	return rc;
}

/* scandirat's filter: the manifest's day files. */
static int day_file(const struct dirent *e)
{
	return manifest_is_day_file(e->d_name);
}

static int in_range(const struct filters *f, const char *name)
{
	return (!f->v[F_FROM] || strncmp(name, f->v[F_FROM], 10) >= 0) &&
	       (!f->v[F_TO] || strncmp(name, f->v[F_TO], 10) <= 0);
}

/* ---- the command ---- */

static int parse_args(int argc, char **argv, struct filters *f)
{
	static const struct option longopts[] = {
		{ "src", required_argument, NULL, F_SRC },
		{ "dst", required_argument, NULL, F_DST },
		{ "number", required_argument, NULL, F_NUMBER },
		{ "disposition", required_argument, NULL, F_DISPOSITION },
		{ "uniqueid", required_argument, NULL, F_UNIQUEID },
		{ "calltype", required_argument, NULL, F_CALLTYPE },
		{ "from", required_argument, NULL, F_FROM },
		{ "to", required_argument, NULL, F_TO },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, i;

	cmd_restart_getopt();
	while ((c = getopt_long(argc, argv, "h", longopts, &i)) != -1) {
		if (c == 'h') {
			help_command("find", stdout); /* main answers --help first; kept for -h */
			return 1;
		}
		if (c == 'j') {
			f->json = 1;
			continue;
		}
		if (c < 0 || c >= F_N)
			goto usage;
		if (f->v[c] || !*optarg) {
			log_error("find --%s: given twice or empty", longopts[i].name);
			goto usage;
		}
		if ((c == F_FROM || c == F_TO) && !cmd_valid_day(optarg)) {
			log_error("find --%s '%s': expected YYYY-MM-DD", longopts[i].name, optarg);
			return -1;
		}
		f->v[c] = optarg;
	}
	if (optind != argc)
		goto usage;
	if (f->v[F_FROM] && f->v[F_TO] && strcmp(f->v[F_FROM], f->v[F_TO]) > 0) {
		log_error("find: --from is after --to");
		return -1;
	}
	if (f->v[F_CALLTYPE])
		norm_type(f->v[F_CALLTYPE], f->calltype);
	return 0;
usage:
	fprintf(stderr, "%s(nexo-archive find --help: the matching rules)\n", find_usage);
	return -1;
}

int cmd_find(const struct config *cfg, int argc, char **argv)
{
	struct filters f;
	struct day d;
	struct dirent **days = NULL;
	unsigned long found = 0;
	int rc, ndays = 0, rootfd = -1, mfd = -1;

	memset(&f, 0, sizeof f);
	memset(&d, 0, sizeof d);
	rc = parse_args(argc, argv, &f);
	if (rc != 0)
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	if (!cfg->archive.dir) {
		log_error("%s: [archive] dir is not set", cfg->path ? cfg->path : "config");
		return EXIT_USAGE;
	}
	rc = EXIT_STORAGE;
	rootfd = open(cfg->archive.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		log_error("no archive at %s: %s", cfg->archive.dir, strerror(errno));
		goto out;
	}
	mfd = openat(rootfd, "manifest", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (mfd < 0) {
		log_error("cannot read %s/manifest: %s", cfg->archive.dir, strerror(errno));
		goto out;
	}
	/* Names only: a day out of range is never opened. */
	ndays = scandirat(mfd, ".", &days, day_file, alphasort);
	if (ndays < 0) {
		log_error("cannot list %s/manifest: %s", cfg->archive.dir, strerror(errno));
		goto out;
	}
	rc = EXIT_OK;
	for (int i = 0; i < ndays; i++) {
		if (in_range(&f, days[i]->d_name) && read_day(mfd, days[i]->d_name, &d) != 0)
			rc = EXIT_STORAGE; /* said; the other days are still worth searching */
		for (size_t k = 0; k < d.n; k++) {
			if (!matches(&f, &d.v[k]))
				continue;
			found++;
			if (f.json)
				print_json(&d.v[k]);
			else
				print_row(&d.v[k]);
		}
		day_free(&d);
	}
	if (!f.json)
		printf("%lu recordings\n", found);
	if (fflush(stdout) != 0) {
		log_error("cannot write the results: %s", strerror(errno));
		rc = EXIT_STORAGE;
	}
out:
	for (int i = 0; i < ndays; i++)
		free(days[i]);
	free(days);
	if (mfd >= 0)
		close(mfd);
	if (rootfd >= 0)
		close(rootfd);
	return rc;
}
