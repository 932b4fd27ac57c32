#!/usr/bin/env bash
# Regression (found by an attacking review): the re-list that confirms a delete asks for [lo,
# hi] minutes of the batch; a PBX that reads the end bound as HH:MM:00 (fakepbx --end-bound
# minute) does not list a candidate at hi:SS (SS > 0) — and it is taken as gone. With a delete
# the PBX did not carry out (delete-noop here; equally a wrong key spelling, which is then
# "confirmed" and kept in .state/pbx), a pbx_deleted line is written for a recording the PBX
# still holds; the next run takes it for a new recording under a re-used name and archives the
# same bytes again, and again every run.
source "$TOP/tests/e2e/lib.sh"

case_false_confirmation() {
	fault_fresh 1 1 --min-seconds 1 --max-seconds 2
	FAULT_CONF=('[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')
	fault_serve --end-bound minute --fault delete-noop
	fault_run -o sync.lookback=3d run
	[ "$(deleted_count)" = 0 ] || fail "the fake deleted something"
	[ "$(manifest_events pbx_deleted)" = 0 ] ||
		fail "a pbx_deleted line was written while the PBX deleted nothing (run said: $OUT)"
	fault_run -o sync.lookback=3d run
	fault_check
}

fault_case false_confirmation case_false_confirmation
fault_cases_done
