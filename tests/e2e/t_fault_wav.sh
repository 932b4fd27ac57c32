#!/usr/bin/env bash
# Recordings whose WAV header lies: wav-lying-header (RIFF and data sizes 160000 bytes more than
# there are) and wav-zero-header (both sizes 0: a recording still being written). The fault is
# on for every answer, always hitting the oldest recording (the first one asked for).
# Setup, each: a fresh fakepbx disk of 1 day x 4 recordings (1-2 s), an empty archive,
# [sync] invalid_retries = 2, retention on (delete_from_pbx = true, pbx_keep_days = 0).
#  Run 1: archived 3, deleted 3; the liar is discarded, not kept, not in the manifest, still on
#         the PBX. The lying header: exit 1, failed 1 ("not a valid WAV"). The zero header: a
#         recording still being written is no failure: exit 0, failed 0, "still being
#         recorded", the summary says the next run fetches it again.
#  Run 2: the same failure a 2nd run in a row: archived as it is, flagged (an "archived" line
#         with "invalid"), exit 1, the summary says so; the stored bytes are the ones sent
#         (the lying header kept); its PBX copy is not deleted.
#  Run 3: (-o sync.lookback=3d, fault still on) nothing new; retention sees it and still does
#         not delete it; the PBX keeps exactly that one recording.
# After every run: the invariant (check_invariant) — except that the flagged file's hash
# differs from the PBX original's, since the fake changed the bytes it sent — and every real
# deletion has its pbx_deleted line.
source "$TOP/tests/e2e/lib.sh"

FAULT_CONF=('[sync]' 'invalid_retries = 2' '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')

# wav_check PATH: fault_check, tolerating only "archived with a different hash: PATH".
wav_check() {
	local out
	out=$(check_invariant) || {
		out=$(grep -vxF "archived with a different hash: $1" <<<"$out" || true)
		[ -z "$out" ] || fail "invariant: $(tr '\n' ';' <<<"$out")"
	}
	check_deleted_log >/dev/null
}

# expect_riff_size FILE VALUE: the RIFF size field (bytes 4..7, little-endian) of FILE.
expect_riff_size() {
	python3 - "$1" "$2" <<'PY' || fail "$1: RIFF size is not $2"
import struct, sys
with open(sys.argv[1], "rb") as f:
    head = f.read(8)
sys.exit(0 if struct.unpack("<I", head[4:8])[0] == int(sys.argv[2]) else 1)
PY
}

case_wav() {
	local fault=$1 liar file size
	fault_fresh 1 4 --min-seconds 1 --max-seconds 2
	liar=$(head -n 1 "$T/originals" | cut -d' ' -f1)
	size=$(stat -c %s "$PBXDIR/$liar")
	fault_serve --fault "$fault"

	fault_run run
	wav_check "$liar"
	expect_summary archived 3
	expect_summary deleted 3
	if [ "$fault" = wav-lying-header ]; then
		expect_rc 1
		expect_summary failed 1
		grep -qF "$liar: not a valid WAV" "$T/err" ||
			fail "run 1: the bad header is not reported for $liar"
	else
		expect_rc 0
		expect_summary failed 0
		grep -qF "$liar: still being recorded" "$T/err" ||
			fail "run 1: the unfinished header is not reported for $liar"
		grep -q '^1 recordings are still being recorded' <<<"$OUT" ||
			fail "run 1: the summary does not say a recording is still being recorded"
	fi
	! manifest_paths archived | grep -xF "$liar" >/dev/null || fail "run 1: $liar archived at once"
	[ -z "$(find "$ARCHIVE" -path "$ARCHIVE/.state" -prune -o -name "$(basename "$liar")*" -print)" ] ||
		fail "run 1: the discarded file was kept"
	[ -f "$PBXDIR/$liar" ] || fail "run 1: $liar left the PBX"

	fault_run run
	wav_check "$liar"
	expect_rc 1
	expect_summary archived 1
	grep -q 'flagged invalid' <<<"$OUT" || fail "run 2: the summary does not mention the flagged recording"
	grep -F "\"pbx_path\":\"$liar\"" "$ARCHIVE"/manifest/*.jsonl | grep -q '"event":"archived".*"invalid"' ||
		fail "run 2: no archived line flagged invalid for $liar"
	file=$(find "$ARCHIVE" -path "$ARCHIVE/.state" -prune -o -name "$(basename "$liar")" -type f -print)
	[ -n "$file" ] || fail "run 2: no archived file for $liar"
	if [ "$fault" = wav-lying-header ]; then
		expect_riff_size "$file" $((size - 8 + 160000))
	else
		expect_riff_size "$file" 0
	fi
	[ -f "$PBXDIR/$liar" ] || fail "run 2: the flagged recording was deleted from the PBX"

	fault_run -o sync.lookback=3d run
	wav_check "$liar"
	[ "$RC" -le 1 ] || fail "run 3: exit $RC"
	[ -f "$PBXDIR/$liar" ] || fail "run 3: the flagged recording was deleted from the PBX"
	[ "$(pbx_count)" -eq 1 ] || fail "run 3: $(pbx_count) recordings on the PBX, expected only the flagged one"
	[ "$(deleted_count)" -eq 3 ] || fail "run 3: $(deleted_count) deletions, expected 3"
	[ "$(manifest_paths archived | grep -cxF "$liar")" -eq 1 ] || fail "$liar archived more than once"
}

fault_case wav_lying_header case_wav wav-lying-header
fault_case wav_zero_header case_wav wav-zero-header
fault_cases_done
