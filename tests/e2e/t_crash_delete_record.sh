#!/usr/bin/env bash
# A run killed after the PBX deleted recordings and before their "pbx_deleted" lines were
# written (found by the simulator, seeds 355 and 867): the manifest went on saying the PBX
# holds them, forever. That also fooled reconcile's count-first shortcut: a month where such a
# stale entry offsets a recording that appeared late counted "equal" and was never listed.
# Setup: 1 day x 4 recordings; retention on, pbx_keep_days 0. Command: a run of the failpoint
# build killed at retention.record (the deletes are sent and confirmed, not yet recorded); then
# a run. Expected: every deletion in fakepbx's log has its "pbx_deleted" line after the second
# run, .state/deleting is gone; then a recording of that day appears late (behind the walk):
# `reconcile` lists the month and archives it.
source "$TOP/tests/e2e/lib.sh"

generate 1 4 --min-seconds 1 --max-seconds 2
start_pbx
write_conf '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'
set +e
NEXO_CRASH_AT=retention.record:1 "$NEXO_TEST" -q -c "$CONF" run >/dev/null 2>&1
set -e
n=$(deleted_count)
[ "$n" -ge 1 ] || fail "the crash came before any deletion"
[ "$(manifest_events pbx_deleted)" = 0 ] || fail "the crash came after the pbx_deleted lines"
[ -f "$ARCHIVE/.state/deleting" ] || fail "no .state/deleting was left by the interrupted delete"
nexo run
expect_rc 0
[ "$(check_deleted_log)" = "$n" ] || fail "deletions without their pbx_deleted line"
[ ! -e "$ARCHIVE/.state/deleting" ] || fail ".state/deleting stayed"
grep -q 'deleted from the PBX by an interrupted run; recorded now' "$T/err" ||
	fail "the settled deletions are not said: $ERR"

day=$(ls "$ARCHIVE/manifest" | grep -m1 '\.jsonl$')
late=$(add_recording "$(date -d "${day%.jsonl} 23:40:30" +%s)" \
	"$(find "$ARCHIVE" -path "$ARCHIVE/.state" -prune -o -name '*.wav' -print | head -n 1)")
nexo -o sync.reconcile_days=0 run
expect_rc 0
nexo reconcile
expect_rc 0
manifest_paths archived | grep -qxF "$late" || fail "reconcile did not find the late recording: $OUT"
echo "ok"
