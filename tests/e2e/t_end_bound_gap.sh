#!/usr/bin/env bash
# Regression (found by an attacking review): a PBX that reads a minute end bound as HH:MM:00
# (`calldate <= 'D HH:MM'`, the guide's SQL reading; fakepbx --end-bound minute). The windows of
# a run are laid end to end ([a, b], then [b+1, ...]) and a split window too ([start, mid],
# [mid+1, end]): a call at b:01..b:59 is in neither. The first run's wide window ends at now -
# lookback - 1; the checkpoint moves past it, the next run's lookback starts after it: that
# recording is never archived (no retention here), while the checkpoint says it is.
source "$TOP/tests/e2e/lib.sh"

case_boundary_minute() {
	fault_fresh 1 2 --min-seconds 1 --max-seconds 2
	local now m when
	now=$(date +%s)
	now=$((now - now % 60))
	# Calls at :30 of the minutes around now - 6 h - 1 min (the first run's boundary minute;
	# a few on each side, so the test does not depend on the second it starts).
	for m in 359 360 361 362 363 364; do
		when=$((now - m * 60 + 30))
		add_recording "$when" >/dev/null
	done
	remember_originals
	FAULT_CONF=()
	fault_serve --end-bound minute
	fault_run run
	expect_rc 0
	fault_run run
	expect_rc 0
	local missing
	missing=$(comm -23 <(cut -d' ' -f1 "$T/originals") <(manifest_paths archived))
	[ -z "$missing" ] || fail "two clean runs (exit 0) never archived: $missing (checkpoint $(cat "$ARCHIVE/.state/checkpoint"))"
	fault_check
}

fault_case boundary_minute case_boundary_minute
fault_cases_done
