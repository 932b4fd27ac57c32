#!/usr/bin/env bash
# Caps without a count: a PBX that sends at most N rows and no totalcount (or a totalcount that
# counts only what it sent) still gets every recording listed. Fails on a main whose first run
# makes one wide window and believes an answer that carries no count.
#  - nocount: 3 days x 20 recordings, --max-rows 8 --totalcount-missing, a first run with no
#    [sync] since (all history, from 1970): exit 0, archived 60, the archive matches the PBX;
#  - capped: the same with --totalcount-capped (totalcount = the rows sent);
#  in both, the same cap on 9006 costs no recording its CDR;
#  - minute: 6 calls start within one minute and the cap is 5 (no count, or a count of the rows
#    sent): the rest is archived, the run says loudly which minute it cannot list whole (an
#    error naming it, exit 1, a summary line), and the checkpoint stays before it.
source "$TOP/tests/e2e/lib.sh"

cap_case() {
	local name=$1
	shift
	rm -rf "$ARCHIVE" "$PBXDIR"
	generate 3 20 --min-seconds 1 --max-seconds 2
	start_pbx --max-rows 8 "$@"
	write_conf
	nexo run
	expect_rc 0
	expect_summary archived 60
	diff <(pbx_paths) <(manifest_paths archived) >"$T/paths.diff" ||
		fail "$name: the archive differs from the PBX: $(head -n 6 "$T/paths.diff")"
	[ "$(check_manifest_hashes)" = 60 ] || fail "$name: manifest hashes"
	# The same cap on 9006: every recording still finds its CDR.
	! grep -q 'without their CDR' <<<"$OUT" || fail "$name: CDRs lost to the cap: $OUT"
	stop_pbx
	echo "case ok: $name"
}

cap_case nocount --totalcount-missing
cap_case capped --totalcount-capped

# minute_case FLAG: 6 calls in one minute, a cap of 5, and FLAG (no count, or a count of the
# rows sent): the minute is named as an error, exit 1, the rest archived, checkpoint before it.
minute_case() {
	rm -rf "$ARCHIVE" "$PBXDIR"
	generate 1 4 --min-seconds 1 --max-seconds 2
	local now at s minute got cp
	now=$(date +%s)
	at=$((now - now % 60 - 3 * 3600))
	for s in 2 9 17 25 33 41; do add_recording $((at + s)) >/dev/null; done
	# Calls around it too: the capped minute is found inside a busy stretch, not alone.
	for s in -600 -300 300 600; do add_recording $((at + s + 7)) >/dev/null; done
	minute=$(date -d "@$at" '+%Y-%m-%d %H:%M')
	start_pbx --max-rows 5 "$1"
	write_conf
	nexo run
	expect_rc 1
	grep -qF "minute $minute" "$T/err" || fail "$1: the capped minute $minute is not named: $ERR"
	grep -q "error: .*caps its answer" "$T/err" || fail "$1: the capped minute is not an error: $ERR"
	grep -q '^1 minutes could not be listed whole' <<<"$OUT" || fail "$1: not in the summary: $OUT"
	got=$(manifest_paths archived | wc -l)
	[ "$got" -ge 13 ] || fail "$1: only $got archived: the rest of the history was not listed"
	cp=$(cat "$ARCHIVE/.state/checkpoint" 2>/dev/null || echo none)
	[ "$cp" = none ] || [[ ! "$cp" > "$minute" ]] ||
		fail "$1: the checkpoint $cp passed the capped minute $minute"
	stop_pbx
	echo "case ok: minute $1"
}

minute_case --totalcount-missing
minute_case --totalcount-capped
echo "ok"
