#!/usr/bin/env bash
# Regression (found by an attacking review): two recordings whose files get the same name in one
# batch. Path P = D/X.wav grown (version 2: file X.v2.wav) and another recording Q = D/X.v2.wav
# (its dst ends in ".v2", e.g. a SIP user "bob.v2"; version 1: file X.v2.wav) have different
# base names, so plan_fetch puts them in the same round and batch. The second commit finds
# X.v2.wav taken but not yet named by any manifest line (lines are written when the batch
# settles) and replaces it: the first recording's archived bytes are gone, and two archived
# lines name one file.
source "$TOP/tests/e2e/lib.sh"

case_same_name_one_batch() {
	fault_fresh 1 1 --min-seconds 2 --max-seconds 3
	local p q stem hq hp
	p=$(head -n 1 "$T/originals" | cut -d' ' -f1)
	FAULT_CONF=()
	fault_serve
	fault_run run
	fault_check
	expect_rc 0
	stem=${p%.wav}
	q="$stem.v2.wav"
	hp=$(write_wav "$p" 6 3)   # P grew: its listing changed, version 2 is due
	hq=$(write_wav "$q" 4 9)   # Q: another call, whose name ends in ".v2"
	remember_originals
	fault_run -o sync.lookback=3d run
	expect_rc 0
	nexo verify
	[ "$RC" -eq 0 ] || fail "verify after a clean run (exit 0): $OUT"
	fault_check
}

fault_case same_name_one_batch case_same_name_one_batch
fault_cases_done
