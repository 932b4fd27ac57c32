#!/usr/bin/env bash
# Crash at every failpoint, every time it is reached, in a full run with retention on.
# Setup: the failpoint build (build/test/nexo-archive); fakepbx with 1 day x 5 recordings;
# batch_files = 2 (several batches), delete_from_pbx = true, pbx_keep_days = 0.
# Command: a first run with NEXO_FAILPOINT_LOG lists the points a run reaches (label, count);
# then for each (label, N): fresh PBX data and archive, a run killed (SIGKILL) at the N-th
# visit of label, the invariant checked as the crash left it, a clean run, the invariant again
# plus: exit 0, everything archived exactly once, the PBX empty (all deleted), no temp file.
source "$TOP/tests/e2e/lib.sh"
[ -x "$NEXO_TEST" ] || fail "no failpoint build at $NEXO_TEST"

fresh() {
	rm -rf "$PBXDIR" "$ARCHIVE" "$T/deleted.log"
	generate 1 5 --min-seconds 1 --max-seconds 3 --seed 11
	remember_originals
}
fresh
start_pbx
write_conf '[sync]' 'batch_files = 2' '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'
NEXO_FAILPOINT_LOG="$T/points" "$NEXO_TEST" -q -c "$CONF" run >/dev/null 2>&1 ||
	fail "the planning run failed"
check_invariant || fail "the planning run broke the invariant"
sort -u "$T/points" >"$T/walk"
labels=$(cut -d' ' -f1 "$T/walk" | sort -u | tr '\n' ' ')
echo "points: $(wc -l <"$T/walk") ($labels)"
for label in store.write store.fsync store.rename store.dirfsync manifest.append \
	manifest.fsync checkpoint.write retention.delete retention.relist retention.record; do
	grep -q "^$label " "$T/walk" || fail "a full run never reached $label"
done

n=0
while read -r label hit; do
	fresh
	set +e
	NEXO_CRASH_AT="$label:$hit" "$NEXO_TEST" -q -c "$CONF" run >"$T/crash.out" 2>&1
	rc=$?
	set -e
	[ "$rc" -eq 137 ] || fail "$label:$hit: the run was not killed (exit $rc)"
	check_invariant crashed || fail "after a crash at $label:$hit"
	nexo run
	[ "$RC" -eq 0 ] || fail "$label:$hit: the clean run after the crash exited $RC"
	check_invariant || fail "after the clean run following $label:$hit"
	[ "$(pbx_count)" -eq 0 ] || fail "$label:$hit: $(pbx_count) recordings left on the PBX"
	[ -z "$(manifest_dup_paths)" ] || fail "$label:$hit: archived twice"
	n=$((n + 1))
done <"$T/walk"
echo "crashed and recovered at $n points"
[ "$n" -ge 20 ] || fail "only $n crash points"
echo "ok"
