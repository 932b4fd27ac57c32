#!/usr/bin/env bash
# Hostile download answers (CGI 20036): tars cut mid-entry or at an entry boundary, a file left
# out, an unrequested entry, a duplicate entry, symlink/hardlink/device entries, and a listing
# whose size disagrees with the bytes. Each case: a fresh fakepbx disk of 1 day x 4 recordings
# (1-2 s), an empty archive, retention on (delete_from_pbx = true, pbx_keep_days = 0), one
# request for all 4 ([sync] batch_files = 50). "The first file" of a fault is the oldest
# recording (the client asks oldest first); the listing's "first row" is the newest. After every
# run: the invariant (check_invariant) and every real deletion has its pbx_deleted line. Every
# case ends with a clean run (fakepbx restarted without the fault) that must archive what was
# left, with its original hash, empty the PBX and exit 0.
source "$TOP/tests/e2e/lib.sh"

FAULT_CONF=('[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')

fresh4() {
	fault_fresh 1 4 --min-seconds 1 --max-seconds 2
	OLDEST=$(head -n 1 "$T/originals" | cut -d' ' -f1)
	NEWEST=$(tail -n 1 "$T/originals" | cut -d' ' -f1)
}

# in_archive BASENAME: a file (of any type) of that name (or NAME.age) exists in the archive.
in_archive() {
	[ -n "$(find "$ARCHIVE" -path "$ARCHIVE/.state" -prune -o \( -name "$1" -o -name "$1.age" \) -print)" ]
}

# left_behind PATH: PATH has no "archived" line, no file in the archive, is still on the PBX and
# was not deleted.
left_behind() {
	! manifest_paths archived | grep -xF "$1" >/dev/null || fail "$1 was archived"
	! in_archive "$(basename "$1")" || fail "a file of $1 was kept in the archive"
	[ -f "$PBXDIR/$1" ] || fail "$1 is gone from the PBX"
	! grep -qF "$1 " "$T/deleted.log" 2>/dev/null || fail "$1 was deleted from the PBX"
}

# Setup: tar-cut-mid (once: Content-Length of the whole tar, the connection closed halfway
# through the 2nd entry). Command: run. Expected: the break is reported and what it did not
# bring is asked for again in the same run (a second 20036 request); all 4 archived in that
# run; exit 0 or 1. Which one depends on timing: when the cut reaches the client before it has
# read the first bytes, the request is retried as a transient failure (exit 0, deletions done);
# when it breaks mid-stream, the run asks again for the rest, records the break and deletes
# nothing (exit 1). The clean run afterwards must finish the job either way.
case_tar_cut_mid() {
	fresh4
	fault_serve --fault tar-cut-mid
	fault_run run
	fault_check
	grep -qE 'broke off|transfer closed' "$T/err" || fail "the broken transfer is not reported"
	expect_summary archived 4
	if [ "$RC" -eq 0 ]; then
		echo "tar-cut-mid: the cut came before the first bytes were read: retried as transient"
		grep -q 'retrying' "$T/err" || fail "exit 0 without a reported retry"
	else
		echo "tar-cut-mid: cut mid-stream"
		expect_rc 1
		expect_no_deletion
	fi
	stop_pbx
	[ "$(req_count 20036)" -ge 2 ] || fail "the recordings were not asked for again"
	fault_clean_run 0
}

# Setup: drip=100000@20036 (the tar in 10000-byte pieces every 0.1 s, so the client is always
# reading mid-stream when the cut comes) and tar-cut-mid:2 (the first two downloads cut
# halfway through their 2nd entry). Command: run. Expected: 1st request (4 files) cut: 1 lands;
# asked again for the 3 others (cut again: 1 more lands); then in two halves of 1: 4 download
# requests, "two halves" said; all 4 archived in this run, nothing deleted (the run had a
# broken transfer), exit 1. The clean run deletes them all (exit 0).
case_tar_cut_mid_split() {
	fresh4
	fault_serve --fault drip=100000@20036 --fault tar-cut-mid:2
	fault_run run
	fault_check
	grep -q 'broke off' "$T/err" || fail "the broken transfer is not reported"
	grep -q 'two halves' "$T/err" || fail "the batch was not split after two breaks"
	expect_summary archived 4
	expect_no_deletion
	expect_rc 1
	stop_pbx
	[ "$(req_count 20036)" -eq 4 ] || fail "expected 4 download requests, saw $(req_count 20036)"
	fault_clean_run 0
}

# Setup: tar-cut-boundary (once: only the 1st entry, no end-of-archive blocks, Content-Length
# of that length: a clean-looking end). Command: run. Expected: exit 1, archived 1, missing 3,
# each of the 3 named as "listed but not in the PBX's answer" and none of them deleted; the
# next run asks for them again and completes.
case_tar_cut_boundary() {
	local p
	fresh4
	fault_serve --fault tar-cut-boundary
	fault_run run
	fault_check
	expect_rc 1
	expect_summary archived 1
	expect_summary missing 3
	for p in $(tail -n 3 "$T/originals" | cut -d' ' -f1); do
		grep -qF "$p: listed but not in" "$T/err" || fail "$p is not reported missing"
		left_behind "$p"
	done
	fault_clean_run 0
}

# Setup: omit-one (always: the oldest recording, first in the first tar, is left out of every tar). Command: run.
# Expected: exit 1, archived 3, missing 1, the omitted one named and never deleted (the 3 others
# are: deleted 3); the clean run archives it.
case_omit_one() {
	fresh4
	fault_serve --fault omit-one
	fault_run run
	fault_check
	expect_rc 1
	expect_summary archived 3
	expect_summary missing 1
	expect_summary deleted 3
	grep -qF "$OLDEST: listed but not in" "$T/err" || fail "the omitted recording is not named"
	left_behind "$OLDEST"
	fault_clean_run 0
}

# Setup: tar-extra (always: an unrequested valid WAV 20210101/20210101-000000-1609459200-
# Inbound-1-100-200.wav comes first). Command: run. Expected: the entry is refused and
# reported (a warning naming it, "refused 1" in the summary) and written nowhere (no such file
# under the test dir, no manifest day 2021-01-01); the 4 requested recordings are archived
# and deleted.
case_tar_extra() {
	local extra=20210101-000000-1609459200-Inbound-1-100-200.wav
	fresh4
	fault_serve --fault tar-extra
	fault_run run
	fault_check
	echo "tar-extra: exit $RC"
	grep -qF "refused a tar entry '20210101/$extra'" "$T/err" || fail "the extra entry is not reported"
	grep -q '^refused 1 ' <<<"$OUT" || fail "the summary does not count the refused entry"
	[ -z "$(find "$T" -name "$extra*")" ] || fail "the extra entry was written: $(find "$T" -name "$extra*")"
	[ ! -e "$ARCHIVE/manifest/2021-01-01.jsonl" ] || fail "the extra entry reached the manifest"
	expect_summary archived 4
	expect_summary deleted 4
	fault_clean_run 0
}

# Setup: tar-duplicate (always: the oldest recording's entry is followed by a second entry of
# the same name and size with its last byte changed). Command: run. Expected: a conflict
# ("two entries of this name"): neither copy kept (no file, no manifest line), not deleted,
# exit 1, failed 1; the clean run fetches it again and archives it with its original hash.
case_tar_duplicate() {
	fresh4
	fault_serve --fault tar-duplicate
	fault_run run
	fault_check
	expect_rc 1
	expect_summary failed 1
	grep -qF "$OLDEST: the answer holds two entries" "$T/err" || fail "the conflict is not reported"
	left_behind "$OLDEST"
	fault_clean_run 0
}

# Setup: tar-symlink / tar-hardlink / tar-device (always: the oldest recording's entry is a
# symlink to ../fakepbx-symlink-target.wav, a hardlink to fakepbx-hardlink-target.wav with the
# real bytes, or a character device 1,3). Command: run. Expected: the entry is refused ("not a
# regular file"), the recording is not archived (reported missing, exit 1) and not deleted;
# nothing is written outside the archive (no fakepbx-*-target.wav anywhere under the test dir)
# and the archive holds no link or device; the clean run fetches the real file.
case_tar_not_regular() {
	fresh4
	fault_serve --fault "$1"
	fault_run run
	fault_check
	expect_rc 1
	grep -qF "refused a tar entry '$OLDEST': not a regular file" "$T/err" || fail "the entry is not refused as not regular"
	left_behind "$OLDEST"
	[ -z "$(find "$T" -name 'fakepbx-*-target.wav')" ] || fail "a link target was written: $(find "$T" -name 'fakepbx-*-target.wav')"
	[ -z "$(find "$ARCHIVE" \( -type l -o -type c -o -type b -o -type p \) -print)" ] ||
		fail "the archive holds a link or device: $(find "$ARCHIVE" \( -type l -o -type c -o -type b \) -print)"
	[ "$(archive_count)" -eq 3 ] || fail "expected 3 archived files, found $(archive_count)"
	fault_clean_run 0
}

# Setup: size-mismatch (always: every row states "size"; the newest's is 1 more than its real
# size; the tar carries the real bytes). Command: run. Expected: that recording is discarded
# ("the listing says"), exit 1, failed 1, not kept, not deleted; the 3 others archived and
# deleted; the clean run fetches it again and archives it.
case_size_mismatch() {
	fresh4
	fault_serve --fault size-mismatch
	fault_run run
	fault_check
	expect_rc 1
	expect_summary failed 1
	expect_summary archived 3
	grep -qF "$NEWEST: " "$T/err" && grep -q 'the listing says' "$T/err" || fail "the size mismatch is not reported for $NEWEST"
	left_behind "$NEWEST"
	fault_clean_run 0
}

fault_case tar_cut_mid case_tar_cut_mid
fault_case tar_cut_mid_split case_tar_cut_mid_split
fault_case tar_cut_boundary case_tar_cut_boundary
fault_case omit_one case_omit_one
fault_case tar_extra case_tar_extra
fault_case tar_duplicate case_tar_duplicate
fault_case tar_symlink case_tar_not_regular tar-symlink
fault_case tar_hardlink case_tar_not_regular tar-hardlink
fault_case tar_device case_tar_not_regular tar-device
fault_case size_mismatch case_size_mismatch
fault_cases_done
