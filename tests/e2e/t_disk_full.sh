#!/usr/bin/env bash
# Disk full for real: the archive on a small tmpfs (needs root and mount; skipped otherwise).
# Setup: 1 day x 3 recordings of 2 s, each padded with a 10 MB "junk" chunk after its audio
# (a valid WAV whose listed duration says nothing of its size, so the pre-flight estimate
# passes); retention on; a 16 MB tmpfs as the archive.
# Expected: the run stops at the full disk: exit 6, the lack of space named — by the check of
# each tar entry's stated size against the free space before it is written ("not enough free
# space"), or by ENOSPC on a real write where that check could not foresee it (injected
# ENOSPC is t_io_errors') — no temp file left, nothing deleted from the PBX, the invariant holds. After the tmpfs grows
# to 64 MB, the next run completes: exit 0, all archived and deleted.
# Also: a batch that cannot fit by its listed sizes is refused before it starts (pre-flight).
source "$TOP/tests/e2e/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "not root: cannot mount a tmpfs"
mkdir -p "$ARCHIVE"
mount -t tmpfs -o size=16m tmpfs "$ARCHIVE" 2>/dev/null || skip "mounting a tmpfs is not allowed here"
trap 'stop_pbx; umount "$ARCHIVE" 2>/dev/null || true' EXIT

generate 1 3 --min-seconds 2 --max-seconds 2
python3 - "$PBXDIR" <<'PY'
import glob, struct, sys
for p in glob.glob(sys.argv[1] + "/*/*.wav"):
    data = bytearray(open(p, "rb").read())
    pad = 10 * 1024 * 1024
    data += b"junk" + struct.pack("<I", pad) + bytes(pad)
    struct.pack_into("<I", data, 4, len(data) - 8)
    open(p, "wb").write(data)
PY
remember_originals
start_pbx
write_conf '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'
nexo run
expect_rc 6
grep -qE "No space left on device|not enough free space" "$T/err" || fail "the full disk is not named: $ERR"
[ ! -s "$T/deleted.log" ] || fail "something was deleted in a run that hit a full disk"
tmp_empty || fail "a temp file was left on the full disk"
check_invariant || fail "invariant after ENOSPC"

mount -o remount,size=64m "$ARCHIVE"
nexo run
expect_rc 0
check_invariant || fail "invariant after the repairing run"
[ "$(pbx_count)" -eq 0 ] || fail "the repairing run did not finish"

# Pre-flight: listed sizes that cannot fit are refused before any byte is written.
stop_pbx
rm -rf "$PBXDIR" "$T/deleted.log"
generate 1 2 --min-seconds 1000 --max-seconds 1000   # 2 x 16 MB by their listed duration
remember_originals
umount "$ARCHIVE"
mount -t tmpfs -o size=24m tmpfs "$ARCHIVE"
start_pbx
write_conf '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'
nexo run
expect_rc 6
grep -q "not enough free space" "$T/err" || fail "pre-flight did not refuse: $ERR"
[ ! -s "$T/deleted.log" ] || fail "deleted after a refused batch"
check_invariant || fail "invariant after the pre-flight refusal"
echo "ok"
