#!/usr/bin/env bash
# The signed head across days (issue 14, part 2). An insider with write access but without
# the signing key can no longer hide a call by rolling a day back to an older valid signature
# or by removing a whole day: the newest head names every day's line count and last line.
#  - clean: a run writes manifest/heads/SEQ.json, its .minisig (minisign -V verifies it) and
#    a history line; verify --witness passes and keeps a copy of the head it saw;
#  - rollback: a day put back to its earlier state with that state's own (valid) signature,
#    the newer recording's file removed: minisign -V alone passes, verify names the day, a
#    later run refuses to add to it (exit 6) and writes no head over it;
#  - deleted: a whole day (file, signature, folder) removed: verify names it;
#  - head rolled back: the heads folder put back to an earlier state (head, signature and
#    history): only the witness sees it; the newest head file removed alone: the history does;
#  - unsigned: the newest head's signature removed: verify flags it, a run refuses it;
#  - comment: a day signed (with the key) under a trusted comment that names another line
#    count: verify compares the comment with the day.
# Found by an attacking review (each exploited the first version):
#  - tail_forged: a "forgotten" line appended after a day's signed lines (chain kept), the
#    recording's file removed, the day noted in .state/writing as a crashed run leaves it: the
#    run does not sign it (exit 6), verify keeps the finding;
#  - heads_removed: a whole day and manifest/heads/ removed: the day signatures name a head, so
#    the run refuses to start heads anew (exit 6) and verify says heads were removed;
#  - unsigned_forged: a day removed, the newest head rewritten without it, the history fixed,
#    every head signature removed: refused by the run (exit 6), flagged by verify;
#  - refused_rolled_back: a day rolled back to its old signed state and the newest head's
#    signature removed: the run refuses the head and adds to no day already written.
source "$TOP/tests/e2e/lib.sh"

command -v python3 >/dev/null || skip "python3 missing"
signed_archive 3 2
W="$T/witness.json"
heads="$ARCHIVE/manifest/heads"
newest_head() { find "$heads" -name '[0-9]*.json' | sort | tail -n 1; }
h=$(newest_head)
[ -n "$h" ] && [ -f "$h.minisig" ] || fail "clean: no signed head: $(ls "$heads" 2>&1)"
[ -s "$heads/history.jsonl" ] || fail "clean: no head history"
if command -v minisign >/dev/null; then
	minisign -Vm "$h" -p "$T/sign.key.pub" >/dev/null || fail "clean: minisign -V rejects the head"
fi
nexo verify --witness "$W"
expect_rc 0
[ -s "$W" ] || fail "clean: verify did not keep the witness"
cmp -s "$W" "$h" || fail "clean: the witness is not a copy of the head"
echo "case ok: clean"

# rollback: keep day D as it is, let a run add a call to it, then put the old state back.
day=$(ls "$ARCHIVE/manifest" | grep -m1 '\.jsonl$')
dayname=${day%.jsonl}
cp "$ARCHIVE/manifest/$day" "$T/old.jsonl"
cp "$ARCHIVE/manifest/$day.minisig" "$T/old.minisig"
add_recording "$(date -d "$dayname 23:30:30" +%s)" >/dev/null
nexo -o sync.lookback=5d run
expect_rc 0
expect_summary archived 1
nexo verify --witness "$W"
expect_rc 0
newfile=$(tail -n 1 "$ARCHIVE/manifest/$day" | python3 -c 'import json,sys; print(json.load(sys.stdin)["file"])')
cp "$T/old.jsonl" "$ARCHIVE/manifest/$day"
cp "$T/old.minisig" "$ARCHIVE/manifest/$day.minisig"
rm -f "$ARCHIVE/$newfile"
if command -v minisign >/dev/null; then
	minisign -Vm "$ARCHIVE/manifest/$day" -p "$T/sign.key.pub" >/dev/null ||
		fail "rollback: the old signature should still verify on its own"
fi
nexo verify
[ "$RC" -ne 0 ] || fail "rollback: verify passed a day rolled back to an old signature"
grep -q "manifest/$day: holds" <<<"$OUT" || fail "rollback: the day is not named: $OUT"
before=$(wc -l <"$ARCHIVE/manifest/$day")
headseq=$(basename "$(newest_head)")
add_recording "$(date -d "$dayname 23:40:30" +%s)" >/dev/null
nexo -o sync.lookback=5d run
expect_rc 6
grep -q "manifest day $dayname" "$T/err" || fail "rollback: the run does not name the day: $ERR"
[ "$(wc -l <"$ARCHIVE/manifest/$day")" -eq "$before" ] || fail "rollback: a line was added"
nexo verify
[ "$RC" -ne 0 ] || fail "rollback: a run blessed the rolled-back day"
echo "case ok: rollback"

# deleted: another day, whole.
day2=$(ls "$ARCHIVE/manifest" | grep '\.jsonl$' | sed -n 2p)
d2=${day2%.jsonl}
rm -rf "$ARCHIVE/manifest/$day2" "$ARCHIVE/manifest/$day2.minisig" \
	"$ARCHIVE/${d2:0:4}/${d2:5:2}/${d2:8:2}"
nexo verify
[ "$RC" -ne 0 ] || fail "deleted: verify passed"
grep -q "manifest/$day2: missing, but the head lists it" <<<"$OUT" ||
	fail "deleted: the day is not named: $OUT"
echo "case ok: deleted"

# head rolled back: a fresh archive, the heads folder put back whole to an earlier state.
rm -rf "$ARCHIVE" "$W"
init_archive
nexo -o sync.lookback=5d run
expect_rc 0
nexo verify --witness "$W"
expect_rc 0
cp -a "$heads" "$T/heads.old"
day3=$(ls "$ARCHIVE/manifest" | grep -m1 '\.jsonl$')
add_recording "$(date -d "${day3%.jsonl} 23:50:30" +%s)" >/dev/null
nexo -o sync.lookback=5d run
expect_rc 0
nexo verify --witness "$W"
expect_rc 0
rm -rf "$heads"
cp -a "$T/heads.old" "$heads"
nexo verify
expect_rc 0 # alone, a rollback of every head is not visible: that needs a witness
nexo verify --witness "$W"
[ "$RC" -ne 0 ] || fail "head rolled back: the witness did not see it"
grep -q "rolled back: the witness saw head" <<<"$OUT" || fail "head rolled back: $OUT"
rm -rf "$heads"/*
nexo verify
[ "$RC" -ne 0 ] || fail "heads removed: verify passed"
echo "case ok: head rolled back"

# the newest head file removed alone: the history names a newer one.
rm -rf "$ARCHIVE" "$W"
init_archive
nexo -o sync.lookback=5d run
expect_rc 0
add_recording "$(date -d "${day3%.jsonl} 23:55:30" +%s)" >/dev/null
nexo -o sync.lookback=5d run
expect_rc 0
nexo verify
expect_rc 0
h=$(newest_head)
rm -f "$h" "$h.minisig"
nexo verify
[ "$RC" -ne 0 ] || fail "newest removed: verify passed"
grep -q "history names head" <<<"$OUT" || fail "newest removed: $OUT"
echo "case ok: newest removed"

# unsigned: the newest head's signature removed.
rm -rf "$ARCHIVE"
init_archive
nexo -o sync.lookback=5d run
expect_rc 0
add_recording "$(date -d "${day3%.jsonl} 23:56:30" +%s)" >/dev/null
nexo -o sync.lookback=5d run
expect_rc 0
h=$(newest_head)
rm -f "$h.minisig"
nexo verify
[ "$RC" -ne 0 ] || fail "unsigned: verify passed"
grep -q "no signature" <<<"$OUT" || fail "unsigned: $OUT"
add_recording "$(date -d "${day3%.jsonl} 23:57:30" +%s)" >/dev/null
nexo -o sync.lookback=5d run
expect_rc 6
grep -q "no new head is written" "$T/err" || fail "unsigned: the run built on it: $ERR"
echo "case ok: unsigned"

# comment: a valid signature whose trusted comment names another state of the day.
if command -v minisign >/dev/null; then
	f="$ARCHIVE/manifest/$day3"
	minisign -S -s "$T/sign.key" -m "$f" -x "$f.minisig" \
		-t "$(printf 'timestamp:1\tfile:%s\tlines:1\tlast:%064d' "$day3" 0)" </dev/null \
		>/dev/null 2>&1 || fail "comment: minisign -S"
	nexo verify
	[ "$RC" -ne 0 ] || fail "comment: verify passed a trusted comment that lies"
	grep -q "its trusted comment says 1 lines" <<<"$OUT" || fail "comment: $OUT"
	echo "case ok: comment"
fi

# fresh_signed: a new archive of 3 days x 2 from the same PBX, signed, with its heads.
fresh_signed() {
	rm -rf "$ARCHIVE"
	init_archive
	nexo -o sync.lookback=5d run
	expect_rc 0
	day=$(ls "$ARCHIVE/manifest" | grep -m1 '\.jsonl$')
	dayname=${day%.jsonl}
}

fresh_signed
f="$ARCHIVE/manifest/$day"
victim=$(python3 - "$f" <<'PY'
import hashlib, json, sys
p = sys.argv[1]
lines = open(p, "rb").read().split(b"\n")[:-1]
e = [json.loads(l) for l in lines if json.loads(l).get("event") == "archived"][0]
o = {"event": "forgotten", "pbx_path": e["pbx_path"], "file": e["file"], "sha256": e["sha256"],
     "reason": "request 4711", "prev": hashlib.sha256(lines[-1]).hexdigest()}
open(p, "ab").write(json.dumps(o, separators=(",", ":")).encode() + b"\n")
print(e["file"])
PY
)
rm -f "$ARCHIVE/$victim"
echo "$dayname" >>"$ARCHIVE/.state/writing"
nexo -o sync.lookback=5d run
expect_rc 6
grep -q "after the signed lines, is a \"forgotten\" line" "$T/err" || fail "tail_forged: $ERR"
nexo verify
[ "$RC" -ne 0 ] || fail "tail_forged: verify passed"
echo "case ok: tail_forged"

fresh_signed
d=$dayname
rm -rf "$ARCHIVE/manifest/$day" "$ARCHIVE/manifest/$day.minisig" \
	"$ARCHIVE/${d:0:4}/${d:5:2}/${d:8:2}" "$heads"
nexo verify
[ "$RC" -ne 0 ] || fail "heads_removed: verify passed"
nexo -o sync.lookback=5d run
expect_rc 6
grep -q "heads removed" "$T/err" || fail "heads_removed: the run did not say so: $ERR"
[ ! -d "$heads" ] || [ -z "$(ls "$heads")" ] || fail "heads_removed: a new head was written"
echo "case ok: heads_removed"

fresh_signed
add_recording "$(date -d "$dayname 23:58:30" +%s)" >/dev/null
nexo -o sync.lookback=5d run
expect_rc 0
day2=$(ls "$ARCHIVE/manifest" | grep '\.jsonl$' | sed -n 2p)
d2=${day2%.jsonl}
rm -rf "$ARCHIVE/manifest/$day2" "$ARCHIVE/manifest/$day2.minisig" \
	"$ARCHIVE/${d2:0:4}/${d2:5:2}/${d2:8:2}"
h=$(newest_head)
rm -f "$heads"/*.minisig
python3 - "$h" "$d2" "$heads/history.jsonl" <<'PY'
import hashlib, json, sys
h, d, hist = sys.argv[1:]
j = json.load(open(h))
j["days"] = [x for x in j["days"] if x["day"] != d]
body = '{"format":"%s","seq":%d,"time":"%s","prev":%s,"days":[' % (
    j["format"], j["seq"], j["time"], json.dumps(j["prev"])) + ",".join(
    "\n" + json.dumps(x, separators=(",", ":")) for x in j["days"]) + "\n]}\n"
open(h, "w").write(body)
lines = open(hist).read().splitlines()
l = json.loads(lines[-1])
l["sha256"] = hashlib.sha256(body.encode()).hexdigest()
l["days"] = len(j["days"])
lines[-1] = json.dumps(l, separators=(",", ":"))
open(hist, "w").write("\n".join(lines) + "\n")
PY
nexo verify
[ "$RC" -ne 0 ] || fail "unsigned_forged: verify passed"
nexo -o sync.lookback=5d run
expect_rc 6
nexo verify
[ "$RC" -ne 0 ] || fail "unsigned_forged: verify passed after a run"
echo "case ok: unsigned_forged"

fresh_signed
cp "$ARCHIVE/manifest/$day" "$T/old.jsonl"
cp "$ARCHIVE/manifest/$day.minisig" "$T/old.minisig"
add_recording "$(date -d "$dayname 23:59:10" +%s)" >/dev/null
nexo -o sync.lookback=5d run
expect_rc 0
newfile=$(tail -n 1 "$ARCHIVE/manifest/$day" | python3 -c 'import json,sys; print(json.load(sys.stdin)["file"])')
cp "$T/old.jsonl" "$ARCHIVE/manifest/$day"
cp "$T/old.minisig" "$ARCHIVE/manifest/$day.minisig"
rm -f "$ARCHIVE/$newfile"
h=$(newest_head)
rm -f "$h.minisig"
before=$(wc -l <"$ARCHIVE/manifest/$day")
add_recording "$(date -d "$dayname 23:59:40" +%s)" >/dev/null
nexo -o sync.lookback=5d run
expect_rc 6
[ "$(wc -l <"$ARCHIVE/manifest/$day")" -eq "$before" ] ||
	fail "refused_rolled_back: a line was added to the rolled-back day"
echo "case ok: refused_rolled_back"
echo "ok"
