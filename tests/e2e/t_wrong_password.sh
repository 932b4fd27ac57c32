#!/usr/bin/env bash
# Setup: fakepbx --user archivist --password 'Pbx-Right-51'; the config says username archivist
# and its password_file holds 'Wr0ng-Secret-77'.
# Command: nexo-archive run, then nexo-archive -v run.
# Expected: both exit 5; stderr says the login was refused and names the user "archivist";
# neither the configured password nor its MD5 (lower or upper case) appears on stdout or
# stderr; nothing is archived.
source "$TOP/tests/e2e/lib.sh"

generate 1 3 --min-seconds 1 --max-seconds 1
start_pbx --user archivist --password 'Pbx-Right-51'
write_conf '[pbx]' 'username = archivist'
printf 'Wr0ng-Secret-77\n' >"$T/password"
secret='Wr0ng-Secret-77'
md5=$(printf '%s' "$secret" | md5sum | cut -d' ' -f1)
md5_upper=$(tr a-f A-F <<<"$md5")

for flags in "" "-v"; do
	# shellcheck disable=SC2086
	nexo $flags run
	expect_rc 5
	grep -qi 'refused' "$T/err" || fail "run $flags: stderr does not say the login was refused: $ERR"
	grep -q 'archivist' "$T/err" || fail "run $flags: stderr does not name the user: $ERR"
	for s in "$secret" "$md5" "$md5_upper"; do
		if grep -qF -- "$s" "$T/out" "$T/err"; then fail "run $flags: '$s' printed"; fi
	done
done
[ "$(archive_count)" -eq 0 ] || fail "files archived without a login"

# Control: the right password logs in, so the refusal above was about the password.
printf 'Pbx-Right-51\n' >"$T/password"
nexo run
expect_rc 0
expect_summary archived 3
echo "ok"
