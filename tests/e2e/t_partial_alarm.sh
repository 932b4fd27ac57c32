#!/usr/bin/env bash
# A partial run is a success for a night, not forever: [sync] partial_alarm (issue 15).
# Setup: fakepbx --fault omit-one (one recording never delivered), 1 day x 3, partial_alarm = 2.
# Expected: run 1 exits 1 (.state/partials says 1); run 2 exits 7 naming the count (2); a
# --dry-run and a backfill in between neither count nor reset. The fault gone, a clean run
# exits 0 and the count is 0; the next partial run exits 1 again (counting from 1). With
# partial_alarm = 0 the alarm never sounds. A count that is not a number stops the run (6).
source "$TOP/tests/e2e/lib.sh"

generate 1 3 --min-seconds 1 --max-seconds 2
day=$(ls "$PBXDIR" | grep -E "^[0-9]{8}$" | head -n 1)
day="${day:0:4}-${day:4:2}-${day:6:2}"
start_pbx --fault omit-one
write_conf '[sync]' 'partial_alarm = 2' 'invalid_retries = 50'
nexo run
expect_rc 1
[ "$(cat "$ARCHIVE/.state/partials")" = 1 ] || fail ".state/partials after one partial run: $(cat "$ARCHIVE/.state/partials")"
nexo --dry-run run
expect_rc 0
nexo backfill --from "$day" --to "$day"
expect_rc 1
[ "$(cat "$ARCHIVE/.state/partials")" = 1 ] || fail "a dry run or a backfill counted: $(cat "$ARCHIVE/.state/partials")"
nexo run
expect_rc 7
grep -q "2 partial runs in a row (\[sync\] partial_alarm = 2)" "$T/err" || fail "no alarm message: $ERR"
tmp_empty || fail "temp files left"

# The PBX delivers again: a clean run resets the count.
stop_pbx
start_pbx
write_conf '[sync]' 'partial_alarm = 2' 'invalid_retries = 50'
nexo -o sync.lookback=3d run
expect_rc 0
[ "$(cat "$ARCHIVE/.state/partials")" = 0 ] || fail "a clean run did not reset the count"
stop_pbx

# Partial again: counted from 1.
add_recording "$(date -d "$day 12:00" +%s)" >/dev/null
start_pbx --fault omit-one
write_conf '[sync]' 'partial_alarm = 2' 'invalid_retries = 50'
nexo -o sync.lookback=3d run
expect_rc 1
write_conf '[sync]' 'partial_alarm = 0' 'invalid_retries = 50'
for _ in 1 2 3; do
	nexo -o sync.lookback=3d run
	expect_rc 1
done
[ "$(cat "$ARCHIVE/.state/partials")" = 4 ] || fail "the count with the alarm off: $(cat "$ARCHIVE/.state/partials")"

printf 'lots\n' >"$ARCHIVE/.state/partials"
nexo -o sync.lookback=3d run
expect_rc 6
grep -q ".state/partials does not hold a count" "$T/err" || fail "a bad count is not named: $ERR"
echo "ok"
