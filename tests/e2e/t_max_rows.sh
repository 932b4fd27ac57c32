#!/usr/bin/env bash
# Setup: fakepbx --max-rows 7 (a 20053 answer carries at most 7 rows, totalcount tells the
# true number) serving 2 days x 30 recordings.
# Command: nexo-archive run.
# Expected: exit 0, "listed 60, archived 60": the client split its windows until every row was
# seen (fakepbx logged at least 60/7 listing requests); 60 manifest lines matching the PBX.
source "$TOP/tests/e2e/lib.sh"

generate 2 30 --min-seconds 1 --max-seconds 2
start_pbx --max-rows 7
write_conf
nexo run
expect_rc 0
expect_summary listed 60
expect_summary archived 60
[ "$(check_manifest_hashes)" = 60 ] || fail "manifest does not hold 60 matching hashes"
diff <(pbx_paths) <(manifest_paths archived) >"$T/paths.diff" ||
	fail "manifest differs from the PBX: $(head -n 6 "$T/paths.diff")"
diff <(sums_of "$PBXDIR") <(sums_of "$ARCHIVE") >/dev/null || fail "archived bytes differ"
stop_pbx
[ "$(pbx_log_count 20053)" -ge 9 ] || fail "only $(pbx_log_count 20053) listing requests: no split?"
echo "ok"
