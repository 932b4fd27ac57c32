#!/usr/bin/env bash
# Setup: fakepbx with 2 days x 20 recordings.
# Command: nexo-archive run with delete_from_pbx = true, pbx_keep_days = 0, max_delete = 5.
# Expected: exit 1 (more is due than one run may delete); all 40 archived; between 1 and 5
# recordings deleted, "deleted N" equal to the delete log's verified lines; the rest (>= 35)
# still on the PBX. A second identical run deletes at most 5 more.
source "$TOP/tests/e2e/lib.sh"

generate 2 20 --min-seconds 1 --max-seconds 2
start_pbx
write_conf '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0' 'max_delete = 5'
nexo run
expect_rc 1
expect_summary archived 40
n=$(check_deleted_log)
{ [ "$n" -ge 1 ] && [ "$n" -le 5 ]; } || fail "$n recordings deleted with max_delete = 5"
expect_summary deleted "$n"
[ "$(pbx_count)" -eq $((40 - n)) ] || fail "PBX holds $(pbx_count), expected $((40 - n))"

nexo run
expect_rc 1
n2=$(check_deleted_log)
{ [ $((n2 - n)) -ge 1 ] && [ $((n2 - n)) -le 5 ]; } || fail "second run deleted $((n2 - n)) with max_delete = 5"
expect_summary deleted $((n2 - n))
[ "$(pbx_count)" -eq $((40 - n2)) ] || fail "PBX holds $(pbx_count), expected $((40 - n2))"
echo "ok"
