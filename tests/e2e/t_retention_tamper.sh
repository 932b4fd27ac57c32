#!/usr/bin/env bash
# Setup: fakepbx with 2 days x 10 recordings; a first run (delete_from_pbx = false) archives
# all 20; then one archived file is altered in place (one audio byte flipped, size unchanged).
# Command: nexo-archive run with delete_from_pbx = true, pbx_keep_days = 0.
# Expected: exit 1 (partial); the tampered recording is still on the PBX and absent from the
# delete log; the 19 others are deleted (delete log verified against the manifest); stderr
# names the tampered file.
source "$TOP/tests/e2e/lib.sh"

generate 2 10 --min-seconds 1 --max-seconds 2
start_pbx
write_conf '[retention]' 'delete_from_pbx = false' 'pbx_keep_days = 0'
nexo run
expect_rc 0
expect_summary archived 20
expect_summary deleted 0
[ "$(pbx_count)" -eq 20 ] || fail "delete_from_pbx = false deleted something"
[ ! -s "$T/deleted.log" ] || fail "delete_from_pbx = false deleted: $(cat "$T/deleted.log")"

victim=$(find "$ARCHIVE" -path "$ARCHIVE/.state" -prune -o -name '*.wav' -type f -print | sort | sed -n 5p)
name=$(basename "$victim")
flip_byte "$victim" 200 255
cmp -s "$victim" "$(find "$PBXDIR" -name "$name")" && fail "tampering did not change $victim"

write_conf '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'
nexo run
expect_rc 1
expect_summary deleted 19
[ -n "$(find "$PBXDIR" -name "$name" -type f)" ] || fail "the tampered recording $name was deleted from the PBX"
[ "$(pbx_count)" -eq 1 ] || fail "expected only the tampered recording left, PBX holds $(pbx_count)"
if grep -qF "$name" "$T/deleted.log"; then fail "$name is in the delete log"; fi
[ "$(check_deleted_log)" = 19 ] || fail "delete log does not hold 19 verified deletions"
grep -qF "$name" "$T/err" || fail "stderr does not name the tampered file $name"
echo "ok"
