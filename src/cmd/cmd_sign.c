/* cmd_sign.c — `keygen --sign`: the command-line face of minisign_keygen. Parses its own
 * options (getopt from optind 1 of the command's argv), prints what an operator needs next
 * (the public key and where it is), and never touches the archive or the config. */
#include "cmd_sign.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "crypto/minisign.h"

#define DEFAULT_KEY "./nexo-archive.key"

static const char keygen_usage[] =
	"usage: nexo-archive keygen --sign [-o FILE]\n"
	"\n"
	"Makes a minisign key pair for signing the archive unattended: FILE (default\n"
	DEFAULT_KEY ", mode 0600, no password) and FILE.pub (0644). Existing files are\n"
	"never overwritten. Prints the public key (for `minisign -V -P`) and FILE.pub.\n"
	"Keep FILE readable by the archive's user only: it is not encrypted.\n";

int cmd_keygen_sign(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sign", no_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_KEY;
	char err[1024], b64[MINISIGN_PUBLIC_B64_LEN + 1], *pub_path;
	struct minisign_public *pk;
	int sign = 0, c;
	size_t len;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			sign = 1;
			break;
		case 'o':
			path = optarg;
			break;
		case 'h':
			fputs(keygen_usage, stdout);
			return 0;
		default:
			fputs(keygen_usage, stderr);
			return 2;
		}
	}
	if (!sign || optind != argc || path[0] == '\0') {
		fputs(keygen_usage, stderr);
		return 2;
	}
	if (minisign_keygen(path, err, sizeof err) != 0) {
		log_error("keygen: %s", err);
		return 1;
	}
	len = strlen(path);
	pub_path = malloc(len + sizeof ".pub");
	if (!pub_path) {
		log_error("keygen: out of memory");
		return 1;
	}
	memcpy(pub_path, path, len);
	memcpy(pub_path + len, ".pub", sizeof ".pub");
	pk = minisign_public_load(pub_path, err, sizeof err);
	if (!pk || minisign_public_base64(pk, b64, sizeof b64) != 0) {
		log_error("keygen: the keys were made, but %s cannot be read back: %s", pub_path,
			  pk ? "public key too long" : err);
		minisign_public_free(pk);
		free(pub_path);
		return 1;
	}
	printf("%s\n%s\n", b64, pub_path);
	minisign_public_free(pk);
	free(pub_path);
	if (fflush(stdout) != 0) {
		log_error("keygen: cannot write to stdout");
		return 1;
	}
	return 0;
}
