#!/usr/bin/env bash
# The offsite tests' S3 server (tests/e2e/rgw.sh) does what they rely on: a bucket with Object
# Lock, a PUT checked against its Content-MD5 and x-amz-content-sha256, a COMPLIANCE lock that
# HEAD reports and that refuses the deletion of the locked version.
. "$TOP/tests/e2e/lib.sh"
. "$TOP/tests/e2e/rgw.sh"

t0=$(date +%s%N)
rgw_start
echo "rgw up in $((($(date +%s%N) - t0) / 1000000)) ms"
rgw_bucket locked
s3 GET '/locked?object-lock=' | grep -q '<ObjectLockEnabled>Enabled</ObjectLockEnabled>' ||
	fail "the bucket has no Object Lock: $(cat "$T/s3.body")"
rgw_bucket plain nolock
! s3 GET '/plain?object-lock=' >/dev/null || fail "a bucket without Object Lock says it has one"

printf 'hello\n' >"$T/f"
sha=$(sha256sum "$T/f" | cut -d' ' -f1)
md5=$(openssl dgst -md5 -binary "$T/f" | base64)
until=$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)
put() {
	s3 PUT "/locked/a/b%28c%29.wav" -T "$T/f" -H "x-amz-content-sha256: $1" -H "Content-MD5: $2" \
		-H "x-amz-object-lock-mode: COMPLIANCE" -H "x-amz-object-lock-retain-until-date: $until" \
		-D "$T/put.headers" >/dev/null
}
! put "$EMPTY_SHA256" "$md5" || fail "a wrong x-amz-content-sha256 was accepted"
! put "$sha" "$(printf x | openssl dgst -md5 -binary | base64)" || fail "a wrong Content-MD5 was accepted"
[ "$(cat "$T/s3.status")" = 400 ] || fail "a wrong Content-MD5: HTTP $(cat "$T/s3.status"), expected 400"
put "$sha" "$md5" || fail "PUT: HTTP $(cat "$T/s3.status"): $(cat "$T/s3.body")"
vid=$(tr -d '\r' <"$T/put.headers" | sed -n 's/^x-amz-version-id: //Ip')
[ -n "$vid" ] || fail "no version id"
s3 HEAD "/locked/a/b%28c%29.wav" -D "$T/head" -o /dev/null -I >/dev/null || fail "HEAD"
grep -qi '^x-amz-object-lock-mode: COMPLIANCE' "$T/head" || fail "no lock: $(cat "$T/head")"
grep -qi "^x-amz-object-lock-retain-until-date: ${until%Z}" "$T/head" || fail "retain-until: $(cat "$T/head")"
! s3 DELETE "/locked/a/b%28c%29.wav?versionId=$vid" >/dev/null || fail "a locked version was deleted"
s3 GET "/locked/a/b%28c%29.wav" >"$T/back" || fail "GET"
cmp -s "$T/f" "$T/back" || fail "the object's bytes differ"
echo "ok: rgw harness"
