#!/usr/bin/env bash
# The coverage report's CDR side and its "in progress" count (report --json, the HTML cell).
# Setup: fakepbx, 2 days (2024-03-04, 2024-03-05) x 3 calls; the CDR row of one recording of
# the first day is removed (a call whose record the PBX lost: the recording is archived without
# its CDR); [cdr] archive = true; the first download's first WAV says 0 bytes in its header
# (wav-zero-header: still being recorded, "growing").
# Expected: exit 0 (a recording still being recorded is no failure); report --json: the first day's
# cdr_recordings is what its CDRs name (its recordings - 1) and cdr_mismatch is true, its cell
# carries the class "mismatch"; the second day's CDRs agree with the archive (no mismatch);
# in_progress 1 in the totals, on a day whose other recordings are archived.
source "$TOP/tests/e2e/lib.sh"

generate 2 3 --start 2024-03-04 --min-seconds 1 --max-seconds 1
python3 - "$PBXDIR/cdr.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
lost = next(x for x in rows if x["Recording filename"].startswith("20240304/"))
rows.remove(lost)
with open(sys.argv[1], "w") as f:
    f.writelines(json.dumps(x) + "\n" for x in rows)
PY
start_pbx --fault wav-zero-header:1
write_conf '[sync]' 'since = 2024-03-04 00:00' '[cdr]' 'archive = true'
nexo run
expect_rc 0
nexo report --json --from 2024-03-04 --to 2024-03-05
expect_rc 0
cp "$T/out" "$T/report.json"
python3 - "$T/report.json" "$PBXDIR" <<'PY' || fail "the report's CDR counts"
import json, os, sys
r = json.load(open(sys.argv[1]))
d = {x["day"]: x for x in r["days"]}
pbx = {day: len(os.listdir(os.path.join(sys.argv[2], day.replace("-", ""))))
       for day in ("2024-03-04", "2024-03-05")}
a, b = d["2024-03-04"], d["2024-03-05"]
assert a["cdr_recordings"] == pbx["2024-03-04"] - 1 and a["cdr_mismatch"] is True, a
assert b["cdr_recordings"] == pbx["2024-03-05"] and b["cdr_mismatch"] is False, b
assert r["totals"]["in_progress"] == 1, r["totals"]
grown = [x for x in r["days"] if x["in_progress"]]
assert len(grown) == 1 and grown[0]["archived"] + 1 == pbx[grown[0]["day"]], grown
PY
nexo report --html "$T/cal.html" --from 2024-03-04 --to 2024-03-05
expect_rc 0
grep -qE '<td class="day[^"]* mismatch[^"]*" data-day="2024-03-04"' "$T/cal.html" ||
	fail "the first day's cell is not marked: $(grep -o '<td class="day[^>]*data-day="2024-03-04"' "$T/cal.html")"
! grep -qE '<td class="day[^"]* mismatch[^"]*" data-day="2024-03-05"' "$T/cal.html" ||
	fail "the second day's cell is marked"
echo "ok"
