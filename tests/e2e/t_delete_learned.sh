#!/usr/bin/env bash
# What a run learns of the PBX lasts (ARCHIVE/.state/pbx), and a delete turned away is never
# taken as done. fakepbx reads the file key of 20036 and 20054 in one spelling only
# (--download-key, --delete-key), or answers a delete as a dead session ({"status": -6}).
# In every case: the invariant, and fakepbx's delete log agrees with the manifest.
source "$TOP/tests/e2e/lib.sh"

RETENTION=('[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0' '[cdr]' 'join = false')

# Setup: a PBX that reads only "wavfiles" (download and delete). Run 1, retention off, learns
# the key by downloading. Run 2, retention on, downloads nothing new: its deletes use the
# spelling run 1 learned (today's main sent "wavefiles", the PBX deleted nothing, and every
# such run exited 1): exit 0, deleted 3, exactly 1 delete request.
case_key_kept() {
	fault_fresh 1 3 --min-seconds 1 --max-seconds 2
	fault_serve --download-key wavfiles --delete-key wavfiles
	fault_run run
	fault_check
	expect_rc 0
	FAULT_CONF=("${RETENTION[@]}")
	fault_serve --download-key wavfiles --delete-key wavfiles
	fault_run run
	fault_check
	expect_rc 0
	expect_summary deleted 3
	[ "$(check_deleted_log)" = 3 ] || fail "the delete log does not hold 3 verified deletions"
	stop_pbx
	[ "$(req_count 20054)" -eq 1 ] || fail "expected 1 delete request, saw $(req_count 20054)"
	grep -qx 'download_key wavfiles' "$ARCHIVE/.state/pbx" ||
		fail "the learned key is not kept: $(cat "$ARCHIVE/.state/pbx" 2>&1)"
	FAULT_CONF=()
}

# Setup: a PBX that downloads with either key but deletes only with "wavfiles", and an archive
# whose .state/pbx is gone. The delete "wavefiles" is accepted with "deleted":0 and nothing
# goes: the other spelling is tried once, it works and is kept: exit 0, deleted 3, 2 delete
# requests. A later run with a new recording deletes it with one request.
case_delete_key_learned() {
	fault_fresh 1 3 --min-seconds 1 --max-seconds 2
	FAULT_CONF=("${RETENTION[@]}")
	fault_serve --delete-key wavfiles
	fault_run run
	fault_check
	expect_rc 0
	expect_summary deleted 3
	grep -qx 'delete_key wavfiles' "$ARCHIVE/.state/pbx" ||
		fail "the delete key is not kept: $(cat "$ARCHIVE/.state/pbx" 2>&1)"
	local when
	when=$(date -d '3 hours ago' +%s)
	write_wav "$(date -d "@$when" +%Y%m%d)/$(date -d "@$when" +%Y%m%d-%H%M%S)-$when-Outbound-96-202-555.wav" \
		3 9 >/dev/null
	remember_originals
	fault_serve --delete-key wavfiles
	fault_run run
	fault_check
	expect_rc 0
	expect_summary deleted 1
	stop_pbx
	[ "$(req_count 20054)" -eq 1 ] || fail "expected 1 delete request, saw $(req_count 20054)"
	[ "$(check_deleted_log)" = 4 ] || fail "the delete log does not hold 4 verified deletions"
	FAULT_CONF=()
}

# Setup: the first delete request is answered {"status": -6} (a session that died between the
# listing and the delete). Expected: a new login and the delete sent once more: exit 0,
# deleted 3, 2 delete requests, 2 logins. With the first two turned away: nothing is taken as
# deleted (no pbx_deleted line, "3 deletions were not confirmed", exit 1); the next run
# deletes them.
case_dead_session() {
	fault_fresh 1 3 --min-seconds 1 --max-seconds 2
	FAULT_CONF=("${RETENTION[@]}")
	fault_serve --no-session status6 --delete-no-session 1
	fault_run run
	fault_check
	expect_rc 0
	expect_summary deleted 3
	stop_pbx
	[ "$(req_count 20054)" -eq 2 ] || fail "expected the delete sent twice, saw $(req_count 20054)"
	[ "$(req_count 8404)" -eq 2 ] || fail "expected 2 logins, saw $(req_count 8404)"
	[ "$(check_deleted_log)" = 3 ] || fail "the delete log does not hold 3 verified deletions"

	fault_fresh 1 3 --min-seconds 1 --max-seconds 2
	fault_serve --no-session status6 --delete-no-session 2
	fault_run run
	fault_check
	expect_rc 1
	expect_summary deleted 0
	grep -q '^3 deletions were not confirmed' <<<"$OUT" || fail "not reported: $OUT"
	expect_no_deletion
	fault_run run
	fault_check
	expect_rc 0
	expect_summary deleted 3
	FAULT_CONF=()
}

fault_case key_kept case_key_kept
fault_case delete_key_learned case_delete_key_learned
fault_case dead_session case_dead_session
fault_cases_done
