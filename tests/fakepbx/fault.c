/*
 * fault.c — the table of injectable faults and its parser.
 *
 * Owns only the mapping from names on the command line to enum fault_id;
 * the modules that implement a fault read it back with fault_on() and
 * fault_arg(). Nothing here touches the network or the disk.
 */
#include "fault.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum fault_argkind { FAULT_ARG_NONE, FAULT_ARG_NUMBER };

struct fault_def {
	const char *name;
	enum fault_id id;
	enum fault_argkind arg;
	const char *help;
};

static const struct fault_def fault_table[] = {
	{ "omit-one", FAULT_OMIT_ONE, FAULT_ARG_NONE,
	  "leave the first existing requested file out of each tar" },
	{ "evil-names", FAULT_EVIL_NAMES, FAULT_ARG_NONE,
	  "add ../x.wav, /tmp/x.wav and a symlink entry to each tar" },
	{ "expire-after", FAULT_EXPIRE_AFTER, FAULT_ARG_NUMBER,
	  "=N: a session dies after N authenticated requests" },
};

int fault_parse(struct fault_set *set, const char *spec)
{
	const char *eq = strchr(spec, '=');
	size_t namelen = eq ? (size_t)(eq - spec) : strlen(spec);

	for (size_t i = 0; i < sizeof fault_table / sizeof fault_table[0]; i++) {
		const struct fault_def *d = &fault_table[i];
		if (strlen(d->name) != namelen || memcmp(d->name, spec, namelen) != 0)
			continue;
		if (d->arg == FAULT_ARG_NONE) {
			if (eq) {
				fprintf(stderr, "fakepbx: fault %s takes no argument\n", d->name);
				return -1;
			}
			set->on[d->id] = true;
			set->arg[d->id] = 0;
			return 0;
		}
		if (!eq || eq[1] == '\0') {
			fprintf(stderr, "fakepbx: fault %s needs =N\n", d->name);
			return -1;
		}
		char *end;
		errno = 0;
		long v = strtol(eq + 1, &end, 10);
		if (errno != 0 || *end != '\0' || v < 0 || eq[1] == '-' || eq[1] == '+') {
			fprintf(stderr, "fakepbx: fault %s: bad number '%s'\n", d->name, eq + 1);
			return -1;
		}
		set->on[d->id] = true;
		set->arg[d->id] = v;
		return 0;
	}
	fprintf(stderr, "fakepbx: unknown fault '%.*s' (see --help)\n", (int)namelen, spec);
	return -1;
}

bool fault_on(const struct fault_set *set, enum fault_id id)
{
	return id < FAULT_COUNT && set->on[id];
}

long fault_arg(const struct fault_set *set, enum fault_id id)
{
	return fault_on(set, id) ? set->arg[id] : 0;
}

void fault_print_help(FILE *out)
{
	for (size_t i = 0; i < sizeof fault_table / sizeof fault_table[0]; i++)
		fprintf(out, "    %-14s %s\n", fault_table[i].name, fault_table[i].help);
}
