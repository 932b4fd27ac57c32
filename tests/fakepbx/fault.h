/*
 * fault.h — named faults the fake can inject (--fault NAME[=N], repeatable).
 *
 * A fault is a deliberate misbehaviour of the PBX that the client must
 * survive. Adding one means: a new enum value, a row in the table in
 * fault.c, and a check with fault_on() where it bites.
 */
#ifndef FAKEPBX_FAULT_H
#define FAKEPBX_FAULT_H

#include <stdbool.h>
#include <stdio.h>

enum fault_id {
	FAULT_OMIT_ONE,     /* leave the first existing requested file out of a tar */
	FAULT_EVIL_NAMES,   /* add ../x.wav, /tmp/x.wav and a symlink entry to tars */
	FAULT_EXPIRE_AFTER, /* =N: a session dies after N authenticated requests */
	FAULT_COUNT
};

struct fault_set {
	bool on[FAULT_COUNT];
	long arg[FAULT_COUNT];
};

/*
 * Switch on the fault described by spec ("name" or "name=N") in set.
 * Returns 0 on success, -1 when the name is unknown or the argument is
 * missing, unexpected or not a non-negative integer (message printed).
 */
int fault_parse(struct fault_set *set, const char *spec);

/* True when fault id is switched on. */
bool fault_on(const struct fault_set *set, enum fault_id id);

/* The =N argument of fault id (0 when it takes none or is off). */
long fault_arg(const struct fault_set *set, enum fault_id id);

/* Print one help line per known fault to out. */
void fault_print_help(FILE *out);

#endif
