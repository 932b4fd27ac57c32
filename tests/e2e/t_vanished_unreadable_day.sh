#!/usr/bin/env bash
# A recording the PBX still lists must not be called vanished because its manifest day could
# not be read. Setup: 1 day x 3, the first tar leaves one out (pending "missing"); then a
# corrupt line is put in the middle of the day's manifest file and the PBX is healthy again.
# Expected: the next run lists the day whole and refuses the day (failed 3), and the pending
# entry stays "missing", with no "no longer listed" warning. Before the fix plan_row's error
# left the row unseen by the pending list and pending_settle took the unreadable day (lookup
# -1) for "not held": the entry became vanished and the run warned so.
source "$TOP/tests/e2e/lib.sh"

generate 1 3 --min-seconds 1 --max-seconds 2
start_pbx --fault omit-one:1
write_conf
nexo run
expect_summary missing 1
f=$(ls "$ARCHIVE"/manifest/*.jsonl | head -n 1)
sed -i '1a this is not a manifest line' "$f"
stop_pbx; start_pbx
sed -i "s#^url = .*#url = $PBX_URL#" "$CONF"
nexo run
expect_rc 1
python3 - "$ARCHIVE/.state/pending.json" <<'PY' || fail "a recording the PBX still lists was marked vanished"
import json, sys
p = json.load(open(sys.argv[1]))["recordings"]
print(p)
assert p and all(e["state"] != "vanished" for e in p.values()), p
PY
grep -q "no longer listed" "$T/err" && fail "the run warned of a vanished recording"
echo ok
