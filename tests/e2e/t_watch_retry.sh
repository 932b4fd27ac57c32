#!/usr/bin/env bash
# watch retries what did not land, and never gives a recording up within seconds of its call.
# Setup: an archive made by a run; then fakepbx with AMI whose first two 20036 answers leave
# out the first file the first of them was asked for (--fault omit-one:2), and [sync]
# invalid_retries = 1 (a run would record a recording missing once as "unavailable").
# Command: nexo-archive watch; one call added (SIGUSR1).
# Expected: the watch retries (5 s, then 10 s) and archives it, with the PBX's bytes; no
# "unavailable" line, nothing in .state/attempts.json for it; SIGTERM → exit 0.
source "$TOP/tests/e2e/lib.sh"

WATCH_PID=""
cleanup() {
	[ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null && wait "$WATCH_PID" 2>/dev/null
	stop_pbx
}
trap 'exit 143' TERM INT

generate 1 3 --min-seconds 1 --max-seconds 1
start_pbx
write_conf
nexo run
expect_rc 0
stop_pbx

start_pbx --ami-listen 127.0.0.1:0 --ami-port-file "$T/ami-port" --fault omit-one:2
write_conf '[sync]' 'invalid_retries = 1' '[ami]' "port = $(cat "$T/ami-port")" \
	'username = admin' 'secret = password' 'coalesce_ms = 200'
"$NEXO" -v -c "$CONF" watch >"$T/watch.out" 2>"$T/watch.err" &
WATCH_PID=$!
wait_until 10 grep -q 'watching for recordings' "$T/watch.err"
# The catch-up batch at login may meet the fault first: let it settle.
sleep 1
kill -USR1 "$PBX_PID"
wait_until 10 grep -q '^fakepbx: call added: .*\.wav$' "$T/fakepbx.log"
call=$(grep '^fakepbx: call added: ' "$T/fakepbx.log" | tail -n 1 | grep -oE '[0-9]{8}/[^ ]+\.wav$')
[ -n "$call" ] || fail "the added call was not recorded: $(grep 'call added' "$T/fakepbx.log")"
archived() { manifest_paths archived | grep -qxF -- "$call"; }
wait_until 60 archived
grep -q 'did not land; trying again' "$T/watch.err" || fail "no retry was needed: $(cat "$T/watch.err")"
[ "$(manifest_events unavailable)" = 0 ] || fail "the watch gave a recording up"
! grep -qF "$(basename "$call")" "$ARCHIVE/.state/attempts.json" 2>/dev/null ||
	fail "the watch counted attempts: $(cat "$ARCHIVE/.state/attempts.json")"
f=$(cat "$ARCHIVE"/manifest/*.jsonl | jq -r --arg p "$call" 'select(.event == "archived" and .pbx_path == $p) | .file')
cmp "$ARCHIVE/$f" "$PBXDIR/$call" || fail "archived bytes differ"
kill -TERM "$WATCH_PID"
set +e
wait "$WATCH_PID"
rc=$?
set -e
WATCH_PID=""
[ "$rc" = 0 ] || fail "watch exited $rc after SIGTERM"
echo "ok"
