/* cmd_sign.h — the signing-key commands of the command line. Each takes the argv of its
 * command (argv[0] is the command's name), prints its own messages, and returns the exit
 * code for main to return; none of them reads the config. */
#ifndef NEXO_CMD_SIGN_H
#define NEXO_CMD_SIGN_H

/* `nexo-archive keygen --sign [-o FILE]`: makes an unencrypted minisign key pair for
 * unattended signing, FILE (default ./nexo-archive.key, mode 0600) and FILE.pub (0644), never
 * overwriting either (minisign_keygen). On success prints two lines on stdout: the public key
 * as the base64 string `minisign -P` takes, then the path of FILE.pub.
 * Returns 0 success; 1 the keys could not be made (message printed, no file left behind);
 * 2 usage error (usage printed; also when --sign is missing). -h/--help prints the usage on
 * stdout and returns 0. */
int cmd_keygen_sign(int argc, char **argv);

#endif
