#!/usr/bin/env bash
# Deleted bytes = archived bytes. A recording that changed on the PBX after it was archived, a
# name re-used after its deletion, and another PBX path with the same base name are each
# archived as a file of their own, nothing archived is ever overwritten, and retention deletes
# only bytes that an "archived" line carries. In every case: the invariant (check_invariant:
# every deleted file's sha256, from fakepbx's delete log, is an archived version's; no orphan,
# no file named twice) and `verify` with no finding.
source "$TOP/tests/e2e/lib.sh"

RETENTION=('[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')

verify_clean() {
	nexo verify
	[ "$RC" -eq 0 ] || fail "verify: exit $RC: $OUT"
}

# Setup: 1 day x 3 recordings archived by a run with retention off. Then the oldest grows on
# the PBX at the same path, from its 2-5 s to 60 s (a valid WAV each time: the first copy was
# taken while the call went on). Command: run with retention on (pbx_keep_days 0) and a
# lookback that re-lists the day. Expected: the grown recording is archived again as version 2
# (its own file; version 1's line and file stay true), and what the PBX deletes is version 2's
# bytes: exit 0, archived 1, deleted 3, the delete log agrees with the manifest.
case_grown() {
	fault_fresh 1 3 --min-seconds 2 --max-seconds 5
	fault_serve
	fault_run run
	fault_check
	expect_rc 0
	local path grown
	path=$(head -n 1 "$T/originals" | cut -d' ' -f1)
	grown=$(write_wav "$path" 60 7)
	write_conf "${RETENTION[@]}"
	fault_run -o sync.lookback=3d run
	fault_check
	expect_rc 0
	expect_summary archived 1
	expect_summary deleted 3
	[ "$(manifest_versions "$path" | wc -l)" = 2 ] || fail "expected 2 versions of $path"
	manifest_versions "$path" | sed -n 2p | grep -q "^2 $grown " ||
		fail "version 2 is not the grown recording: $(manifest_versions "$path")"
	grep -qxF "$path $grown" "$T/deleted.log" || fail "the PBX did not delete the grown bytes"
	[ "$(check_deleted_log)" = 3 ] || fail "the delete log does not hold 3 verified deletions"
	verify_clean
}

# The same, with the growth seen only by retention (lookback 0: the walk starts after the
# newest recording; no reconcile): run 2 archives version 2 but keeps the recording on the PBX
# (exit 0, deleted 2, "stay on the PBX"); run 3 deletes it, with version 2's bytes.
case_grown_late() {
	fault_fresh 1 3 --min-seconds 2 --max-seconds 5
	fault_serve
	fault_run run
	expect_rc 0
	local path grown
	path=$(head -n 1 "$T/originals" | cut -d' ' -f1)
	grown=$(write_wav "$path" 60 8)
	write_conf "${RETENTION[@]}"
	fault_run -o sync.lookback=0 -o sync.reconcile_days=0 run
	fault_check
	expect_rc 0
	expect_summary deleted 2
	grep -q 'stay on the PBX this run' <<<"$OUT" || fail "run 2 does not say one stays"
	[ -f "$PBXDIR/$path" ] || fail "run 2 deleted the grown recording"
	manifest_versions "$path" | sed -n 2p | grep -q "^2 $grown " || fail "no version 2"
	fault_run -o sync.lookback=0 -o sync.reconcile_days=0 run
	fault_check
	expect_rc 0
	expect_summary deleted 1
	grep -qxF "$path $grown" "$T/deleted.log" || fail "the PBX did not delete the grown bytes"
	verify_clean
}

# Setup: 1 day x 3 recordings, archived and deleted (retention on). Then another recording
# appears at the oldest one's path (a PBX whose clock was reset re-uses the name; 3 s of other
# audio). Command: run. Expected: it is a new recording, archived as version 2 of the path and
# only then deleted: exit 0, archived 1, deleted 1, the delete log holds both versions' bytes.
case_reused_name() {
	fault_fresh 1 3 --min-seconds 2 --max-seconds 5
	FAULT_CONF=("${RETENTION[@]}")
	fault_serve
	FAULT_CONF=()
	fault_run run
	fault_check
	expect_rc 0
	expect_summary deleted 3
	local path other
	path=$(head -n 1 "$T/originals" | cut -d' ' -f1)
	other=$(write_wav "$path" 3 11)
	fault_run -o sync.lookback=3d run
	fault_check
	expect_rc 0
	expect_summary archived 1
	expect_summary deleted 1
	manifest_versions "$path" | sed -n 2p | grep -q "^2 $other " ||
		fail "the re-used name is not version 2: $(manifest_versions "$path")"
	grep -qxF "$path $other" "$T/deleted.log" || fail "the second recording was not deleted"
	[ "$(check_deleted_log)" = 4 ] || fail "the delete log does not hold 4 verified deletions"
	verify_clean
}

# Setup: fakepbx --any-folder; 1 day x 2 recordings archived and deleted. Then two others with
# the oldest one's base name appear: under another folder (x/YYYYMMDD/NAME.wav) and bare at the
# top (NAME.wav), each other audio. Command: run. Expected: each is archived to a file of its
# own, named apart (NAME.pXXXXXXXX.wav) and said; the first file still holds the first
# recording's bytes: exit 0, archived 2, deleted 2, verify clean. Then the same with four such
# paths over two download lanes (parallel = 2, batch_files = 1) in one run.
case_second_path() {
	fault_fresh 1 2 --min-seconds 2 --max-seconds 4
	FAULT_CONF=("${RETENTION[@]}")
	fault_serve --any-folder
	fault_run run
	fault_check
	expect_rc 0
	expect_summary deleted 2
	local path base first a b
	path=$(head -n 1 "$T/originals" | cut -d' ' -f1)
	base=$(basename "$path")
	first=$(manifest_versions "$path")
	a=$(write_wav "x/$path" 4 21)
	b=$(write_wav "$base" 4 22)
	fault_run -o sync.lookback=3d run
	fault_check
	expect_rc 0
	expect_summary archived 2
	expect_summary deleted 2
	[ "$(manifest_versions "$path")" = "$first" ] || fail "the first recording's line changed"
	[ "$(sha256sum "$ARCHIVE/$(cut -d' ' -f3 <<<"$first")" | cut -c1-64)" = \
		"$(cut -d' ' -f2 <<<"$first")" ] || fail "the first recording's file was overwritten"
	manifest_versions "x/$path" | grep -q "^1 $a .*\.p[0-9a-f]\{8\}\.wav$" ||
		fail "x/$path is not stored apart: $(manifest_versions "x/$path")"
	manifest_versions "$base" | grep -q "^1 $b .*\.p[0-9a-f]\{8\}\.wav$" ||
		fail "$base is not stored apart: $(manifest_versions "$base")"
	grep -qF "x/$path is stored as" "$T/err" || fail "the other path is not reported"
	verify_clean

	# Four paths of one name, and two of another, in one run over two lanes.
	local other more
	other=$(sed -n 2p "$T/originals" | cut -d' ' -f1)
	write_wav "y/$path" 2 31 >/dev/null
	write_wav "z/$path" 2 32 >/dev/null
	write_wav "w/$path" 2 33 >/dev/null
	more=$(write_wav "q/$other" 2 41)
	fault_run -o sync.lookback=3d -o sync.parallel=2 -o sync.batch_files=1 run
	fault_check
	expect_rc 0
	expect_summary archived 4
	[ -n "$(manifest_versions "q/$other" | grep " $more ")" ] || fail "q/$other not archived"
	verify_clean
}

fault_case grown case_grown
fault_case grown_late case_grown_late
fault_case reused_name case_reused_name
fault_case second_path case_second_path
fault_cases_done
