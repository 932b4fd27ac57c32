#!/usr/bin/env bash
# Setup: fakepbx with 1 day x 2 recordings; configs written per case.
# Commands and expected results:
#   unknown key "bogus_key" on line 11        -> exit 2, stderr "nexo.conf:11:" + "unknown key"
#   [sync] batch_files = zero (line 11)       -> exit 2, stderr "nexo.conf:11:" and batch_files
#   [pbx] without url                         -> exit 2, stderr mentions url
#   inline "password = ..." in a 0644 config  -> exit 2, stderr mentions chmod
#   password_file readable by others (0644)   -> exit 2, stderr mentions chmod
#   the same inline-password config at 0600    -> accepted (exit 0): the mode was the problem
#   -o pbx.password=S3cret-0n-Cmdline         -> exit 2, stderr mentions password but does not
#                                                echo the secret (stderr ends up in cron mail)
#   url = a closed port (127.0.0.1:9), retries 0 -> exit 4 within 5 s, nothing archived
source "$TOP/tests/e2e/lib.sh"

generate 1 2 --min-seconds 1 --max-seconds 1
start_pbx

# write_conf writes 9 lines ([pbx] x6, [archive] x2 ... see lib.sh); extras start at line 10.
[ "$(write_conf; wc -l <"$CONF")" -eq 9 ] || fail "write_conf no longer writes 9 lines; fix the line numbers"

write_conf '[sync]' 'bogus_key = 1'
nexo run
expect_rc 2
grep -qE 'nexo\.conf:11: .*unknown key' "$T/err" || fail "no 'nexo.conf:11: unknown key': $ERR"
grep -q 'bogus_key' "$T/err" || fail "the unknown key is not named: $ERR"

write_conf '[sync]' 'batch_files = zero'
nexo run
expect_rc 2
grep -q 'nexo\.conf:11:' "$T/err" || fail "no 'nexo.conf:11:' for a bad value: $ERR"
grep -q 'batch_files' "$T/err" || fail "the bad key is not named: $ERR"

write_conf
sed -i '/^url = /d' "$CONF"
nexo run
expect_rc 2
grep -q 'url' "$T/err" || fail "a missing url is not named: $ERR"

write_conf
sed -i '/^password_file = /d' "$CONF"
sed -i 's/^username = admin$/username = admin\npassword = admin/' "$CONF"
chmod 0644 "$CONF"
nexo run
expect_rc 2
grep -q 'chmod' "$T/err" || fail "a world-readable config with a password does not say chmod: $ERR"
chmod 0600 "$CONF"
nexo run
expect_rc 0 # the same config, private: accepted

write_conf
chmod 0644 "$T/password"
nexo run
expect_rc 2
grep -q 'chmod' "$T/err" || fail "a world-readable password_file does not say chmod: $ERR"
chmod 0600 "$T/password"

write_conf
nexo -o pbx.password=S3cret-0n-Cmdline run
expect_rc 2
grep -qi 'password' "$T/err" || fail "-o pbx.password is refused without naming it: $ERR"
if grep -qF 'S3cret-0n-Cmdline' "$T/out" "$T/err"; then fail "the -o password is echoed: $ERR"; fi

ARCHIVE="$T/archive-closed"
stop_pbx
# Port 9 (discard), where nothing listens: below the range the kernel hands out for port 0, so
# no other test's server can have been given it meanwhile, as it can the stopped fakepbx's.
PBX_URL=http://127.0.0.1:9
write_conf '[pbx]' 'retries = 0' 'connect_timeout = 2'
t0=$(date +%s%N)
nexo run
t1=$(date +%s%N)
expect_rc 4
[ $(((t1 - t0) / 1000000)) -lt 5000 ] || fail "exit 4 took $(((t1 - t0) / 1000000)) ms"
[ "$(archive_count)" -eq 0 ] || fail "files archived from nowhere"
echo "ok"
