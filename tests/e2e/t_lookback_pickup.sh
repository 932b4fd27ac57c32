#!/usr/bin/env bash
# Setup: fakepbx with 2 days x 10 recordings; a first run archives them and writes a checkpoint.
# Then new recordings appear on the PBX between runs:
#   A, dated 3 minutes before now          -> the next run archives exactly A (exit 0);
#   B, dated 2 hours before the checkpoint -> inside the 6h lookback: the next run archives B;
#   C, dated 7 hours before the checkpoint -> outside the lookback: a run lists from
#      checkpoint - 6h and does not see it; with -o sync.lookback=8h it is archived.
# Expected: each run exits 0 and archives exactly the one expected recording; its manifest line
# names the new PBX path and its hash matches; no pbx_path is archived twice.
source "$TOP/tests/e2e/lib.sh"

generate 2 10 --min-seconds 1 --max-seconds 2
start_pbx
write_conf
nexo run
expect_rc 0
expect_summary archived 20
[ -f "$ARCHIVE/.state/checkpoint" ] || fail "no checkpoint after the first run"

# checkpoint_epoch: the checkpoint as a Unix time (PBX time = local time here).
checkpoint_epoch() {
	date -d "$(cat "$ARCHIVE/.state/checkpoint")" +%s
}

# expect_new PATH: the last run archived exactly PATH.
expect_new() {
	expect_rc 0
	expect_summary archived 1
	grep -qxF "$1" <(manifest_paths archived) || fail "$1 is not in the manifest"
	[ -z "$(manifest_dup_paths)" ] || fail "archived twice: $(manifest_dup_paths)"
	[ "$(check_manifest_hashes)" = "$(pbx_count)" ] || fail "manifest does not match the PBX"
}

a=$(add_recording $(($(date +%s) - 180)))
nexo run
expect_new "$a"

b=$(add_recording $(($(checkpoint_epoch) - 2 * 3600)))
nexo run
expect_new "$b"

c=$(add_recording $(($(checkpoint_epoch) - 7 * 3600)))
nexo run
expect_rc 0
expect_summary archived 0
if grep -qxF "$c" <(manifest_paths archived); then
	fail "$c (7h before the checkpoint) was archived with a 6h lookback"
fi
nexo -o sync.lookback=8h run
expect_new "$c"
tmp_empty || fail ".state/tmp is not empty"
echo "ok"
