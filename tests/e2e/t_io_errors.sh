#!/usr/bin/env bash
# Storage errors on every kind of write, injected with the failpoint build: ENOSPC, EIO, EROFS,
# EDQUOT on write, fsync, rename, folder fsync, manifest append/fsync and the checkpoint.
# Setup: fakepbx 1 day x 4; retention on (delete_from_pbx, pbx_keep_days = 0); batch_files 2.
# Expected for each: exit 6 (storage error), the cause named with its errno text, nothing
# deleted from the PBX (the delete log stays empty), no temp file left, the invariant holds;
# then a clean run: exit 0, everything archived once and deleted, invariant holds.
source "$TOP/tests/e2e/lib.sh"

fresh() {
	rm -rf "$PBXDIR" "$ARCHIVE" "$T/deleted.log"
	generate 1 4 --min-seconds 1 --max-seconds 3 --seed 5
	remember_originals
}
fresh
start_pbx
write_conf '[sync]' 'batch_files = 2' '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'

while read -r point errno text; do
	fresh
	set +e
	NEXO_FAILPOINT="$point:$errno" "$NEXO_TEST" -c "$CONF" run >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	[ "$rc" -eq 6 ] || fail "$point:$errno: exit $rc, not 6: $(cat "$T/err")"
	grep -q "$text" "$T/err" || fail "$point:$errno: the cause is not named: $(cat "$T/err")"
	[ ! -s "$T/deleted.log" ] || fail "$point:$errno: something was deleted after a storage error"
	check_invariant || fail "$point:$errno: invariant"
	nexo run
	[ "$RC" -eq 0 ] || fail "$point:$errno: the next run exited $RC"
	check_invariant || fail "$point:$errno: invariant after the next run"
	[ "$(pbx_count)" -eq 0 ] || fail "$point:$errno: the next run did not finish the job"
	echo "$point $errno: exit 6, named, nothing deleted, repaired by the next run"
done <<'LIST'
store.write:1 28 No space left on device
store.write:2 5 Input/output error
store.fsync:1 5 Input/output error
store.fsync:3 EDQUOT Disk quota exceeded
store.rename:1 EROFS Read-only file system
store.dirfsync:2 5 Input/output error
manifest.append:1 28 No space left on device
manifest.fsync:1 5 Input/output error
checkpoint.write:1 28 No space left on device
LIST
echo "ok"
