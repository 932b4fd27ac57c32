#!/usr/bin/env bash
# --dry-run writes nothing at all, takes no lock, and says what it would do (issue 15).
# Setup: fakepbx listing true sizes (--list-sizes) with 2 days x 10 recordings; a new archive
# (init: the marker only).
# 1) Command: --dry-run run.
#    Expected: exit 0; "dry run: listed 20, ..." with bytes = the sum of the 20 files' sizes;
#    "would fetch 20 recordings, N bytes"; the archive is byte for byte what it was (the marker
#    alone: no .state/, no manifest/); fakepbx saw no download (20036).
# 2) Setup: the archive's lock held by another process (flock, as a real run holds it).
#    Command: --dry-run run. Expected: exit 0 (no lock taken, so none waited for) and the same
#    plan; a real run then exits 3.
# 3) Setup: a real run archives 10 of them (one day; the other day stays new), retention on.
#    Command: --dry-run run with delete_from_pbx = true, pbx_keep_days = 0.
#    Expected: exit 0; would fetch the 10 not archived, their bytes; would delete 10; the
#    archive (every file: names, sizes, hashes, mtimes) is unchanged; nothing was deleted on
#    the PBX (no 20054 sent, no pbx_deleted line).
source "$TOP/tests/e2e/lib.sh"

snapshot() { # every path under the archive, its type, size, mtime and content hash
	(cd "$ARCHIVE" && find . -printf '%p %y %s %T@\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}
pbx_bytes() { # the total size of the PBX's recordings of day $1 (all when empty)
	find "$PBXDIR/${1:-}" -name '*.wav' -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}

generate 2 10 --min-seconds 1 --max-seconds 2
start_pbx --list-sizes
write_conf
[ "$(ls -A "$ARCHIVE")" = .nexo-archive ] || fail "init made more than its marker"
before=$(snapshot)
nexo --dry-run run
expect_rc 0
grep -qE '^dry run: listed 20, ' "$T/out" || fail "no 'dry run: listed 20, ...' summary line: $OUT"
want=$(pbx_bytes)
expect_summary bytes "$want"
grep -qE "^dry run: would fetch 20 recordings, $want bytes by the listing's sizes; would delete 0" "$T/out" ||
	fail "no 'would fetch 20 recordings, $want bytes' line: $OUT"
[ "$(snapshot)" = "$before" ] || fail "a dry run changed the archive: $(diff <(echo "$before") <(snapshot) | head -n 5)"

# Beside a real run: the lock is held, the dry run does not wait for it and does not take it.
mkdir -p "$ARCHIVE/.state"
: >"$ARCHIVE/.state/lock"
chmod 600 "$ARCHIVE/.state/lock"
before=$(snapshot)
exec 8<>"$ARCHIVE/.state/lock"
flock -n 8 || fail "cannot take the lock for the test"
nexo --dry-run run
expect_rc 0
grep -qE '^dry run: would fetch 20 recordings' "$T/out" || fail "a dry run beside a held lock: $OUT"
[ "$(snapshot)" = "$before" ] || fail "a dry run beside a real run changed the archive"
nexo run
expect_rc 3
exec 8>&-
stop_pbx
[ "$(pbx_log_count 20053)" -ge 1 ] || fail "a dry run did not even list"
[ "$(pbx_log_count 20036)" -eq 0 ] || fail "a dry run downloaded"

# A real run of the first day only; then the plan has the second day, and deletions.
start_pbx --list-sizes
write_conf
first=$(ls "$PBXDIR" | grep -E "^[0-9]{8}$" | sort | head -n 1)
second=$(ls "$PBXDIR" | grep -E "^[0-9]{8}$" | sort | tail -n 1)
nexo backfill --from "${first:0:4}-${first:4:2}-${first:6:2}" --to "${first:0:4}-${first:4:2}-${first:6:2}"
expect_rc 0
expect_summary archived 10
write_conf '[sync]' "since = ${first:0:4}-${first:4:2}-${first:6:2} 00:00" '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'
before=$(snapshot)
nexo --dry-run run
expect_rc 0
want=$(pbx_bytes "$second")
grep -qE "^dry run: would fetch 10 recordings, $want bytes by the listing's sizes; would delete 10 " "$T/out" ||
	fail "expected 'would fetch 10 recordings, $want bytes ...; would delete 10': $OUT"
[ "$(snapshot)" = "$before" ] || fail "a dry run with retention changed the archive: $(diff <(echo "$before") <(snapshot) | head -n 5)"
[ "$(pbx_count)" -eq 20 ] || fail "a dry run deleted $((20 - $(pbx_count))) recordings"
[ ! -s "$T/deleted.log" ] || fail "a dry run deleted: $(head -n 3 "$T/deleted.log")"
[ "$(manifest_events pbx_deleted)" = 0 ] || fail "a dry run wrote pbx_deleted lines"
stop_pbx
[ "$(pbx_log_count 20054)" -eq 0 ] || fail "a dry run sent a delete request"
[ "$(pbx_log_count 20036)" -eq 1 ] || fail "expected the backfill's one download, got $(pbx_log_count 20036)"
echo "ok"
