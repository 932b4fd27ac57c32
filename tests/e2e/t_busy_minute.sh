#!/usr/bin/env bash
# A busy minute on a quiet PBX is not a cap. The PBX does not cap its answers (fakepbx without
# --max-rows) and sends a totalcount equal to its rows, as the guide's example does. 6 calls
# start within one minute M (3 h ago); the only other calls are 3 made 10 days earlier, before
# [sync] since (M's day minus 1). Every window the run lists holds at most those 6 rows, so the
# answer for M is as large as the largest of the run, with a count of just its rows: a PBX that
# capped at 6 and counted what it sent would answer exactly so. The client asks wider windows
# (the week, the month before M) and sees 9 rows in one answer: the PBX sends more than 6 at
# once, and M was whole.
#  - busy: exit 0, the 6 recordings of M archived (reconcile archives the 3 older ones too),
#    no "caps its answer" error, no capped minute in the summary (a main that judged M by its
#    own run's answers alone reported it capped and exited 1; a watch listing the last hours
#    did so every batch).
#  - capped: the same PBX with --max-rows 5 and a count of the rows sent (--totalcount-capped),
#    or none (--totalcount-missing): the wider windows answer 5 rows as well, nothing proves M
#    whole, and it stays reported by name (exit 1): a real cap is still an error.
source "$TOP/tests/e2e/lib.sh"

setup() {
	rm -rf "$ARCHIVE" "$PBXDIR"
	local now s old
	now=$(date +%s)
	AT=$((now - now % 60 - 3 * 3600))
	old=$(date -d "@$((AT - 10 * 86400))" +%Y-%m-%d)
	generate 1 3 --min-seconds 1 --max-seconds 2 --start "$old"
	for s in 3 11 19 27 35 43; do add_recording $((AT + s)) >/dev/null; done
	MINUTE=$(date -d "@$AT" '+%Y-%m-%d %H:%M')
	SINCE="$(date -d "@$((AT - 86400))" +%Y-%m-%d) 00:00"
}

setup
start_pbx
write_conf '[sync]' "since = $SINCE"
nexo -v run
expect_rc 0
! grep -q 'caps its answer' "$T/err" || fail "busy: the busy minute $MINUTE was called capped: $ERR"
! grep -q 'could not be listed whole' <<<"$OUT" || fail "busy: a capped minute in the summary: $OUT"
grep -q 'the PBX does not cap at 6' "$T/err" || fail "busy: no wider answer was asked for: $ERR"
[ "$(manifest_paths archived | grep -c "^$(date -d "@$AT" +%Y%m%d)/")" -ge 6 ] ||
	fail "busy: the 6 recordings of $MINUTE are not all archived"
# A second run (checkpoint behind M, by [sync] lookback) lists it again without a complaint.
nexo run
expect_rc 0
! grep -q 'caps its answer' "$T/err" || fail "busy: the second run called $MINUTE capped: $ERR"
stop_pbx
echo "case ok: busy"

for flag in --totalcount-capped --totalcount-missing; do
	setup
	start_pbx --max-rows 5 "$flag"
	write_conf '[sync]' "since = $SINCE"
	nexo run
	expect_rc 1
	grep -q "error: the PBX caps its answer for the minute $MINUTE" "$T/err" ||
		fail "capped $flag: the capped minute $MINUTE is not named as an error: $ERR"
	grep -q '^1 minutes could not be listed whole' <<<"$OUT" ||
		fail "capped $flag: not in the summary: $OUT"
	stop_pbx
	echo "case ok: capped $flag"
done
echo "ok"
