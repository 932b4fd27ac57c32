#!/usr/bin/env bash
# Transfers that break or stall (CGI 20036): a TCP reset halfway through the tar, and a body that
# goes silent for longer than [pbx] timeout. Retention is on (delete_from_pbx = true,
# pbx_keep_days = 0): no run that met a transport error may delete anything. After every run:
# the invariant (check_invariant) and every real deletion has its pbx_deleted line. Each case
# ends with a clean run (fakepbx restarted without the fault): exit 0, everything archived with
# its original hash, the PBX emptied.
source "$TOP/tests/e2e/lib.sh"

# Setup: 1 day x 4 recordings (1-2 s); reset-mid-body (once: a TCP RST after half of the tar).
# Command: run. Expected: the reset is reported ("reset") and the download asked for again in
# the same run; all 4 archived in that run; exit 0 or 1. Which one depends on timing: when the
# RST reaches the client before it has read the first bytes, the request is retried as a
# transient failure (exit 0, deletions done); when it breaks mid-stream, the run asks for the
# rest, records the break and deletes nothing (exit 1). Then the clean run finishes the job.
case_reset_mid_body() {
	FAULT_CONF=('[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')
	fault_first_run --fault reset-mid-body
	grep -qi 'reset' "$T/err" || fail "the reset is not reported"
	expect_summary archived 4
	if [ "$RC" -eq 0 ]; then
		echo "reset-mid-body: the RST came before the first bytes were read: retried as transient"
		grep -q 'retrying' "$T/err" || fail "exit 0 without a reported retry"
	else
		echo "reset-mid-body: reset mid-stream"
		expect_rc 1
		expect_no_deletion
	fi
	stop_pbx
	[ "$(req_count 20036)" -ge 2 ] || fail "the recordings were not asked for again"
	fault_clean_run 0
}

# Setup: as above, with drip=100000@20036 too (the tar in 10000-byte pieces every 0.1 s, so
# the RST always comes mid-stream). Expected: "reset" reported, the rest asked for again (2
# download requests), all 4 archived in this run, nothing deleted (a run with a transport
# error never deletes), exit 1; the clean run deletes all 4.
case_reset_mid_stream() {
	FAULT_CONF=('[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')
	fault_first_run --fault drip=100000@20036 --fault reset-mid-body
	grep -qi 'reset' "$T/err" || fail "the reset is not reported"
	expect_summary archived 4
	expect_no_deletion
	expect_rc 1
	stop_pbx
	[ "$(req_count 20036)" -eq 2 ] || fail "expected 2 download requests, saw $(req_count 20036)"
	fault_clean_run 0
}

# Setup: 1 day x 1 recording (1 s); stall=4@20036 (every download: headers and the first 1024
# bytes, then 4 s of silence, then the rest); [pbx] timeout = 2. Command: run.
# Expected: every stalled transfer is dropped after about 2 s without a byte (the stall is
# reported as too slow / timed out), so no stalled answer can deliver the recording: the
# client asks again (the same request, then in halves: a handful of attempts), then gives up
# for this run: exit 1, archived 0, nothing deleted, in well under a minute.
case_stall() {
	FAULT_CONF=('[pbx]' 'timeout = 2' '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')
	fault_fresh 1 1 --min-seconds 1 --max-seconds 1
	fault_serve --fault stall=4@20036
	fault_run run
	fault_check
	grep -qiE 'too slow|timed out|timeout' "$T/err" ||
		fail "no stall detected: 4 s of silence passed with [pbx] timeout = 2: $OUT"
	[ "$(summary_field archived)" = 0 ] ||
		fail "a download that went silent for 4 s was accepted with [pbx] timeout = 2: $OUT"
	expect_no_deletion
	expect_rc 1
	fault_clean_run 0
}

fault_case reset_mid_body case_reset_mid_body
fault_case reset_mid_stream case_reset_mid_stream
fault_case stall case_stall
fault_cases_done
