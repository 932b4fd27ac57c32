#!/usr/bin/env bash
# History outside the walk: recordings dated before 2000 (a PBX whose clock was once reset) and
# recordings that appear behind the walk (a remounted disk, a call longer than the lookback) are
# found: by the first run (it lists from 1970), by `nexo-archive reconcile`, and by a nightly run
# every [sync] reconcile_days. Fails on a main without reconcile and a first run from 1970.
# Setup: 1 day x 4 recordings and one dated 1995-06-01.
# 1) first run (no [sync] since): exit 0, archived 5 (the 1995 one too).
# 2) a recording dated 3 days ago appears (behind checkpoint - lookback): a nightly run with
#    reconcile_days = 0 does not see it; `reconcile` does (exit 0, "reconcile: 1 ...", the
#    archive matches the PBX); a second `reconcile` finds 0; `reconcile --from D --to D` on a
#    day without news finds 0; a bad --from is a usage error (exit 2).
# 3) another appears 5 days back: a nightly run with .state/reconciled older than
#    reconcile_days reconciles (warns, archives it); the next nightly run does not reconcile.
source "$TOP/tests/e2e/lib.sh"

generate 1 4 --min-seconds 1 --max-seconds 2
old=$(add_recording "$(date -u -d '1995-06-01 12:00:30' +%s)")
start_pbx
write_conf
nexo run
expect_rc 0
expect_summary archived 5
manifest_paths archived | grep -qxF "$old" || fail "the 1995 recording was not archived"

late=$(add_recording $(($(date +%s) - 3 * 86400)))
nexo -o sync.reconcile_days=0 run
expect_rc 0
expect_summary archived 0
nexo reconcile
expect_rc 0
grep -q '^reconcile: 1 recordings' <<<"$OUT" || fail "reconcile did not say it found 1: $OUT"
manifest_paths archived | grep -qxF "$late" || fail "reconcile did not archive $late"
diff <(pbx_paths) <(manifest_paths archived) >/dev/null || fail "the archive differs from the PBX"
nexo reconcile
expect_rc 0
grep -q '^reconcile: 0 recordings' <<<"$OUT" || fail "a second reconcile found something: $OUT"
day=$(date -d '2 days ago' +%F)
nexo reconcile --from "$day" --to "$day"
expect_rc 0
grep -q '^reconcile: 0 recordings' <<<"$OUT" || fail "reconcile of $day: $OUT"
nexo reconcile --from yesterday
expect_rc 2

later=$(add_recording $(($(date +%s) - 5 * 86400)))
printf '2000-01-01 00:00\n' >"$ARCHIVE/.state/reconciled"
nexo run
expect_rc 0
grep -q 'reconcile: 1 recordings before this run' "$T/err" || fail "the nightly reconcile did not say it: $ERR"
manifest_paths archived | grep -qxF "$later" || fail "the nightly reconcile did not archive $later"
# The next night is not due: it lists no more than a run that never reconciles.
# lists_so_far VAR: VAR = the listings fakepbx logged so far. It logs an answer when it is done
# with it, which can be after the run has exited: counted with fakepbx stopped, then started
# again (its new port in the config).
lists_so_far() {
	stop_pbx
	printf -v "$1" '%s' "$(pbx_log_count 20053)"
	start_pbx
	sed -i "s#^url = .*#url = $PBX_URL#" "$CONF"
}
lists_so_far n0
nexo -o sync.reconcile_days=0 run
lists_so_far n1
nexo run
expect_rc 0
lists_so_far n2
[ $((n2 - n1)) -le $((n1 - n0)) ] ||
	fail "reconciled again the next night: $((n2 - n1)) listings, $((n1 - n0)) without reconcile"
echo "ok"
