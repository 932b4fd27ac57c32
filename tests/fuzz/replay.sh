#!/usr/bin/env bash
# replay.sh — the fuzz corpora as a quick regression test (seconds; meant for make check).
# Builds each harness without libFuzzer, with ASan+UBSan, linked to replay_main.c, into
# build/fuzz/replay/, and runs it over every file of tests/fuzz/corpus/TARGET/ and
# tests/fuzz/regressions/TARGET/. Prints "ok - fuzz replay TARGET (N inputs)" or
# "not ok - fuzz replay TARGET ..." (with the end of the log) per target; exits 1 on any
# failure. Env: REPLAY_CC (default cc), BUILD (default build; the binaries go to
# $BUILD/fuzz/replay), FUZZ_TARGETS (a subset).
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/fuzz/lib.sh"
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
OUT="$BUILD/fuzz/replay"
CC_REPLAY=${REPLAY_CC:-cc}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS_REPLAY="$SAN -g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra"

mkdir -p "$OUT/tmp"
if ! blog=$(fuzz_build "$OUT" "$CC_REPLAY" "$CFLAGS_REPLAY" "$SAN" \
	"$TOP/tests/fuzz/replay_main.c" $FUZZ_TARGETS 2>&1); then
	echo "not ok - fuzz replay: build failed"
	tail -n 30 <<<"$blog" | sed 's/^/    /'
	exit 1
fi

export TMPDIR="$OUT/tmp"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
for t in $FUZZ_TARGETS; do
	files=()
	for d in "$TOP/tests/fuzz/corpus/$t" "$TOP/tests/fuzz/regressions/$t"; do
		[ -d "$d" ] || continue
		while IFS= read -r -d '' f; do
			files+=("$f")
		done < <(find "$d" -type f ! -name 'README*' -print0 | sort -z)
	done
	log="$OUT/$t.log"
	# In a subshell that waits, so that "Aborted" for a crashing input goes to /dev/null.
	if ("$OUT/fuzz_$t" "${files[@]}" </dev/null >"$log" 2>&1; exit $?) 2>/dev/null; then
		echo "ok - fuzz replay $t (${#files[@]} inputs)"
	else
		echo "not ok - fuzz replay $t (${#files[@]} inputs; log kept in $log)"
		{
			grep 'replay: ' "$log" | tail -n 1
			grep -E -A1 'fuzz invariant|ERROR: |runtime error' "$log" | head -n 4
		} | sed 's/^/    /'
		failed=1
	fi
	rm -rf "$OUT/tmp"/nexo-fuzz-* # left by an input that crashed (no atexit then)
done
exit $failed
