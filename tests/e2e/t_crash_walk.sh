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

crash_walk_setup 11
labels=$(cut -d' ' -f1 "$T/walk" | sort -u | tr '\n' ' ')
echo "points: $(wc -l <"$T/walk") ($labels)"
for label in store.write store.fsync store.rename store.dirfsync manifest.append \
	manifest.fsync checkpoint.write retention.delete retention.relist retention.record; do
	grep -q "^$label " "$T/walk" || fail "a full run never reached $label"
done

n=0
while read -r label hit; do
	fresh
	crash_run "$label:$hit"
	check_invariant crashed || fail "after a crash at $label:$hit"
	expect_recovery "a crash at $label:$hit"
	n=$((n + 1))
done <"$T/walk"
echo "crashed and recovered at $n points"
[ "$n" -ge 20 ] || fail "only $n crash points"
echo "ok"
