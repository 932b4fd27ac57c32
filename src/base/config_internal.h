/* config_internal.h — what config.c (loading) and config_keys.c (one setter per key) share:
 * the parse state. Not a public header: nothing outside base/config*.c includes it. */
#ifndef NEXO_CONFIG_INTERNAL_H
#define NEXO_CONFIG_INTERNAL_H

#include <stdio.h>

#include "config.h"

struct parse_ctx {
	struct config *cfg;
	const char *base_dir;   /* relative paths are taken from here ("" = cwd) */
	int from_override;
	char *password;         /* plaintext from the file, sodium_malloc'd */
	char *password_file;
	char *ami_secret_file;
	char *offsite_secret_file;
	int password_keys;      /* how many of password / password_md5 / password_file */
	int inline_secret;      /* the file itself holds a password */
	FILE *file;
	int lines_read;         /* inih calls the handler right after reading the key's line */
	int msg_line;           /* the line `msg` is about */
	char msg[256];
};

/* inih's handler for one key of one section: validates `val` and sets it in c->cfg. Returns
 * 1, or 0 with c->msg saying why (an unknown section or key, a bad value; with its line). */
int config_on_key(void *user, const char *sec, const char *key, const char *val);

#endif
