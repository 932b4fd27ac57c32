#!/usr/bin/env bash
# Setup: fakepbx with 2 days x 6 recordings; one run archives all 12 (signed when
# `keygen --sign` works, so that forget's re-signing is checked by verify).
# Cases and expectations:
#  - hold list on a fresh archive: "no holds"; --json: [].
#  - hold add by number, range and path: "added hold h1..h3"; list shows them in force; --json
#    parses with kind, values, reason, who, created; bad adds (no reason, two kinds, half a
#    range, a bad day, an unknown subcommand) exit 2 and change nothing; $SUDO_USER is recorded.
#  - hold remove: the hold stays in holds.json marked removed (removed_by, removed_at); removing
#    it again or an unknown id exits 1; add/remove while the run lock is held exit 3.
#  - forget of a held file (by its file and by its pbx_path): exit 1 naming the hold; the file
#    and the manifest are untouched.
#  - after the hold is removed: forget exits 0; the file is gone; one "forgotten" line with the
#    reason follows the archived line, which stays; verify exits 0. Forgetting it again: exit 0,
#    no second line. An unknown path: exit 1; no --reason: exit 2; lock held: exit 3. With
#    signing, a day whose .minisig was tampered with: forget exits 6 and removes nothing.
#  - a backfill over its day does not fetch the forgotten recording again (the PBX still has
#    it): listed 6, archived 0, already had 6.
source "$TOP/tests/e2e/lib.sh"
command -v flock >/dev/null || skip "flock(1) not installed"

signed_archive 2 6
nexo forget --help
expect_rc 0

holds_json() {
	python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))' \
		"$ARCHIVE/holds.json"
}

# ---- holds ----
nexo hold list
expect_rc 0
grep -qx 'no holds' <<<"$OUT" || fail "hold list on a fresh archive: $OUT"
nexo hold list --json
expect_rc 0
[ "$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$T/out")" = 0 ] ||
	fail "hold list --json on a fresh archive: $OUT"

# The victim: a recording with a number in parentheses when there is one.
read -r victim pbx_victim number < <(python3 - "$ARCHIVE" <<'PY'
import glob, json, os, re, sys
rows = []
for mf in sorted(glob.glob(os.path.join(sys.argv[1], "manifest", "*.jsonl"))):
    for line in open(mf):
        o = json.loads(line)
        if o["event"] == "archived":
            m = re.search(r"\((\d+)\)$", o["dst"])
            rows.append((0 if m else 1, o["file"], o["pbx_path"], m.group(1) if m else o["dst"]))
rows.sort()
print(*rows[0][1:])
PY
)
[ -f "$ARCHIVE/$victim" ] || fail "no victim found ($victim)"
day="${victim:0:4}-${victim:5:2}-${victim:8:2}"

nexo hold add --number "$number" --reason "litigation 2026-17"
expect_rc 0
grep -qx 'added hold h1' <<<"$OUT" || fail "hold add: $OUT"
nexo hold add --from "$day" --to "$day" --reason "audit of $day"
expect_rc 0
grep -qx 'added hold h2' <<<"$OUT" || fail "hold add range: $OUT"
SUDO_USER=alice nexo hold add --path '2099/*' --reason "future calls"
expect_rc 0
grep -qx 'added hold h3' <<<"$OUT" || fail "hold add path: $OUT"
cp "$ARCHIVE/holds.json" "$T/holds.before"
for bad in "add --number 1" "add --number 1 --path x --reason r" "add --from $day --reason r" \
	"add --from 2026-02-30 --to 2026-03-01 --reason r" "add --number 1 --reason r extra" \
	"add --number 1 --reason" "frobnicate" ""; do
	# shellcheck disable=SC2086 # word splitting is the point
	nexo hold $bad
	expect_rc 2
done
cmp -s "$ARCHIVE/holds.json" "$T/holds.before" || fail "a refused hold add changed holds.json"
nexo hold list
expect_rc 0
[ "$(grep -c ' in force ' <<<"$OUT")" -eq 3 ] || fail "hold list does not show 3 holds in force: $OUT"
grep -qF "h1  in force  number $number" <<<"$OUT" || fail "hold list: $OUT"
nexo hold list --json
expect_rc 0
python3 - "$T/out" "$number" "$day" <<'PY' || fail "hold list --json: $OUT"
import json, re, sys
h = json.load(open(sys.argv[1]))
assert [x["id"] for x in h] == ["h1", "h2", "h3"], h
assert h[0]["kind"] == "number" and h[0]["number"] == sys.argv[2], h[0]
assert h[1]["kind"] == "range" and h[1]["from"] == h[1]["to"] == sys.argv[3], h[1]
assert h[2]["kind"] == "path" and h[2]["glob"] == "2099/*", h[2]
assert h[0]["reason"] == "litigation 2026-17"
assert all(x["who"] and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", x["created"]) for x in h)
assert h[2]["who"].endswith("(sudo by alice)") and "sudo" not in h[0]["who"], h
assert not any(x.get("removed") for x in h)
PY

# Remove the range hold: kept on record as removed.
nexo hold remove h2
expect_rc 0
grep -qx 'removed hold h2' <<<"$OUT" || fail "hold remove: $OUT"
python3 - "$ARCHIVE/holds.json" <<'PY' || fail "the removed hold is not on record: $(holds_json)"
import json, sys
h = json.load(open(sys.argv[1]))
assert len(h) == 3
assert h[1]["removed"] is True and h[1]["removed_by"] and h[1]["removed_at"].endswith("Z"), h[1]
assert "removed" not in h[0] and "removed" not in h[2]
PY
nexo hold remove h2
expect_rc 1
nexo hold remove h9
expect_rc 1
nexo hold list
grep -qE '^h2  removed .* removed [0-9T:-]+Z by ' <<<"$OUT" || fail "hold list does not show h2 removed: $OUT"

# The run lock held: hold changes wait for the run.
exec 9>>"$ARCHIVE/.state/lock"
flock -x 9
cp "$ARCHIVE/holds.json" "$T/holds.before"
nexo hold add --number 1 --reason r
expect_rc 3
nexo hold remove h1
expect_rc 3
nexo forget "$victim" --reason "GDPR"
expect_rc 3
exec 9>&-
cmp -s "$ARCHIVE/holds.json" "$T/holds.before" || fail "a locked-out hold change wrote holds.json"
[ -f "$ARCHIVE/$victim" ] || fail "a locked-out forget removed the file"

# ---- forget ----
cp -a "$ARCHIVE/manifest" "$T/manifest.before"
nexo forget "$victim" --reason "GDPR request 42"
expect_rc 1
grep -q 'hold h1' <<<"$ERR" || fail "the refusal does not name hold h1: $ERR"
nexo forget --reason "GDPR request 42" "$pbx_victim"
expect_rc 1
[ -f "$ARCHIVE/$victim" ] || fail "forget removed a held file"
diff -r "$T/manifest.before" "$ARCHIVE/manifest" >/dev/null || fail "a refused forget changed the manifest"

nexo hold remove h1
expect_rc 0
nexo forget "$victim" --reason "GDPR request 42"
expect_rc 0
grep -qF "forgotten $victim" <<<"$OUT" || fail "forget: $OUT"
[ ! -e "$ARCHIVE/$victim" ] || fail "forget left the file"
python3 - "$ARCHIVE/manifest/$day.jsonl" "$pbx_victim" <<'PY' || fail "the manifest lines are wrong"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
mine = [o for o in lines if o["pbx_path"] == sys.argv[2]]
assert [o["event"] for o in mine] == ["archived", "forgotten"], mine
assert mine[1]["reason"] == "GDPR request 42" and mine[1]["forgotten_at"].endswith("Z"), mine[1]
assert lines[-1] is mine[1] or lines[-1] == mine[1]
PY
nexo verify
expect_rc 0
grep -q ', 0 findings$' <<<"$OUT" || fail "verify after forget: $OUT"
[ "${#signing[@]}" -eq 0 ] || ! grep -q 'not checked' <<<"$ERR" || fail "signatures were not checked"

lines=$(wc -l <"$ARCHIVE/manifest/$day.jsonl")
nexo forget "$pbx_victim" --reason "again"
expect_rc 0
grep -q 'already forgotten' <<<"$OUT" || fail "second forget: $OUT"
[ "$(wc -l <"$ARCHIVE/manifest/$day.jsonl")" -eq "$lines" ] || fail "a second forget appended a line"
nexo forget 2026/01/01/nothing.wav --reason "x"
expect_rc 1
nexo forget "$pbx_victim"
expect_rc 2

# A signed day whose signature no longer verifies is left alone: forget refuses (exit 6)
# rather than re-sign it.
if [ "${#signing[@]}" -gt 0 ]; then
	other=$(cd "$ARCHIVE" && find "${victim%/*}" -type f | sort | head -n 1)
	cp "$ARCHIVE/manifest/$day.jsonl.minisig" "$T/sig.saved"
	sed -i '3s/lines:/lines:1/' "$ARCHIVE/manifest/$day.jsonl.minisig"
	nexo forget "$other" --reason "GDPR request 43"
	expect_rc 6
	grep -q 'does not verify' <<<"$ERR" || fail "the refusal does not say why: $ERR"
	[ -f "$ARCHIVE/$other" ] || fail "forget removed a file of a day whose signature is bad"
	cp "$T/sig.saved" "$ARCHIVE/manifest/$day.jsonl.minisig"
fi

# The PBX still has the recording; the next run knows it and does not fetch it again.
nexo backfill --from "$day 00:00" --to "$day 23:59"
expect_rc 0
expect_summary listed 6
expect_summary archived 0
expect_summary "already had" 6
[ ! -e "$ARCHIVE/$victim" ] || fail "the next run fetched the forgotten recording again"
nexo verify
expect_rc 0
echo "ok"
