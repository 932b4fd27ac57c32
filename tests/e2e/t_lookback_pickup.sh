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

# before_checkpoint HOURS: the Unix time whose local time (PBX time = local time here) is HOURS
# before the checkpoint on the PBX's clock. The lookback counts naive PBX time: HOURS of Unix
# time back would be an hour more or less of it across a DST change (7 h before a checkpoint
# after a change back in autumn is 6 h on the PBX's clock, where a 6 h lookback lists C).
before_checkpoint() {
	local naive
	naive=$(date -u -d "@$(($(date -u -d "$(cat "$ARCHIVE/.state/checkpoint")" +%s) - $1 * 3600))" '+%F %T')
	date -d "$naive" +%s
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

b=$(add_recording "$(before_checkpoint 2)")
nexo run
expect_new "$b"

c=$(add_recording "$(before_checkpoint 7)")
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
