#!/usr/bin/env bash
# Setup: fakepbx --fault omit-one (the first tar leaves out its first requested file, every later
# tar that asks for it leaves it out again) with
# 2 days x 30 recordings (D-2, D-1); [sync] since = D-4 00:00, window 1d, so the run walks two
# empty days (D-4, D-3: complete), then D-2 (misses a file) and D-1, then today (empty).
# 1) Command: nexo-archive run.
#    Expected: exit 1, "missing N" with N >= 1, archived + missing = 60; the omitted recordings
#    are not in the manifest; if a checkpoint exists it is not past the earliest omitted
#    recording's call minute (neither the complete empty windows after it nor the end of the
#    run move it further).
# 2) Command: fakepbx restarted without the fault; nexo-archive run.
#    Expected: exit 0, "archived N" (exactly the omitted ones); every recording archived exactly
#    once (no duplicate pbx_path among "archived" lines); the archive matches the PBX.
source "$TOP/tests/e2e/lib.sh"

generate 2 30 --min-seconds 1 --max-seconds 2
since="$(date -d '4 days ago' +%F) 00:00"
start_pbx --fault omit-one
write_conf '[sync]' "since = $since" 'window = 1d'
nexo run
expect_rc 1
missing=$(summary_field missing)
archived=$(summary_field archived)
[ "${missing:-0}" -ge 1 ] || fail "no recording reported missing: $OUT"
[ $((missing + archived)) -eq 60 ] || fail "archived $archived + missing $missing is not 60"
comm -23 <(pbx_paths) <(manifest_paths archived) >"$T/omitted"
[ "$(wc -l <"$T/omitted")" -eq "$missing" ] ||
	fail "$(wc -l <"$T/omitted") recordings not in the manifest, summary says missing $missing"
if [ -f "$ARCHIVE/.state/checkpoint" ]; then
	cp=$(cat "$ARCHIVE/.state/checkpoint")
	first=$(sed -E 's#^[0-9]{8}/([0-9]{4})([0-9]{2})([0-9]{2})-([0-9]{2})([0-9]{2}).*#\1-\2-\3 \4:\5#' "$T/omitted" | sort | head -n 1)
	echo "checkpoint after the partial run: $cp; earliest omitted recording: $first"
	[[ ! "$cp" > "$first" ]] || fail "checkpoint $cp is past the omitted recording of $first"
fi

stop_pbx
start_pbx
write_conf '[sync]' "since = $since" 'window = 1d'
nexo run
expect_rc 0
expect_summary archived "$missing"
expect_summary missing 0
[ -z "$(manifest_dup_paths)" ] || fail "archived twice: $(manifest_dup_paths | head -n 3)"
diff <(pbx_paths) <(manifest_paths archived) >"$T/paths.diff" ||
	fail "manifest differs from the PBX: $(head -n 6 "$T/paths.diff")"
[ "$(check_manifest_hashes)" = 60 ] || fail "manifest does not hold 60 matching hashes"
[ "$(archive_count)" -eq 60 ] || fail "expected 60 files, found $(archive_count)"
tmp_empty || fail ".state/tmp is not empty"
echo "ok"
