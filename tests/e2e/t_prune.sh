#!/usr/bin/env bash
# Setup: fakepbx with 3 days x 6 recordings (D-3, D-2, D-1 before today); one run archives all
# 18 (signed when `keygen --sign` works, so that prune's re-signing is checked by verify).
# Cases and expectations:
#  - prune with archive_keep_days unset: exit 2, nothing removed; keep < min in the config:
#    exit 2 (refused at load), nothing removed.
#  - holds: one by number (a number taken from a due recording), one by path (one file), and a
#    range hold over D-3 that is removed again (it must not protect anything).
#  - prune --dry-run (keep 1 day: D-3 and D-2 are due): exit 0, "would prune" lines for exactly
#    the due, unheld files, "held by hold" lines for the held ones, and the archive unchanged.
#  - prune while the run lock is held: exit 3, nothing changed.
#  - prune: exit 0; the summary counts pruned, held and bytes (the pruned files' sizes); those
#    files are gone, held and D-1 files stay; one "pruned" line (reason "archive_keep_days = 1")
#    per pruned file; verify exits 0. A second prune prunes nothing.
#  - a crash between removing a file and recording it (simulated: a held file's hold removed,
#    the file deleted by hand): verify reports it missing; the next prune records the mark
#    and verify is clean again.
source "$TOP/tests/e2e/lib.sh"
command -v flock >/dev/null || skip "flock(1) not installed"
# The due days are counted from today: after midnight D-1 is due too (18 pruned, not 12).
clear_of_midnight 120

signed_archive 3 6
stop_pbx
nexo prune --help
expect_rc 0

snapshot() {
	(cd "$ARCHIVE" && find . -path ./.state -prune -o -type f -printf '%P %s\n' | sort &&
		cat manifest/*.jsonl | sha256sum && { cat holds.json 2>/dev/null || true; })
}
d3=$(date -d '3 days ago' +%F)
d2=$(date -d '2 days ago' +%F)
d1=$(date -d '1 day ago' +%F)

# Pruning off: refused.
snapshot >"$T/before"
nexo prune
expect_rc 2
grep -q archive_keep_days <<<"$ERR" || fail "the refusal does not name archive_keep_days: $ERR"
# Keep below the floor: refused.
write_conf "${signing[@]}" '[retention]' 'archive_keep_days = 1' 'archive_min_days = 30'
nexo prune
expect_rc 2
grep -q archive_min_days <<<"$ERR" || fail "the refusal does not name archive_min_days: $ERR"
nexo prune --dry-run
expect_rc 2
snapshot | diff "$T/before" - >/dev/null || fail "a refused prune changed the archive"

write_conf "${signing[@]}" '[retention]' 'archive_keep_days = 1' 'archive_min_days = 1'

# Holds: a number from a due recording (the one in parentheses when there is one), one file by
# path, and a range over D-3 that is removed again.
number=$(python3 - "$ARCHIVE" "$d2" <<'PY'
import glob, json, os, re, sys
root, cutoff = sys.argv[1], sys.argv[2]
for mf in sorted(glob.glob(os.path.join(root, "manifest", "*.jsonl"))):
    if os.path.basename(mf)[:10] > cutoff:
        continue
    for line in open(mf):
        o = json.loads(line)
        m = re.search(r"\((\d+)\)$", o.get("dst", ""))
        if m:
            print(m.group(1)); sys.exit()
print(json.loads(open(sorted(glob.glob(os.path.join(root, "manifest", "*.jsonl")))[0]).readline())["src"])
PY
)
nexo hold add --number "$number" --reason "case 1: calls of $number"
expect_rc 0
nexo hold add --from "$d3" --to "$d3" --reason "a range placed by mistake"
expect_rc 0
range_id=$(grep -oE 'h[0-9]+' <<<"$OUT")
nexo hold remove "$range_id"
expect_rc 0

# held_by_number: the due files whose src or dst carries $number (alone, in or before
# parentheses); due: every file of D-3 and D-2.
python3 - "$ARCHIVE" "$d2" "$number" >"$T/held_number" <<'PY'
import glob, json, os, re, sys
root, cutoff, n = sys.argv[1], sys.argv[2], sys.argv[3]
def carries(v):
    m = re.fullmatch(r"([^()]*)\(([^()]*)\)", v)
    return v == n or bool(m and n in m.groups())
for mf in sorted(glob.glob(os.path.join(root, "manifest", "*.jsonl"))):
    if os.path.basename(mf)[:10] > cutoff:
        continue
    for line in open(mf):
        o = json.loads(line)
        if o["event"] == "archived" and (carries(o["src"]) or carries(o["dst"])):
            print(o["file"])
PY
(cd "$ARCHIVE" && find "${d3//-//}" "${d2//-//}" -type f | sort) >"$T/due"
[ -s "$T/held_number" ] || fail "the number $number holds nothing due"
path_held=$(sort "$T/held_number" | comm -23 "$T/due" - | head -n 1)
[ -n "$path_held" ] || fail "every due file is held by number; pick another setup"
nexo hold add --path "$path_held" --reason "case 2: one file"
expect_rc 0
sort -u "$T/held_number" <(echo "$path_held") >"$T/held"
comm -23 "$T/due" "$T/held" >"$T/prunable"
n_held=$(wc -l <"$T/held")
n_prune=$(wc -l <"$T/prunable")
[ "$n_prune" -gt 0 ] || fail "nothing left to prune"

# Dry run: the plan, and nothing changes.
snapshot >"$T/before"
nexo prune --dry-run
expect_rc 0
grep -oE '^would prune .* \([0-9]+ bytes\)$' <<<"$OUT" | sed -E 's/^would prune (.*) \([0-9]+ bytes\)$/\1/' |
	sort | diff "$T/prunable" - >/dev/null || fail "dry run plans other files than expected"
grep -E ': held by hold h[0-9]+: ' <<<"$OUT" | sed -E 's/: held by hold .*//' | sort |
	diff "$T/held" - >/dev/null || fail "dry run holds other files than expected"
grep -qE "^dry run: prune: $n_prune pruned, $n_held held, [0-9]+ bytes freed$" <<<"$OUT" ||
	fail "dry run summary: $OUT"
snapshot | diff "$T/before" - >/dev/null || fail "prune --dry-run changed the archive"

# The run lock held: exit 3, nothing changes.
exec 9>>"$ARCHIVE/.state/lock"
flock -x 9
nexo prune
exec 9>&-
expect_rc 3
snapshot | diff "$T/before" - >/dev/null || fail "a locked-out prune changed the archive"

# Prune.
bytes=$(cd "$ARCHIVE" && xargs -d '\n' stat -c %s <"$T/prunable" | awk "{ s += \$1 } END { print s }")
nexo prune
expect_rc 0
grep -qE "^prune: $n_prune pruned, $n_held held, $bytes bytes freed$" <<<"$OUT" || fail "summary: $OUT"
while read -r f; do
	[ ! -e "$ARCHIVE/$f" ] || fail "$f was not pruned"
done <"$T/prunable"
while read -r f; do
	[ -f "$ARCHIVE/$f" ] || fail "held file $f was pruned"
done <"$T/held"
[ "$(cd "$ARCHIVE" && find "${d1//-//}" -type f | wc -l)" -eq 6 ] || fail "files of $d1 were pruned"
python3 - "$ARCHIVE" "$T/prunable" <<'PY' || fail "the pruned lines are wrong"
import glob, json, os, sys
root = sys.argv[1]
want = set(open(sys.argv[2]).read().split("\n")) - {""}
got = []
for mf in glob.glob(os.path.join(root, "manifest", "*.jsonl")):
    for line in open(mf):
        o = json.loads(line)
        if o["event"] == "pruned":
            assert o["reason"] == "archive_keep_days = 1", o
            assert o["pruned_at"].endswith("Z"), o
            got.append(o["file"])
assert sorted(got) == sorted(want), (sorted(got), sorted(want))
PY
nexo verify
expect_rc 0
grep -q ', 0 findings$' <<<"$OUT" || fail "verify after prune: $OUT"
[ "${#signing[@]}" -eq 0 ] || ! grep -q 'not checked' <<<"$ERR" || fail "signatures were not checked"

# Again: nothing more to prune.
nexo prune
expect_rc 0
grep -qE "^prune: 0 pruned, $n_held held, 0 bytes freed$" <<<"$OUT" || fail "second prune: $OUT"

# A crash after the removal, before the mark: the next prune records it.
victim=$(head -n 1 <(comm -23 "$T/held" <(sort "$T/held_number")))
[ "$victim" = "$path_held" ] || fail "unexpected victim $victim"
path_id=$(python3 -c 'import json, sys
print([h["id"] for h in json.load(open(sys.argv[1])) if h["kind"] == "path"][0])' "$ARCHIVE/holds.json")
nexo hold remove "$path_id"
expect_rc 0
rm "$ARCHIVE/$victim"
nexo verify
expect_rc 1
grep -qF "$victim: missing" <<<"$OUT" || fail "verify does not report the half-pruned file"
nexo prune
expect_rc 0
grep -qE "^prune: 1 pruned, $((n_held - 1)) held, 0 bytes freed$" <<<"$OUT" || fail "completing prune: $OUT"
grep -q 'already missing' <<<"$ERR" || fail "the completing prune does not say the file was already gone"
nexo verify
expect_rc 0
echo "ok"
