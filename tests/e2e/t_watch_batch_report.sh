#!/usr/bin/env bash
# A watch batch's report (.state/last-run.json, command "watch") tells that batch alone: its
# counts and its warnings, not the warnings the watch process logged before it (an AMI outage
# between batches, hours earlier). Also: each batch's report validates against
# docs/last-run.schema.json and its metrics file passes promtool.
# Setup: fakepbx with AMI (outage 2 s on SIGUSR2), 1 day x 3 recordings archived by a run; a
# watch with [report] prometheus_file. Call 1 -> batch 1. SIGUSR2 -> "AMI connection lost"
# warnings while no batch runs. Call 2 -> batch 2: archived 1, and no AMI warning in its report.
# A run that failed (exit 4) before the batches is not hidden by them: `status` is WARNING and
# names it (the reports' last_job).
source "$TOP/tests/e2e/lib.sh"

python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed (make deps-dev)"

WATCH_PID=""
cleanup() {
	if [ -n "$WATCH_PID" ]; then
		kill -TERM "$WATCH_PID" 2>/dev/null || true
		wait "$WATCH_PID" 2>/dev/null || true
	fi
	stop_pbx
}

calls_added() { grep -c '^fakepbx: call added: ' "$T/fakepbx.log" || true; }
logins() { grep -c 'AMI: logged in to ' "$T/watch.err" || true; }
batches() { grep -c 'debug: watch: listing from ' "$T/watch.err" || true; }
# add_recorded_call: SIGUSR1 to fakepbx until a call with a recording is added.
add_recorded_call() {
	local n
	for _ in 1 2; do
		n=$(calls_added)
		kill -USR1 "$PBX_PID"
		wait_until 10 more_than "$n" calls_added
		grep '^fakepbx: call added: ' "$T/fakepbx.log" | tail -n 1 | grep -q '\.wav$' && return 0
	done
	fail "two unrecorded calls in a row"
}
# batch_done N: N batches listed and the last one's report written (the lock released).
report_of_batch() {
	python3 - "$ARCHIVE/.state/last-run.json" "$1" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
sys.exit(0 if rep["command"] == "watch" and rep["counts"]["archived"] >= 1 and
         rep["end_unix"] >= int(sys.argv[2]) else 1)
PY
}
check_batch() {
	python3 - "$ARCHIVE/.state/last-run.json" "$TOP/docs/last-run.schema.json" <<'PY' ||
import json, sys, jsonschema
rep = json.load(open(sys.argv[1]))
jsonschema.validate(rep, json.load(open(sys.argv[2])))
assert rep["command"] == "watch", rep["command"]
assert rep["exit_code"] == 0, rep["exit_code"]
assert rep["counts"]["archived"] == 1, rep["counts"]
ami = [w for w in rep["warnings"]["last"] if "AMI" in w]
assert not ami, "the batch's report carries warnings logged before it: %r" % rep["warnings"]
assert rep["warnings"]["count"] == len(rep["warnings"]["last"]), rep["warnings"]
PY
		fail "the watch batch's report: $(cat "$ARCHIVE/.state/last-run.json")"
	if command -v promtool >/dev/null; then
		promtool check metrics <"$T/nexo.prom" || fail "promtool check metrics"
	fi
}

generate 1 3 --min-seconds 1 --max-seconds 1
start_pbx --ami-listen 127.0.0.1:0 --ami-port-file "$T/ami-port" --ami-outage 2
[ -s "$T/ami-port" ] || fail "fakepbx did not write its AMI port"
write_conf '[ami]' "port = $(cat "$T/ami-port")" 'username = admin' 'secret = password' \
	'coalesce_ms = 300' '[report]' "prometheus_file = $T/nexo.prom"
nexo run
expect_rc 0
# A nightly run that fails (the PBX unreachable: exit 4) before the watch's batches.
nexo -o pbx.url=http://127.0.0.1:9 run
expect_rc 4

"$NEXO" -c "$CONF" -v watch >"$T/watch.out" 2>"$T/watch.err" &
WATCH_PID=$!
wait_until 10 more_than 0 logins
# The catch-up batch at login, then call 1's.
wait_until 10 more_than 0 batches
t1=$(date +%s)
add_recorded_call
wait_until 15 report_of_batch "$t1"
check_batch
# The batch's report is the newest, and it says exit 0: status still names the failed run.
nexo status
[ "$RC" -eq 1 ] && grep -q "the last run before the watch's batches exited 4" <<<"$OUT" ||
	fail "status after a watch batch hides the failed run (exit $RC): $OUT"

# An AMI outage between batches: warnings that belong to no batch.
n=$(logins)
kill -USR2 "$PBX_PID"
wait_until 15 grep -q 'AMI connection lost' "$T/watch.err"
wait_until 15 more_than "$n" logins
sleep 1.2 # a report's end_unix is whole seconds
t2=$(date +%s)
add_recorded_call
wait_until 15 report_of_batch "$t2"
check_batch
echo "PASS"
