#!/usr/bin/env bash
# Help needs no config (issue 15).
# Setup: none: -c names a file that does not exist.
# Commands: --version; --help; help; help COMMAND, COMMAND --help and COMMAND -h for every
# command --help lists; help of an unknown command.
# Expected: exit 0 with the version (the VERSION file's) or the command's usage on stdout, and
# nothing on stderr; an unknown command's help exits 2.
source "$TOP/tests/e2e/lib.sh"

none="$T/no-such.conf"
out=$("$NEXO" -c "$none" --version 2>"$T/err") || fail "--version exited $?"
[ "$out" = "nexo-archive $(cat "$TOP/VERSION") (archive format 1)" ] || fail "--version says: $out"
[ ! -s "$T/err" ] || fail "--version wrote to stderr: $(cat "$T/err")"
"$NEXO" -c "$none" --help >"$T/help" 2>"$T/err" || fail "--help exited $?"
"$NEXO" -c "$none" help >"$T/help2" 2>>"$T/err" || fail "help exited $?"
cmp -s "$T/help" "$T/help2" || fail "help and --help differ"
[ ! -s "$T/err" ] || fail "help wrote to stderr: $(cat "$T/err")"

commands=$(sed -n '/^commands:/,/^$/p' "$T/help" | grep -oE '^  [a-z]+' | tr -d ' ' | sort -u)
[ "$(wc -w <<<"$commands")" -ge 13 ] || fail "too few commands in --help: $commands"
for c in $commands; do
	for form in "help $c" "$c --help" "$c -h"; do
		# shellcheck disable=SC2086 # the form is words on purpose
		"$NEXO" -c "$none" $form >"$T/out" 2>"$T/err" || fail "'$form' exited $?: $(cat "$T/err")"
		grep -qE "^usage: nexo-archive .*\b$c\b" "$T/out" || fail "'$form' prints no usage of $c: $(head -n 3 "$T/out")"
		[ ! -s "$T/err" ] || fail "'$form' wrote to stderr: $(cat "$T/err")"
	done
done
# A command's options may come before --help: still help, still no config.
"$NEXO" -c "$none" backfill --from 2024-01-01 --help >"$T/out" 2>"$T/err" ||
	fail "backfill --from X --help exited $?"
set +e
"$NEXO" -c "$none" help no-such-command >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "help of an unknown command exited $rc"
grep -q "no such command" "$T/err" || fail "no message for an unknown command: $(cat "$T/err")"
echo "ok ($(wc -w <<<"$commands") commands)"
