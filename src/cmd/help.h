/* help.h — the command line's own words: `--help`, `help [COMMAND]`, `COMMAND --help` and
 * `--version`, all without a config. The command table here is the one list of commands:
 * main dispatches by it and tests/e2e/t_man.sh holds the man page and the README to it. */
#ifndef NEXO_HELP_H
#define NEXO_HELP_H

#include <stdio.h>

/* Prints the overview: every command's synopsis, the global options, the exit codes. */
void help_overview(FILE *out);

/* Prints COMMAND's help. Returns 0, or -1 when there is no such command (nothing printed). */
int help_command(const char *name, FILE *out);

/* Whether `name` is a command. Returns 1 or 0. */
int help_is_command(const char *name);

/* Prints "nexo-archive VERSION" and the archive format this version writes. */
void help_version(FILE *out);

/* Whether argv[1..argc-1] asks for help (`--help` or `-h` before any `--`). Returns 1 or 0. */
int help_asked(int argc, char **argv);

#endif
