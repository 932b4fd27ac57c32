#!/usr/bin/env bash
# A run never signs over a tampered day (issue 14, first part). An insider with write access
# but without the signing key edits a signed manifest day and recomputes its hash chain (the
# chain has no key); `verify` flags the signature. A later run that has something to add to
# that day must not append to it and sign it anew — that would bless the edit.
#  - tampered: the edited day with retention due (nothing deleted: no deletion could be
#    recorded), then a new recording of that day on the PBX: the run exits 6 (archive
#    storage), names the day, adds no line to it, and verify keeps the finding;
#  - crashed: a run signs each day right after each commit; killed between a commit and its
#    signature, it leaves an "archived" line after the signed part whose file is there with
#    its hash: not tampering, the next run exits 0, signs, verify has no finding. (An unsigned
#    line of another kind, or one whose file is not there, is refused: t_head.)
#  - rotated: a new signing key; a day the old key signed is added to only when the old public
#    key is given ([signing] previous_public_key_file), then signed with the new one.
source "$TOP/tests/e2e/lib.sh"

command -v python3 >/dev/null || skip "python3 missing"
generate 1 3 --min-seconds 1 --max-seconds 2
start_pbx
"$NEXO" keygen --sign -o "$T/sign.key" >/dev/null
SIGNING=('[signing]' "secret_key_file = $T/sign.key" "public_key_file = $T/sign.key.pub")
write_conf "${SIGNING[@]}"
nexo run
expect_rc 0
nexo verify
expect_rc 0
day=$(ls "$ARCHIVE/manifest" | grep -m1 '\.jsonl$')
dayname=${day%.jsonl}
when=$(date -d "$dayname 23:30:30" +%s)

# crashed: a new call of that day, the run killed after its manifest line, before signing.
add_recording "$when" >/dev/null
set +e
NEXO_CRASH_AT=manifest.sign:1 "$NEXO_TEST" -q -c "$CONF" -o sync.lookback=3d run >/dev/null 2>&1
set -e
lines=$(wc -l <"$ARCHIVE/manifest/$day")
[ "$lines" -eq 4 ] || fail "crashed: expected the 4th line appended, found $lines"
nexo verify
[ "$RC" -ne 0 ] || fail "crashed: verify passed an unsigned append"
nexo -o sync.lookback=3d run
expect_rc 0
nexo verify
[ "$RC" -eq 0 ] || fail "crashed: the next run did not sign the day anew: $OUT $ERR"
echo "case ok: crashed"

# rotated: a new signing key. A day signed by the old one is checked with the old public key
# ([signing] previous_public_key_file) before the run adds to it and signs it with the new
# key; without that key the run cannot tell a rotation from a forged signature, and refuses.
"$NEXO" keygen --sign -o "$T/new.key" >/dev/null
add_recording $((when + 120)) >/dev/null
write_conf '[signing]' "secret_key_file = $T/new.key" "public_key_file = $T/new.key.pub"
nexo -o sync.lookback=3d run
expect_rc 6
grep -q "manifest day $dayname" "$T/err" || fail "rotated: the day is not named: $ERR"
SIGNING=('[signing]' "secret_key_file = $T/new.key" "public_key_file = $T/new.key.pub"
	"previous_public_key_file = $T/sign.key.pub")
write_conf "${SIGNING[@]}"
nexo -o sync.lookback=3d run
expect_rc 0
nexo verify
[ "$RC" -eq 0 ] || fail "rotated: the day is not signed with the new key: $OUT $ERR"
echo "case ok: rotated"

# tampered: edit the first line's dst, recompute every "prev" after it.
python3 - "$ARCHIVE/manifest/$day" <<'PY'
import hashlib, json, sys
path = sys.argv[1]
lines = open(path, encoding="utf-8").read().splitlines()
o = json.loads(lines[0])
o["dst"] = "999"
lines[0] = json.dumps(o, separators=(",", ":"), ensure_ascii=False)
for i in range(1, len(lines)):
    o = json.loads(lines[i])
    o["prev"] = hashlib.sha256(lines[i - 1].encode()).hexdigest()
    lines[i] = json.dumps(o, separators=(",", ":"), ensure_ascii=False)
open(path, "w", encoding="utf-8").write("\n".join(lines) + "\n")
PY
nexo verify
[ "$RC" -ne 0 ] || fail "tampered: verify did not flag the edited day"
before=$(wc -l <"$ARCHIVE/manifest/$day")
# Retention has that day's recordings due: none is deleted (its deletion could not be recorded).
nexo -o sync.lookback=3d -o retention.delete_from_pbx=true -o retention.pbx_keep_days=0 run
expect_rc 6
[ "$(deleted_count)" = 0 ] || fail "tampered: retention deleted from a day it cannot record in"
add_recording $((when + 60)) >/dev/null
nexo -o sync.lookback=3d run
expect_rc 6
grep -q "manifest day $dayname" "$T/err" || fail "tampered: the day is not named: $ERR"
[ "$(wc -l <"$ARCHIVE/manifest/$day")" -eq "$before" ] || fail "tampered: a line was added to the day"
nexo verify
[ "$RC" -ne 0 ] || fail "tampered: the day was signed anew (verify passes)"
grep -q "$dayname" <<<"$OUT$ERR" || fail "tampered: verify does not name the day: $OUT"
echo "case ok: tampered"
echo "ok"
