/* cmd_age.c — `keygen` and `decrypt`: options, output files, messages and exit codes around
 * age.c. Decrypted files are committed like every other write (temp in the target folder,
 * fsync, rename without replacing, folder fsync) and never left half-written. Owns no crypto.
 * See cmd_age.h. */
#include "cmd_age.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "crypto/age.h"

enum { CMD_OK = 0, CMD_FAILED = 1, CMD_USAGE = 2, CMD_NOT_MINE = 3 };

static const char keygen_usage[] = "usage: nexo-archive keygen [-o FILE]\n";
static const char decrypt_usage[] =
	"usage: nexo-archive decrypt -i IDENTITY [-i IDENTITY]... FILE.age... [-o DIR | -o -]\n";

int cmd_keygen(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	char recipient[AGE_RECIPIENT_SIZE], err[512], esc[512];
	int c;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--sign") == 0)
			return CMD_NOT_MINE;
	optind = 0; /* see cmd_decrypt */
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			path = optarg;
			break;
		case 'h':
			fputs(keygen_usage, stdout);
			return CMD_OK;
		default:
			fputs(keygen_usage, stderr);
			return CMD_USAGE;
		}
	}
	if (optind != argc) {
		log_error("keygen: unexpected argument '%s'",
			  log_escape(argv[optind], esc, sizeof esc));
		fputs(keygen_usage, stderr);
		return CMD_USAGE;
	}
	if (path && strcmp(path, "-") == 0)
		path = NULL;
	if (age_keygen_file(path, recipient, err, sizeof err) != 0) {
		log_error("keygen: %s", log_escape(err, esc, sizeof esc));
		return CMD_FAILED;
	}
	if (path) {
		printf("%s\n", recipient);
		if (fflush(stdout) != 0) {
			log_error("keygen: stdout: %s", strerror(errno));
			return CMD_FAILED;
		}
	} else {
		fprintf(stderr, "Public key: %s\n", recipient);
	}
	return CMD_OK;
}

/* Where plaintext goes: an fd, with a count and the first write error. */
struct sink {
	int fd;
	uint64_t bytes;
	int err;
};

static int sink_write(void *ctx, const void *buf, size_t len)
{
	struct sink *s = ctx;
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t w = write(s->fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			s->err = errno;
			return -1;
		}
		p += w;
		len -= (size_t)w;
		s->bytes += (uint64_t)w;
	}
	return 0;
}

static int decrypt_to_stdout(const char *path, int in, const struct age_identities *ids)
{
	struct sink s = { .fd = STDOUT_FILENO };
	char err[512], esc[1024];
	int rc = age_decrypt(in, ids, sink_write, &s, err, sizeof err);

	if (rc == AGE_OK)
		return 0;
	log_error("%s: %s%s%s%s", log_escape(path, esc, sizeof esc), err,
		  s.err ? ": " : "", s.err ? strerror(s.err) : "",
		  s.bytes ? "; the authenticated chunks before the failure were already "
			    "written to stdout" : "");
	return -1;
}

/* Moves `tmp` to `name` in `dfd` unless `name` exists. Returns 0 or -1 with errno set. */
static int publish(int dfd, const char *tmp, const char *name)
{
	if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* A file system without RENAME_NOREPLACE: link(2) refuses to replace as well. */
	if (linkat(dfd, tmp, dfd, name, 0) != 0)
		return -1;
	unlinkat(dfd, tmp, 0);
	return 0;
}

static int decrypt_to_file(const char *path, int in, const struct age_identities *ids,
			   const char *outdir)
{
	const char *base = strrchr(path, '/');
	char dir[4096], name[256], tmp[64], err[512], esc[1024], esc2[1024];
	unsigned char rnd[8];
	struct sink s = { .fd = -1 };
	struct stat st;
	size_t blen;
	int dfd = -1, rc = -1, arc, tmp_made = 0;

	base = base ? base + 1 : path;
	blen = strlen(base);
	log_escape(path, esc, sizeof esc);
	if (blen <= 4 || strcmp(base + blen - 4, ".age") != 0 || blen - 4 >= sizeof name) {
		log_error("%s: the name does not end in .age (use -o - to write to stdout)", esc);
		return -1;
	}
	snprintf(name, sizeof name, "%.*s", (int)(blen - 4), base);
	if (outdir)
		snprintf(dir, sizeof dir, "%s", outdir);
	else if (base == path)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(base - path - 1 > 0 ? base - path - 1 : 1),
			 path);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		log_error("%s: output folder %s: %s", esc, log_escape(dir, esc2, sizeof esc2),
			  strerror(errno));
		return -1;
	}
	log_escape(name, esc2, sizeof esc2);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		log_error("%s: %s already exists; not overwritten", esc, esc2);
		goto out;
	}
	randombytes_buf(rnd, sizeof rnd);
	snprintf(tmp, sizeof tmp, ".nexo-decrypt-%02x%02x%02x%02x%02x%02x%02x%02x.tmp", rnd[0],
		 rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	s.fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (s.fd < 0) {
		log_error("%s: cannot create a temp file in %s: %s", esc,
			  log_escape(dir, esc2, sizeof esc2), strerror(errno));
		goto out;
	}
	tmp_made = 1;
	arc = age_decrypt(in, ids, sink_write, &s, err, sizeof err);
	if (arc != AGE_OK) {
		log_error("%s: %s%s%s; no output written", esc, err, s.err ? ": " : "",
			  s.err ? strerror(s.err) : "");
		goto out;
	}
	if (fsync(s.fd) != 0 || close(s.fd) != 0) {
		s.fd = -1;
		log_error("%s: writing the output: %s", esc, strerror(errno));
		goto out;
	}
	s.fd = -1;
	if (publish(dfd, tmp, name) != 0) {
		log_error("%s: %s: %s", esc, esc2,
			  errno == EEXIST ? "appeared meanwhile; not overwritten" : strerror(errno));
		goto out;
	}
	tmp_made = 0;
	if (fsync(dfd) != 0) {
		log_error("%s: fsync of the output folder: %s", esc, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (s.fd >= 0)
		close(s.fd);
	if (tmp_made)
		unlinkat(dfd, tmp, 0);
	close(dfd);
	return rc;
}

static int decrypt_one(const char *path, const struct age_identities *ids, const char *outdir)
{
	char esc[1024];
	int in = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (in < 0) {
		log_error("%s: %s", log_escape(path, esc, sizeof esc), strerror(errno));
		return -1;
	}
	if (outdir && strcmp(outdir, "-") == 0)
		rc = decrypt_to_stdout(path, in, ids);
	else
		rc = decrypt_to_file(path, in, ids, outdir);
	close(in);
	return rc;
}

int cmd_decrypt(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "identity", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct age_identities ids;
	const char *outdir = NULL;
	char err[1024], esc[1024];
	int c, failed = 0, rc = CMD_USAGE;

	age_identities_init(&ids);
	/* 0, not 1: glibc then starts afresh. main scanned with "+" (stop at the command), and
	 * after optind = 1 that mode would stick, so "FILE.age -o DIR" would not be permuted. */
	optind = 0;
	while ((c = getopt_long(argc, argv, "i:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (age_identities_load(&ids, optarg, err, sizeof err) != 0) {
				log_error("decrypt: identity %s", log_escape(err, esc, sizeof esc));
				goto out;
			}
			break;
		case 'o':
			if (outdir) {
				log_error("decrypt: -o given twice");
				goto out;
			}
			outdir = optarg;
			break;
		case 'h':
			fputs(decrypt_usage, stdout);
			rc = CMD_OK;
			goto out;
		default:
			fputs(decrypt_usage, stderr);
			goto out;
		}
	}
	if (age_identities_count(&ids) == 0 || optind == argc) {
		log_error("decrypt needs at least one -i IDENTITY and one FILE.age");
		fputs(decrypt_usage, stderr);
		goto out;
	}
	for (int i = optind; i < argc; i++)
		failed += decrypt_one(argv[i], &ids, outdir) != 0;
	if (outdir && strcmp(outdir, "-") == 0 && fflush(stdout) != 0)
		failed++;
	rc = failed ? CMD_FAILED : CMD_OK;
out:
	age_identities_free(&ids);
	return rc;
}
