#!/usr/bin/env bash
# [pbx] max_rate caps the download rate of the 20036 requests, all lanes together; --max-rate
# overrides it for one run. Times are compared within the test (no absolute thresholds).
# Setup: fakepbx 1 day x 20 recordings of 60-70 s (about 21 MB of audio).
# 1) run without a cap: exit 0, all 20 archived; its time is the baseline.
# 2) a fresh archive, [pbx] max_rate = 2M: exit 0, all 20 archived; the run takes at least 80%
#    of the time its bytes need at 2 MiB/s, the baseline less than half of that; the report
#    names the cap ("rate limit: downloads capped at 2.00 MiB/s").
# 3) a fresh archive, [sync] parallel = 3 (batch_files = 2: 10 batches), config max_rate = 1M
#    and --max-rate 4M: exit 0, all 20 archived over 3 lanes (4 logins); at least 80% of the
#    time the bytes need at 4 MiB/s: each lane downloads at its share, the sum stays under the
#    cap (3 lanes each at the whole cap would take a third of it); the report names 4.00 MiB/s
#    (--max-rate won over the config).
source "$TOP/tests/e2e/lib.sh"

generate 1 20 --min-seconds 60 --max-seconds 70 --seed 18
remember_originals
start_pbx

# timed_run ARGS...: nexo ARGS, the wall time in ms in $MS.
timed_run() {
	local t0
	t0=$(date +%s%N)
	nexo "$@"
	MS=$((($(date +%s%N) - t0) / 1000000))
}

# expect_full_run: exit 0, all 20 archived with the PBX's bytes, no temp left.
expect_full_run() {
	expect_rc 0
	expect_summary archived 20
	check_invariant || fail "invariant"
	tmp_empty || fail "a temp file was left"
}

# at_rate BYTES_PER_S: ms the run's bytes need at that rate.
at_rate() {
	echo $(($(summary_field bytes) * 1000 / $1))
}

write_conf
timed_run run
expect_full_run
base=$MS
echo "no cap: $base ms for $(summary_field bytes) bytes"

rm -rf "$ARCHIVE"
write_conf '[pbx]' 'max_rate = 2M'
timed_run run
expect_full_run
need=$(at_rate $((2 * 1024 * 1024)))
echo "max_rate = 2M: $MS ms, the cap implies $need ms"
[ $((MS * 100)) -ge $((need * 80)) ] || fail "capped at 2M the run took $MS ms, under 80% of $need ms"
[ $((base * 2)) -lt "$MS" ] || fail "without a cap the run took $base ms: not much faster than $MS ms"
grep -q '^rate limit: downloads capped at 2.00 MiB/s' "$T/out" || fail "the report does not name the cap"

rm -rf "$ARCHIVE"
stop_pbx
: >"$T/fakepbx.log"
start_pbx
write_conf '[pbx]' 'max_rate = 1M' '[sync]' 'parallel = 3' 'batch_files = 2'
timed_run run --max-rate 4M
expect_full_run
stop_pbx
[ "$(pbx_log_count 8404)" -eq 4 ] || fail "expected 4 logins (the run's and 3 lanes'), got $(pbx_log_count 8404)"
need=$(at_rate $((4 * 1024 * 1024)))
echo "parallel = 3, --max-rate 4M: $MS ms, the cap implies $need ms"
[ $((MS * 100)) -ge $((need * 80)) ] || fail "3 lanes under a 4M cap took $MS ms, under 80% of $need ms: the sum passed the cap"
grep -q '^rate limit: downloads capped at 4.00 MiB/s (\[pbx\] max_rate, shared by the lanes)' "$T/out" ||
	fail "the report does not name the cap of --max-rate 4M"
echo "ok"
