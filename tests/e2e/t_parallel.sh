#!/usr/bin/env bash
# [sync] parallel = 3: the batches of a window spread over three download lanes.
# Setup: fakepbx 2 days x 60 recordings (1-3 s), batch_files 8 (16 batches), retention on
# (pbx_keep_days = 0), and a PBX that breaks some downloads (--fault tar-cut-mid:2 --fault reset-mid-body:1).
# Expected: every recording archived exactly once (exit 1: transfer errors, so no deletion;
# a second run deletes, exit 0) with the PBX's bytes (invariant:
# nothing lost, nothing archived twice, every deleted recording archived with its hash);
# the first run logged in 4 times (its own session and one per lane, for both days' windows:
# lanes last for the run); the manifest verifies; no temp left. Then the same with
# encryption on and a crash in the middle (NEXO_CRASH_AT=store.rename:20): the invariant
# holds; the next run finishes the job.
source "$TOP/tests/e2e/lib.sh"

generate 2 60 --min-seconds 1 --max-seconds 3 --seed 11
remember_originals
conf() {
	write_conf '[sync]' 'since = 2000-01-01 00:00' 'batch_files = 8' 'parallel = 3' \
		'[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'
}
start_pbx --fault tar-cut-mid:2 --fault reset-mid-body:1
conf
nexo run
# The broken downloads are asked for again and land; a run with transfer errors deletes
# nothing (exit 1), the next one does.
expect_rc 1
expect_summary archived 120
check_invariant || fail "invariant after the parallel run"
[ "$(manifest_events archived)" = 120 ] || fail "expected 120 archived lines"
[ -z "$(manifest_dup_paths)" ] || fail "archived twice: $(manifest_dup_paths)"
[ "$(check_manifest_hashes)" = 120 ] || fail "manifest hashes"
stop_pbx
# One login for the run, one per lane, once: lanes last for the run, whatever its windows.
logins=$(pbx_log_count 8404)
[ "$logins" -eq 4 ] || fail "expected 4 logins (the run's and 3 lanes'), got $logins"
start_pbx
conf
nexo run
expect_rc 0
check_invariant || fail "invariant after the second run"
[ "$(pbx_count)" -eq 0 ] || fail "retention left $(pbx_count) recordings on the PBX"
stop_pbx
nexo verify
expect_rc 0
tmp_empty || fail ".state/tmp is not empty"

# Encrypted, and killed in the middle.
rm -rf "$PBXDIR" "$ARCHIVE" "$T/deleted.log"
generate 2 40 --min-seconds 1 --max-seconds 3 --seed 12
remember_originals
"$NEXO" keygen -o "$T/identity.txt" >"$T/recipient"
start_pbx
write_conf '[sync]' 'batch_files = 5' 'parallel = 3' '[retention]' 'delete_from_pbx = true' \
	'pbx_keep_days = 0' '[encryption]' "recipients = $(cat "$T/recipient")"
set +e
NEXO_CRASH_AT=store.rename:20 "$NEXO_TEST" -c "$CONF" run >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -eq 137 ] || fail "the crash point was not reached (exit $rc): $(tail -n 3 "$T/err")"
check_invariant crashed || fail "invariant after a crash with 3 lanes"
nexo run
expect_rc 0
check_invariant || fail "invariant after the next run"
[ "$(manifest_events archived)" = 80 ] || fail "expected 80 archived lines"
[ "$(pbx_count)" -eq 0 ] || fail "the next run did not finish the job"
for f in $(find "$ARCHIVE" -name '*.wav.age' | sort | head -n 10); do
	sum=$("$NEXO" decrypt -i "$T/identity.txt" -o - "$f" | sha256sum | cut -c1-64)
	grep -q " $sum\$" "$T/originals" || fail "$f does not decrypt to an original"
done
echo "ok"
