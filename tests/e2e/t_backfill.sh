#!/usr/bin/env bash
# Setup: fakepbx with 2 days x 15 recordings (D-2 and D-1), empty archive.
# 1) Command: nexo-archive backfill --from "D-2 00:00" --to "D-2 23:59".
#    Expected: exit 0, "archived 15": exactly the recordings of D-2 (manifest paths all in
#    folder D-2, matching the PBX's); no checkpoint is created.
# 2) Setup: a normal run archives D-1 and writes a checkpoint; then a new recording is put on
#    the PBX at D-3 12:00 (far behind the checkpoint).
#    Command: nexo-archive backfill over D-3.
#    Expected: exit 0, "archived 1" (that recording); the checkpoint file is unchanged
#    (content and mtime).
source "$TOP/tests/e2e/lib.sh"

generate 2 15 --min-seconds 1 --max-seconds 2
d2=$(date -d '2 days ago' +%F)
d3=$(date -d '3 days ago' +%F)
start_pbx
write_conf
nexo backfill --from "$d2 00:00" --to "$d2 23:59"
expect_rc 0
expect_summary archived 15
folder=${d2//-/}
diff <(pbx_paths | grep "^$folder/") <(manifest_paths archived) >"$T/paths.diff" ||
	fail "backfill of $d2 archived other recordings: $(head -n 6 "$T/paths.diff")"
[ "$(check_manifest_hashes)" = 15 ] || fail "manifest does not hold 15 matching hashes"
[ ! -e "$ARCHIVE/.state/checkpoint" ] || fail "backfill created a checkpoint: $(cat "$ARCHIVE/.state/checkpoint")"

nexo run
expect_rc 0
expect_summary archived 15
[ -f "$ARCHIVE/.state/checkpoint" ] || fail "no checkpoint after a run"
before=$(stat -c '%Y.%y %s' "$ARCHIVE/.state/checkpoint")$(cat "$ARCHIVE/.state/checkpoint")

old=$(add_recording "$(date -d "$d3 12:00" +%s)")
nexo backfill --from "$d3 00:00" --to "$d3 23:59"
expect_rc 0
expect_summary archived 1
grep -qxF "$old" <(manifest_paths archived) || fail "$old was not backfilled"
after=$(stat -c '%Y.%y %s' "$ARCHIVE/.state/checkpoint")$(cat "$ARCHIVE/.state/checkpoint")
[ "$before" = "$after" ] || fail "backfill changed the checkpoint: '$before' -> '$after'"
[ "$(check_manifest_hashes)" = 31 ] || fail "manifest does not hold 31 matching hashes"
echo "ok"
