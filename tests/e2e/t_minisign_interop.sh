#!/usr/bin/env bash
# Setup: no PBX; the real `minisign` (skip when it is not installed); a 300 kB random file F.
# Command: nexo-archive keygen --sign -o $T/k, then minisign itself signs F with that key and
# verifies it; again keygen over the same name, keygen with usage errors, keygen into a
# missing folder, keygen with the default name.
# Expected: keygen exits 0 and makes k (0600, an unencrypted minisign secret key: minisign -S
# signs with it without asking for a password) and k.pub (0644, "untrusted comment: minisign
# public key <KEYID>" and the key); stdout is the public key string, then the path of k.pub.
# `minisign -V -p k.pub` and `minisign -V -P <string>` accept the signature and print its
# trusted comment; after one byte of F changes both refuse it. A second keygen over k exits 1
# and changes neither file; with an extra argument or an unknown option it exits 2 and makes
# nothing; into a missing folder it exits 1 and leaves nothing; with no -o it makes
# ./nexo-archive.key and ./nexo-archive.key.pub.
# (Our own signatures against minisign, and minisign's -W keys and signatures in our code, are
# covered by tests/unit/test_minisign.c.)
source "$TOP/tests/e2e/lib.sh"

command -v minisign >/dev/null || skip "minisign is not installed"

mode_of() {
	stat -c %a "$1"
}

# keygen ARGS...: runs nexo-archive keygen; sets RC, OUT and ERR; never fails.
keygen() {
	set +e
	"$NEXO" keygen "$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
	set -e
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	echo "--- nexo-archive keygen $* -> exit $RC"
	cat "$T/out"
	sed 's/^/    stderr: /' "$T/err"
}

keygen --sign -o "$T/k"
expect_rc 0
for f in "$T/k" "$T/k.pub"; do [ -f "$f" ] || fail "keygen did not make $f"; done
[ "$(mode_of "$T/k")" = 600 ] || fail "k has mode $(mode_of "$T/k"), not 600"
[ "$(mode_of "$T/k.pub")" = 644 ] || fail "k.pub has mode $(mode_of "$T/k.pub"), not 644"
[ "$(wc -l <"$T/k.pub")" -eq 2 ] || fail "k.pub is not two lines"
grep -qE '^untrusted comment: minisign public key [0-9A-F]{16}$' <(head -n 1 "$T/k.pub") ||
	fail "k.pub line 1: $(head -n 1 "$T/k.pub")"
pub=$(sed -n 2p "$T/k.pub")
[[ "$pub" =~ ^RW[A-Za-z0-9+/]{54}$ ]] || fail "k.pub line 2 is not a public key: $pub"
[ "$(sed -n 1p "$T/out")" = "$pub" ] || fail "stdout line 1 is not the public key"
[ "$(sed -n 2p "$T/out")" = "$T/k.pub" ] || fail "stdout line 2 is not $T/k.pub"
[ "$(wc -l <"$T/out")" -eq 2 ] || fail "stdout is not two lines"

# minisign signs with our secret key, unattended: stdin is /dev/null, so a password prompt
# would fail.
head -c 300000 /dev/urandom >"$T/F"
minisign -S -s "$T/k" -m "$T/F" -t "e2e trusted comment" </dev/null ||
	fail "minisign -S cannot use the secret key keygen made"
[ "$(wc -l <"$T/F.minisig")" -eq 4 ] || fail "F.minisig is not 4 lines"
minisign -V -m "$T/F" -p "$T/k.pub" >"$T/v1" || fail "minisign -V -p k.pub refused the signature"
grep -qF 'e2e trusted comment' "$T/v1" || fail "minisign -V did not print the trusted comment"
minisign -V -m "$T/F" -P "$pub" >/dev/null || fail "minisign -V -P refused the signature"

# One byte of F changed (xor 1): both refuse.
flip_byte "$T/F" 150000
if minisign -V -m "$T/F" -p "$T/k.pub" >/dev/null 2>&1; then
	fail "minisign -V -p accepted a changed file"
fi
if minisign -V -m "$T/F" -P "$pub" >/dev/null 2>&1; then
	fail "minisign -V -P accepted a changed file"
fi

# Never overwrite: both files stay as they were.
sums=$(sha256sum "$T/k" "$T/k.pub")
keygen --sign -o "$T/k"
expect_rc 1
grep -q 'exists' <<<"$ERR" || fail "second keygen: stderr does not say the key exists: $ERR"
[ "$(sha256sum "$T/k" "$T/k.pub")" = "$sums" ] || fail "second keygen changed the key files"
[ -z "$OUT" ] || fail "second keygen printed on stdout: $OUT"

# Usage errors: an extra argument, an unknown option.
keygen --sign -o "$T/k2" extra
expect_rc 2
keygen --sign --bogus -o "$T/k2"
expect_rc 2
for f in "$T/k2" "$T/k2.pub"; do [ ! -e "$f" ] || fail "keygen with a usage error made $f"; done

# A folder that does not exist: exit 1, nothing left.
keygen --sign -o "$T/missing/k"
expect_rc 1
[ ! -e "$T/missing" ] || fail "keygen made the missing folder"

# The default name, in the current folder.
mkdir "$T/here"
(cd "$T/here" && "$NEXO" keygen --sign >"$T/out" 2>"$T/err") || fail "keygen --sign: $(cat "$T/err")"
for f in "$T/here/nexo-archive.key" "$T/here/nexo-archive.key.pub"; do
	[ -f "$f" ] || fail "keygen --sign did not make $f"
done
[ "$(mode_of "$T/here/nexo-archive.key")" = 600 ] || fail "nexo-archive.key is not 600"
echo "ok"
