#!/usr/bin/env bash
# Files an insider (or a mistake) puts where the archive keeps its own never hang or fool a run.
#  - a FIFO at a manifest day's path, and at .state/checkpoint: run and verify end with a clear
#    error naming the file (no hang: each command is given 20 s);
#  - .state/lock is 0600, even when an older run left it group-readable (any reader of the lock
#    file could hold its flock and block every run);
#  - a signing secret key readable by others is refused at start (exit 2), like the password
#    file;
#  - a FIFO at .state/writing (opened to append), and as the password file, the signing key
#    or the config itself: a clear error naming it, never a hang.
source "$TOP/tests/e2e/lib.sh"

generate 1 3 --min-seconds 1 --max-seconds 2
start_pbx
write_conf
nexo run
expect_rc 0
day=$(ls "$ARCHIVE/manifest" | grep -m1 '\.jsonl$')

# The lock: 0600, also after an older run left it 0640.
[ "$(stat -c %a "$ARCHIVE/.state/lock")" = 600 ] || fail "the lock is $(stat -c %a "$ARCHIVE/.state/lock")"
chmod 0640 "$ARCHIVE/.state/lock"
nexo run
expect_rc 0
[ "$(stat -c %a "$ARCHIVE/.state/lock")" = 600 ] || fail "the lock stayed $(stat -c %a "$ARCHIVE/.state/lock")"

# A FIFO at a manifest day's path.
mv "$ARCHIVE/manifest/$day" "$T/day.saved"
mkfifo "$ARCHIVE/manifest/$day"
set +e
timeout 20 "$NEXO" -c "$CONF" -o sync.lookback=3d run >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -ne 124 ] || fail "run hung on a FIFO at manifest/$day"
[ "$rc" -ne 0 ] || fail "run exited 0 with a FIFO at manifest/$day"
grep -q "manifest/$day" "$T/err" || fail "the FIFO is not named: $(cat "$T/err")"
set +e
timeout 20 "$NEXO" -c "$CONF" verify >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -ne 124 ] || fail "verify hung on a FIFO at manifest/$day"
[ "$rc" -ne 0 ] || fail "verify exited 0 with a FIFO at manifest/$day"
rm "$ARCHIVE/manifest/$day"
mv "$T/day.saved" "$ARCHIVE/manifest/$day"

# A FIFO at .state/checkpoint.
mv "$ARCHIVE/.state/checkpoint" "$T/cp.saved"
mkfifo "$ARCHIVE/.state/checkpoint"
set +e
timeout 20 "$NEXO" -c "$CONF" run >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -ne 124 ] || fail "run hung on a FIFO at .state/checkpoint"
[ "$rc" -ne 0 ] || fail "run exited 0 with a FIFO at .state/checkpoint"
grep -q "checkpoint" "$T/err" || fail "the FIFO checkpoint is not named: $(cat "$T/err")"
rm "$ARCHIVE/.state/checkpoint"
mv "$T/cp.saved" "$ARCHIVE/.state/checkpoint"
nexo run
expect_rc 0

# A signing key others can read.
"$NEXO" keygen --sign -o "$T/sign.key" >/dev/null
chmod 0644 "$T/sign.key"
write_conf '[signing]' "secret_key_file = $T/sign.key"
nexo run
expect_rc 2
grep -qF "$T/sign.key" "$T/err" && grep -q 'chmod' "$T/err" || fail "the readable key is not refused: $ERR"
chmod 0600 "$T/sign.key"
nexo run
expect_rc 0

# no_hang WHAT WORDS ARGS...: the command ends within 20 s, not 0, naming WORDS.
no_hang() {
	local what=$1 words=$2
	shift 2
	set +e
	timeout 20 "$NEXO" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	[ "$rc" -ne 124 ] || fail "$what: hung"
	[ "$rc" -ne 0 ] || fail "$what: exited 0"
	grep -qF "$words" "$T/err" || fail "$what: not named ($words): $(cat "$T/err")"
}

# A FIFO at .state/writing: the notes of the days a run writes into, opened to append.
add_recording "$(date -d "$(date -d yesterday +%F) 23:30:30" +%s)" >/dev/null
rm -f "$ARCHIVE/.state/writing"
mkfifo "$ARCHIVE/.state/writing"
no_hang ".state/writing" ".state/writing" -c "$CONF" -o sync.lookback=3d run
rm "$ARCHIVE/.state/writing"

# A FIFO as the password file, the signing key, the config.
mv "$T/password" "$T/password.saved"
mkfifo -m 0600 "$T/password"
sed -i "s|^password_file = .*|password_file = $T/password|" "$CONF"
no_hang "password FIFO" "$T/password" -c "$CONF" run
rm "$T/password"
mv "$T/password.saved" "$T/password"
mv "$T/sign.key" "$T/sign.saved"
mkfifo -m 0600 "$T/sign.key"
no_hang "signing key FIFO" "$T/sign.key" -c "$CONF" run
rm "$T/sign.key"
mv "$T/sign.saved" "$T/sign.key"
mkfifo "$T/fifo.conf"
no_hang "config FIFO" "$T/fifo.conf" -c "$T/fifo.conf" run
echo "ok"
