#!/usr/bin/env bash
# 100 kill -9 at random instants of runs with retention on, each followed by a clean run.
# Setup: fakepbx with 2 days x 8 recordings, fresh data and archive for every kill (so that
# kills land in downloads, commits and deletions alike); delete_from_pbx, pbx_keep_days = 0.
# After every kill: the invariant as the crash left it; then a clean run: exit 0 and the
# invariant (nothing deleted without an archived copy, nothing lost, nothing archived twice,
# the checkpoint not ahead of the manifest, no temp files). Delays are drawn from a fixed seed,
# within the time a whole run takes on this machine (measured first, and shortened whenever a
# run finishes before its kill: the load may drop), so that most kills land mid-run however
# fast the machine is.
source "$TOP/tests/e2e/lib.sh"

# The PBX is started anew with its data: it reads its CDRs at start, and CDRs naming recordings
# that are not on its disk would be a PBX that lost them (the CDR witness reports those).
fresh() {
	stop_pbx
	rm -rf "$PBXDIR" "$ARCHIVE" "$T/deleted.log"
	generate 2 8 --min-seconds 2 --max-seconds 12 --seed "$1"
	remember_originals
	start_pbx
	write_conf '[sync]' 'batch_files = 3' '[retention]' 'delete_from_pbx = true' \
		'pbx_keep_days = 0'
}
fresh 1
t0=$(date +%s%N)
nexo run
run_ms=$((($(date +%s%N) - t0) / 1000000))
[ "$RC" -eq 0 ] || fail "the timing run exited $RC"
[ "$run_ms" -ge 10 ] || run_ms=10
[ "$run_ms" -le 999 ] || run_ms=999
echo "a whole run takes ${run_ms} ms here"
RANDOM=4242
kills=0
i=0
while [ "$kills" -lt 100 ]; do
	i=$((i + 1))
	[ "$i" -le 200 ] || fail "only $kills of 200 runs were still running when killed"
	fresh "$i"
	"$NEXO" -q -c "$CONF" run >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%03d' $((RANDOM % run_ms)))"
	kill -9 "$pid" 2>/dev/null || true
	set +e
	wait "$pid" 2>/dev/null
	rc=$?
	set -e
	# 137: the kill landed while it ran (a run that had finished exited 0 on its own). A run
	# that finished first says runs are quicker now than when timed (the machine's load
	# changed): the delays shrink, so that most kills still land mid-run.
	if [ "$rc" -eq 137 ]; then
		kills=$((kills + 1))
	elif [ "$run_ms" -gt 10 ]; then
		run_ms=$((run_ms * 3 / 4 > 10 ? run_ms * 3 / 4 : 10))
	fi
	check_invariant crashed || fail "after kill $kills (run $i)"
	nexo run
	[ "$RC" -eq 0 ] || fail "the clean run after kill $i exited $RC"
	check_invariant || fail "after the clean run following kill $i"
done
echo "$kills of $i runs were killed mid-way"
echo "ok"
