#!/usr/bin/env bash
# A time budget (--max-duration, --stop-at) stops a run or backfill at a file boundary: the
# file being received is finished, the transfer is then dropped, what landed is recorded,
# nothing is deleted, exit 1 with "stopped at its time budget: N recordings (B bytes) left for
# the next run"; the next run or the same backfill again fetches exactly the rest.
# Setup of every case (budget_disk): day D1 (2 days ago) with 2 recordings of 1 s, day D2
# (yesterday) with 10 of 2 s (about 33 KB each in the tar), served at 40 KB/s (fakepbx --fault
# drip=40000@20036): D1 lands in about 1 s, D2 needs about 8 s.
source "$TOP/tests/e2e/lib.sh"

d1=$(date -d '2 days ago' +%F)
d2=$(date -d '1 day ago' +%F)

budget_disk() {
	fault_fresh 1 2 --start "$d1" --min-seconds 1 --max-seconds 1 --seed 3
	generate 1 10 --start "$d2" --min-seconds 2 --max-seconds 2 --seed 4
	remember_originals
}

# budget_run SECONDS ARGS...: fault_run ARGS, its wall time in ms in $MS; then the common
# verdict of a run stopped at a budget of SECONDS: exit 1 within 2.5 s of the budget, the
# warning, N (the warning's count) + archived = what was due ($DUE), no temp file, the
# invariant, no deletion, and the archive verifies; .state/pending.json holds the N as
# not_started and nothing else. Its stdout is kept in $T/stopped.out.
budget_run() {
	local budget=$1 t0 left
	shift
	t0=$(date +%s%N)
	fault_run "$@"
	MS=$((($(date +%s%N) - t0) / 1000000))
	echo "stopped after $MS ms (budget ${budget}s)"
	expect_rc 1
	[ "$MS" -ge $((budget * 1000)) ] || fail "stopped after $MS ms, before the ${budget}s budget"
	[ "$MS" -lt $((budget * 1000 + 2500)) ] || fail "stopped after $MS ms: not within 2.5 s of the ${budget}s budget"
	left=$(grep -oE 'stopped at its time budget: [0-9]+ recordings \([0-9]+ bytes\) left for the next run' "$T/err" |
		grep -oE '[0-9]+ recordings' | grep -oE '[0-9]+') || fail "the budget stop is not reported"
	ARCHIVED=$(summary_field archived)
	[ "$ARCHIVED" -ge 1 ] && [ "$left" -ge 1 ] || fail "archived $ARCHIVED, left $left: the budget did not cut the download"
	[ $((ARCHIVED + left)) -eq "$DUE" ] || fail "archived $ARCHIVED + left $left is not the $DUE due"
	grep -q "^$left recordings ([0-9]* bytes) were not fetched" "$T/out" || fail "the summary does not say what was left"
	# The pending list (the coverage report's "only on the PBX") says the same: not started.
	python3 - "$ARCHIVE/.state/pending.json" "$left" <<'PY' || fail "pending.json does not hold the $left left as not_started: $(cat "$ARCHIVE/.state/pending.json")"
import collections, json, sys
states = collections.Counter(r["state"] for r in json.load(open(sys.argv[1]))["recordings"].values())
assert states == {"not_started": int(sys.argv[2])}, states
PY
	cp "$T/out" "$T/stopped.out"
	fault_check
	expect_no_deletion
	nexo verify
	[ "$RC" -eq 0 ] || fail "verify after the budget stop: exit $RC"
}

# A backfill over D1..D2 with --max-duration 3s stops in D2: D1 landed, so .state/backfill
# notes D2 00:00, and the report says what is left; the same backfill again (no drip) resumes
# there (says so) and archives exactly the rest: every recording once, exit 0, the note
# cleared.
case_backfill() {
	budget_disk
	fault_serve --fault drip=40000@20036
	DUE=12
	budget_run 3 backfill --from "$d1" --to "$d2" --max-duration 3s
	grep -qx "from $d1 00:00" "$ARCHIVE/.state/backfill" &&
		grep -qx "resume $d2 00:00" "$ARCHIVE/.state/backfill" ||
		fail "no resume point at $d2 00:00: $(cat "$ARCHIVE/.state/backfill" 2>&1)"
	grep -qE '^backfill: its span is listed; left: [0-9]+ recordings \(.*\), about [0-9]+ s at' "$T/stopped.out" ||
		fail "the report does not say what the backfill has left"
	first=$ARCHIVED
	fault_serve
	fault_run backfill --from "$d1" --to "$d2"
	fault_check
	expect_rc 0
	expect_summary archived $((12 - first))
	grep -q "resuming the backfill of $d1 00:00 .. $d2 23:59 at $d2 00:00" "$T/err" ||
		fail "the second backfill did not resume"
	expect_all_archived
	[ -z "$(manifest_dup_paths)" ] || fail "archived twice: $(manifest_dup_paths)"
	[ ! -e "$ARCHIVE/.state/backfill" ] || fail "a finished backfill left its resume point"
	expect_no_deletion
}

# A nightly run with retention on (pbx_keep_days = 0) and [sync] max_duration = 3s: the
# budget stops it in D2 and nothing at all is deleted; the next run (no drip, no budget)
# archives the rest and deletes everything, each recording archived once.
case_run_retention() {
	FAULT_CONF=('[sync]' 'max_duration = 3s' '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')
	budget_disk
	fault_serve --fault drip=40000@20036
	DUE=12
	budget_run 3 run
	[ "$(pbx_count)" -eq 12 ] || fail "$((12 - $(pbx_count))) recordings were deleted after the budget stop"
	FAULT_CONF=('[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')
	fault_clean_run 0
	expect_summary archived $((12 - ARCHIVED))
	[ -z "$(manifest_dup_paths)" ] || fail "archived twice: $(manifest_dup_paths)"
}

# --stop-at HH:MM is the host's local clock: the test build's clock (NEXO_TEST_CLOCK_FILE)
# is set 3 s before a minute the host's clock shows as HH:MM, and a backfill of D2 with
# --stop-at HH:MM stops 3 s later as above.
case_stop_at() {
	local minute
	budget_disk
	fault_serve --fault drip=40000@20036
	minute=$((($(date +%s) / 60 + 2) * 60))
	echo $((minute - 3)) >"$T/clock"
	DUE=10
	NEXO="$NEXO_TEST" NEXO_TEST_CLOCK_FILE="$T/clock" \
		budget_run 3 backfill --from "$d2" --to "$d2" --stop-at "$(date -d "@$minute" +%H:%M)"
}

# Limits that do not parse are usage errors (exit 2) naming the option or key, before any
# request: --max-duration 90 (seconds or minutes?), --stop-at 24:00, --max-rate 1K (below the
# 16K floor), [sync] max_duration = 1h1h, and run --from (a run has no span).
case_bad_limits() {
	budget_disk
	fault_serve
	: >"$T/requests.log"
	local args
	for args in "run --max-duration 90" "backfill --from $d1 --to $d2 --stop-at 24:00" \
		"reconcile --max-rate 1K" "-o sync.max_duration=1h1h run" "run --from $d1"; do
		# shellcheck disable=SC2086 # the words of each case, on purpose
		fault_run $args
		expect_rc 2
		grep -qE 'max-duration|stop-at|max-rate|max_duration|run takes' "$T/err" ||
			fail "'$args': the error does not name the option"
	done
	stop_pbx
	[ "$(wc -l <"$T/requests.log")" -eq 0 ] || fail "a usage error sent requests to the PBX"
}

fault_case bad_limits case_bad_limits
fault_case backfill case_backfill
fault_case run_retention case_run_retention
fault_case stop_at case_stop_at
fault_cases_done
