#!/usr/bin/env bash
# Power loss at every failpoint of a full run with retention on: the failpoint build, with
# NEXO_POWER_LOSS=1, undoes at the crash what a power cut would (appends not yet fsynced keep
# only half their bytes: a torn tail; renames and new files whose folder was not yet fsynced
# are reverted), then kills itself.
# Setup and assertions as in t_crash_walk: after the "power loss", the invariant as it was left;
# after a clean run: exit 0, the invariant, everything archived once and deleted, no temp file.
source "$TOP/tests/e2e/lib.sh"
[ -x "$NEXO_TEST" ] || fail "no failpoint build at $NEXO_TEST"

fresh() {
	rm -rf "$PBXDIR" "$ARCHIVE" "$T/deleted.log"
	generate 1 5 --min-seconds 1 --max-seconds 3 --seed 12
	remember_originals
}
fresh
start_pbx
write_conf '[sync]' 'batch_files = 2' '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'
NEXO_FAILPOINT_LOG="$T/points" "$NEXO_TEST" -q -c "$CONF" run >/dev/null 2>&1 ||
	fail "the planning run failed"
sort -u "$T/points" >"$T/walk"

n=0
torn=0
while read -r label hit; do
	fresh
	set +e
	NEXO_POWER_LOSS=1 NEXO_CRASH_AT="$label:$hit" "$NEXO_TEST" -q -c "$CONF" run \
		>"$T/crash.out" 2>&1
	rc=$?
	set -e
	[ "$rc" -eq 137 ] || fail "$label:$hit: the run was not killed (exit $rc)"
	[ -z "$(find "$ARCHIVE" -name '.fp-backup-*')" ] || fail "$label:$hit: test backups left"
	check_invariant crashed || fail "after a power loss at $label:$hit"
	nexo run
	[ "$RC" -eq 0 ] || fail "$label:$hit: the clean run after the power loss exited $RC"
	grep -q "torn tail" "$T/err" && torn=$((torn + 1))
	check_invariant || fail "after the clean run following $label:$hit"
	[ "$(pbx_count)" -eq 0 ] || fail "$label:$hit: $(pbx_count) recordings left on the PBX"
	[ -z "$(manifest_dup_paths)" ] || fail "$label:$hit: archived twice"
	n=$((n + 1))
done <"$T/walk"
echo "power lost and recovered at $n points; $torn left a torn manifest tail that was cut"
[ "$n" -ge 20 ] || fail "only $n points"
[ "$torn" -ge 1 ] || fail "no power loss ever tore a manifest append: the mode is not working"
echo "ok"
