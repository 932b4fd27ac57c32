#!/usr/bin/env bash
# The man pages are clean and cannot drift from the program (issue 15).
# Checks: `mandoc -Tlint` reports nothing on man/nexo-archive.1 and man/nexo-archive.conf.5 (but
# "referenced manual not found", which names pages of other packages, or of this one before it
# is installed); every key of conf/nexo-archive.conf is an `.It Ic KEY` of its section in the
# (5) page, and every key src/base/config_keys.c parses is in conf/nexo-archive.conf; the
# commands of `nexo-archive --help` are exactly the `.It Cm` commands of the (1) page, and each
# is named in the README; every exit code of src/base/exitcode.h is in the (1) page's EXIT
# STATUS.
source "$TOP/tests/e2e/lib.sh"

command -v mandoc >/dev/null || fail "mandoc is missing (make deps-dev installs it)"
man1="$TOP/man/nexo-archive.1"
man5="$TOP/man/nexo-archive.conf.5"
lint=$(mandoc -Tlint "$man1" "$man5" 2>&1 | grep -v -e 'referenced manual not found' -e 'outdated mandoc.db' || true)
[ -z "$lint" ] || fail "mandoc -Tlint: $lint"

python3 - "$TOP/conf/nexo-archive.conf" "$man5" "$TOP/src/base/config_keys.c" <<'PY' || fail "config keys"
import re, sys
conf, man, src = (open(p, encoding="utf-8").read() for p in sys.argv[1:4])
keys, sec = set(), None
for line in conf.splitlines():
    m = re.match(r"^\[([a-z]+)\]", line)
    if m:
        sec = m.group(1)
    m = re.match(r"^#?([a-z_0-9]+) = ", line)
    if m and sec:
        keys.add((sec, m.group(1)))
documented, sec = set(), None
for line in man.splitlines():
    m = re.match(r"^\.Ss \[([a-z]+)\]", line)
    if m:
        sec = m.group(1)
    if line.startswith(".It ") and sec:
        for k in re.findall(r"\bIc ([a-z_0-9]+)", line):
            documented.add((sec, k))
missing = sorted(keys - documented)
if missing:
    sys.exit("keys of conf/nexo-archive.conf missing from nexo-archive.conf(5): %s" % missing)
extra = sorted(documented - keys)
if extra:
    sys.exit("keys in nexo-archive.conf(5) that the example config lacks: %s" % extra)
parsed = set(re.findall(r'strcmp\(k, "([a-z_0-9]+)"\)', src))
if len(parsed) < 40:
    sys.exit("found only %d keys in config_keys.c: has the parser moved?" % len(parsed))
lacking = sorted(parsed - {k for _, k in keys})
if lacking:
    sys.exit("keys config_keys.c parses that conf/nexo-archive.conf lacks: %s" % lacking)
print("%d keys" % len(keys))
PY

"$NEXO" --help >"$T/help"
help_cmds=$(sed -n '/^commands:/,/^$/p' "$T/help" | grep -oE '^  [a-z]+' | tr -d ' ' | sort -u)
man_cmds=$(sed -n '/^\.Sh COMMANDS/,/^\.Sh /p' "$man1" | grep -oE '^\.It Cm [a-z]+' | awk '{print $3}' | sort -u)
[ "$help_cmds" = "$man_cmds" ] || fail "--help and nexo-archive(1) list different commands: $(diff <(echo "$help_cmds") <(echo "$man_cmds") | tr '\n' ' ')"
for c in $help_cmds; do
	[ "$c" = help ] && continue
	grep -qE "\`$c\b|\b$c\` " "$TOP/README.md" || fail "the README does not name the command $c"
done
codes=$(grep -oE '= [0-9]+,' "$TOP/src/base/exitcode.h" | grep -oE '[0-9]+')
exits=$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$man1" | grep -oE '^\.It [0-9]+' | awk '{print $2}')
[ "$(echo $codes)" = "$(echo $exits)" ] || fail "exit codes: exitcode.h has $(echo $codes), the man page $(echo $exits)"
echo "ok: $(wc -w <<<"$help_cmds") commands, exit codes $(echo $codes)"
