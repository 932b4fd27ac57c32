#!/usr/bin/env bash
# Knowing a run worked without reading logs (issue 16): the run report, --json, the metrics
# file, status, journald priorities, -q, the ping hooks and on_failure.
# Setup: fakepbx, 2 days x 3 recordings; [report] prometheus_file, ping_url (a receiver on
# 127.0.0.1, tests/e2e/pingrecv.py), ping_timeout = 1, on_failure (writes its environment).
# Expected, case by case below.
source "$TOP/tests/e2e/lib.sh"

python3 -c 'import jsonschema' 2>/dev/null || skip "python3-jsonschema is not installed (make deps-dev)"
SCHEMA="$TOP/docs/last-run.schema.json"
RECV_PID=""
stop_recv() {
	[ -z "$RECV_PID" ] || { kill "$RECV_PID" 2>/dev/null || true; wait "$RECV_PID" 2>/dev/null || true; }
	RECV_PID=""
}
trap 'stop_recv; stop_pbx' EXIT
# start_recv [--hang]: the ping receiver; sets PING_URL.
start_recv() {
	stop_recv
	rm -f "$T/recv.port"
	python3 "$TOP/tests/e2e/pingrecv.py" "$T/recv.port" "$T/pings.jsonl" "$@" &
	RECV_PID=$!
	wait_until 10 test -s "$T/recv.port"
	PING_URL="http://127.0.0.1:$(cat "$T/recv.port")/ping/abc-123"
}

# check_report FILE: valid against the schema, and its counters are the summary line's.
check_report() {
	python3 - "$SCHEMA" "$1" "$T/out" <<'PY' || fail "report check: $1"
import json, re, sys, jsonschema
schema = json.load(open(sys.argv[1]))
rep = json.loads(open(sys.argv[2]).read().splitlines()[0])
jsonschema.validate(rep, schema)
out = open(sys.argv[3]).read()
if out.lstrip().startswith("{"):
    sys.exit(0)  # --json: no summary line to compare with
line = next((l for l in out.splitlines() if re.search(r"listed \d+, archived", l)), None)
if line is None:
    sys.exit(0)  # a run that ended before its summary (login refused): nothing to compare
for name, key in [("listed", "listed"), ("archived", "archived"), ("already had", "already_had"),
                  ("missing", "missing"), ("failed", "failed"), ("deleted", "deleted")]:
    got = int(re.search(r"(?:^|, |: )" + name + r" (\d+)", line).group(1))
    if got != rep["counts"][key]:
        sys.exit("%s: summary %d, report %d" % (name, got, rep["counts"][key]))
if int(re.search(r"bytes (\d+)", line).group(1)) != rep["bytes"]:
    sys.exit("bytes differ")
if sum(d["archived"] for d in rep["days"]) != rep["counts"]["archived"]:
    sys.exit("per-day counts do not add up: %r" % rep["days"])
PY
}

generate 2 3 --min-seconds 1 --max-seconds 2
start_pbx
start_recv
write_conf '[report]' "prometheus_file = $T/metrics/nexo.prom" "ping_url = $PING_URL" 'ping_timeout = 1' \
	"on_failure = env | grep ^NEXO_ARCHIVE_ >$T/on_failure.env"
mkdir -p "$T/metrics"

# 1. The report of a first run: schema, summary numbers, per-day counts; start and success
# pings; the metrics file passes promtool; status OK (exit 0) with perfdata.
nexo run
expect_rc 0
expect_summary archived 6
check_report "$ARCHIVE/.state/last-run.json"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "success" and r["exit_code"] == 0 and r["last_success"]["end_unix"] == r["end_unix"], r
assert r["deletions"] == {"configured": False, "allowed": False, "why_not": r["deletions"]["why_not"]}, r
assert len(r["days"]) == 2 and all(d["archived"] == 3 for d in r["days"]), r["days"]
' "$ARCHIVE/.state/last-run.json" || fail "report content"
python3 - "$T/pings.jsonl" <<'PY' || fail "pings of a good run"
import json, sys
p = [json.loads(l) for l in open(sys.argv[1])]
assert [x["path"] for x in p] == ["/ping/abc-123/start", "/ping/abc-123"], [x["path"] for x in p]
assert "exit 0 (success); listed 6, archived 6" in p[1]["body"], p[1]["body"]
for x in p:
    assert "Cookie" not in x["headers"] and "Authorization" not in x["headers"], x["headers"]
    # neither the password nor its MD5 (what the PBX gets), nor a session cookie
    assert "admin" not in x["body"] and "21232f297a57a5a743894a0e4a801fc3" not in x["body"], x["body"]
    assert "sid=" not in x["body"].lower() and "cookie" not in x["body"].lower(), x["body"]
PY
grep -q '^nexo_archive_last_success_timestamp_seconds{pbx="nexo"} [0-9]' "$T/metrics/nexo.prom" || fail "no last success metric"
grep -q '^nexo_archive_recordings_total{pbx="nexo",outcome="archived"} 6$' "$T/metrics/nexo.prom" || fail "no archived total"
if command -v promtool >/dev/null; then
	promtool check metrics <"$T/metrics/nexo.prom" || fail "promtool check metrics"
	# The alerts docs/operations.md offers, as one rule file: promtool must accept them.
	python3 - "$TOP/docs/operations.md" >"$T/rules.yml" <<'PY'
import re, sys
blocks = re.findall(r"```\n(- alert: .*?)```", open(sys.argv[1], encoding="utf-8").read(), re.S)
assert blocks, "no alert blocks"
print("groups:\n- name: nexo-archive\n  rules:")
for b in blocks:
    print("".join("  " + line + "\n" for line in b.splitlines()), end="")
PY
	promtool check rules "$T/rules.yml" >"$T/rules.out" 2>&1 || fail "the docs' alerts: $(cat "$T/rules.out")"
	grep -q 'SUCCESS: [3-9] rules found' "$T/rules.out" || fail "the docs' alerts: $(cat "$T/rules.out")"
else
	echo "note: promtool not installed (Debian's prometheus package); metrics format not checked by it"
fi
[ ! -e "$T/on_failure.env" ] || fail "on_failure ran after a success"
nexo status
expect_rc 0
grep -qE '^NEXO-ARCHIVE OK - .* \| last_success_age=[0-9]+s;93600;180000;0 partial_runs=0;;3;0 archived=6 ' "$T/out" || fail "status OK line: $OUT"

# 2. --json prints the report instead of the summary line, the same as the file; -q on a
# healthy run prints nothing at all (the plain-http warning was said on the first run after
# the config changed; -v says it again).
nexo run --json
expect_rc 0
[ "$(wc -l <"$T/out")" = 1 ] || fail "--json printed more than one line"
cmp -s "$T/out" "$ARCHIVE/.state/last-run.json" || fail "--json differs from .state/last-run.json"
check_report "$T/out"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["totals"]["runs"] == 2 and r["totals"]["archived"] == 6, r["totals"]' "$T/out" || fail "totals"
"$NEXO" -c "$CONF" -q run >"$T/q.out" 2>"$T/q.err" || fail "quiet run failed"
[ ! -s "$T/q.out" ] && [ ! -s "$T/q.err" ] || fail "-q printed on a healthy run: $(cat "$T/q.out" "$T/q.err")"
"$NEXO" -c "$CONF" -v run >/dev/null 2>"$T/v.err"
grep -q 'is plain http' "$T/v.err" || fail "-v did not repeat the plain-http warning"
echo '# changed' >>"$CONF"
"$NEXO" -c "$CONF" -q run >"$T/q.out" 2>"$T/q.err"
grep -q 'is plain http' "$T/q.err" || fail "a changed config did not bring the plain-http warning back"

# 2b. A run that finds the lock held (exit 3) writes no report but still the metrics file,
# carrying the totals, the last success and the archive figures on (they once restarted from
# zero, so a stale-archive alert on the last success could not fire).
runs_before=$(sed -n 's/^nexo_archive_runs_total{pbx="nexo"} //p' "$T/metrics/nexo.prom")
exec 8<>"$ARCHIVE/.state/lock"
flock -n 8 || fail "cannot take the lock for the test"
nexo run
expect_rc 3
exec 8>&-
grep -q '^nexo_archive_last_run_exit_code{pbx="nexo"} 3$' "$T/metrics/nexo.prom" || fail "exit 3 not in the metrics"
grep -q '^nexo_archive_last_success_timestamp_seconds{pbx="nexo"} [0-9]' "$T/metrics/nexo.prom" ||
	fail "a locked-out run dropped the last success metric"
grep -q '^nexo_archive_recordings_total{pbx="nexo",outcome="archived"} 6$' "$T/metrics/nexo.prom" ||
	fail "a locked-out run restarted the archived total"
grep -q '^nexo_archive_local_recordings{pbx="nexo"} 6$' "$T/metrics/nexo.prom" ||
	fail "a locked-out run dropped the archive figures"
runs_after=$(sed -n 's/^nexo_archive_runs_total{pbx="nexo"} //p' "$T/metrics/nexo.prom")
[ "$runs_after" -ge "$runs_before" ] || fail "runs_total went down ($runs_before -> $runs_after)"

# 3. journald: with JOURNAL_STREAM naming stderr, every line has its priority; without it
# (or naming another stream), none.
"$NEXO" -c "$CONF" -v run >/dev/null 2>"$T/j.err"
JOURNAL_STREAM="$(stat -c '%d:%i' "$T/j.err")" "$NEXO" -c "$CONF" -v run >/dev/null 2>>"$T/j.err"
grep -q '^<7>nexo-archive: debug: ' "$T/j.err" || fail "no <7> debug priority with JOURNAL_STREAM"
grep -q '^nexo-archive: debug: ' "$T/j.err" || fail "a priority without JOURNAL_STREAM"
JOURNAL_STREAM="1:1" "$NEXO" -c "$CONF" -v run >/dev/null 2>"$T/j2.err"
! grep -q '^<' "$T/j2.err" || fail "a priority while JOURNAL_STREAM names another stream"
echo '# again' >>"$CONF"
JOURNAL_STREAM="$(stat -c '%d:%i' "$T/j.err")" "$NEXO" -c "$CONF" run >/dev/null 2>>"$T/j.err"
grep -q '^<4>nexo-archive: warning: .*plain http' "$T/j.err" || fail "no <4> warning priority"

# 4. A failed run (the PBX refuses the login): exit 5; start and fail pings (exit code in the
# body, capped, no password); on_failure sees the report's path and the code; the report keeps
# the last success; status WARNING (1).
: >"$T/pings.jsonl"
printf 'wrong\n' >"$T/password"
nexo run
expect_rc 5
python3 - "$T/pings.jsonl" <<'PY' || fail "pings of a failed run"
import json, sys
p = [json.loads(l) for l in open(sys.argv[1])]
assert [x["path"] for x in p] == ["/ping/abc-123/start", "/ping/abc-123/fail"], [x["path"] for x in p]
assert p[1]["body"].startswith("nexo-archive run: exit 5 (PBX refused the login)"), p[1]["body"]
assert len(p[1]["body"].encode()) <= 10000
assert "wrong" not in p[1]["body"]
PY
grep -qx "NEXO_ARCHIVE_REPORT=$ARCHIVE/.state/last-run.json" "$T/on_failure.env" || fail "on_failure env: $(cat "$T/on_failure.env")"
grep -qx 'NEXO_ARCHIVE_EXIT_CODE=5' "$T/on_failure.env" || fail "on_failure exit code"
check_report "$ARCHIVE/.state/last-run.json"
nexo status
expect_rc 1
grep -q '^NEXO-ARCHIVE WARNING - the last run exited 5 (PBX refused the login)' "$T/out" || fail "status WARNING: $OUT"
# The last success 30 h ago: WARNING by age (26h); 60 h ago: CRITICAL (50h), and --critical-age
# 3d makes it a WARNING again.
age_success() {
	python3 - "$ARCHIVE/.state/last-run.json" "$1" <<'PY'
import json, sys, time
p, h = sys.argv[1], int(sys.argv[2])
r = json.loads(open(p).read())
r["exit_code"], r["last_success"]["end_unix"] = 0, int(time.time()) - h * 3600
open(p, "w").write(json.dumps(r) + "\n")
PY
}
age_success 30
nexo status
expect_rc 1
grep -q '^NEXO-ARCHIVE WARNING - the last successful run ended 1 d 06 h ago' "$T/out" || fail "status WARNING by age: $OUT"
age_success 60
nexo status
expect_rc 2
grep -q '^NEXO-ARCHIVE CRITICAL - the last successful run ended' "$T/out" || fail "status CRITICAL by age: $OUT"
nexo status --critical-age 3d
expect_rc 1
printf 'admin\n' >"$T/password"

# 5. A ping endpoint that hangs costs its timeout (1 s a ping), a warning, and nothing else.
start_recv --hang
write_conf '[report]' "ping_url = $PING_URL" 'ping_timeout = 1'
t0=$(date +%s%N)
nexo run
ms=$((($(date +%s%N) - t0) / 1000000))
expect_rc 0
grep -q 'monitoring ping .* failed' "$T/err" || fail "no warning for a hanging endpoint"
[ "$ms" -lt 6000 ] || fail "a hanging ping endpoint held the run ${ms} ms"
stop_recv
# ... and one that is down: the same.
nexo run
expect_rc 0

# 6. status: CRITICAL for the partial-run alarm, a manifest day cut behind the head, a
# missing or unmarked archive; UNKNOWN without a report.
echo 3 >"$ARCHIVE/.state/partials"
nexo status
expect_rc 2
grep -q 'CRITICAL - 3 partial runs in a row' "$T/out" || fail "status partials: $OUT"
echo 0 >"$ARCHIVE/.state/partials"
day=$(ls "$ARCHIVE/manifest" | grep -E '^[0-9-]+\.jsonl$' | sort | tail -n 1)
cp "$ARCHIVE/manifest/$day" "$T/day.bak"
head -n 1 "$T/day.bak" >"$ARCHIVE/manifest/$day"
nexo status
expect_rc 2
grep -q "CRITICAL - manifest day ${day%.jsonl}" "$T/out" || fail "status cut day: $OUT"
cp "$T/day.bak" "$ARCHIVE/manifest/$day"
rm "$ARCHIVE/.state/last-run.json"
nexo status
expect_rc 3
grep -q '^NEXO-ARCHIVE UNKNOWN - no .state/last-run.json' "$T/out" || fail "status UNKNOWN: $OUT"
nexo -o archive.dir="$T/absent" status
expect_rc 2
grep -q '^NEXO-ARCHIVE CRITICAL - archive folder' "$T/out" || fail "status missing folder: $OUT"
nexo status --bogus
expect_rc 3
echo "ok"
