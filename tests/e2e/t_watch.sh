#!/usr/bin/env bash
# `nexo-archive watch` against fakepbx's AMI server (ephemeral port, admin/password) with
# [ami] coalesce_ms = 300. Setup: 1 day x 12 one-second recordings on the PBX disk; 20036
# dripped at 100 kB/s (a watch batch holds the lock for a noticeable while, a run for ~2 s).
# Calls are added with SIGUSR1 (every 4th one is a NO ANSWER without a recording).
# 0) config errors: no [ami] section -> exit 2 naming [ami]; a wrong AMI secret -> exit 5 within
#    a few seconds, stderr names the refusal and [ami] username and secret, never the secret.
# 1) watch running and logged in; SIGUSR1 -> within 5 s an "archived" line for the new
#    recording (the newest .wav on the PBX disk), the stored file's sha256 = the PBX file's.
#    Then 4 more calls, the 4th of all unrecorded: the 3 recorded ones archived, the unrecorded
#    one leaves no manifest line and no warning.
# 2) SIGUSR2 (AMI outage, 2 s), a call added while nobody listens: within 15 s watch logs in
#    again and archives it.
# 3) A nightly run meets the watch in a batch (watch SIGSTOPped while it holds the lock): the
#    run says it waits and does; a call added meanwhile; then the run holds the lock (run
#    SIGSTOPped) and a call's batch says it waits for the run; one more call. The run exits 0;
#    afterwards every .wav on the PBX is archived exactly once with its bytes, archived lines =
#    the run's archived + the watch's, verify exits 0, .state/tmp is empty.
# 4) SIGTERM -> watch exits 0 within 5 s and prints "watch: N batches, archived M".
# Each batch writes the run report (.state/last-run.json, command "watch", its own counts):
# after case 1 no success is claimed (no run yet); after case 3 the run's success is carried.
source "$TOP/tests/e2e/lib.sh"

# batch_report ARCHIVED_MIN ARCHIVED_MAX LAST_SUCCESS_COMMAND EXITS: the last report is a watch
# batch's, its exit code one of EXITS ("0" or "0,1"), archived within the bounds; its last
# success was by that command ("" none).
batch_report() {
	python3 - "$ARCHIVE/.state/last-run.json" "$@" <<'PY' || fail "the watch batch's report: $(cat "$ARCHIVE/.state/last-run.json")"
import json, sys
rep = json.load(open(sys.argv[1]))
lo, hi, ls = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
assert rep["command"] == "watch", rep["command"]
assert str(rep["exit_code"]) in sys.argv[5].split(","), rep["exit_code"]
assert lo <= rep["counts"]["archived"] <= hi, rep["counts"]
assert (rep["last_success"] or {}).get("command", "") == ls, rep["last_success"]
PY
}

WATCH_PID=""
RUN_PID=""

# The test never leaves a watch (or a run) behind, stopped or not.
stop_bg() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	kill -CONT "$pid" 2>/dev/null || true
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 250; i++)); do
		gone "$pid" && break
		sleep 0.02
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	stop_bg "$WATCH_PID"
	WATCH_PID=""
	stop_bg "$RUN_PID"
	RUN_PID=""
	stop_pbx
}
trap 'exit 143' TERM INT # the EXIT trap (cleanup) runs when the runner's timeout kills us

# gone PID: the child has exited (a zombie not yet waited for counts as gone).
gone() {
	local st
	st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 0
	[ "$st" = Z ]
}

# holds_lock PID: PID holds the flock on $ARCHIVE/.state/lock (per /proc/locks).
holds_lock() {
	local ino
	ino=$(stat -c %i "$ARCHIVE/.state/lock" 2>/dev/null) || return 1
	grep -qE "^[0-9]+: FLOCK +ADVISORY +WRITE +$1 [0-9a-f]+:[0-9a-f]+:$ino " /proc/locks
}

calls_added() { grep -c '^fakepbx: call added: ' "$T/fakepbx.log" || true; }
outages() { grep -c '^fakepbx: AMI outage for' "$T/fakepbx.log" || true; }

# add_call: SIGUSR1 to fakepbx, waits for its "call added" line; sets CALL to the recording's
# PBX path (YYYYMMDD/name.wav), or to "" for an unrecorded call.
add_call() {
	local n line
	n=$(calls_added)
	kill -USR1 "$PBX_PID"
	wait_until 10 more_than "$n" calls_added
	line=$(grep '^fakepbx: call added: ' "$T/fakepbx.log" | sed -n "$((n + 1))p")
	echo "added call $((n + 1)): ${line#fakepbx: call added: }"
	CALL=""
	if [[ "$line" =~ \ ([0-9]{8}/[^\ ]+\.wav)$ ]]; then
		CALL=${BASH_REMATCH[1]}
		[ -f "$PBXDIR/$CALL" ] || fail "fakepbx announced $CALL, which is not on its disk"
	else
		[[ "$line" == *"(not recorded)" ]] || fail "unexpected call line: $line"
	fi
}

# add_recorded_call: add_call until a recorded call is added (every 4th call is not).
add_recorded_call() {
	add_call
	[ -n "$CALL" ] || add_call
	[ -n "$CALL" ] || fail "two unrecorded calls in a row"
}

is_archived() { manifest_paths archived | grep -qxF -- "$1"; }
watch_idle() { ! holds_lock "$WATCH_PID"; }
# either CMD1... -- CMD2...: one of the two commands succeeds.
either() {
	local a=()
	while [ "$1" != -- ]; do
		a+=("$1")
		shift
	done
	shift
	"${a[@]}" || "$@"
}

# archived_file PBX_PATH: the archive file of PBX_PATH's "archived" line.
archived_file() {
	cat "$ARCHIVE"/manifest/*.jsonl | python3 -c '
import json, sys
for line in sys.stdin:
    o = json.loads(line)
    if o["event"] == "archived" and o["pbx_path"] == sys.argv[1]:
        print(o["file"])
' "$1"
}

# same_bytes PBX_PATH: the archived copy's sha256 equals the PBX file's.
same_bytes() {
	local f
	f=$(archived_file "$1")
	[ -n "$f" ] || fail "no archived line for $1"
	[ "$(sha256sum <"$ARCHIVE/$f")" = "$(sha256sum <"$PBXDIR/$1")" ] ||
		fail "archived $f differs from the PBX's $1"
}

all_archived() { [ "$(pbx_paths)" = "$(manifest_paths archived)" ]; }
manifest_lines() { cat "$ARCHIVE"/manifest/*.jsonl 2>/dev/null | wc -l; }
logins() { grep -c 'AMI: logged in to ' "$T/watch.err" || true; }
batches() { grep -c 'debug: watch: listing from ' "$T/watch.err" || true; }
watch_alive() { gone "$WATCH_PID" && fail "watch exited: $(tail -n 5 "$T/watch.err")"; return 0; }

# no_sanitizer FILE WHAT
no_sanitizer() {
	! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$1" ||
		fail "$2: sanitizer report: $(grep -m 3 -E 'Sanitizer|runtime error:' "$1")"
}

generate 1 12 --min-seconds 1 --max-seconds 1
start_pbx --ami-listen 127.0.0.1:0 --ami-port-file "$T/ami-port" --ami-outage 2 \
	--fault drip=100000@20036
[ -s "$T/ami-port" ] || fail "fakepbx did not write its AMI port"
AMI_PORT=$(cat "$T/ami-port")

# ---- 0) config errors --------------------------------------------------------------------
write_conf
nexo watch
expect_rc 2
grep -qF '[ami]' "$T/err" || fail "no [ami] section: the message does not name [ami]: $ERR"

SECRET=wrong-Qz7kXv9p
MAIN_CONF=$CONF
MAIN_ARCHIVE=$ARCHIVE
CONF="$T/wrong.conf"
ARCHIVE="$T/archive-wrong"
write_conf '[ami]' "port = $AMI_PORT" 'username = admin' "secret = $SECRET" 'coalesce_ms = 300'
t0=$(date +%s%N)
set +e
timeout -s KILL 30 "$NEXO" -v -c "$CONF" watch >"$T/out" 2>"$T/err"
RC=$?
set -e
ms=$((($(date +%s%N) - t0) / 1000000))
ERR=$(cat "$T/err")
echo "--- nexo-archive watch (wrong secret) -> exit $RC in $ms ms"
sed 's/^/    stderr: /' "$T/err"
no_sanitizer "$T/err" "watch with a wrong secret"
expect_rc 5
[ "$ms" -lt 10000 ] || fail "a refused AMI login took $ms ms to end the watch"
grep -qE 'refused the login|Authentication failed' "$T/err" ||
	fail "the AMI refusal is not named: $ERR"
grep -qF '[ami] username and secret' "$T/err" || fail "no hint to check [ami] username and secret: $ERR"
! grep -qF -- "$SECRET" "$T/out" "$T/err" || fail "the AMI secret appears in the output"
CONF=$MAIN_CONF
ARCHIVE=$MAIN_ARCHIVE

# ---- 1) a call is archived within seconds --------------------------------------------------
write_conf '[ami]' "port = $AMI_PORT" 'username = admin' 'secret = password' 'coalesce_ms = 300'
"$NEXO" -v -c "$CONF" watch >"$T/watch.out" 2>"$T/watch.err" &
WATCH_PID=$!
wait_until 20 grep -q 'AMI: logged in to ' "$T/watch.err"
grep -qF "AMI: logged in to 127.0.0.1:$AMI_PORT" "$T/watch.err" ||
	fail "watch did not log in to the PBX's host and [ami] port: $(cat "$T/watch.err")"
# The catch-up batch at login lists the last [sync] lookback (6 h): let it finish first.
wait_until 20 test -f "$ARCHIVE/.state/lock"
wait_until 20 watch_idle

add_recorded_call
first=$CALL
newest=$(cd "$PBXDIR" && find . -name '*.wav' -type f -printf '%T@ %P\n' | sort -n | tail -n 1 | cut -d' ' -f2)
[ "$newest" = "$first" ] || fail "the call added ($first) is not the newest .wav on the PBX ($newest)"
wait_until 5 is_archived "$first"
same_bytes "$first"
watch_alive
echo "case 1: $first archived"

# Calls 2..5: the 4th call overall is a NO ANSWER without a recording.
lines_before=$(manifest_lines)
recorded=()
unrecorded=0
for _ in 1 2 3 4; do
	add_call
	if [ -n "$CALL" ]; then recorded+=("$CALL"); else unrecorded=$((unrecorded + 1)); fi
done
[ "$unrecorded" -eq 1 ] || fail "expected 1 unrecorded call among calls 2..5, got $unrecorded"
for p in "${recorded[@]}"; do
	wait_until 10 is_archived "$p"
	same_bytes "$p"
done
wait_until 10 watch_idle
[ "$(manifest_lines)" -eq $((lines_before + 3)) ] ||
	fail "3 recorded calls made $(($(manifest_lines) - lines_before)) manifest lines"
[ -z "$(manifest_dup_paths)" ] || fail "archived twice: $(manifest_dup_paths | head -n 3)"
if grep -E 'warning: |error: ' "$T/watch.err" | grep -vq 'is plain http'; then
	fail "watch warned about calls 2..5: $(grep -E 'warning: |error: ' "$T/watch.err" | grep -v 'is plain http')"
fi
watch_alive
batch_report 1 3 "" 0
echo "case 1: recorded calls archived, the unrecorded call left nothing"

# ---- 2) an AMI outage: reconnect and fill the gap ------------------------------------------
n_login=$(logins)
n_outage=$(outages)
kill -USR2 "$PBX_PID"
# SIGUSR1 only once the outage has begun (two pending signals are not delivered in order).
wait_until 5 more_than "$n_outage" outages
add_recorded_call
gap=$CALL
wait_until 15 more_than "$n_login" logins
grep -q 'AMI connection lost' "$T/watch.err" || fail "watch did not report the lost connection"
wait_until 15 is_archived "$gap"
same_bytes "$gap"
watch_alive
echo "case 2: reconnected, the gap recording $gap archived"

# ---- 3) a concurrent nightly run -----------------------------------------------------------
# a) catch the watch holding the lock during a batch, and freeze it there
# (and its pid in the lock file: see below)
watch_locked() { holds_lock "$WATCH_PID" && grep -qx "$WATCH_PID watch" "$ARCHIVE/.state/lock"; }
caught=0
for _ in 1 2 3 4 5; do
	add_recorded_call
	p=$CALL
	wait_until 15 either watch_locked -- is_archived "$p"
	if watch_locked; then
		kill -STOP "$WATCH_PID"
		if watch_locked; then
			caught=1
			break
		fi
		kill -CONT "$WATCH_PID"
	fi
	wait_until 15 is_archived "$p"
done
[ "$caught" -eq 1 ] || fail "never caught the watch in a batch"
# b) the run meets the watch's lock and waits
"$NEXO" -c "$CONF" run >"$T/run.out" 2>"$T/run.err" &
RUN_PID=$!
run_waits() { grep -q 'is archiving a batch; waiting for it' "$T/run.err" 2>/dev/null; }
wait_until 20 run_waits
gone "$RUN_PID" && fail "the run did not wait for the watch: $(cat "$T/run.err")"
add_call # while the run waits
kill -CONT "$WATCH_PID"
# c) the run holds the lock; a batch of the watch meets it
# (its pid written into the lock file too: a holder stopped between lock_once()'s ftruncate and
# pwrite leaves an empty lock file, and the watch then names "pid 0")
run_locked() { holds_lock "$RUN_PID" && grep -qx "$RUN_PID run" "$ARCHIVE/.state/lock"; }
wait_until 20 either run_locked -- gone "$RUN_PID"
kill -STOP "$RUN_PID"
run_locked || fail "the run ended before it could be caught holding the lock (drip too fast?)"
add_recorded_call
wait_until 20 grep -qF "the nightly run (pid $RUN_PID) holds the archive; the batch waits for it" \
	"$T/watch.err"
add_call
n_batch=$(batches)
kill -CONT "$RUN_PID"
wait_until 60 gone "$RUN_PID"
set +e
wait "$RUN_PID"
rc=$?
set -e
RUN_PID=""
echo "--- nexo-archive run (concurrent with watch) -> exit $rc"
cat "$T/run.out"
sed 's/^/    stderr: /' "$T/run.err" | tail -n 20
no_sanitizer "$T/run.err" "the concurrent run"
[ "$rc" -eq 0 ] || fail "the run concurrent with watch exited $rc"
# d) the watch retries its batch after the run (every 5 s), skipping what the run archived:
# then everything is archived, once
wait_until 30 more_than "$n_batch" batches
wait_until 10 watch_idle
wait_until 30 all_archived
wait_until 10 watch_idle
watch_alive
[ -z "$(manifest_dup_paths)" ] || fail "archived twice: $(manifest_dup_paths | head -n 3)"
diff <(pbx_paths) <(manifest_paths archived) >/dev/null || fail "manifest differs from the PBX"
[ "$(check_manifest_hashes)" = "$(pbx_count)" ] || fail "manifest does not hold $(pbx_count) matching hashes"
diff <(sums_of "$PBXDIR") <(sums_of "$ARCHIVE") >/dev/null || fail "archived bytes differ from the PBX's"
[ "$(archive_count)" -eq "$(pbx_count)" ] || fail "$(archive_count) archived files for $(pbx_count) recordings"
tmp_empty || fail ".state/tmp is not empty"
nexo verify
expect_rc 0
no_sanitizer "$T/err" "verify"
run_archived=$(grep -oE 'archived [0-9]+' "$T/run.out" | head -n 1 | grep -oE '[0-9]+')
[ -n "$run_archived" ] || fail "no 'archived N' in the run's summary"
# Several calls in one minute, and nothing else in the watch's last hours, are not a capped
# minute (fakepbx does not cap here): no batch may say so (t_busy_minute).
! grep -q 'caps its answer' "$T/watch.err" ||
	fail "a watch batch called a busy minute capped: $(grep -m 1 'caps its answer' "$T/watch.err")"
batch_report 0 3 run 0
echo "case 3: run archived $run_archived; all $(pbx_count) recordings archived once"

# ---- 4) SIGTERM ends the watch -------------------------------------------------------------
t0=$(date +%s%N)
kill -TERM "$WATCH_PID"
wait_until 5 gone "$WATCH_PID"
ms=$((($(date +%s%N) - t0) / 1000000))
set +e
wait "$WATCH_PID"
rc=$?
set -e
WATCH_PID=""
echo "--- nexo-archive watch -> exit $rc after SIGTERM ($ms ms)"
cat "$T/watch.out"
sed 's/^/    stderr: /' "$T/watch.err" | tail -n 40
no_sanitizer "$T/watch.err" "watch"
[ "$rc" -eq 0 ] || fail "watch exited $rc after SIGTERM"
line=$(grep -E '^watch: [0-9]+ batches, archived [0-9]+$' "$T/watch.out") ||
	fail "no 'watch: N batches, archived M' line: $(cat "$T/watch.out")"
watch_archived=${line##* }
[ $((watch_archived + run_archived)) -eq "$(manifest_events archived)" ] ||
	fail "watch archived $watch_archived + run $run_archived != $(manifest_events archived) archived lines"
[ "$watch_archived" -ge 5 ] || fail "watch says it archived only $watch_archived"
tmp_empty || fail ".state/tmp is not empty after the watch"
echo "ok"
