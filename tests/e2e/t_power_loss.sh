#!/usr/bin/env bash
# Power loss at every failpoint of a full run with retention on: the failpoint build, with
# NEXO_POWER_LOSS=1, undoes at the crash what a power cut would (appends not yet fsynced keep
# only half their bytes: a torn tail; renames and new files whose folder was not yet fsynced
# are reverted), then kills itself.
# Setup and assertions as in t_crash_walk: after the "power loss", the invariant as it was left;
# after a clean run: exit 0, the invariant, everything archived once and deleted, no temp file.
source "$TOP/tests/e2e/lib.sh"
[ -x "$NEXO_TEST" ] || fail "no failpoint build at $NEXO_TEST"

crash_walk_setup 12

n=0
torn=0
while read -r label hit; do
	fresh
	crash_run "$label:$hit" NEXO_POWER_LOSS=1
	[ -z "$(find "$ARCHIVE" -name '.fp-backup-*')" ] || fail "$label:$hit: test backups left"
	check_invariant crashed || fail "after a power loss at $label:$hit"
	expect_recovery "a power loss at $label:$hit"
	grep -q "torn tail" "$T/err" && torn=$((torn + 1))
	n=$((n + 1))
done <"$T/walk"
echo "power lost and recovered at $n points; $torn left a torn manifest tail that was cut"
[ "$n" -ge 20 ] || fail "only $n points"
[ "$torn" -ge 1 ] || fail "no power loss ever tore a manifest append: the mode is not working"
echo "ok"
