/* cmd_age.h — the `keygen` and `decrypt` commands: command-line faces of age.c that need no
 * config. Each takes argv starting at the command name (argv[0] = "keygen" / "decrypt"),
 * parses it with getopt_long (resetting optind to 0, glibc's full reset, so options may follow
 * the files even after main's "+" scan), prints errors through log.c and returns an exit code;
 * neither ever exits. */
#ifndef NEXO_CMD_AGE_H
#define NEXO_CMD_AGE_H

/* nexo-archive keygen [-o FILE]
 * Makes an age X25519 identity in age-keygen's format. With -o it goes to FILE (created 0600,
 * never overwriting) and the recipient "age1..." is printed on stdout; without, the identity
 * goes to stdout and "Public key: age1..." to stderr, as age-keygen does.
 * Returns 0 ok, 1 the key could not be written (FILE exists, I/O error), 2 usage error, and 3
 * without doing anything when argv holds "--sign" (not this command's: main routes it). */
int cmd_keygen(int argc, char **argv);

/* nexo-archive decrypt -i IDENTITY [-i IDENTITY]... FILE.age... [-o DIR | -o -]
 * Decrypts each FILE with the identities (age-keygen files) to DIR/<name without .age>
 * (default: the folder of FILE), through a temp file in that folder (O_EXCL, 0600) that is
 * fsynced and renamed (never over an existing file) only once the whole file decrypted and
 * authenticated; on failure the temp is removed and nothing is left. With -o -, plaintext goes
 * to stdout chunk by chunk, each chunk only after it authenticated (a failure then says how
 * many bytes were already written). Each failure is logged with the file's name and the cause.
 * Returns 0 all files decrypted, 1 at least one failed, 2 usage error or an unreadable or
 * malformed identity file. */
int cmd_decrypt(int argc, char **argv);

#endif
