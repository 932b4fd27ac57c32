/* cmd_offsite.c — the offsite copy seen from the command line: `verify --offsite [--deep]`
 * (the bucket against the local manifests and head) and `restore --to DIR` (a local archive
 * rebuilt from the bucket alone, which `verify` then accepts). Reads the bucket, never writes
 * to it; restore writes only under DIR, and only names that are an archive's. */
#include "cmd_archive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_archive_internal.h"
#include "archive/marker.h"
#include "archive/manifest.h"
#include "archive/store.h"
#include "base/config.h"
#include "base/exitcode.h"
#include "base/log.h"
#include "crypto/hash.h"
#include "s3/s3.h"

#define OBJECT_CAP (8ull << 30) /* a recording or manifest: far more than any real one */

struct object {
	char *key;
	uint64_t size;
	char etag[80];
};

struct listing {
	struct object *o;
	size_t n, cap;
};

static struct s3 *open_bucket(const struct config *cfg)
{
	const struct s3_options o = { cfg->offsite.url, cfg->offsite.region, cfg->offsite.access_key,
				      cfg->offsite.secret_key, cfg->offsite.ca_file,
				      cfg->offsite.insecure, 0, cfg->pbx.timeout,
				      cfg->pbx.connect_timeout, cfg->pbx.retries };
	char err[512];
	struct s3 *s;

	if (!cfg->offsite.url) {
		log_error("%s: [offsite] url is not set", cfg->path);
		return NULL;
	}
	s = s3_new(&o, err, sizeof err);
	if (!s)
		log_error("%s", err);
	return s;
}

static int add_object(void *ctx, const char *key, uint64_t size, const char *etag)
{
	struct listing *l = ctx;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		void *grown = realloc(l->o, cap * sizeof *l->o);
		if (!grown)
			return 1;
		l->o = grown;
		l->cap = cap;
	}
	if (!(l->o[l->n].key = strdup(key)))
		return 1;
	l->o[l->n].size = size;
	snprintf(l->o[l->n].etag, sizeof l->o[l->n].etag, "%s", etag);
	l->n++;
	return 0;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct object *)a)->key, ((const struct object *)b)->key);
}

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->o[i].key);
	free(l->o);
	memset(l, 0, sizeof *l);
}

/* Every object under the prefix, sorted by key. Returns 0, or an exit code (printed). */
static int list_bucket(struct s3 *s, struct listing *l)
{
	char err[1024];
	int rc = s3_list(s, add_object, l, err, sizeof err);

	if (rc != S3_OK) {
		log_error("offsite: %s", err);
		return rc == S3_DENIED ? EXIT_LOGIN : EXIT_UNREACHABLE;
	}
	if (l->n) /* qsort's array may not be NULL */
		qsort(l->o, l->n, sizeof *l->o, by_key);
	return 0;
}

static const struct object *find(const struct listing *l, const char *key)
{
	struct object k = { (char *)key, 0, "" };
	return bsearch(&k, l->o, l->n, sizeof *l->o, by_key);
}

/* What verify --offsite checks per file. */
struct check {
	struct s3 *s3;
	struct store *store;
	struct sha256 *hash;
	const struct listing *l;
	int deep;
	void (*finding)(void *ctx, const char *path, const char *reason);
	void *ctx;
	unsigned long findings, checked;
	const char *tmp; /* a scratch file for --deep */
	struct manifest *m; /* the days' entries: reopened every DAYS_PER_HANDLE days */
	unsigned days;
};

/* A manifest handle keeps the days it loaded: a fresh one every so many days bounds memory by
 * that many days, whatever the archive's age. */
#define DAYS_PER_HANDLE 8

static void say(struct check *c, const char *path, const char *reason)
{
	c->findings++;
	c->finding(c->ctx, path, reason);
}

/* The object at `key` downloaded and hashed. Returns 0 with `hex` set, or -1 (said). */
static int download_hash(struct check *c, const char *key, char hex[SHA256_HEX_LEN + 1])
{
	char err[1024];
	uint64_t size = 0;
	int fd = open(c->tmp, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		log_error("%s: %s", c->tmp, strerror(errno));
		return -1;
	}
	int rc = s3_get(c->s3, key, fd, OBJECT_CAP, err, sizeof err);
	close(fd);
	if (rc != S3_OK) {
		say(c, key, err);
		return -1;
	}
	if (sha256_file_at(c->hash, AT_FDCWD, c->tmp, hex, &size) != 0) {
		log_error("%s: %s", c->tmp, strerror(errno));
		return -1;
	}
	return 0;
}

static int check_entry(void *ctx, const struct manifest_entry *e)
{
	struct check *c = ctx;
	const struct object *o;
	struct s3_object h;
	char why[1400], err[1024], hex[SHA256_HEX_LEN + 1];
	const char *want = e->stored_sha256[0] ? e->stored_sha256 : e->sha256;

	if (!e->file[0] || e->unavailable || e->forgotten)
		return 0;
	c->checked++;
	if (!e->offsite) {
		if (!e->pruned)
			say(c, e->file, "no confirmed offsite copy (not uploaded yet)");
		return 0;
	}
	if (!(o = find(c->l, e->file))) {
		say(c, e->file, "the manifest says it is offsite, but the bucket does not list it");
		return 0;
	}
	if (o->size != e->size) {
		snprintf(why, sizeof why, "the bucket's object holds %llu bytes, the manifest says %llu",
			 (unsigned long long)o->size, (unsigned long long)e->size);
		say(c, e->file, why);
		return 0;
	}
	if (s3_head(c->s3, e->file, &h, err, sizeof err) != S3_OK) {
		say(c, e->file, err);
		return 0;
	}
	/* An old recording may have gone up unlocked: its "offsite" line says so. */
	if (e->offsite == MANIFEST_OFFSITE_LOCKED && !h.lock_mode[0])
		say(c, e->file, "its offsite line says it is locked, but HEAD shows no lock");
	if (c->deep && download_hash(c, e->file, hex) == 0 && strcmp(hex, want) != 0) {
		snprintf(why, sizeof why, "the bucket's bytes hash to %s, the manifest says %s", hex, want);
		say(c, e->file, why);
	}
	return 0;
}

/* A local file under manifest/ against its object: the same bytes (MD5 = ETag). */
static void check_meta(struct check *c, const char *rel)
{
	char dir[256], md5[33], why[512];
	const char *name;
	const struct object *o = find(c->l, rel);
	struct stat st;
	int dfd, fd;

	if (!o) {
		say(c, rel, "not in the bucket");
		return;
	}
	if (store_split_file(rel, dir, sizeof dir, &name) != 0 ||
	    (dfd = store_open_dir(c->store, dir, 0, why, sizeof why)) < 0)
		return;
	fd = store_open_regular(dfd, name);
	close(dfd);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && s3_md5_fd(fd, (uint64_t)st.st_size, md5) == 0 &&
	    strcasecmp(md5, o->etag) != 0)
		say(c, rel, "the bucket's newest version differs from this host's (uploaded by the "
			    "next run, or changed here)");
	close(fd);
}

/* A day: its manifest and signature, then every file it names. */
static int check_day(void *ctx, const char *day)
{
	struct check *c = ctx;
	char rel[64];

	snprintf(rel, sizeof rel, "manifest/%s.jsonl", day);
	check_meta(c, rel);
	snprintf(rel, sizeof rel, "manifest/%s.jsonl.minisig", day);
	if (faccessat(store_root_fd(c->store), rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		check_meta(c, rel);
	if (c->days++ % DAYS_PER_HANDLE == 0) {
		char err[512];
		manifest_close(c->m);
		if (!(c->m = manifest_open(c->store, err, sizeof err))) {
			log_error("%s", err);
			return -1;
		}
	}
	if (manifest_each_entry(c->m, day, check_entry, c) < 0)
		say(c, rel, "the day cannot be read here");
	return 0;
}

/* The newest head in the bucket against the newest here: a host rolled back shows. */
static void check_heads(struct check *c)
{
	unsigned long long local = 0, remote = 0;
	char rel[64], why[256];
	int dfd = store_open_dir(c->store, "manifest/heads", 0, why, sizeof why);

	for (size_t i = 0; i < c->l->n; i++) {
		const char *k = c->l->o[i].key;
		unsigned long long v;
		char tail[8];
		if (sscanf(k, "manifest/heads/%12llu.jso%1[n]", &v, tail) == 2 &&
		    strlen(k) == strlen("manifest/heads/000000000000.json") && v > remote)
			remote = v;
	}
	for (unsigned long long v = remote + 1; dfd >= 0; v++) {
		snprintf(rel, sizeof rel, "%012llu.json", v);
		if (faccessat(dfd, rel, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
			break;
		local = v;
	}
	if (dfd >= 0 && !local && remote) {
		snprintf(rel, sizeof rel, "%012llu.json", remote);
		if (faccessat(dfd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			local = remote;
	}
	if (dfd >= 0)
		close(dfd);
	if (remote && local < remote) {
		snprintf(why, sizeof why, "the bucket holds head %llu, newer than any here: this "
			 "host's archive was rolled back (or its heads removed)", remote);
		say(c, "manifest/heads/", why);
	} else if (local > remote) {
		snprintf(why, sizeof why, "head %llu is not in the bucket yet (its newest is %llu)",
			 local, remote);
		say(c, "manifest/heads/", why);
	}
	if (remote && local == remote) {
		snprintf(rel, sizeof rel, "manifest/heads/%012llu.json", remote);
		check_meta(c, rel);
	}
}

int cmd_verify_offsite(const struct config *cfg, struct store *s, int deep,
		       void (*finding)(void *ctx, const char *path, const char *reason), void *ctx,
		       unsigned long *findings)
{
	struct listing l = { 0 };
	struct check c = { 0 };
	struct manifest *m = NULL;
	char err[512], tmp[] = "/tmp/nexo-verify-offsite.XXXXXX";
	int rc, tfd = -1;

	c.s3 = open_bucket(cfg);
	if (!c.s3)
		return EXIT_USAGE;
	rc = list_bucket(c.s3, &l);
	if (rc)
		goto out;
	rc = EXIT_STORAGE;
	c.store = s;
	c.l = &l;
	c.deep = deep;
	c.finding = finding;
	c.ctx = ctx;
	c.hash = sha256_new();
	if (deep && (tfd = mkstemp(tmp)) < 0) {
		log_error("%s: %s", tmp, strerror(errno));
		goto out;
	}
	c.tmp = tmp;
	m = manifest_open(s, err, sizeof err);
	if (!m || !c.hash) {
		log_error("%s", m ? "out of memory" : err);
		goto out;
	}
	if (manifest_each_day(m, check_day, &c) != 0)
		goto out;
	check_heads(&c);
	rc = 0;
out:
	if (tfd >= 0) {
		close(tfd);
		unlink(tmp);
	}
	manifest_close(m);
	manifest_close(c.m);
	sha256_free(c.hash);
	s3_free(c.s3);
	listing_free(&l);
	*findings = c.findings;
	return rc;
}

/* Whether `key` names what an archive holds (a date folder, manifest/ or cdr/), with no empty,
 * "." or ".." part and no control character: a hostile bucket writes nothing else. */
static int archive_name(const char *key)
{
	const char *p = key;

	if (!(strncmp(key, "manifest/", 9) == 0 || strncmp(key, "cdr/", 4) == 0 ||
	      (strlen(key) > 11 && strspn(key, "0123456789") == 4 && key[4] == '/')))
		return 0;
	for (const unsigned char *q = (const unsigned char *)key; *q; q++)
		if (*q < 0x20 || *q == 0x7f)
			return 0;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/' && !*++p)
			return 0;
	}
	return 1;
}

/* The day a key belongs to ("YYYY-MM-DD" into `day`), or 0 when none (heads, history). */
static int key_day(const char *key, char day[11])
{
	int y, m, d;
	if (sscanf(key, "%4d/%2d/%2d/", &y, &m, &d) == 3 ||
	    sscanf(key, "manifest/%4d-%2d-%2d.", &y, &m, &d) == 3 ||
	    sscanf(key, "cdr/%4d-%2d-%2d.", &y, &m, &d) == 3) {
		snprintf(day, 11, "%04d-%02d-%02d", y, m, d);
		return 1;
	}
	return 0;
}

/* Writes the object `key` as DIR/key: its folders made, a temp, fsync, rename. Returns 0, or -1
 * (printed). */
static int restore_one(struct s3 *s, int root, const char *key)
{
	char path[2048], tmp[2100], err[1024];
	int fd, rc;

	snprintf(path, sizeof path, "%s", key);
	for (char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdirat(root, path, 0750) != 0 && errno != EEXIST) {
			log_error("restore: %s: %s", path, strerror(errno));
			return -1;
		}
		*slash = '/';
	}
	snprintf(tmp, sizeof tmp, "%s.restore-tmp", path);
	fd = openat(root, tmp, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_error("restore: %s: %s", tmp, strerror(errno));
		return -1;
	}
	rc = s3_get(s, key, fd, OBJECT_CAP, err, sizeof err);
	if (rc != S3_OK)
		log_error("restore: %s", err);
	else if (fsync(fd) != 0 || renameat(root, tmp, root, path) != 0) {
		log_error("restore: %s: %s", path, strerror(errno));
		rc = S3_FAILED;
	}
	close(fd);
	if (rc != S3_OK)
		unlinkat(root, tmp, 0);
	return rc == S3_OK ? 0 : -1;
}

static const char restore_usage[] =
	"usage: nexo-archive restore --to DIR [--from DAY] [--until DAY]\n";

int cmd_restore(const struct config *cfg, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'f' },
		{ "until", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *from = NULL, *until = NULL;
	struct listing l = { 0 };
	struct s3 *s = NULL;
	unsigned long done = 0, failed = 0, skipped = 0;
	unsigned long long bytes = 0;
	int c, rc = EXIT_USAGE, root = -1;

	cmd_restart_getopt();
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			dir = optarg;
			break;
		case 'f':
		case 'u':
			if (!cmd_valid_day(optarg)) {
				log_error("restore %s '%s': expected YYYY-MM-DD",
					  c == 'f' ? "--from" : "--until", optarg);
				return EXIT_USAGE;
			}
			*(c == 'f' ? &from : &until) = optarg;
			break;
		case 'h':
			fputs(restore_usage, stdout);
			return EXIT_OK;
		default:
			return cmd_usage_error(restore_usage);
		}
	}
	if (!dir || optind != argc)
		return cmd_usage_error(restore_usage);
	/* Into a new or empty folder only: a restore never mixes with an archive. */
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		log_error("restore: %s: %s", dir, strerror(errno));
		return EXIT_STORAGE;
	}
	root = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0) {
		log_error("restore: %s: %s", dir, strerror(errno));
		return EXIT_STORAGE;
	}
	{
		int any = 0, dup_fd = dup(root);
		DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
		struct dirent *de;
		while (d && (de = readdir(d)) != NULL)
			any |= strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
		if (d)
			closedir(d);
		else if (dup_fd >= 0)
			close(dup_fd);
		if (any) {
			log_error("restore: %s is not empty; restore into a new folder", dir);
			goto out;
		}
	}
	if (!(s = open_bucket(cfg)))
		goto out;
	if ((rc = list_bucket(s, &l)) != 0)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		const char *key = l.o[i].key;
		char day[11];
		if (!archive_name(key)) {
			char esc[CMD_ESC];
			log_warn("restore: skipping %s: not a name an archive holds",
				 log_escape(key, esc, sizeof esc));
			skipped++;
			continue;
		}
		if (key_day(key, day) && ((from && strcmp(day, from) < 0) ||
					  (until && strcmp(day, until) > 0)))
			continue;
		if (restore_one(s, root, key) != 0) {
			failed++;
			continue;
		}
		done++;
		bytes += l.o[i].size;
	}
	printf("restore: %lu objects (%llu bytes) into %s, %lu failed, %lu skipped\n", done, bytes,
	       dir, failed, skipped);
	rc = failed ? EXIT_PARTIAL : EXIT_OK;
	/* What was restored is an archive: marked as `init` marks one (verify and runs ask). */
	{
		char err[512];
		if (marker_create(dir, err, sizeof err) < 0) {
			log_error("restore: %s", err);
			rc = EXIT_STORAGE;
		}
	}
out:
	if (root >= 0)
		close(root);
	s3_free(s);
	listing_free(&l);
	return rc;
}
