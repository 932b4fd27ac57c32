#!/usr/bin/env bash
# The coverage calendar (issue 16 part 7): `report --json` numbers, the archive-wide metrics,
# and `report --html` loaded in headless Chromium with the network shut.
# Setup: fakepbx --fault omit-one (one recording never delivered), 3 days x 4, invalid_retries
# = 5 (it stays "only on the PBX"), retention deletes what is archived; [report]
# prometheus_file. Then a hold on the last day and a forget on the first.
# Expected: report --json: archived 11, only_on_pbx 1, pbx_deleted 11, forgotten 1, held = the
# last day's archived, one day object per calendar day; the metrics file passes promtool with
# local_recordings 11, only_on_pbx_recordings 1, open_dates 2 (the day with the missing one,
# and the last day: the PBX showed no call 6 h past its end, the lookback) and the oldest
# timestamp; the
# recording then removed from the PBX and the span listed again: vanished 1, only_on_pbx 0, no
# oldest metric. The HTML: no request leaves the page (a counting proxy on 127.0.0.1 sees
# nothing, no name resolves), a real screenshot, one td.day per day with the JSON's numbers.
source "$TOP/tests/e2e/lib.sh"

generate 3 4 --min-seconds 1 --max-seconds 2
start_pbx --fault omit-one
write_conf '[sync]' 'invalid_retries = 5' '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0' \
	'[report]' "prometheus_file = $T/nexo.prom"
nexo run
expect_rc 1
expect_summary archived 11
expect_summary missing 1
missing=$(grep -o '[0-9]\{8\}/[^ :]*\.wav: listed but not in' "$T/err" | cut -d: -f1)
[ -n "$missing" ] || fail "no missing recording named"
python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["recordings"]
assert list(p) == [sys.argv[2]] and p[sys.argv[2]]["state"] == "missing", p
' "$ARCHIVE/.state/pending.json" "$missing" || fail ".state/pending.json"

days=$(ls "$ARCHIVE/manifest" | grep -c '\.jsonl$')
[ "$days" = 3 ] || fail "expected 3 manifest days, got $days"
first=$(ls "$ARCHIVE/manifest" | grep '\.jsonl$' | head -n 1 | cut -c1-10)
last=$(ls "$ARCHIVE/manifest" | grep '\.jsonl$' | tail -n 1 | cut -c1-10)
nexo hold add --from "$last" --to "$last" --reason "audit"
expect_rc 0
victim=$(grep -o '"event":"archived","pbx_path":"[^"]*"' "$ARCHIVE/manifest/$first.jsonl" |
	head -n 1 | sed 's/.*"pbx_path":"//; s/"$//')
nexo forget "$victim" --reason "GDPR"
expect_rc 0

# The metrics of run 1 (the report's "archive" object).
promtool check metrics <"$T/nexo.prom" || fail "promtool check metrics"
grep -qx 'nexo_archive_local_recordings{pbx="nexo"} 11' "$T/nexo.prom" || fail "local_recordings"
grep -qx 'nexo_archive_only_on_pbx_recordings{pbx="nexo"} 1' "$T/nexo.prom" || fail "only_on_pbx"
grep -qx 'nexo_archive_open_dates{pbx="nexo"} 2' "$T/nexo.prom" || fail "open_dates"
bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["archive"]["bytes_local"])' \
	"$ARCHIVE/.state/last-run.json")
grep -qx "nexo_archive_local_bytes{pbx=\"nexo\"} $bytes" "$T/nexo.prom" || fail "local_bytes"
[ "$bytes" -gt 0 ] || fail "no bytes"
oldest=$(grep '^nexo_archive_oldest_only_on_pbx_timestamp_seconds{pbx="nexo"} ' "$T/nexo.prom" | cut -d' ' -f2)
unixname=$(basename "$missing" | cut -d- -f3)   # the PBX's name carries the call's unix time
[ -n "$oldest" ] || fail "no oldest_only_on_pbx metric"
# The metric reads the PBX's naive time through the zone's offset now (src/run/report.c: an hour
# off across a DST change, by design): the call's time moved by how much the offset changed
# since (nothing, but in the days after a DST change).
python3 -c 'import sys, time
a, b = float(sys.argv[1]), int(sys.argv[2])
b += time.localtime(b).tm_gmtoff - time.localtime().tm_gmtoff
sys.exit(abs(a - b) > 120)' "$oldest" "$unixname" ||
	fail "oldest_only_on_pbx $oldest, the call began at $unixname"

# check_json FILE EXPECT_PY: the report object against a python expression over r.
check_json() {
	python3 - "$1" "$2" "$first" "$last" "$TOP/docs/report.schema.json" <<'PY' || fail "report --json: $2"
import json, sys, datetime
r = json.load(open(sys.argv[1]))
try:
    import jsonschema
    jsonschema.validate(r, json.load(open(sys.argv[5])))
except ImportError:
    pass
first, last = sys.argv[3], sys.argv[4]
t = r["totals"]
d0 = datetime.date.fromisoformat(first)
ndays = (datetime.date.fromisoformat(last) - d0).days + 1
assert r["format"] == "nexo-archive-report/1" and r["from"] == first and r["to"] == last, r
assert [d["day"] for d in r["days"]] == [str(d0 + datetime.timedelta(i)) for i in range(ndays)]
for k in t:
    if isinstance(t[k], int) and not isinstance(t[k], bool) and k not in ("cdr_rows", "cdr_recordings"):
        assert sum(d[k] for d in r["days"]) == t[k], k
byday = {d["day"]: d for d in r["days"]}
assert eval(sys.argv[2]), (sys.argv[2], t, r["archive"])
PY
}
nexo report --json
expect_rc 0
cp "$T/out" "$T/r1.json"
check_json "$T/r1.json" 't["archived"] == 11 and t["only_on_pbx"] == 1 and t["pbx_deleted"] == 11 and t["forgotten"] == 1 and t["in_progress"] == 0 and t["vanished"] == 0 and t["held"] == byday[last]["archived"] and byday[last]["held"] > 0 and byday[first]["held"] == 0 and t["files"] == 10 and r["archive"]["days_open"] == 2 and r["chain"]["days"]["broken"] == 0 and r["runs"][0]["command"] == "run"'
# The hold and the forget since the run changed holds.json and a day: the cache (written by
# the run) was dropped whole and every day counted again.
python3 -c 'import json,sys; c = json.load(open(sys.argv[1]))["cache"]; assert c == {"recounted_days": 3, "state": "ignored"}, c' "$T/r1.json" ||
	fail "a changed holds.json did not drop the cache"
# Asked again, nothing changed: every day from the cache.
nexo report --json
python3 -c 'import json,sys; c = json.load(open(sys.argv[1]))["cache"]; assert c == {"recounted_days": 0, "state": "used"}, c' "$T/out" ||
	fail "an unchanged archive was counted again"
# A damaged cache is never trusted: counted again, the same numbers.
echo '{"format":"nexo-archive-coverage/1","holds":"","days":{"x":1}' >"$ARCHIVE/.state/coverage.json"
nexo report --json
cmp <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["days"], r["totals"])' "$T/out") \
	<(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["days"], r["totals"])' "$T/r1.json") ||
	fail "a damaged cache changed the numbers"
# --from/--to restrict the range.
nexo report --json --from "$last" --to "$last"
expect_rc 0
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert [d["day"] for d in r["days"]] == [sys.argv[2]], r["days"]' "$T/out" "$last" ||
	fail "--from/--to"
nexo report --json --from 2026-02-30
expect_rc 2

# The HTML page in a real browser.
nexo report --html "$T/cal.html"
expect_rc 0
! grep -qiE '<script|<link|<img|src=|url\(|@import|https?://' "$T/cal.html" || fail "the page names something to fetch"
grep -q '@media print' "$T/cal.html" || fail "no print style"
start=$(date +%s.%N)
python3 "$TOP/tests/e2e/browser.py" "$T/cal.html" "$T/dom.html" "$T/cal.png"
brc=$?
[ $brc -eq 77 ] && skip "chromium is not installed (make deps-dev installs it)"
[ $brc -eq 0 ] || fail "the browser check failed"
echo "browser check: $(python3 -c "import time,sys; print('%.1f s' % (time.time() - float(sys.argv[1])))" "$start")"
python3 - "$T/dom.html" "$T/r1.json" <<'PY' || fail "the DOM's day cells"
import json, sys
from html.parser import HTMLParser
r = json.load(open(sys.argv[2]))
cells = []
class P(HTMLParser):
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "td" and "day" in a.get("class", "").split():
            cells.append(a)
P().feed(open(sys.argv[1]).read())
assert len(cells) == len(r["days"]), (len(cells), len(r["days"]))
for c, d in zip(cells, r["days"]):
    assert c["data-day"] == d["day"], (c, d)
    for k in ("archived", "only_on_pbx", "in_progress", "unavailable", "invalid", "pbx_deleted",
              "held", "forgotten", "vanished"):
        assert int(c["data-" + k.replace("_", "-")]) == d[k], (k, c, d)
    assert ("open" in c["class"].split()) == (d["only_on_pbx"] + d["in_progress"] > 0 or
                                              not d["listed"]), c
    assert c["data-listed"] == ("1" if d["listed"] else "0"), (c, d)
print("DOM: %d day cells match" % len(cells))
PY

# The missing recording leaves the PBX without ever being archived: vanished, not silently gone.
rm -f "$PBXDIR/$missing"
nexo -o sync.lookback=5d run
python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["recordings"]
assert p[sys.argv[2]]["state"] == "vanished", p
' "$ARCHIVE/.state/pending.json" "$missing" || fail "not recorded vanished"
grep -q "never archived (vanished" "$T/err" || fail "the vanished recording is not said"
nexo report --json
check_json "$T/out" 't["vanished"] == 1 and t["only_on_pbx"] == 0 and r["archive"]["oldest_on_pbx"] is None and r["archive"]["days_open"] == 1 and len(r["runs"]) == 2'
promtool check metrics <"$T/nexo.prom" || fail "promtool check metrics (run 2)"
! grep -q oldest_only_on_pbx "$T/nexo.prom" || fail "an oldest metric with nothing only on the PBX"
grep -qx 'nexo_archive_open_dates{pbx="nexo"} 1' "$T/nexo.prom" || fail "open_dates after"
echo "ok"
