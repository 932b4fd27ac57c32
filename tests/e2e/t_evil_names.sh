#!/usr/bin/env bash
# Setup: fakepbx --fault evil-names: every tar also carries "../x.wav", "/tmp/x.wav" (small
# valid WAVs) and a symlink entry "20210101/link.wav" -> /etc/passwd; 1 day x 12 recordings.
# Command: nexo-archive run.
# Expected: exit 0 and all 12 requested recordings archived and verified; nothing written
# outside the archive: no x.wav anywhere under $T, /tmp/x.wav neither created nor modified,
# no link.wav and no symlink in the archive, no extra .wav; stderr warns about each refused
# entry by name.
source "$TOP/tests/e2e/lib.sh"

generate 1 12 --min-seconds 1 --max-seconds 2
before=$(stat -c '%i %s %Y' /tmp/x.wav 2>/dev/null || echo absent)
start_pbx --fault evil-names
write_conf
nexo run
expect_rc 0
expect_summary archived 12
[ "$(archive_count)" -eq 12 ] || fail "expected 12 .wav files in the archive, found $(archive_count)"
[ "$(check_manifest_hashes)" = 12 ] || fail "manifest does not hold 12 matching hashes"
diff <(sums_of "$PBXDIR") <(sums_of "$ARCHIVE") >/dev/null || fail "archived bytes differ from the PBX"

found=$(find "$T" -name 'x.wav' | head -n 3)
[ -z "$found" ] || fail "an evil entry was written: $found"
after=$(stat -c '%i %s %Y' /tmp/x.wav 2>/dev/null || echo absent)
[ "$before" = "$after" ] || fail "/tmp/x.wav changed: before '$before', after '$after'"
[ -z "$(find "$ARCHIVE" -name 'link.wav')" ] || fail "the symlink entry landed in the archive"
[ -z "$(find "$ARCHIVE" -type l)" ] || fail "a symlink in the archive: $(find "$ARCHIVE" -type l)"
[ -z "$(find "$ARCHIVE" -path '*2021*')" ] || fail "something landed under 2021/: $(find "$ARCHIVE" -path '*2021*')"
for entry in '../x.wav' '/tmp/x.wav' 'link.wav'; do
	grep -F "$entry" "$T/err" | grep -qi 'refus' || fail "no warning refusing the tar entry $entry"
done
tmp_empty || fail ".state/tmp is not empty"
echo "ok"
