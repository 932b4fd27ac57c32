#!/usr/bin/env bash
# Setup: fakepbx with 2 days x 12 recordings; an age identity from `nexo-archive keygen` and a
# second recipient from Debian's age-keygen; a minisign key pair from `keygen --sign`.
# Command: nexo-archive run with [encryption] recipients = both, [signing] secret_key_file,
# [retention] delete_from_pbx = true, pbx_keep_days = 0.
# Expected: exit 0; every recording is stored as <name>.wav.age (no plaintext .wav anywhere,
# not even in .state/tmp); every recording deleted from the fake PBX decrypts with `age -d`
# (with either identity) to bytes whose SHA-256 equals the fake PBX's original (its delete
# log); manifest lines carry sha256 (audio), stored_sha256 (file) and encryption "age";
# every changed manifest day verifies with `minisign -V`, and fails after a one-byte change.
source "$TOP/tests/e2e/lib.sh"
command -v age >/dev/null && command -v minisign >/dev/null || skip "age or minisign missing"

generate 2 12 --min-seconds 1 --max-seconds 9
start_pbx
"$NEXO" keygen -o "$T/id.txt" >"$T/recipient" || fail "keygen failed"
age-keygen -o "$T/id2.txt" 2>/dev/null
"$NEXO" keygen --sign -o "$T/sign.key" >/dev/null || fail "keygen --sign failed"
r1=$(cat "$T/recipient")
r2=$(age-keygen -y "$T/id2.txt")
[[ $r1 == age1* ]] || fail "keygen printed '$r1', not a recipient"
write_conf '[encryption]' "recipients = $r1 $r2" \
	'[signing]' "secret_key_file = $T/sign.key" "public_key_file = $T/sign.key.pub" \
	'[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'
nexo run
expect_rc 0
expect_summary archived 24
expect_summary deleted 24
[ "$(pbx_count)" -eq 0 ] || fail "$(pbx_count) recordings left on the PBX"
[ -z "$(find "$ARCHIVE" -name '*.wav' -type f)" ] || fail "plaintext .wav stored"
[ "$(find "$ARCHIVE" -name '*.wav.age' -type f | wc -l)" -eq 24 ] || fail "not 24 .age files"
tmp_empty || fail ".state/tmp is not empty"
[ "$(check_manifest_hashes)" = 24 ] || fail "stored_sha256 does not match the files"

# Every deleted recording decrypts, with stock age and either identity, to the original bytes.
n=0
while read -r path sum; do
	name=$(basename "$path")
	f=$(find "$ARCHIVE" -name "$name.age")
	[ -n "$f" ] || fail "no archived copy of deleted $path"
	[ "$(age -d -i "$T/id.txt" "$f" | sha256sum | cut -d' ' -f1)" = "$sum" ] ||
		fail "$f does not decrypt to the PBX's original"
	[ "$(age -d -i "$T/id2.txt" "$f" | sha256sum | cut -d' ' -f1)" = "$sum" ] ||
		fail "$f does not decrypt with the second recipient's identity"
	n=$((n + 1))
done <"$T/deleted.log"
[ "$n" -eq 24 ] || fail "delete log has $n lines, not 24"

python3 - "$ARCHIVE" <<'PY' || fail "archived lines lack the encryption fields"
import glob, json, os, sys
for mf in glob.glob(os.path.join(sys.argv[1], "manifest", "*.jsonl")):
    for line in open(mf, encoding="utf-8"):
        o = json.loads(line)
        if o["event"] == "archived":
            assert o["encryption"] == "age" and o["file"].endswith(".wav.age"), o
            assert len(o["stored_sha256"]) == 64 and o["stored_sha256"] != o["sha256"], o
PY

# The manifests are signed; a changed byte breaks the signature.
for mf in "$ARCHIVE"/manifest/*.jsonl; do
	minisign -Vm "$mf" -p "$T/sign.key.pub" >/dev/null || fail "$mf does not verify"
	minisign -Vm "$mf" -p "$T/sign.key.pub" | grep -q "file:$(basename "$mf")" ||
		fail "trusted comment does not name $(basename "$mf")"
done
mf=$(ls "$ARCHIVE"/manifest/*.jsonl | head -n 1)
cp "$mf" "$T/saved"
sed -i '1s/"src":"/"src":"9/' "$mf"
if minisign -Vm "$mf" -p "$T/sign.key.pub" >/dev/null 2>&1; then
	fail "minisign accepted an edited manifest"
fi
cp "$T/saved" "$mf"

# Our own decrypt restores a file byte-exactly and leaves nothing behind on a wrong identity.
f=$(find "$ARCHIVE" -name '*.wav.age' | head -n 1)
mkdir "$T/restore"
"$NEXO" decrypt -i "$T/id.txt" -o "$T/restore" "$f" || fail "decrypt failed"
cmp "$T/restore/$(basename "${f%.age}")" <(age -d -i "$T/id.txt" "$f") || fail "decrypt differs from age"
age-keygen -o "$T/wrong.txt" 2>/dev/null
mkdir "$T/restore2"
if "$NEXO" decrypt -i "$T/wrong.txt" -o "$T/restore2" "$f" 2>"$T/derr"; then
	fail "decrypt with a wrong identity succeeded"
fi
[ -z "$(ls -A "$T/restore2")" ] || fail "a failed decrypt left a file"
grep -qi "identity" "$T/derr" || fail "decrypt's error does not say no identity matched: $(cat "$T/derr")"
echo "ok"
