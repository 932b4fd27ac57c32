#!/usr/bin/env bash
# Regression (found in a simulator life, seed 26: "still listed after its delete" every run): a
# PBX that takes its parameters only in the query string (--login-style query: the client learns
# to send every request as a GET) and caps the request-target (--max-url, 414 beyond it). The
# download splits a batch the PBX answers 414 (t_max_url); the delete (20054) did not: the 414
# deleted nothing, the re-list showed every candidate still there ("it stays for the next run"),
# and the next run sent the same batch again, so retention never deleted a recording from such
# a PBX while its URL held more of them than the cap.
# Setup: 2 days x 20 recordings, fakepbx --login-style query --max-url 700; [retention]
# delete_from_pbx = true, pbx_keep_days = 0; [sync] batch_files 50 (default batch_url_bytes 4000).
# Expected: exit 0, "archived 40, deleted 40", the PBX empty, fakepbx answered 20054 414 at least
# once (else the test proves nothing), every deletion logged and archived (check_deleted_log).
source "$TOP/tests/e2e/lib.sh"

generate 2 20 --min-seconds 1 --max-seconds 2
start_pbx --login-style query --max-url 700
write_conf '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'
nexo run
expect_summary archived 40
expect_summary deleted 40
expect_rc 0
[ "$(pbx_count)" -eq 0 ] || fail "$(pbx_count) recordings left on the PBX: $(pbx_paths | head -3 | tr '\n' ' ')"
stop_pbx
[ "$(pbx_log_count 20054 414)" -ge 1 ] || fail "fakepbx never answered 20054 with 414: the test proves nothing"
[ "$(check_deleted_log)" = 40 ] || fail "delete log holds $(check_deleted_log) verified lines, not 40"
[ "$(manifest_events pbx_deleted)" = 40 ] || fail "expected 40 pbx_deleted lines, got $(manifest_events pbx_deleted)"
echo "ok"
