#!/usr/bin/env bash
# Setup: fakepbx with 2 days x 20 recordings (all older than today), empty archive.
# Command: nexo-archive run with [retention] delete_from_pbx = true, pbx_keep_days = 0.
# Expected: exit 0, "archived 40, deleted 40"; the PBX holds no recording afterwards; every
# "<path> <sha256>" line of fakepbx's delete log has a manifest "archived" line with the same
# pbx_path and sha256 and a "pbx_deleted" line; 40 of each; the archive still verifies.
source "$TOP/tests/e2e/lib.sh"

generate 2 20 --min-seconds 1 --max-seconds 2
start_pbx
write_conf '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'
nexo run
expect_rc 0
expect_summary archived 40
expect_summary deleted 40
[ "$(pbx_count)" -eq 0 ] || fail "$(pbx_count) recordings left on the PBX"
[ "$(check_deleted_log)" = 40 ] || fail "delete log holds $(check_deleted_log) verified lines, not 40"
[ "$(manifest_events pbx_deleted)" = 40 ] || fail "expected 40 pbx_deleted lines, got $(manifest_events pbx_deleted)"
[ "$(check_manifest_hashes)" = 40 ] || fail "archive does not verify after retention"
# pbx_deleted lines carry the same fields the design promises.
python3 - "$ARCHIVE" <<'PY' || fail "pbx_deleted lines are incomplete"
import glob, json, os, sys
for mf in glob.glob(os.path.join(sys.argv[1], "manifest", "*.jsonl")):
    for line in open(mf, encoding="utf-8"):
        o = json.loads(line)
        if o["event"] == "pbx_deleted":
            missing = {"pbx_path", "file", "sha256", "deleted_at", "prev"} - set(o)
            if missing:
                sys.exit("%s lacks %s" % (o.get("pbx_path"), sorted(missing)))
PY
tmp_empty || fail ".state/tmp is not empty"
echo "ok"
