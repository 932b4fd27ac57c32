#!/usr/bin/env bash
# Setup: fakepbx with 3 days x 20 recordings starting 3 days ago (days D-3, D-2, D-1).
# Command: nexo-archive run with delete_from_pbx = true, pbx_keep_days = 1.
# Expected: exit 0, all 60 archived; exactly the recordings whose call minute is older than
# "now - 1 day" are deleted (the 40 of D-3 and D-2 at least, none newer than the cutoff); the
# delete log verifies against the manifest; "deleted N" equals the delete log's line count.
source "$TOP/tests/e2e/lib.sh"

generate 3 20 --min-seconds 1 --max-seconds 2 --start "$(date -d '3 days ago' +%F)"
start_pbx
write_conf '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 1'
t0=$(date +%s)
nexo run
t1=$(date +%s)
expect_rc 0
expect_summary archived 60
n=$(check_deleted_log)
expect_summary deleted "$n"
[ "$n" -ge 40 ] || fail "only $n deleted; the 40 recordings of the two oldest days are older than 1 day"
[ "$(manifest_events pbx_deleted)" = "$n" ] || fail "pbx_deleted lines differ from the delete log"
# The cutoff is now - 1 day, to the minute (now taken at some point between t0 and t1).
python3 - "$PBXDIR" "$T/deleted.log" "$t0" "$t1" <<'PY' || fail "keep_days cutoff not honoured"
import datetime, os, sys
pbx, log, t0, t1 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def cutoff(t):
    return (datetime.datetime.fromtimestamp(t).replace(second=0) -
            datetime.timedelta(days=1)).strftime("%Y%m%d-%H%M")
lo, hi = cutoff(t0), cutoff(t1)
def minute(path):  # "YYYYMMDD/YYYYMMDD-HHMMSS-..." -> "YYYYMMDD-HHMM"
    return os.path.basename(path)[:13]
for line in open(log):
    p = line.split()[0]
    if minute(p) >= hi:
        sys.exit("deleted %s, not older than the cutoff %s" % (p, hi))
for d, _, files in os.walk(pbx):
    for f in files:
        if f.endswith(".wav") and minute(f) < lo:
            sys.exit("kept %s, older than the cutoff %s" % (f, lo))
PY
echo "ok"
