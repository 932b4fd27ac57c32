#!/usr/bin/env bash
# Runs the cmocka unit tests (TAP output) and the end-to-end tests (tests/e2e/t_*.sh, each in a
# fresh temp dir against a fresh fakepbx on 127.0.0.1), then prints "N passed, N failed".
# Env: BUILD (build dir), ONLY=unit|lint|fuzz|e2e, E2E_FILTER (substring of test names), JOBS (parallel
# e2e tests, default 2), FAKEPBX_END_BOUND (through|minute|exclusive; default: one a day).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$top/$BUILD" ;; esac
export BUILD TOP="$top"
pass=0
fail=0
skip=0
failed_names=()

run_e2e() {
	local t=$1 name dir rc
	name=$(basename "$t" .sh)
	dir=$(mktemp -d "${TMPDIR:-/tmp}/nexo-e2e.$name.XXXXXX")
	(cd "$dir" && T="$dir" timeout 300 bash "$t" >"$dir/test.log" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok - $name"
		rm -rf "$dir"
	elif [ $rc -eq 77 ]; then
		echo "skip - $name: $(tail -n 1 "$dir/test.log")"
		rm -rf "$dir"
	else
		echo "not ok - $name (exit $rc; log kept in $dir/test.log)"
		tail -n 25 "$dir/test.log" | sed 's/^/    /'
	fi
}

# One e2e test, its lines printed at once so that parallel tests do not interleave.
if [ "${1:-}" = --one ]; then
	out=$(run_e2e "$2")
	exec 9>>"${TMPDIR:-/tmp}/nexo-e2e.lock"
	flock 9
	printf '%s\n' "$out"
	exit 0
fi

if [ "${ONLY:-unit}" = unit ] || [ -z "${ONLY:-}" ]; then
	for bin in "$BUILD"/unit/test_*; do
		[ -x "$bin" ] || continue
		name=$(basename "$bin")
		out=$(cd "$top" && CMOCKA_MESSAGE_OUTPUT=TAP "$bin" 2>&1)
		rc=$?
		p=$(grep -cE '^ok [0-9]+' <<<"$out")
		# cmocka writes a skipped test as "not ok N # SKIP": TAP counts it as no failure.
		s=$(grep -cE '^not ok [0-9]+ # SKIP' <<<"$out")
		f=$(($(grep -cE '^not ok [0-9]+' <<<"$out") - s))
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ]; then f=1; fi
		[ "$s" -eq 0 ] || echo "unit $name: $s skipped (see its output)"
		if [ "$s" -gt 0 ] && [ "$f" -eq 0 ]; then
			echo "$out" | grep -E '# SKIP|skipp' | sed "s/^/  $name: /"
		fi
		pass=$((pass + p))
		fail=$((fail + f))
		if [ "$f" -gt 0 ]; then
			failed_names+=("$name")
			echo "$out" | grep -vE '^ok ' | sed "s/^/  $name: /"
		fi
		echo "unit $name: $p passed, $f failed"
	done
fi

# The lint's own tests: it must refuse what it is there to refuse (tests/lint/t_*.sh).
if [ "${ONLY:-lint}" = lint ] || [ -z "${ONLY:-}" ]; then
	for t in "$top"/tests/lint/t_*.sh; do
		[ -e "$t" ] || continue
		name=lint-$(basename "$t" .sh)
		if out=$(bash "$t" 2>&1); then
			echo "ok - $name"
			pass=$((pass + 1))
		else
			echo "not ok - $name"
			sed 's/^/    /' <<<"$out" | tail -n 20
			fail=$((fail + 1))
			failed_names+=("$name")
		fi
	done
fi

# The fuzz corpora and regressions, replayed under ASan+UBSan (tests/fuzz/replay.sh).
if [ "${ONLY:-fuzz}" = fuzz ] || [ -z "${ONLY:-}" ]; then
	out=$(BUILD="$BUILD" bash "$top/tests/fuzz/replay.sh" 2>&1)
	echo "$out"
	pass=$((pass + $(grep -c '^ok - fuzz replay' <<<"$out")))
	f=$(grep -c '^not ok - fuzz replay' <<<"$out")
	fail=$((fail + f))
	[ "$f" -gt 0 ] && failed_names+=("fuzz-replay")
fi

if [ "${ONLY:-e2e}" = e2e ] || [ -z "${ONLY:-}" ]; then
	# fakepbx reads a minute end bound one of the three ways the guide allows (through :59,
	# :00, :00 exclusive: docs/pbx-api.md); the suite runs under one of them, a different one
	# each day (FAKEPBX_END_BOUND picks it), and t_end_bound* under all three.
	if [ -z "${FAKEPBX_END_BOUND:-}" ]; then
		readings=(through minute exclusive)
		FAKEPBX_END_BOUND=${readings[$(($(date +%s) / 86400 % 3))]}
	fi
	export FAKEPBX_END_BOUND
	echo "e2e: fakepbx reads enddate as '$FAKEPBX_END_BOUND' this run (FAKEPBX_END_BOUND)"
	tests=$(ls "$top"/tests/e2e/t_*.sh 2>/dev/null | grep -F -- "${E2E_FILTER:-}" || true)
	if [ -n "$tests" ]; then
		results=$(printf '%s\n' $tests | xargs -P "${JOBS:-2}" -I{} bash "$0" --one {})
		echo "$results"
		pass=$((pass + $(grep -c '^ok - ' <<<"$results")))
		fail=$((fail + $(grep -c '^not ok - ' <<<"$results")))
		skip=$((skip + $(grep -c '^skip - ' <<<"$results")))
		while read -r line; do
			failed_names+=("$line")
		done < <(grep '^not ok - ' <<<"$results" | awk '{print $4}')
	fi
fi

[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]}"
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
