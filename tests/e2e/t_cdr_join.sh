#!/usr/bin/env bash
# Every archived recording carries its CDR, whichever way the PBX names the recording in 9006.
# Setup: fakepbx with 2 days x 12 recordings and their CDRs (plus unrecorded calls), in
# $PBXDIR/cdr.jsonl (the 9006 rows, one per line).
# 1) run, 9006 naming recordings as 20053 does: every "archived" line has a "cdr" whose
#    uniqueid is the row of cdr.jsonl naming that recording, joined_by "name", and whose
#    disposition/billsec/userfield are that row's; no unrecorded call's uniqueid is joined.
# 2) --cdr-recording-name full (AMI's spelling) and none (no name: join by time+src+dst):
#    the same uniqueids, joined_by "name" resp. "time".
# 3) --cdr-hide 3 (the PBX writes 3 CDRs late): those 3 are archived with "cdr": null and
#    counted in the summary; a later run without it (the CDRs now there, within the lookback)
#    adds one "cdr" line each, with the right uniqueid; a third run adds nothing.
# 4) find: --number, --disposition, --uniqueid and --calltype return exactly the recordings
#    cdr.jsonl says they should.
source "$TOP/tests/e2e/lib.sh"

generate 2 12 --min-seconds 1 --max-seconds 3
[ -s "$PBXDIR/cdr.jsonl" ] || fail "fakepbx wrote no cdr.jsonl"
# "pbx_path uniqueid" of every recorded call, per cdr.jsonl.
jq -r 'select(."Recording filename" != "") | ."Recording filename" + " " + .UniqueID' \
	"$PBXDIR/cdr.jsonl" | sort >"$T/expected"
[ "$(wc -l <"$T/expected")" = 24 ] || fail "cdr.jsonl names $(wc -l <"$T/expected") recordings"

# joined ARCHIVE → "pbx_path uniqueid joined_by" from the manifest's last word per recording.
joined() {
	cat "$1"/manifest/*.jsonl | jq -r 'select(.event == "archived" or .event == "cdr")
		| .pbx_path + " " + (if .cdr then .cdr.uniqueid + " " + .cdr.joined_by
				      else "null" end)' |
		awk '{last[$1] = $0} END {for (p in last) print last[p]}' | sort
}

# 1) names as in 20053
start_pbx
write_conf '[sync]' 'since = 2000-01-01 00:00'
nexo run
expect_rc 0
stop_pbx
joined "$ARCHIVE" >"$T/got"
diff <(sed 's/$/ name/' "$T/expected") "$T/got" || fail "joined CDRs differ from cdr.jsonl (see diff)"
# The object carries the row's call data.
python3 - "$ARCHIVE" "$PBXDIR/cdr.jsonl" <<'PY' || fail "cdr objects do not match their rows"
import json, sys, glob
rows = {json.loads(l)["UniqueID"]: json.loads(l) for l in open(sys.argv[2])}
for mf in glob.glob(sys.argv[1] + "/manifest/*.jsonl"):
    for line in open(mf):
        o = json.loads(line)
        if o["event"] != "archived":
            continue
        c, r = o["cdr"], rows[o["cdr"]["uniqueid"]]
        assert c["disposition"] == r["disposition"], (c, r)
        assert c["billsec"] == int(r["billsec"]) and c["duration"] == int(r["duration"]), (c, r)
        assert c["userfield"] == r["userfield"] and c["src"] == r["src"], (c, r)
        assert c["calldate"] == r["calldate"] and c["channel"] == r["channel"], (c, r)
        assert r["Recording filename"] == o["pbx_path"], (o, r)
PY

# 2) the other spellings of the recording's name
for variant in full:name none:time; do
	rm -rf "$ARCHIVE"
	start_pbx --cdr-recording-name "${variant%%:*}"
	write_conf '[sync]' 'since = 2000-01-01 00:00'
	nexo run
	expect_rc 0
	stop_pbx
	joined "$ARCHIVE" >"$T/got"
	diff <(sed "s/\$/ ${variant#*:}/" "$T/expected") "$T/got" ||
		fail "--cdr-recording-name ${variant%%:*}: joins differ"
done

# 3) CDRs that arrive late
rm -rf "$ARCHIVE"
start_pbx --cdr-hide 3
write_conf '[sync]' 'since = 2000-01-01 00:00'
nexo run
expect_rc 0
stop_pbx
[ "$(joined "$ARCHIVE" | grep -c ' null$')" = 3 ] || fail "expected 3 recordings without CDR"
grep -q '^3 recordings were archived without their CDR' <<<"$OUT" || fail "summary: $OUT"
start_pbx
write_conf '[sync]' 'lookback = 5d'
nexo run
expect_rc 0
grep -q '^3 recordings archived earlier were joined to their CDR' <<<"$OUT" ||
	fail "no late join in: $OUT"
[ "$(manifest_events cdr)" = 3 ] || fail "expected 3 cdr lines, got $(manifest_events cdr)"
joined "$ARCHIVE" >"$T/got"
diff <(sed 's/$/ name/' "$T/expected") "$T/got" || fail "late joins differ from cdr.jsonl"
nexo run
expect_rc 0
[ "$(manifest_events cdr)" = 3 ] || fail "a third run added cdr lines"
nexo verify
expect_rc 0

# 4) find
num=$(jq -r 'select(."Recording filename" != "") | .dst' "$PBXDIR/cdr.jsonl" | head -n 1)
num=${num##*(}
num=${num%)}
nexo find --number "$num" --json
expect_rc 0
want=$(jq -r --arg n "$num" 'select(."Recording filename" != "")
	| select([.src, .dst] | map(. == $n or test("\\(" + $n + "\\)$") or startswith($n + "("))
		| any) | ."Recording filename"' "$PBXDIR/cdr.jsonl" | sort)
[ -n "$want" ] || fail "no call of $num in cdr.jsonl"
diff <(echo "$want") <(jq -r .pbx_path <<<"$OUT" | sort) || fail "find --number $num"
for disp in ANSWERED 'NO ANSWER'; do
	nexo find --disposition "$disp" --json
	expect_rc 0
	diff <(jq -r --arg d "$disp" 'select(."Recording filename" != "" and .disposition == $d)
		| ."Recording filename"' "$PBXDIR/cdr.jsonl" | sort) \
		<(jq -r .pbx_path <<<"$OUT" | sort) || fail "find --disposition $disp"
done
uid=$(tail -n 1 "$T/expected" | cut -d' ' -f2)
nexo find --uniqueid "$uid" --json
[ "$(jq -r .pbx_path <<<"$OUT")" = "$(tail -n 1 "$T/expected" | cut -d' ' -f1)" ] ||
	fail "find --uniqueid $uid"
nexo find --calltype Inbound --json
diff <(jq -r 'select(."Recording filename" != "" and .userfield == "Inbound")
	| ."Recording filename"' "$PBXDIR/cdr.jsonl" | sort) <(jq -r .pbx_path <<<"$OUT" | sort) ||
	fail "find --calltype Inbound"
echo "ok"
