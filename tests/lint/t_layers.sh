#!/usr/bin/env bash
# tests/lint/layers.py must pass on src/ as it is, and fail — naming the file, the line and the
# include — on a copy of src/ with (1) an upward include, (2) a circle of two modules inside a
# folder, (3) a lower layer's header spelled without its folder, (4) a file outside the layers.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
lint="$top/tests/lint/layers.py"
work=$(mktemp -d "${TMPDIR:-/tmp}/nexo-lint.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out=$(python3 "$lint" "$top/src") || fail "src/ itself does not pass: $out"

# expect_refusal NAME PATTERN: the lint of $work/src fails and prints PATTERN.
expect_refusal() {
	local out rc
	out=$(python3 "$lint" "$work/src")
	rc=$?
	[ "$rc" -eq 1 ] || fail "$1: exit $rc, expected 1: $out"
	grep -qE "$2" <<<"$out" || fail "$1: no line matching '$2' in: $out"
	echo "ok: $1 refused: $(grep -E "$2" <<<"$out" | head -n 1)"
}
fresh() { rm -rf "$work/src" && cp -r "$top/src" "$work/src"; }

fresh
sed -i '0,/^#include "log.h"/s//#include "log.h"\n#include "run\/job.h"/' "$work/src/base/log.c"
expect_refusal "an upward include" \
	'src/base/log\.c:[0-9]+: #include "run/job\.h": base/ may not use run/, a higher layer'

fresh
sed -i '0,/^#include "batch.h"/s//#include "batch.h"\n#include "lanes.h"/' "$work/src/run/fetch.c"
expect_refusal "a circle inside a folder" 'src/run/(fetch|lanes)\.c:[0-9]+: import circle in run/: (fetch -> lanes -> fetch|lanes -> fetch -> lanes)'

fresh
sed -i 's|^#include "base/log.h"|#include "log.h"|' "$work/src/pbx/csv.c"
expect_refusal "a lower header without its folder" 'src/pbx/csv\.c:[0-9]+: #include "log\.h": no pbx/log\.h'

fresh
cp "$work/src/base/utf8.c" "$work/src/stray.c"
expect_refusal "a file outside the layers" 'src/stray\.c:1: lies directly in'
echo ok
