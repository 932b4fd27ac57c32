#!/usr/bin/env bash
# Storage errors on every kind of write, injected with the failpoint build: ENOSPC, EIO, EROFS,
# EDQUOT on write, fsync, rename, folder fsync, manifest append/fsync and the checkpoint.
# Setup: fakepbx 1 day x 4; retention on (delete_from_pbx, pbx_keep_days = 0); batch_files 2.
# Expected for each: exit 6 (storage error), the cause named with its errno text, nothing
# deleted from the PBX (the delete log stays empty), no temp file left, the invariant holds;
# then a clean run: exit 0, everything archived once and deleted, invariant holds.
source "$TOP/tests/e2e/lib.sh"

fresh() { fresh_pbx 1 4 5; }
fresh
start_pbx
retention_on

while read -r point errno text; do
	fresh
	expect_storage_failure "$point" "$errno" "$text"
	expect_recovery "$point:$errno"
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
