#!/usr/bin/env bash
# Setup: fakepbx --max-url 300 (answers 414 to a longer request-target) with 2 days x 20.
# 1) Command: nexo-archive run with the default batch_url_bytes (4000).
#    Expected: fakepbx answered 414 at least once, the client split its batches, exit 0,
#    "archived 40", manifest and files match the PBX.
# 2) Command: a fresh archive and fakepbx, [sync] batch_url_bytes = 300.
#    Expected: exit 0, "archived 40", and fakepbx never answered 414.
source "$TOP/tests/e2e/lib.sh"

generate 2 20 --min-seconds 1 --max-seconds 2
start_pbx --max-url 300
write_conf
nexo run
expect_rc 0
expect_summary archived 40
expect_summary failed 0
[ "$(check_manifest_hashes)" = 40 ] || fail "manifest does not hold 40 matching hashes"
diff <(sums_of "$PBXDIR") <(sums_of "$ARCHIVE") >/dev/null || fail "archived bytes differ"
stop_pbx
[ "$(pbx_log_count 20036 414)" -ge 1 ] || fail "no 414 with the default batch_url_bytes: the test proves nothing"
[ "$(pbx_log_count 20036 200)" -ge 14 ] || fail "only $(pbx_log_count 20036 200) downloads for 40 files under a 300-byte URL cap"

mv "$T/fakepbx.log" "$T/fakepbx-1.log"
ARCHIVE="$T/archive2"
start_pbx --max-url 300
write_conf '[sync]' 'batch_url_bytes = 300'
nexo run
expect_rc 0
expect_summary archived 40
[ "$(check_manifest_hashes)" = 40 ] || fail "manifest does not hold 40 matching hashes"
stop_pbx
[ "$(pbx_log_count '[0-9]+' 414)" -eq 0 ] || fail "fakepbx answered 414 although batch_url_bytes = 300"
echo "ok"
