#!/usr/bin/env bash
# Setup: a first run creates the archive (1 day x 5). Then this script holds an flock on
# ARCHIVE/.state/lock itself, as a running nexo-archive would, and leaves a temp file in
# .state/tmp the way a run in progress does (named like store.c's temps: PID.LANE.N.nexo-tmp).
# 1) Command: nexo-archive run while the lock is held.
#    Expected: exit 3 within 2 s, stderr mentions another run, and the archive is unchanged:
#    every file's name, size and mtime, the lock file's content, and the holder's temp file.
# 2) Setup: a fresh archive, fakepbx with 2 days x 500 recordings.
#    Command: a first run; once it holds the lock, a second run on the same archive.
#    Expected: the first exits 0, the second 3 (or 0 if the first had already finished);
#    afterwards all 1000 recordings are archived once (no duplicate pbx_path), the manifest
#    verifies, .state/tmp is empty.
source "$TOP/tests/e2e/lib.sh"

command -v flock >/dev/null || skip "flock(1) not installed"
generate 1 5 --min-seconds 1 --max-seconds 1
start_pbx
write_conf
nexo run
expect_rc 0
[ -f "$ARCHIVE/.state/lock" ] || fail "no .state/lock after a run"

snapshot() {
	find "$ARCHIVE" -printf '%P %y %s %T@\n' | sort
	cat "$ARCHIVE/.state/lock"
}
(
	exec 9>>"$ARCHIVE/.state/lock"
	flock -x 9
	: >"$T/locked"
	exec sleep 30
) &
holder=$!
wait_until 5 test -e "$T/locked"
printf 'half a recording' >"$ARCHIVE/.state/tmp/$holder.0.0.nexo-tmp"
snapshot >"$T/before"
t0=$(date +%s%N)
nexo run
t1=$(date +%s%N)
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
expect_rc 3
[ $(((t1 - t0) / 1000000)) -lt 2000 ] || fail "exit 3 took $(((t1 - t0) / 1000000)) ms"
grep -qi 'another' "$T/err" || fail "stderr does not mention another run: $ERR"
snapshot >"$T/after"
diff "$T/before" "$T/after" >"$T/snap.diff" || fail "the locked-out run changed the archive: $(head -n 6 "$T/snap.diff")"

# 2) two real runs at once
stop_pbx
rm -rf "$PBXDIR"
ARCHIVE="$T/archive2"
generate 2 500 --min-seconds 1 --max-seconds 2
start_pbx
write_conf
"$NEXO" -c "$CONF" run >"$T/out1" 2>"$T/err1" &
p1=$!
wait_until 10 grep -qE "^$p1( run)?$" "$ARCHIVE/.state/lock"
set +e
"$NEXO" -c "$CONF" run >"$T/out2" 2>"$T/err2"
rc2=$?
wait "$p1"
rc1=$?
set -e
echo "first run exit $rc1, second run exit $rc2"
cat "$T/out1" "$T/out2"
sed 's/^/    stderr 1: /' "$T/err1" | tail -n 20
sed 's/^/    stderr 2: /' "$T/err2" | tail -n 20
[ "$rc1" -eq 0 ] || fail "the first run exited $rc1 while a second run was locked out"
[ "$rc2" -eq 0 ] || [ "$rc2" -eq 3 ] || fail "the second run exited $rc2"
if [ "$rc2" -eq 3 ]; then
	grep -qi 'another' "$T/err2" || fail "the second run exited 3 without saying why"
fi
[ -z "$(manifest_dup_paths)" ] || fail "archived twice: $(manifest_dup_paths | head -n 3)"
[ "$(check_manifest_hashes)" = 1000 ] || fail "manifest does not hold 1000 matching hashes"
diff <(pbx_paths) <(manifest_paths archived) >/dev/null || fail "manifest differs from the PBX"
[ "$(archive_count)" -eq 1000 ] || fail "expected 1000 files, found $(archive_count)"
tmp_empty || fail ".state/tmp is not empty"
echo "ok"
