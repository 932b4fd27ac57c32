#!/usr/bin/env bash
# Setup: fakepbx serving 2 days x 200 short recordings (1-4 s); empty archive, no [sync] since.
# Command: nexo-archive run.
# Expected: exit 0, "archived 400"; 400 .wav files whose sha256 equal the PBX originals (by
# name), each readable by sox with the duration the manifest records; 400 "archived" manifest
# lines whose hashes match the files; .state/tmp empty; a checkpoint "YYYY-MM-DD HH:MM".
source "$TOP/tests/e2e/lib.sh"

generate 2 200 --min-seconds 1 --max-seconds 4
start_pbx
write_conf
nexo run
expect_rc 0
expect_summary listed 400
expect_summary archived 400
expect_summary missing 0
expect_summary failed 0

[ "$(archive_count)" -eq 400 ] || fail "expected 400 archived files, found $(archive_count)"
[ "$(check_manifest_hashes)" = 400 ] || fail "manifest does not hold 400 matching hashes"
[ "$(manifest_events archived)" = 400 ] || fail "expected 400 archived lines"
[ -z "$(manifest_dup_paths)" ] || fail "pbx_path archived twice: $(manifest_dup_paths | head -n 3)"
diff <(sums_of "$PBXDIR") <(sums_of "$ARCHIVE") >"$T/sums.diff" ||
	fail "archived files differ from the PBX originals: $(head -n 6 "$T/sums.diff")"
diff <(pbx_paths) <(manifest_paths archived) >"$T/paths.diff" ||
	fail "manifest pbx_paths differ from the PBX: $(head -n 6 "$T/paths.diff")"

# Every file is a WAV sox can read, and its duration is the manifest's audio_seconds.
python3 - "$ARCHIVE" <<'PY' || fail "sox disagrees with the archive"
import glob, json, os, subprocess, sys
root = sys.argv[1]
want = {}
for mf in glob.glob(os.path.join(root, "manifest", "*.jsonl")):
    for line in open(mf, encoding="utf-8"):
        o = json.loads(line)
        if o["event"] == "archived":
            want[os.path.join(root, o["file"])] = float(o["audio_seconds"])
files = sorted(want)
out = subprocess.run(["sox", "--i", "-D"] + files, capture_output=True, text=True)
if out.returncode != 0:
    sys.exit("sox --i failed: " + out.stderr[-500:])
got = out.stdout.split()
if len(got) != len(files):
    sys.exit("sox reported %d durations for %d files" % (len(got), len(files)))
for f, d in zip(files, got):
    if abs(float(d) - want[f]) > 0.01:
        sys.exit("%s: sox says %s s, manifest %s s" % (f, d, want[f]))
PY

tmp_empty || fail ".state/tmp is not empty: $(ls -A "$ARCHIVE/.state/tmp")"
[ -f "$ARCHIVE/.state/checkpoint" ] || fail "no checkpoint after a complete run"
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}$' "$ARCHIVE/.state/checkpoint" ||
	fail "checkpoint is not 'YYYY-MM-DD HH:MM': $(cat "$ARCHIVE/.state/checkpoint")"
# Files sit in the date tree of their call date.
bad=$(find "$ARCHIVE" -path "$ARCHIVE/.state" -prune -o -name '*.wav' -type f -printf '%P\n' |
	awk '{ split($0, p, "/"); if (p[1] p[2] p[3] != substr(p[4], 1, 8)) print }' | head -n 3)
[ -z "$bad" ] || fail "files outside their YYYY/MM/DD folder: $bad"
echo "ok"
