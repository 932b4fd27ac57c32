#!/usr/bin/env bash
# Slow transfers (CGI 20036): slow but moving must complete; 1 byte/s with a 1 s timeout must be
# given up. Retention is on (delete_from_pbx = true, pbx_keep_days = 0). After every run: the
# invariant (check_invariant) and every real deletion has its pbx_deleted line.
source "$TOP/tests/e2e/lib.sh"

# shrink_recordings DATA_BYTES: rewrites every recording on the fake PBX as a valid WAV with
# DATA_BYTES of its audio (44-byte PCM header, sizes adjusted), then re-remembers the originals.
shrink_recordings() {
	find "$PBXDIR" -name '*.wav' -type f -print0 | xargs -0 python3 -c '
import struct, sys
n = int(sys.argv[1])
for p in sys.argv[2:]:
    b = bytearray(open(p, "rb").read())
    assert b[:4] == b"RIFF" and b[36:40] == b"data", p
    b = b[:44 + n]
    struct.pack_into("<I", b, 4, 36 + n)
    struct.pack_into("<I", b, 40, n)
    open(p, "wb").write(b)
' "$1"
	remember_originals
}

# Setup: 1 recording cut to 0.25 s (4044 bytes: a 5632-byte tar); drip=2000@20036 (pieces of 200
# bytes every 0.1 s: about 2.8 s for the tar); [pbx] timeout = 2. Command: run.
# Expected: slow but always moving, so it completes: exit 0, archived 1, deleted 1, its hash the
# original's; the run took at least 2 s (the drip was in force); 2 downloads (the second, also
# dripped, compares the PBX's copy before the deletion), none given up.
case_drip_moving() {
	local t0 ms
	FAULT_CONF=('[pbx]' 'timeout = 2' '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')
	fault_fresh 1 1 --min-seconds 1 --max-seconds 1
	shrink_recordings 4000
	fault_serve --fault drip=2000@20036
	t0=$(date +%s%N)
	fault_run run
	ms=$((($(date +%s%N) - t0) / 1000000))
	fault_check
	expect_rc 0
	expect_summary archived 1
	expect_summary deleted 1
	expect_all_archived
	[ "$ms" -ge 2000 ] || fail "the run took $ms ms: was the drip in force?"
	stop_pbx
	[ "$(req_count 20036 200)" -eq 2 ] && [ "$(req_count 20036)" -eq 2 ] ||
		fail "expected the download and the compare, saw $(req_count 20036)"
}

# Setup: 1 recording (1 s, a 17408-byte tar); drip=1@20036 (1 byte per second); [pbx]
# timeout = 1, retries = 1. Command: run. Expected: the transfer is given up as too slow and
# retried (2 download requests or more), then the run goes on without it: exit 1 (exit 0 only
# if a retry had succeeded, which 1 byte/s cannot do), nothing archived, nothing deleted (a run
# with a transport error never deletes). Then the clean run (fakepbx without the fault)
# archives it and deletes it: exit 0.
case_drip_too_slow() {
	FAULT_CONF=('[pbx]' 'timeout = 1' 'retries = 1' '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')
	fault_fresh 1 1 --min-seconds 1 --max-seconds 1
	fault_serve --fault drip=1@20036
	fault_run run
	fault_check
	[ "$RC" -le 1 ] || fail "exit $RC"
	grep -qiE 'too slow|timed out' "$T/err" || fail "the slow transfer is not reported"
	expect_no_deletion
	[ "$(manifest_events archived)" = 0 ] || fail "a recording was archived from a 1 byte/s drip"
	expect_rc 1
	stop_pbx
	[ "$(req_count 20036)" -ge 2 ] || fail "the download was not retried ($(req_count 20036) requests)"
	fault_clean_run 0
}

fault_case drip_moving case_drip_moving
fault_case drip_too_slow case_drip_too_slow
fault_cases_done
