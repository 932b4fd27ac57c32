#!/usr/bin/env bash
# Dead sessions: 401/403 answers, a redirect to the login page and the login page itself (HTML
# with status 200) where JSON or a tar was expected. Each case: a fresh fakepbx disk of 1 day x
# 4 recordings (1-2 s), an empty archive, retention on (delete_from_pbx = true, pbx_keep_days =
# 0), retries = 2, NEXO_RETRY_BASE_MS = 50; the fault given as fakepbx --fault SPEC. After
# every run: the invariant (check_invariant: nothing deleted without a verified archived copy,
# nothing lost, nothing archived twice) and every real deletion has its pbx_deleted line.
source "$TOP/tests/e2e/lib.sh"

FAULT_CONF=('[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')

# Setup: status=401:2@20053 (the first two listings answer 401: both are the login's proof
# listing). Command: run. Expected: a 401 means "log in again"; the run logs in again and
# completes: exit 0, archived 4, deleted 4; fakepbx saw the two 401s and more than one login.
case_401_list_twice() {
	fault_recovers status=401:2@20053
	[ "$(req_count 20053 401)" -eq 2 ] || fail "expected two 401 answers, got $(req_count 20053 401)"
	[ "$(req_count 8404)" -ge 2 ] || fail "no second login"
}

# Setup: status=401:1@20053. Expected: one re-login, exit 0, archived 4, deleted 4.
case_401_list_once() {
	fault_recovers status=401:1@20053
	[ "$(req_count 8404)" -eq 2 ] || fail "expected 2 logins, got $(req_count 8404)"
}

# Setup: status=403:1@20036 (the first download answers 403). Expected: "logging in again",
# exactly 2 logins, the download asked again: exit 0, archived 4, deleted 4 (one more good
# download: the compare before the deletions).
case_403_download() {
	fault_recovers status=403:1@20036
	grep -q 'logging in again' "$T/err" || fail "the re-login is not reported"
	[ "$(req_count 8404)" -eq 2 ] || fail "expected 2 logins, got $(req_count 8404)"
	[ "$(req_count 20036 403)" -eq 1 ] && [ "$(req_count 20036 200)" -eq 2 ] ||
		fail "expected a 403, then a good download and the compare's, got $(req_count 20036 200)"
}

# Setup: status=401:2@20036 (the download answers 401, and 401 again right after the new login).
# Expected: re-login once per request, then that batch fails: exit 1, failed 4, nothing
# deleted (the archive phase had a session error). Then fakepbx without the fault: the next run
# archives and deletes everything (exit 0).
case_401_download_twice() {
	fault_first_run --fault status=401:2@20036
	expect_rc 1
	expect_summary failed 4
	expect_no_deletion
	[ "$(pbx_count)" -eq 4 ] || fail "recordings left the PBX"
	stop_pbx
	[ "$(req_count 8404)" -eq 2 ] || fail "expected exactly one re-login, saw $(req_count 8404) logins"
	fault_clean_run 0
}

# Setup: redirect-login@20053 / @20036 (a 302 to /login.html), html-200@20053 / @20036 (the
# login page with status 200). Expected each: a dead session, one re-login (2 logins in all),
# exit 0, archived 4, deleted 4.
case_login_page() {
	fault_recovers "$1"
	[ "$(req_count 8404)" -eq 2 ] || fail "expected exactly 2 logins, got $(req_count 8404)"
}

# Setup: html-200@20054 / redirect-login@20054 (the first delete request answers the login page
# or a 302 to it; nothing is deleted). Command: run. Expected: a dead session, never taken as a
# delete: one re-login, the delete sent once more (2 delete requests, the first turned away),
# and the re-list confirms it: exit 0, deleted 4, a pbx_deleted line each, the delete log agrees
# with the manifest. Then the same fault twice in a row (:2): turned away after the new login
# too, so nothing is taken as deleted: deleted 0, "4 deletions were not confirmed", exit 1, and
# the next run deletes them.
case_login_page_delete() {
	fault_first_run --fault "$1"
	expect_rc 0
	expect_summary archived 4
	expect_summary deleted 4
	[ "$(check_deleted_log)" = 4 ] || fail "the delete log does not hold 4 verified deletions"
	[ "$(pbx_count)" -eq 0 ] || fail "recordings left on the PBX"
	stop_pbx
	[ "$(req_count 20054)" -eq 2 ] || fail "expected the delete sent twice, saw $(req_count 20054)"
	[ "$(req_count 8404)" -eq 2 ] || fail "expected 2 logins (the run's, its re-login), saw $(req_count 8404)"

	fault_first_run --fault "${1%@*}:2@20054"
	expect_rc 1
	expect_summary deleted 0
	grep -q '^4 deletions were not confirmed' <<<"$OUT" || fail "the unconfirmed deletions are not reported: $OUT"
	expect_no_deletion
	[ "$(pbx_count)" -eq 4 ] || fail "recordings left the PBX"
	fault_run run
	fault_check
	expect_rc 0
	expect_summary deleted 4
	[ "$(check_deleted_log)" = 4 ] || fail "the delete log does not hold 4 verified deletions"
}

fault_case 401_list_twice case_401_list_twice
fault_case 401_list_once case_401_list_once
fault_case 403_download case_403_download
fault_case 401_download_twice case_401_download_twice
fault_case redirect_login_list case_login_page redirect-login@20053
fault_case redirect_login_download case_login_page redirect-login@20036
fault_case html_200_list case_login_page html-200@20053
fault_case html_200_download case_login_page html-200@20036
fault_case html_200_delete case_login_page_delete html-200@20054
fault_case redirect_login_delete case_login_page_delete redirect-login@20054
fault_cases_done
