#!/usr/bin/env bash
# Secret files the service reads through its group (issue 15): 0640 root:nexo-archive is private.
# Setup: a config with password_file and [ami] secret_file; the process runs as nobody:nogroup
# (setpriv; no supplementary groups); `init` loads the config (and so reads both files).
# Expected: files 0640 with group nogroup (the process's): accepted (exit 0); group daemon (a
# group the process is not in): refused, exit 2, naming the file, the group and chgrp; 0644:
# refused (accessible by others); 0600 owned by nobody: accepted. As root, 0640 with any group
# is accepted (root reads it anyway; the service's own run checks the group).
source "$TOP/tests/e2e/lib.sh"

command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing"
[ "$(id -u)" -eq 0 ] || skip "not root: the test gives files to nobody and runs as nobody (chown, setpriv)"
chmod 711 "$T"
W="$T/w"
mkdir -p "$W"
chown nobody:nogroup "$W"
printf 'admin\n' >"$W/password"
printf 'password\n' >"$W/ami-secret"
{
	printf '[pbx]\nurl = http://127.0.0.1:9\nusername = admin\npassword_file = %s\n' "$W/password"
	printf '[archive]\ndir = %s\n' "$W/archive"
	printf '[ami]\nusername = admin\nsecret_file = %s\n' "$W/ami-secret"
} >"$W/nexo.conf"
chmod 644 "$W/nexo.conf"

as_nobody() { # init as nobody:nogroup; sets RC and ERR
	set +e
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$NEXO" -c "$W/nexo.conf" init \
		>"$T/out" 2>"$T/err"
	RC=$?
	set -e
	ERR=$(cat "$T/err")
	echo "--- init as nobody -> exit $RC: $ERR"
}
perms() { # MODE OWNER:GROUP for both secret files
	chmod "$1" "$W/password" "$W/ami-secret"
	chown "$2" "$W/password" "$W/ami-secret"
}

perms 640 root:nogroup
as_nobody
expect_rc 0
[ -e "$W/archive/.nexo-archive" ] || fail "init as nobody made no archive"

perms 640 root:daemon
as_nobody
expect_rc 2
grep -q "$W/password: the password file is accessible by group daemon (mode 640), which this process is not in" <<<"$ERR" ||
	fail "a group the process is not in: not named: $ERR"
grep -q "chgrp nexo-archive" <<<"$ERR" || fail "the fix is not named: $ERR"

perms 640 nobody:nogroup
chgrp daemon "$W/ami-secret"
as_nobody
expect_rc 2
grep -q "the AMI secret file is accessible by group daemon" <<<"$ERR" || fail "the AMI secret's group: $ERR"

perms 644 root:nogroup
as_nobody
expect_rc 2
grep -q "accessible by others (mode 644)" <<<"$ERR" || fail "0644 is not refused as readable by others: $ERR"

perms 600 nobody:nogroup
as_nobody
expect_rc 0

perms 640 root:daemon
set +e
"$NEXO" -c "$W/nexo.conf" init >"$T/out" 2>"$T/err"
RC=$?
set -e
ERR=$(cat "$T/err")
expect_rc 0
echo "ok"
