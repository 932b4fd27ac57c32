/* cmd_init.h — `nexo-archive init [--owner USER]`: makes [archive] dir an archive (the only
 * command that creates one; archive/marker.h says why). */
#ifndef NEXO_CMD_INIT_H
#define NEXO_CMD_INIT_H

struct config;

/* argv[0] is "init". Creates the folder and its marker (an existing archive's marker is
 * checked, an older version's unmarked archive is marked), then with --owner gives the folder
 * and everything in it to USER (and USER's group), the folder mode 0750. Returns EXIT_OK,
 * EXIT_USAGE, or EXIT_STORAGE (printed). */
int cmd_init(const struct config *cfg, int argc, char **argv);

#endif
