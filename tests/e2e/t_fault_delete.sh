#!/usr/bin/env bash
# Deletions (CGI 20054) the PBX answers wrongly, and a PBX clock far from ours. Each case: a fresh
# fakepbx disk of 1 day x 4 recordings (1-2 s), an empty archive, [sync] batch_files = 2 (so two
# delete requests of 2), retention on (delete_from_pbx = true, pbx_keep_days = 0). Only a
# re-list decides what was deleted: a "pbx_deleted" line is written for exactly the recordings
# gone from it. After every run: the invariant (check_invariant) and every real deletion (the
# fake's delete log) has an archived copy with its hash and a pbx_deleted line.
source "$TOP/tests/e2e/lib.sh"

FAULT_CONF=('[sync]' 'batch_files = 2' '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')

# Setup: status=500:2@20054 (both delete requests answer 500 and delete nothing). Command: run.
# Expected: archived 4; each delete is sent once, never retried (2 requests of 2 files, two
# 500s); the re-list shows all 4 still there: deleted 0, no pbx_deleted line, "4 deletions were
# not confirmed", exit 1, all 4 still on the PBX. The next run (the fault spent) deletes all 4:
# exit 0, deleted 4, the delete log agrees with the manifest.
case_delete_5xx() {
	fault_first_run --fault status=500:2@20054
	expect_rc 1
	expect_summary archived 4
	expect_summary deleted 0
	grep -q '^4 deletions were not confirmed' <<<"$OUT" || fail "the unconfirmed deletions are not reported: $OUT"
	expect_no_deletion
	[ "$(pbx_count)" -eq 4 ] || fail "recordings left the PBX"
	stop_pbx
	[ "$(req_count 20054)" -eq 2 ] && [ "$(req_count 20054 500)" -eq 2 ] ||
		fail "expected exactly 2 delete requests (both 500): $(grep ' 20054 ' "$T/requests.log" | tr '\n' ';')"
	fault_clean_run 0
	expect_summary deleted 4
	[ "$(check_deleted_log)" = 4 ] || fail "the delete log does not hold 4 verified deletions"
}

# Setup: delete-noop (always: "success" but nothing deleted). Command: run. Expected: archived
# 4; the re-list still shows them: deleted 0, no pbx_deleted line, each named "still listed
# after its delete", "4 deletions were not confirmed", exit 1; the delete log empty. A clean run
# then deletes them (exit 0, deleted 4).
case_delete_noop() {
	fault_first_run --fault delete-noop
	expect_rc 1
	expect_summary archived 4
	expect_summary deleted 0
	grep -q '^4 deletions were not confirmed' <<<"$OUT" || fail "the unconfirmed deletions are not reported: $OUT"
	[ "$(grep -c 'still listed after its delete' "$T/err")" -eq 4 ] || fail "not every unconfirmed deletion is named"
	expect_no_deletion
	[ "$(pbx_count)" -eq 4 ] || fail "recordings left the PBX"
	fault_clean_run 0
	expect_summary deleted 4
}

# Setup: delete-error-but-deletes (always: the files are deleted, the answer is 500). Command:
# run. Expected: the 500 is not retried (2 delete requests); the re-list shows the recordings
# gone, so 4 pbx_deleted lines are written: deleted 4, the PBX empty, and the delete log
# agrees (4 lines, each with an archived copy of that hash and a pbx_deleted line).
case_delete_error_but_deletes() {
	fault_first_run --fault delete-error-but-deletes
	echo "delete-error-but-deletes: exit $RC"
	[ "$RC" -le 1 ] || fail "exit $RC"
	expect_summary archived 4
	expect_summary deleted 4
	[ "$(manifest_events pbx_deleted)" = 4 ] || fail "expected 4 pbx_deleted lines, got $(manifest_events pbx_deleted)"
	[ "$(check_deleted_log)" = 4 ] || fail "the delete log does not hold 4 verified deletions"
	[ "$(pbx_count)" -eq 0 ] || fail "$(pbx_count) recordings left on the PBX"
	stop_pbx
	[ "$(req_count 20054)" -eq 2 ] || fail "expected 2 delete requests, saw $(req_count 20054)"
}

# Setup: clock-skew=SECONDS (every answer's Date is that far from ours; here +7200 and -7200),
# [pbx] max_clock_skew at its default (10m). Command: run. Expected: everything archived, but
# no deletion this run, with a message about the PBX's clock; exit 1. Then, against the same
# fakepbx, run with -o pbx.max_clock_skew=3h: the deletions happen (exit 0, deleted 4, the PBX
# empty, the delete log agrees).
case_clock_skew() {
	fault_first_run --fault "clock-skew=$1"
	expect_rc 1
	expect_summary archived 4
	expect_summary deleted 0
	grep -qi 'clock' "$T/err" || fail "no message about the PBX's clock: $ERR"
	expect_no_deletion
	fault_run -o pbx.max_clock_skew=3h run
	fault_check
	expect_rc 0
	expect_summary deleted 4
	[ "$(pbx_count)" -eq 0 ] || fail "$(pbx_count) recordings left on the PBX"
	[ "$(check_deleted_log)" = 4 ] || fail "the delete log does not hold 4 verified deletions"
}

fault_case delete_5xx case_delete_5xx
fault_case delete_noop case_delete_noop
fault_case delete_error_but_deletes case_delete_error_but_deletes
fault_case clock_ahead case_clock_skew 7200
fault_case clock_behind case_clock_skew -7200
fault_cases_done
