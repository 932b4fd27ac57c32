#!/usr/bin/env bash
# Setup: fakepbx with 2 days x 40 recordings; a first run archives all 80.
# Command: nexo-archive run again, with lookback widened to 3d so the same 80 are listed again.
# Expected: exit 0, "listed 80, archived 0, already had 80"; fakepbx logged no 20036 (download)
# request during the second run; the manifest still has exactly 80 "archived" lines.
source "$TOP/tests/e2e/lib.sh"

generate 2 40 --min-seconds 1 --max-seconds 3
start_pbx
write_conf
nexo run
expect_rc 0
expect_summary archived 80
stop_pbx # every request of the first run is now in fakepbx.log
downloads_before=$(pbx_log_count 20036)
[ "$downloads_before" -ge 1 ] || fail "fakepbx.log shows no 20036 request for the first run"
lists_before=$(pbx_log_count 20053)

start_pbx
write_conf
nexo -o sync.lookback=3d run
expect_rc 0
expect_summary listed 80
expect_summary archived 0
expect_summary "already had" 80
stop_pbx
[ "$(pbx_log_count 20053)" -gt "$lists_before" ] || fail "the second run listed nothing"
[ "$(pbx_log_count 20036)" -eq "$downloads_before" ] ||
	fail "the second run made $(($(pbx_log_count 20036) - downloads_before)) download requests"
[ "$(manifest_events archived)" = 80 ] || fail "expected 80 archived lines, got $(manifest_events archived)"
[ "$(check_manifest_hashes)" = 80 ] || fail "manifest hashes"
tmp_empty || fail ".state/tmp is not empty"
echo "ok"
