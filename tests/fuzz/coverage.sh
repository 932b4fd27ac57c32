#!/usr/bin/env bash
# coverage.sh — line and branch coverage of each fuzz target's module over its corpus: the
# committed seeds, the regressions and (when present) the working corpus run.sh grew in
# build/fuzz/corpus/. Builds with clang's source-based coverage and replay_main.c into
# build/fuzz/cov/, then prints llvm-cov's summary of the module under test (src/LAYER/TARGET.c).
#   bash tests/fuzz/coverage.sh [TARGET...]
# Env: FUZZ_CC (default clang-14), LLVM_SUFFIX (default -14: llvm-profdata-14, llvm-cov-14).
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
. "$TOP/tests/fuzz/lib.sh"
OUT="$TOP/build/fuzz/cov"
CC_COV=${FUZZ_CC:-$(command -v clang-14 || command -v clang)}
SFX=${LLVM_SUFFIX--14}
FLAGS="-fprofile-instr-generate -fcoverage-mapping -g -O0 -std=gnu11 -D_GNU_SOURCE"
targets=${*:-$FUZZ_TARGETS}

fuzz_build "$OUT" "$CC_COV" "$FLAGS" "-fprofile-instr-generate" "$TOP/tests/fuzz/replay_main.c" \
	$targets >/dev/null || { echo "coverage.sh: build failed" >&2; exit 1; }
mkdir -p "$OUT/tmp" "$OUT/prof"
export TMPDIR="$OUT/tmp"
for t in $targets; do
	files=()
	for d in "$TOP/tests/fuzz/corpus/$t" "$TOP/tests/fuzz/regressions/$t" \
		"$TOP/build/fuzz/corpus/$t"; do
		[ -d "$d" ] || continue
		while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$d" -type f -print0)
	done
	rm -f "$OUT/prof/$t".*
	# One process per input: a crashing one (a known bug) writes no profile, and loses
	# only itself.
	for ((i = 0; i < ${#files[@]}; i++)); do
		(LLVM_PROFILE_FILE="$OUT/prof/$t.$i.profraw" "$OUT/fuzz_$t" "${files[i]}" \
			</dev/null; true) >/dev/null 2>&1
	done
	"llvm-profdata$SFX" merge -o "$OUT/prof/$t.profdata" "$OUT/prof/$t".*.profraw || continue
	mod=$(fuzz_sources "$t" | cut -d' ' -f1) # the module under test comes first
	"llvm-cov$SFX" report "$OUT/fuzz_$t" -instr-profile="$OUT/prof/$t.profdata" \
		"$(fuzz_module_src "$mod")" | awk -v t="$t" -v n="${#files[@]}" -v m="$mod" '/^TOTAL/ {
		printf "%-9s %5d inputs  src/%s.c: lines %s, branches %s, regions %s, functions %s\n",
			t, n, m, $10, $13, $4, $7 }'
done
