#!/usr/bin/env bash
# Regression (found by an attacking review): a recording rewritten on the PBX, after it was
# archived, with other bytes of the same length. Asterisk's MixMonitor runs its post-recording
# command once the file closes (a sox that re-encodes it to save space, normalises it, mixes in
# the "this call is recorded" prompt): the listing (a duration in whole seconds, no size: the
# guide's) is the same before and after. A copy taken at the hang-up (a watch fetching on
# AutoMixMonitorEnd, a nightly run a minute after the call) was the first bytes; retention let
# the unchanged duration vouch for them ([retention] verify_pbx_copy = auto, the archiving over
# 60 s old) and deleted the rewritten file, whose bytes no "archived" line carries.
#
# Setup: 1 day x 2 recordings, and a call that ended a few seconds ago: 5.0 s of a tone (seed 7),
# archived by run 1 (retention off). Then its file holds 5.0 s of another tone (seed 9; listed
# "5" as before). Run 2, two minutes later by the client's clock (the failpoint build's test
# clock), with retention on (pbx_keep_days 0). Expected: what the PBX deletes is bytes an
# "archived" line carries (the invariant): the rewritten recording is compared, archived as
# version 2, kept this run, and deleted by run 3 with version 2's bytes.
source "$TOP/tests/e2e/lib.sh"

# test_run WHEN: a run of the failpoint build with its clock at unix time WHEN (sets RC, OUT).
test_run() {
	echo "$1" >"$T/clock"
	set +e
	NEXO_TEST_CLOCK_FILE="$T/clock" "$NEXO_TEST" -c "$CONF" run >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	OUT=$(cat "$T/out")
	echo "--- nexo-archive run at $1 -> exit $RC"
	cat "$T/out"
	sed 's/^/    stderr: /' "$T/err" | tail -n 20
}

case_replaced() {
	fault_fresh 1 2 --min-seconds 2 --max-seconds 3
	local when path first second now
	when=$(($(date +%s) - 10))
	path="$(date -d "@$when" +%Y%m%d)/$(date -d "@$when" +%Y%m%d-%H%M%S)-$when-Inbound-96-506-202.wav"
	first=$(write_wav "$path" 5 7)
	# The call's CDR (answered 2 s after it started, 5 s billed), written at the hang-up.
	python3 - "$PBXDIR/cdr.jsonl" "$path" "$(date -d "@$((when - 2))" '+%F %T')" "$((when - 2))" <<'PY'
import json, sys
f, path, calldate, start = sys.argv[1:5]
row = {"calldate": calldate, "src": "506", "contact": "", "groupname": "", "dst": "202",
       "channel": "96", "dstchannel": "", "duration": "7", "billsec": "5",
       "disposition": "ANSWERED", "userfield": "Inbound", "accountcode": "",
       "cidname": "FROM96", "in_route": "FROM96", "IVR": "", "Recording filename": path,
       "UniqueID": start + ".901", "port": 0}
with open(f, "a") as out:
    out.write(json.dumps(row, separators=(",", ":")) + "\n")
PY
	remember_originals
	FAULT_CONF=()
	fault_serve
	fault_run run
	fault_check
	expect_rc 0
	manifest_versions "$path" | grep -q "^1 $first " || fail "run 1 did not archive the first bytes"
	second=$(write_wav "$path" 5 9)
	[ "$second" != "$first" ] || fail "the rewritten file has the same bytes"
	FAULT_CONF=('[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')
	fault_serve
	now=$(date +%s)
	test_run $((now + 120))
	if grep -qxF "$path $second" "$T/deleted.log"; then
		manifest_versions "$path" | grep -q " $second " ||
			fail "deleted the rewritten recording ($second) while the archive holds only $(manifest_versions "$path")"
	fi
	fault_check
	expect_rc 0
	manifest_versions "$path" | grep -q "^2 $second " || fail "run 2 did not archive the rewritten bytes as version 2: $(manifest_versions "$path")"
	test_run $((now + 240))
	fault_check
	expect_rc 0
	[ "$(pbx_count)" -eq 0 ] || fail "$(pbx_count) recordings left on the PBX"
}

fault_case replaced case_replaced
fault_cases_done
