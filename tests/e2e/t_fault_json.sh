#!/usr/bin/env bash
# Hostile listings (CGI 20053): truncated, huge (over the 256 MiB cap), deeply nested and
# mistyped JSON, and a totalcount that lies either way. Each case: a fresh fakepbx disk of 1
# day x 4 recordings (1-2 s), an empty archive, retention on (delete_from_pbx = true,
# pbx_keep_days = 0); the fault given as fakepbx --fault SPEC. After every run: the invariant
# (check_invariant) and every real deletion has its pbx_deleted line. A refused listing must
# never cost a recording: nothing is deleted in that run, and a clean run afterwards (fakepbx
# restarted without the fault) archives and deletes everything with exit 0.
source "$TOP/tests/e2e/lib.sh"

FAULT_CONF=('[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')

# Setup: fakepbx --fault SPEC. Command: run. Expected: exit 1 or 6 (the code seen is printed;
# exactly WANT_RC when given),
# stderr names the problem (matches the extended regex WORDS), no crash, nothing deleted, the
# 4 recordings still on the PBX; then the clean run completes (exit 0, PBX emptied).
case_bad_listing() {
	local spec=$1 words=$2 want=${3:-}
	fault_first_run --fault "$spec"
	echo "$spec: exit $RC"
	[ "$RC" -eq 1 ] || [ "$RC" -eq 6 ] || fail "expected exit 1 or 6, got $RC: $ERR"
	[ -z "$want" ] || expect_rc "$want"
	grep -qE "$words" "$T/err" || fail "the problem is not named (/$words/): $ERR"
	expect_no_deletion
	[ "$(pbx_count)" -eq 4 ] || fail "recordings left the PBX"
	fault_clean_run 0
}

# json-truncated@20053: every listing cut after half its bytes (Content-Length says so: a
# clean end), the login's proof listing first. Expected: "JSON ends early".
# json-truncated=300@20053: only answers longer than 300 bytes are cut, so the login's empty
# proof listing passes and the real window's listing is cut. Expected: "JSON ends early".
# json-huge=300: 300 MiB of spaces inside every listing, over the 8 MiB cap. Expected: the
# window is asked for in halves down to single minutes; three minutes over the cap end the
# listing, the cap is named, exit 1. (Each answer stops at the cap: some 100 MiB travel.)
# json-deep=100000: 100000 '[' around the listing. Expected: "too deep".
# json-wrong-types: calldate an object, duration an array, path a number, totalcount an object.
# Expected: the malformed field or type is named.
# totalcount-lie=5 (fakepbx takes "5", not "+5"): totalcount 5 more than the rows sent (on
# every listing, the login's empty proof listing included). Expected: never a silent truncation: the client splits the window
# down to single minutes and then says it cannot list completely (or refuses the count
# outright); exit 1, nothing deleted; the checkpoint not moved past anything unarchived (the
# invariant).
fault_case json_truncated case_bad_listing json-truncated@20053 'JSON ends early|truncated'
fault_case json_truncated_window case_bad_listing json-truncated=300@20053 'JSON ends early|truncated'
fault_case json_huge case_bad_listing json-huge=300 'cap'
fault_case json_deep case_bad_listing json-deep=100000 'too deep'
fault_case json_wrong_types case_bad_listing json-wrong-types 'malformed|type'
fault_case totalcount_more case_bad_listing totalcount-lie=5 'cannot be listed completely|says [0-9]+ recordings' 1

# Setup: a clean first run without retention archives the 4 recordings (exit 0). Then fakepbx
# with json-truncated=300@20053 (only answers over 300 bytes are cut: the login's proof listing
# and the run's own empty window pass) and retention on. Command: run -o sync.lookback=0, so
# the only listing with rows is retention's. Expected: retention cannot read its listing
# ("JSON ends early"), so nothing is deleted: exit 1, the delete log empty; a clean run then
# deletes all 4 (exit 0).
case_retention_listing_cut() {
	fault_fresh 1 4 --min-seconds 1 --max-seconds 2
	FAULT_CONF=()
	fault_serve
	fault_run run
	fault_check
	expect_rc 0
	expect_summary archived 4
	FAULT_CONF=('[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')
	fault_serve --fault json-truncated=300@20053
	fault_run -o sync.lookback=0 run
	fault_check
	expect_rc 1
	grep -q 'JSON ends early' "$T/err" || fail "the cut listing is not named: $ERR"
	expect_no_deletion
	[ "$(pbx_count)" -eq 4 ] || fail "recordings left the PBX"
	stop_pbx
	[ "$(req_count 20054)" -eq 0 ] || fail "a delete was sent"
	fault_clean_run 0
}
fault_case json_truncated_retention case_retention_listing_cut

# Setup: totalcount-lie=-3 (totalcount 3 fewer than the rows sent; -3 for an empty window).
# Command: run. Expected: more rows than announced are simply taken: exit 0, archived 4,
# deleted 4, every recording archived with its original hash.
case_totalcount_fewer() {
	fault_recovers totalcount-lie=-3
}
fault_case totalcount_fewer case_totalcount_fewer
fault_cases_done
