#!/usr/bin/env bash
# The coverage calendar must not count minutes that had not happened yet as listed whole.
# Setup: a run at D 02:00 (test clock, host and PBX alike) archives D's 01:00 call; calls come
# at D 10:00, 14:00 and 18:00; the next run, a day later, is stopped at its budget (downloads
# dripping) after the 10:00 call. Expected: report --json says D is not listed (its 14:00 and
# 18:00 calls were never listed). Before the fix the first run's walk (to now + a day) and its
# listing of the next ten years were saved as spans listed whole, so D counted as listed.
source "$TOP/tests/e2e/lib.sh"

generate 1 1 --min-seconds 1 --max-seconds 2
src=$(find "$PBXDIR" -name '*.wav' | head -n 1)
mkdir -p "$T/keep" && mv "$src" "$T/keep/src.wav" && rm -rf "${PBXDIR:?}"/*
# D is 3 days ago, from its local midnight: the PBX's times are the host's local time (fakepbx's
# clock, add_recording's names); a UTC day put D's calls on the day before west of Greenwich.
day=$(date -d '3 days ago' +%F)
d0=$(date -d "$day 00:00" +%s)
add_recording $((d0 + 3600)) "$T/keep/src.wav" >/dev/null
echo $((d0 + 7200)) >"$T/clock"
start_pbx --clock-file "$T/clock"
write_conf '[sync]' "since = $day 00:00" 'window = 1h'
NEXO_TEST_CLOCK_FILE="$T/clock" "$NEXO_TEST" -c "$CONF" run >"$T/out" 2>"$T/err" ||
	fail "run 1: $(cat "$T/err")"
for h in 10 14 18; do add_recording $((d0 + h * 3600)) "$T/keep/src.wav" >/dev/null; done
stop_pbx
echo $((d0 + 86400 + 7200)) >"$T/clock"
start_pbx --clock-file "$T/clock" --fault drip=6000:0@20036
sed -i "s#^url = .*#url = $PBX_URL#" "$CONF"
set +e
NEXO_TEST_CLOCK_FILE="$T/clock" "$NEXO_TEST" -c "$CONF" run --max-duration 2s >"$T/out" 2>"$T/err"
set -e
nexo report --json
python3 - "$T/out" "$day" <<'PY' || fail "a day not listed through was reported listed"
import json, sys
r = json.load(open(sys.argv[1]))
d = {x["day"]: x for x in r["days"]}[sys.argv[2]]
assert d["archived"] == 2 and d["listed"] is False, d
assert r["archive"]["days_open"] >= 1, r["archive"]
PY
echo ok
