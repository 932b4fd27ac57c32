#!/usr/bin/env bash
# The auditor's commands in docs/security.md, run exactly as written (taken from the doc), on an
# archive made by a real run with encryption and signing on.
# Setup: fakepbx 2 days x 6; keys from `nexo-archive keygen` / `keygen --sign`; one run.
# Expected: on the intact archive the commands print a verified signature per day and no
# complaint; after one byte of an archived file changes, step 3 names it; after a manifest line
# is edited, step 1 and step 2 complain; an extra file in the date tree is listed by step 4;
# step 6's two hashes agree; a day removed whole is named by step 5 (the head).
source "$TOP/tests/e2e/lib.sh"
for tool in minisign jq age sha256sum python3; do
	command -v "$tool" >/dev/null || skip "$tool missing"
done

generate 2 6 --min-seconds 1 --max-seconds 3
start_pbx
"$NEXO" keygen -o "$T/identity.txt" >"$T/recipient"
"$NEXO" keygen --sign -o "$T/manifest.key" >/dev/null
write_conf '[encryption]' "recipients = $(cat "$T/recipient")" \
	'[signing]' "secret_key_file = $T/manifest.key"
nexo run
expect_rc 0

# The first ```sh block after the auditor's heading, with step 5's file filled in.
python3 - "$TOP/docs/security.md" >"$T/audit.sh" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
part = text.split("## How an auditor verifies", 1)[1]
print(re.search(r"```sh\n(.*?)```", part, re.S).group(1))
PY
grep -q "minisign -Vm" "$T/audit.sh" || fail "no auditor commands found in docs/security.md"
rec=$(cd "$ARCHIVE" && find . -name '*.wav.age' | sort | head -n 1 | cut -c3-)
sed -i "s|^f=2026/11/24/NAME.wav.age|f=$rec|" "$T/audit.sh"
cp "$T/manifest.key.pub" "$T/identity.txt" "$ARCHIVE/"

audit() {
	(cd "$ARCHIVE" && bash "$T/audit.sh") >"$T/audit.out" 2>&1 || true
	cat "$T/audit.out"
}

audit
days=$(ls "$ARCHIVE"/manifest/*.jsonl | wc -l)
# Every day, and the newest head (step 5).
[ "$(grep -c 'Signature and comment signature verified' "$T/audit.out")" -eq $((days + 1)) ] ||
	fail "not every day's signature (and the head's) verified"
if grep -vE '^(Signature and comment signature verified|Trusted comment: |[0-9a-f]{64}( +-)?$)' "$T/audit.out" | grep -q .; then
	fail "the intact archive drew complaints"
fi
[ "$(grep -cE '^[0-9a-f]{64}( +-)?$' "$T/audit.out")" -eq 2 ] || fail "step 6 did not print two hashes"
[ "$(grep -oE '^[0-9a-f]{64}' "$T/audit.out" | sort -u | wc -l)" -eq 1 ] || fail "step 6's hashes differ"

# A changed byte in an archived file: step 3 names the file.
victim=$(cd "$ARCHIVE" && find . -name '*.wav.age' | sort | tail -n 1 | cut -c3-)
cp "$ARCHIVE/$victim" "$T/victim.saved"
flip_byte "$ARCHIVE/$victim" 300
audit
grep -qF "$victim: FAILED" "$T/audit.out" || fail "step 3 did not name the altered file"
cp "$T/victim.saved" "$ARCHIVE/$victim"

# An extra file in the date tree: step 4 lists it.
extra=$(dirname "$victim")/planted.wav
echo junk >"$ARCHIVE/$extra"
audit
grep -qxF "$extra" "$T/audit.out" || fail "step 4 did not list the planted file"
rm "$ARCHIVE/$extra"

# An edited manifest line: the signature and the chain both complain.
day=$(ls "$ARCHIVE"/manifest/*.jsonl | head -n 1)
sed -i '1s/"src":"/"src":"0/' "$day"
audit
grep -q "BAD SIGNATURE: manifest/$(basename "$day")" "$T/audit.out" || fail "step 1 missed the edit"
grep -q "chain broken at line 2" "$T/audit.out" || fail "step 2 missed the edit"

# A whole day removed with its signature: step 5 names it from the head.
gone=$(ls "$ARCHIVE"/manifest/*.jsonl | tail -n 1)
rm "$gone" "$gone.minisig"
audit
grep -q "DAY MISSING, CUT OR ROLLED BACK: $(basename "$gone" .jsonl)" "$T/audit.out" ||
	fail "step 5 missed the removed day"
echo "ok"
