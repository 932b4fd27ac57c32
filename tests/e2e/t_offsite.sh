#!/usr/bin/env bash
# Issue 17, against a real S3 server (Ceph's RADOS Gateway, tests/e2e/rgw.sh).
# Setup: fakepbx with 2 days x 3 recordings (3 and 2 days ago); [encryption], [signing],
# [retention] delete_from_pbx with pbx_keep_days = 0; [cdr] archive; [offsite] to a bucket with Object Lock,
# lock_days = 30 (lock = auto: COMPLIANCE).
# 1. The gateway stopped: the run archives locally, exits 1, deletes nothing.
# 2. The gateway back: the next run uploads every recording, manifest, signature and head,
#    each confirmed ("offsite" lines), then deletes from the PBX; exit 0.
# Expected: every object's bytes hash to the manifest's stored sha256; HEAD shows COMPLIANCE
# until the call's day + 30 days; a DELETE of a locked version is refused; the bucket's
# manifests and signatures are the local ones; a third run uploads nothing again; the secret
# key never reaches the output, -v included; verify --offsite --deep finds nothing; prune with
# local_keep_days removes the local copies ("offloaded") and both verifies still pass; restore
# into an empty folder gives an archive that verify --deep accepts; a host rolled back to a
# backup is seen by verify --offsite (the bucket holds a newer head).
. "$TOP/tests/e2e/lib.sh"
. "$TOP/tests/e2e/rgw.sh"
command -v age >/dev/null && command -v minisign >/dev/null || skip "age or minisign missing"

rgw_start
rgw_bucket archive
generate 2 3 --min-seconds 1 --max-seconds 2 --start "$(date -d '3 days ago' +%F)"
cp "$(find "$PBXDIR" -name '*.wav' | sort | head -n 1)" "$T/src.wav"
start_pbx
"$NEXO" keygen -o "$T/id.txt" >"$T/recipient" || fail "keygen"
"$NEXO" keygen --sign -o "$T/sign.key" >/dev/null 2>&1 || fail "keygen --sign"
(umask 077 && printf '%s\n' "$RGW_SECRET" >"$T/s3.secret")
write_conf '[encryption]' "recipients = $(cat "$T/recipient")" \
	'[signing]' "secret_key_file = $T/sign.key" "public_key_file = $T/sign.key.pub" \
	'[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0' \
	'[cdr]' 'archive = true' 'delete_from_pbx = true' \
	'[offsite]' "url = $RGW_URL/archive/pbx1" "access_key = $RGW_KEY" \
	"secret_key_file = $T/s3.secret" 'lock_days = 30'

# 1. The gateway is down.
rgw_gateway_stop
nexo run
expect_rc 1
expect_summary archived 6
expect_summary deleted 0
[ "$(pbx_count)" -eq 6 ] || fail "deleted with no offsite copy"
grep -q 'offsite' <<<"$ERR" || fail "the outage is not said"
[ "$(manifest_events offsite)" -eq 0 ] || fail "offsite lines without a bucket"
# The sealed CDR days wait for their offsite copy too (found in the merge review).
[ "$(manifest_events cdr_archived)" -ge 1 ] || fail "no CDR day sealed in the outage run"
[ "$(manifest_events cdr_deleted)" -eq 0 ] || fail "CDR days deleted from the PBX with no offsite copy"

# 2. It is back.
rgw_gateway_start
"$NEXO" -v -c "$CONF" run >"$T/out" 2>"$T/err" && RC=0 || RC=$?
OUT=$(cat "$T/out"); ERR=$(cat "$T/err")
echo "$OUT"; tail -n 20 "$T/err"
expect_rc 0
expect_summary deleted 6
[ "$(pbx_count)" -eq 0 ] || fail "$(pbx_count) left on the PBX"
[ "$(manifest_events offsite)" -eq 6 ] || fail "$(manifest_events offsite) offsite lines, not 6"
! grep -rqF "$RGW_SECRET" "$T/out" "$T/err" || fail "the secret key reached the output"

# Every recording's object: its bytes are the stored ones, locked COMPLIANCE until day + 30.
cat "$ARCHIVE"/manifest/*.jsonl | jq -r 'select(.event=="archived") | "\(.file) \(.stored_sha256) \(.calldate[0:10])"' |
	while read -r file sum day; do
		enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$file")
		s3 GET "/archive/pbx1/$enc" >"$T/obj" || fail "GET $file: HTTP $(cat "$T/s3.status")"
		[ "$(sha256sum <"$T/obj" | cut -d' ' -f1)" = "$sum" ] || fail "$file: other bytes offsite"
		s3 HEAD "/archive/pbx1/$enc" -I -D "$T/head" >/dev/null || fail "HEAD $file"
		grep -qi '^x-amz-object-lock-mode: COMPLIANCE' "$T/head" || fail "$file: not COMPLIANCE"
		want=$(date -u -d "$day + 30 days" +%Y-%m-%dT00:00:00)
		grep -qi "^x-amz-object-lock-retain-until-date: $want" "$T/head" ||
			fail "$file: retain-until is not $want: $(grep -i retain "$T/head")"
		jq -se --arg f "$file" 'any(.[]; .event=="offsite" and .file==$f and .lock=="COMPLIANCE")' \
			"$ARCHIVE"/manifest/"$day".jsonl >/dev/null || fail "$file: no offsite line"
		vid=$(tr -d '\r' <"$T/head" | sed -n 's/^x-amz-version-id: //Ip')
		! s3 DELETE "/archive/pbx1/$enc?versionId=$vid" >/dev/null || fail "$file: a locked version was deleted"
	done

# The manifests, their signatures, the sealed CDR files and the newest head are there as they
# are here.
[ "$(ls "$ARCHIVE"/cdr/*.jsonl | wc -l)" -ge 2 ] || fail "no sealed CDR days"
[ "$(manifest_events cdr_offsite)" -ge 2 ] || fail "no cdr_offsite lines"
for f in "$ARCHIVE"/cdr/* "$ARCHIVE"/manifest/*.jsonl "$ARCHIVE"/manifest/*.minisig "$ARCHIVE"/manifest/heads/history.jsonl \
	"$(ls "$ARCHIVE"/manifest/heads/[0-9]*.json | tail -n 1)"; do
	rel=${f#"$ARCHIVE"/}
	s3 GET "/archive/pbx1/$rel" >"$T/obj" || fail "GET $rel: HTTP $(cat "$T/s3.status")"
	cmp -s "$f" "$T/obj" || fail "$rel differs offsite"
done

# 3. Nothing is uploaded twice; the bucket verifies against the manifests, bytes too.
nexo run
expect_rc 0
grep -q 'offsite: 0 uploaded' <<<"$OUT" || fail "a run with nothing new uploaded something"
nexo verify --offsite --deep -i "$T/id.txt"
expect_rc 0
grep -q ', 0 findings' <<<"$OUT" || fail "verify --offsite: $OUT"

# 3b. [retention] local_keep_days: the local copies confirmed offsite go ("offloaded"); the
# archive still verifies, here and offsite, and the next run uploads the re-signed days.
nexo -o retention.local_keep_days=1 prune
expect_rc 0
grep -q 'offload: 6 offloaded' <<<"$OUT" || fail "offload: $OUT"
[ "$(find "$ARCHIVE" -name '*.wav.age' | wc -l)" -eq 0 ] || fail "local copies left after offload"
[ "$(manifest_events offloaded)" -eq 6 ] || fail "no offloaded lines"
nexo run
expect_rc 0
nexo verify --offsite
expect_rc 0
grep -q ', 0 findings' <<<"$OUT" || fail "verify --offsite after offload: $OUT"

# 4. restore into an empty folder, then verify --deep accepts it as an archive.
nexo restore --to "$T/restored"
expect_rc 0
[ "$(find "$T/restored" -name '*.wav.age' | wc -l)" -eq 6 ] || fail "restore: not 6 recordings"
nexo -o "archive.dir=$T/restored" verify --deep -i "$T/id.txt"
expect_rc 0
grep -q '6 files checked.*, 0 findings' <<<"$OUT" || fail "the restored archive: $OUT"

# 5. Issue 14.3: a host rolled back to an older backup no longer matches the bucket's newest
# locked head.
cp -a "$ARCHIVE" "$T/backup"
add_recording "$(date -d '1 day ago 12:00' +%s)" "$T/src.wav" >/dev/null
nexo run
expect_rc 0
expect_summary archived 1
rm -rf "$ARCHIVE" && mv "$T/backup" "$ARCHIVE"
nexo verify --offsite
expect_rc 1
grep -q 'rolled back' <<<"$OUT" || fail "the rollback is not seen: $OUT"
echo "ok: offsite"
