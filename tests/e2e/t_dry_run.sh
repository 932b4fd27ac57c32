#!/usr/bin/env bash
# Setup: fakepbx with 2 days x 10 recordings, empty archive.
# 1) Command: nexo-archive --dry-run run.
#    Expected: exit 0; the summary line starts with "dry run: " and lists 20; no .wav file, no
#    manifest line and no checkpoint in the archive (only .state/ and manifest/ directories);
#    fakepbx saw no download (20036).
# 2) Setup: a real run archives all 20 (no retention).
#    Command: nexo-archive --dry-run run with delete_from_pbx = true, pbx_keep_days = 0.
#    Expected: exit 0, summary starts with "dry run: " and says "deleted 0"; all 20 still on
#    the PBX, the delete log is empty, fakepbx saw no 20054; the manifest has no pbx_deleted line.
source "$TOP/tests/e2e/lib.sh"

generate 2 10 --min-seconds 1 --max-seconds 2
start_pbx
write_conf
nexo --dry-run run
expect_rc 0
grep -qE '^dry run: listed 20, ' "$T/out" || fail "no 'dry run: listed 20, ...' summary line: $OUT"
[ "$(archive_count)" -eq 0 ] || fail "a dry run archived $(archive_count) files"
[ "$(manifest_events archived)" = 0 ] || fail "a dry run wrote manifest lines"
[ ! -e "$ARCHIVE/.state/checkpoint" ] || fail "a dry run wrote a checkpoint: $(cat "$ARCHIVE/.state/checkpoint")"
extra=$(find "$ARCHIVE" -mindepth 1 -not -path "$ARCHIVE/.state" -not -path "$ARCHIVE/.state/*" \
	-not -path "$ARCHIVE/manifest" -not -name '*.jsonl' 2>/dev/null | head -n 3)
[ -z "$extra" ] || fail "a dry run created: $extra"
stop_pbx
[ "$(pbx_log_count 20053)" -ge 1 ] || fail "a dry run did not even list"
[ "$(pbx_log_count 20036)" -eq 0 ] || fail "a dry run downloaded"

start_pbx
write_conf
nexo run
expect_rc 0
expect_summary archived 20

write_conf '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'
nexo --dry-run run
expect_rc 0
grep -qE '^dry run: listed [0-9]+, ' "$T/out" || fail "no 'dry run: ' summary line: $OUT"
expect_summary deleted 0
[ "$(pbx_count)" -eq 20 ] || fail "a dry run deleted $((20 - $(pbx_count))) recordings"
[ ! -s "$T/deleted.log" ] || fail "a dry run deleted: $(head -n 3 "$T/deleted.log")"
[ "$(manifest_events pbx_deleted)" = 0 ] || fail "a dry run wrote pbx_deleted lines"
stop_pbx
[ "$(pbx_log_count 20054)" -eq 0 ] || fail "a dry run sent a delete request"
echo "ok"
