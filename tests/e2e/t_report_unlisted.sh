#!/usr/bin/env bash
# The coverage calendar must not call a day complete that the PBX was never listed through.
# Setup: 2 days x 8 on the PBX, [sync] since the first day's 00:00 in 1 h windows, downloads
# dripping; --max-duration 2s ends the run while the first window's only recording is
# received: it lands, nothing after it is listed (7 more that day, 8 the next).
# Expected: report --json: the first day archived 1, only_on_pbx 0 and listed false, days_open
# counts it, listed_through null (no checkpoint yet); the HTML cell is open (amber) and says
# "not listed through". Before the fix the day was green ("complete") and days_open 0.
source "$TOP/tests/e2e/lib.sh"

generate 2 8 --min-seconds 1 --max-seconds 2
first=$(ls "$PBXDIR" | head -n 1)
day="${first:0:4}-${first:4:2}-${first:6:2}"
start_pbx --fault drip=6000:0@20036
write_conf '[sync]' "since = $day 00:00" 'window = 1h'
nexo run --max-duration 2s
expect_rc 1
expect_summary archived 1
nexo report --json
expect_rc 0
python3 - "$T/out" "$day" <<'PY' || fail "a day not listed through was reported complete"
import json, sys
r = json.load(open(sys.argv[1]))
d = {x["day"]: x for x in r["days"]}[sys.argv[2]]
assert d["archived"] == 1 and d["only_on_pbx"] == 0 and d["listed"] is False, d
assert r["totals"]["listed"] is False, r["totals"]
assert r["archive"]["days_open"] == 1 and r["archive"]["listed_through"] is None, r["archive"]
PY
nexo report --html "$T/cal.html"
expect_rc 0
grep -q "<td class=\"day data open\" data-day=\"$day\"" "$T/cal.html" || fail "the cell is not open"
grep -q 'not listed through' "$T/cal.html" || fail "the cell does not say it"

# The next run lists the rest: the first day is listed through (the checkpoint passed it).
stop_pbx
start_pbx
sed -i "s#^url = .*#url = $PBX_URL#" "$CONF"
nexo run
expect_rc 0
nexo report --json
python3 - "$T/out" "$day" <<'PY' || fail "a day listed through is still open"
import json, sys
r = json.load(open(sys.argv[1]))
d = {x["day"]: x for x in r["days"]}[sys.argv[2]]
assert d["archived"] == 8 and d["listed"] is True, d
assert r["archive"]["listed_through"] is not None, r["archive"]
PY
echo "ok"
