#!/usr/bin/env bash
# Regression (found by an attacking review): a crash between a file's rename into the date tree
# and its manifest line leaves a file no line names. It is cleaned up only if the same recording
# is fetched again under the same name (store_commit_new replaces an unrecorded file). If the
# PBX no longer lists that recording when the next run comes (its own disk cleanup, an admin
# deleted it), the file stays an orphan for ever, after clean runs that exit 0 -- a recording
# `forget` cannot erase.
source "$TOP/tests/e2e/lib.sh"

case_orphan_after_crash() {
	fault_fresh 1 2 --min-seconds 1 --max-seconds 2
	FAULT_CONF=()
	fault_serve
	crash_run manifest.append:1
	check_invariant crashed || fail "invariant right after the crash"
	# The PBX lost its recordings meanwhile.
	rm -f "$PBXDIR"/*/*.wav
	: >"$T/originals"
	fault_run run
	expect_rc 0
	fault_run run
	expect_rc 0
	fault_check
}

fault_case orphan_after_crash case_orphan_after_crash
fault_cases_done
