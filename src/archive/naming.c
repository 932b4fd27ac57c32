/* naming.c — candidate names of a new archive file (naming.h). */
#include "naming.h"

static int candidate(void *ctx, unsigned attempt, char *out, size_t outlen)
{
	const struct file_naming *n = ctx;

	return recpath_file_name(&n->where, n->pbx_path, n->version, attempt, n->suffix, out,
				 outlen);
}

struct store_naming naming_for_store(struct file_naming *n)
{
	struct store_naming s = { candidate, n };

	return s;
}

int naming_first(const struct file_naming *n, char *out, size_t outlen)
{
	return recpath_file_name(&n->where, n->pbx_path, n->version, 0, n->suffix, out, outlen);
}
