#!/usr/bin/env bash
# run.sh — builds the libFuzzer harnesses (clang, -fsanitize=fuzzer,address,undefined) into
# build/fuzz/ and runs each one in turn, never two at once, for SECONDS (default 60).
#   bash tests/fuzz/run.sh [SECONDS] [TARGET...]        (targets: see lib.sh; default all)
#   bash tests/fuzz/run.sh --minimize TARGET CRASH_FILE  (writes CRASH_FILE.min; MIN_SECONDS=60)
# Each target fuzzes a working copy of its corpus, build/fuzz/corpus/TARGET/ (new inputs go
# there; the committed seeds in tests/fuzz/corpus/TARGET/ are only read), with its dictionary
# tests/fuzz/TARGET.dict when there is one. It runs in libFuzzer's fork mode with
# -ignore_crashes=1, so a known bug does not stop the run: every crash, leak or timeout is
# kept in build/fuzz/artifacts/TARGET/ and listed at the end. Minimize one with --minimize
# and commit it to tests/fuzz/regressions/TARGET/ (replay.sh then replays it in make check).
# Env: FUZZ_CC (default clang-14, else clang), FUZZ_FLAGS (more libFuzzer flags),
# FUZZ_TARGETS (the targets when none is named).
# Output: the libFuzzer log of each target in build/fuzz/logs/TARGET.log, one summary line per
# target (execs, exec/s, coverage, corpus, crashes), and the seconds fuzzed are added to
# build/fuzz/ledger.tsv (date, target, seconds, execs, cov, ft) so the total per target
# can be followed (docs/reliability.md, "Fuzzing").
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/fuzz/lib.sh"
OUT="$TOP/build/fuzz"

CC_FUZZ=${FUZZ_CC:-$(command -v clang-14 || command -v clang || true)}
if [ -z "$CC_FUZZ" ]; then
	echo "run.sh: clang is needed for libFuzzer (apt-get install clang)" >&2
	exit 1
fi
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS_FUZZ="$SAN -g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra"

build() {
	echo "building the fuzzers with $CC_FUZZ in $OUT"
	fuzz_build "$OUT" "$CC_FUZZ" "$CFLAGS_FUZZ" "$SAN" "" "$@"
}

if [ "${1:-}" = --minimize ]; then
	t=$2 crash=$3
	build "$t" || exit 1
	"$OUT/fuzz_$t" -minimize_crash=1 -max_total_time=${MIN_SECONDS:-60} -close_fd_mask=2 \
		-exact_artifact_path="$crash.min" "$crash" </dev/null
	ls -l "$crash.min"
	exit 0
fi

secs=${1:-60}
shift || true
targets=${*:-$FUZZ_TARGETS}
build $targets || { echo "run.sh: build failed" >&2; exit 1; }

mkdir -p "$OUT/logs" "$OUT/tmp"
export TMPDIR="$OUT/tmp" # the config and manifest harnesses make their temp dirs here
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
summary=()
for t in $targets; do
	corpus="$OUT/corpus/$t"
	art="$OUT/artifacts/$t"
	log="$OUT/logs/$t.log"
	mkdir -p "$corpus" "$art"
	dict=()
	[ -f "$TOP/tests/fuzz/$t.dict" ] && dict=(-dict="$TOP/tests/fuzz/$t.dict")
	echo "fuzzing $t for ${secs}s (log: $log)"
	# shellcheck disable=SC2086
	"$OUT/fuzz_$t" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
		-max_total_time="$secs" -max_len="$(fuzz_max_len "$t")" -rss_limit_mb=2048 \
		-timeout=10 -close_fd_mask=2 -print_final_stats=1 "${dict[@]}" \
		-artifact_prefix="$art/" ${FUZZ_FLAGS:-} \
		"$corpus" "$TOP/tests/fuzz/corpus/$t" </dev/null >"$log" 2>&1
	rc=$?
	# fork mode's jobs end without atexit(): their private temp dirs are left behind.
	rm -rf "$OUT/tmp"/nexo-fuzz-* "$OUT/tmp"/libFuzzerTemp.*
	# The last status line: "#N: cov: C ft: F corp: K exec/s: E ..." (fork mode).
	last=$(grep -E '^#[0-9]+: cov: ' "$log" | tail -n 1)
	execs=$(sed -nE 's/^#([0-9]+): .*/\1/p' <<<"$last")
	cov=$(sed -nE 's/.* cov: ([0-9]+) .*/\1/p' <<<"$last")
	ft=$(sed -nE 's/.* ft: ([0-9]+) .*/\1/p' <<<"$last")
	corp=$(sed -nE 's/.* corp: ([0-9]+) .*/\1/p' <<<"$last")
	eps=$(sed -nE 's/.* exec\/s:? ([0-9]+) .*/\1/p' <<<"$last")
	crashes=$(find "$art" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
		-o -name 'oom-*' \) | wc -l)
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$secs" "${execs:-0}" \
		"${cov:-?}" "${ft:-?}" >>"$OUT/ledger.tsv"
	line=$(printf '%-9s %5ss  execs %-9s exec/s %-6s cov %-5s ft %-6s corpus %-5s artifacts %s (exit %d)' \
		"$t" "$secs" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$crashes" "$rc")
	echo "$line"
	summary+=("$line")
done
echo
echo "summary:"
printf '  %s\n' "${summary[@]}"
echo "seconds fuzzed so far per target (build/fuzz/ledger.tsv):"
awk -F'\t' '{s[$2]+=$3} END {for (t in s) printf "  %-9s %6d s\n", t, s[t]}' "$OUT/ledger.tsv" | sort
found=$(find "$OUT/artifacts" -type f | sort)
if [ -n "$found" ]; then
	echo "artifacts kept (minimize: bash tests/fuzz/run.sh --minimize TARGET FILE):"
	printf '  %s\n' $found
fi
