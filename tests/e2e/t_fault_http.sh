#!/usr/bin/env bash
# HTTP-level faults: transient status codes (408, 429, 5xx) N times then healthy, Retry-After,
# header floods and over-long header lines. Each case: a fresh fakepbx disk of 1 day x 4
# recordings (1-2 s), an empty archive, retention on (delete_from_pbx = true, pbx_keep_days =
# 0), retries = 2, NEXO_RETRY_BASE_MS = 50; the fault given as fakepbx --fault SPEC. After
# every run: the invariant (check_invariant: nothing deleted without a verified archived copy,
# nothing lost, nothing archived twice) and every real deletion has its pbx_deleted line.
source "$TOP/tests/e2e/lib.sh"

FAULT_CONF=('[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')

# Setup: status=503:2@20036 (with Retry-After: 1). Expected: two transient retries, then the
# download: exit 0, archived 4, deleted 4; "retrying" warned; the download asked 3 times (503,
# 503, 200), then once more to compare the PBX's copies with the archived ones before deleting
# them (they were archived moments ago: the listing's whole seconds cannot vouch yet).
case_503_download() {
	fault_recovers status=503:2@20036
	grep -q 'retrying' "$T/err" || fail "no retry reported"
	[ "$(awk '$2 == 20036 { printf "%s ", $3 }' "$T/requests.log")" = "503 503 200 200 " ] ||
		fail "expected 503, 503, 200, then the compare's 200: $(grep ' 20036 ' "$T/requests.log" | tr '\n' ';')"
}

# Setup: status=429:1@20053 (with Retry-After: 1). Expected: retried, exit 0, archived 4, deleted 4.
case_429_list() {
	fault_recovers status=429:1@20053
	[ "$(req_count 20053 429)" -eq 1 ] || fail "the 429 was not served"
}

# Setup: status=408:2@20053. Expected: retried twice (retries = 2), exit 0, archived 4, deleted 4.
case_408_list() {
	fault_recovers status=408:2@20053
	[ "$(req_count 20053 408)" -eq 2 ] || fail "expected two 408 answers"
}

# Setup: status=502:2@20036. Expected: retried twice, exit 0, archived 4, deleted 4.
case_502_download() {
	fault_recovers status=502:2@20036
	[ "$(req_count 20036 502)" -eq 2 ] || fail "expected two 502 answers"
}

# Setup: status=500:3@20036 with retries = 2: every attempt of the first download fails.
# Expected: the batch fails (exit 1, failed 4), nothing deleted; the next run (fault gone)
# completes and empties the PBX.
case_500_download_exhausted() {
	fault_first_run --fault status=500:3@20036
	expect_rc 1
	expect_summary failed 4
	expect_no_deletion
	stop_pbx
	[ "$(req_count 20036 500)" -eq 3 ] || fail "expected 3 attempts (1 + retries 2), got $(req_count 20036 500)"
	fault_clean_run 0
}

# Setup: retry-after=2, status=503:1@20036 (the first download: 503 with Retry-After: 2).
# Command: run (timed). Expected: the retry waits the 2 s the PBX asked for (with
# NEXO_RETRY_BASE_MS = 50 the client's own backoff would be a few ms): the run takes at least
# 2 s (wall clock, and the summary's "seconds"); exit 0, archived 4, deleted 4.
case_retry_after() {
	local t0 ms
	fault_fresh 1 4 --min-seconds 1 --max-seconds 2
	fault_serve --fault retry-after=2 --fault status=503:1@20036
	t0=$(date +%s%N)
	fault_run run
	ms=$((($(date +%s%N) - t0) / 1000000))
	fault_check
	expect_rc 0
	expect_summary archived 4
	expect_summary deleted 4
	[ "$ms" -ge 2000 ] || fail "the run took $ms ms: Retry-After: 2 not honoured"
	awk -v s="$(grep -oE 'seconds [0-9.]+' <<<"$OUT" | cut -d' ' -f2)" 'BEGIN { exit !(s >= 2.0) }' ||
		fail "the summary says the run took less than 2 s: $OUT"
	stop_pbx
	[ "$(req_count 20036 503)" -eq 1 ] || fail "the 503 was not served"
}

# Setup: header-flood (1000 extra header lines on every 20053/20036/20054 answer: the login's
# proof listing already), header-long (one 64 KiB header line); then the same on downloads
# only (@20036). Command: run. Expected: the cap is named (100 header lines / 8192 bytes), no
# crash, exit 1, nothing deleted, nothing archived; the next run (fault gone) completes.
case_header_cap() {
	local spec=$1 cap=$2
	fault_first_run --fault "$spec"
	expect_rc 1
	grep -q "$cap" "$T/err" || fail "the cap ($cap) is not named: $ERR"
	expect_no_deletion
	[ "$(manifest_events archived)" = 0 ] || fail "recordings were archived through a refused answer"
	fault_clean_run 0
}

fault_case 503_download case_503_download
fault_case 429_list case_429_list
fault_case 408_list case_408_list
fault_case 502_download case_502_download
fault_case 500_download_exhausted case_500_download_exhausted
fault_case retry_after case_retry_after
fault_case header_flood case_header_cap header-flood '100 header lines'
fault_case header_long case_header_cap header-long '8192 bytes'
fault_case header_flood_download case_header_cap header-flood@20036 '100 header lines'
fault_case header_long_download case_header_cap header-long@20036 '8192 bytes'
fault_cases_done
