#!/usr/bin/env bash
# Setup: a self-signed certificate for IP 127.0.0.1 (openssl); fakepbx --tls c.pem k.pem with
# 1 day x 6 recordings.
# Commands and expected results, each in a fresh archive:
#   [pbx] ca_file = c.pem              -> exit 0, "archived 6", manifest verifies
#   no ca_file (system trust only)     -> exit 4, stderr mentions the certificate, no .wav
#   [pbx] insecure = true              -> exit 0, "archived 6"
source "$TOP/tests/e2e/lib.sh"

command -v openssl >/dev/null || skip "openssl not installed"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/k.pem" -out "$T/c.pem" -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>"$T/openssl.err" ||
	fail "openssl req: $(cat "$T/openssl.err")"
generate 1 6 --min-seconds 1 --max-seconds 2
start_pbx --tls "$T/c.pem" "$T/k.pem"
case "$PBX_URL" in https://*) ;; *) fail "start_pbx did not give an https URL: $PBX_URL" ;; esac

ARCHIVE="$T/archive-ca"
write_conf '[pbx]' "ca_file = $T/c.pem"
nexo run
expect_rc 0
expect_summary archived 6
[ "$(check_manifest_hashes)" = 6 ] || fail "ca_file: manifest does not hold 6 matching hashes"

ARCHIVE="$T/archive-none"
write_conf
nexo run
expect_rc 4
grep -qi 'certificate' "$T/err" || fail "exit 4 without a word about the certificate: $ERR"
[ "$(archive_count)" -eq 0 ] || fail "files archived over an unverified connection"

ARCHIVE="$T/archive-insecure"
write_conf '[pbx]' 'insecure = true'
nexo run
expect_rc 0
expect_summary archived 6
[ "$(check_manifest_hashes)" = 6 ] || fail "insecure: manifest does not hold 6 matching hashes"
echo "ok"
