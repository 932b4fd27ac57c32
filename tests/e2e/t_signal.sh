#!/usr/bin/env bash
# SIGTERM (systemd stopping the unit, a timeout) mid-download stops the run at the next safe
# point. Setup: 1 day x 3 recordings of ~5 MB served at 2 MB/s (fakepbx --fault drip), retention
# on. Command: a run, SIGTERM once it is downloading. Expected: exit 1 within a second or two,
# "stopped by signal 15" said, the summary "stopped: ... failed 0, ..., not started N" (issue
# 16), no temp file left, nothing deleted, the invariant holds; the next
# run completes (exit 0, all archived and deleted).
source "$TOP/tests/e2e/lib.sh"

generate 1 3 --min-seconds 300 --max-seconds 320
remember_originals
start_pbx --fault drip=2000000@20036
write_conf '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'
"$NEXO" -c "$CONF" run >"$T/out" 2>"$T/err" &
pid=$!
# A recording being written: a temp that grows (a run's first head is a temp too, briefly).
writing() { [ -n "$(find "$ARCHIVE/.state/tmp" -type f -size +64k 2>/dev/null)" ]; }
wait_until 10 writing
start=$(date +%s%N)
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
elapsed=$((($(date +%s%N) - start) / 1000000))
cat "$T/err"
[ "$rc" -eq 1 ] || fail "exit $rc after SIGTERM, not 1"
[ "$elapsed" -lt 3000 ] || fail "the run took $elapsed ms to stop"
grep -q "stopped by signal 15" "$T/err" || fail "the stop is not reported"
# Issue 16: the summary says "stopped" and counts what the signal cut off as not started, not
# failed; the report says so too.
grep -qE '^stopped: listed 3, archived [0-2], .*failed 0, .*, not started [1-3]$' "$T/out" ||
	fail "the summary of a stopped run: $(cat "$T/out")"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "stopped" and r["stopped_by"] == "signal" and r["counts"]["failed"] == 0, r
assert r["counts"]["not_started"] + r["counts"]["archived"] == 3, r["counts"]
' "$ARCHIVE/.state/last-run.json" || fail "the report of a stopped run"
tmp_empty || fail "a temp file was left behind"
[ ! -s "$T/deleted.log" ] || fail "something was deleted after SIGTERM"
check_invariant || fail "invariant after SIGTERM"
stop_pbx
start_pbx
write_conf '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'
nexo run
expect_rc 0
check_invariant || fail "invariant after the next run"
[ "$(pbx_count)" -eq 0 ] || fail "the next run did not finish"
echo "ok"
