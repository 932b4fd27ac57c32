#!/usr/bin/env bash
# A recording the PBX lists but never delivers is asked for [sync] invalid_retries runs, then
# recorded as "unavailable" and no longer asked for; it is never deleted from the PBX.
# Setup: fakepbx --fault omit-one (the first requested file of the first tar is left out of every
# tar), 1 day x 4, invalid_retries = 2, retention on with pbx_keep_days = 0.
# Expected: run 1: exit 1, missing 1, no deletions (a missing recording is a per-recording
# problem: the other three are deleted). Run 2: the same recording missing again -> recorded
# unavailable (an "unavailable" manifest line), exit 1. Run 3: it is not requested any more
# (no 20036 request at all), reported as unavailable while it is listed, and still on the PBX;
# it is the third partial run in a row, so it exits 7 ([sync] partial_alarm, default 3).
source "$TOP/tests/e2e/lib.sh"

generate 1 4 --min-seconds 1 --max-seconds 2
start_pbx --fault omit-one
write_conf '[sync]' 'invalid_retries = 2' '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'
nexo run
expect_rc 1
expect_summary missing 1
expect_summary archived 3
missing=$(grep -o '[0-9]\{8\}/[^ :]*\.wav: listed but not in' "$T/err" | cut -d: -f1)
[ -n "$missing" ] || fail "no missing recording named"
[ "$(manifest_events unavailable)" = 0 ] || fail "unavailable after one run"

nexo run
expect_rc 1
[ "$(manifest_events unavailable)" = 1 ] || fail "not recorded unavailable after 2 runs"
grep -q "\"event\":\"unavailable\",\"pbx_path\":\"$missing\"" "$ARCHIVE"/manifest/*.jsonl ||
	fail "the unavailable line is not for $missing"

# fakepbx logs a download when it is done with it, which can be after the run has exited: the
# downloads are counted with it stopped.
stop_pbx
before=$(grep -c 'GET 20036' "$T/fakepbx.log" || true)
start_pbx --fault omit-one
sed -i "s#^url = .*#url = $PBX_URL#" "$CONF"
nexo -o sync.lookback=3d run   # the checkpoint moved past it: look back far enough to list it
expect_rc 7
grep -q "3 partial runs in a row" "$T/err" || fail "the partial alarm is not explained: $ERR"
grep -q "1 listed recordings are unavailable" "$T/out" || fail "unavailable not reported"
stop_pbx
[ "$(grep -c 'GET 20036' "$T/fakepbx.log" || true)" = "$before" ] || fail "it was requested again"
[ -f "$PBXDIR/$missing" ] || fail "the unavailable recording was deleted from the PBX"
[ "$(pbx_count)" -eq 1 ] || fail "the delivered recordings were not all deleted"
echo "ok"
