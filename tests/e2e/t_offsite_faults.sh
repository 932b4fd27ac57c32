#!/usr/bin/env bash
# Issue 17, point 5: the offsite copy's faults, against the real RGW (tests/e2e/rgw.sh) behind a
# fault-injecting pass-through (tests/e2e/s3proxy.py). Each case: a fresh PBX disk of 1 day x 3
# recordings (2 days ago), no archive, [retention] delete_from_pbx with pbx_keep_days = 0 and
# [offsite] on a prefix of its own; one run, then the invariant (nothing deleted without its
# archived copy, nothing lost or archived twice).
#   wrong keys            exit 5, nothing uploaded or deleted, the secret in no output
#   lock on a bucket without Object Lock   exit 2, nothing done
#   no lock (auto) on such a bucket        uploads unlocked; each "offsite" line says so
#   503 SlowDown x2, cut x1                retried within the run: exit 0, all deleted
#   500 always, 403 RequestTimeTooSkewed, cut always, slow (past the timeout)
#                         exit 1, no deletion, no "offsite" line; the next run, fault gone,
#                         uploads each file once and deletes (exit 0)
#   SIGKILL between an upload and its record  the next run finds it by HEAD: one PUT each
#   [offsite] added to an archive of 20 days   14 days of backlog a run (besides the days the
#                         run itself read): the rest next run
. "$TOP/tests/e2e/lib.sh"
. "$TOP/tests/e2e/rgw.sh"
NEXO_TEST="$BUILD/test/nexo-archive"

rgw_start
s3proxy_start
rgw_bucket locked
rgw_bucket plain nolock
(umask 077 && printf '%s\n' "$RGW_SECRET" >"$T/s3.secret" && printf 'wrong-secret\n' >"$T/bad.secret")

# setup PREFIX [BUCKET] [SECRET_FILE] [conf lines...]: fresh PBX and archive, the config.
setup() {
	local prefix=$1 bucket=${2:-locked} secret=${3:-$T/s3.secret}
	shift $(($# < 3 ? $# : 3))
	fault_fresh 1 3 --min-seconds 1 --max-seconds 2 --start "$(date -d '2 days ago' +%F)"
	FAULT_CONF=('[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'
		'[offsite]' "url = $PROXY_URL/$bucket/$prefix" "access_key = $RGW_KEY"
		"secret_key_file = $secret" 'lock_days = 30' "$@")
	fault_serve
	: >"$S3_FAULT"
	: >"$S3_LOG"
}

# puts PREFIX: PUTs of recordings under PREFIX that the RGW accepted.
puts() {
	grep -cE "^PUT /[a-z]+/$1/[0-9]{4}/.* 200$" "$S3_LOG" || true
}

expect_blocked() {
	fault_check
	expect_rc 1
	expect_summary archived 3
	expect_no_deletion
	[ "$(manifest_events offsite)" = 0 ] || fail "offsite lines without a confirmed copy"
}

expect_recovered() {
	: >"$S3_FAULT"
	fault_run run
	fault_check
	expect_rc 0
	expect_summary deleted 3
	[ "$(manifest_events offsite)" = 3 ] || fail "$(manifest_events offsite) offsite lines, not 3"
	[ "$(puts "$1")" = 3 ] || fail "$(puts "$1") recording PUTs accepted, not 3: uploaded twice or never"
}

echo "=== wrong keys"
setup keys locked "$T/bad.secret"
fault_run -v run
expect_rc 5
expect_no_deletion
! grep -qF 'wrong-secret' "$T/out" "$T/err" || fail "the secret key reached the output"

echo "=== lock asked of a bucket without Object Lock"
setup nolock plain "$T/s3.secret" 'lock = compliance'
fault_run run
expect_rc 2
grep -q 'no Object Lock' <<<"$ERR" || fail "the cause is not named: $ERR"
expect_no_deletion

echo "=== lock = auto on a bucket without Object Lock: unlocked, and said"
setup unlocked plain "$T/s3.secret"
fault_run run
fault_check
expect_rc 0
expect_summary deleted 3
[ "$(cat "$ARCHIVE"/manifest/*.jsonl | jq -r 'select(.event=="offsite") | .unlocked' | sort -u)" = "lock = off" ] ||
	fail "offsite lines do not say they are unlocked"

echo "=== 503 SlowDown twice, then a cut: retried within the run"
setup slowdown
echo "slowdown 2" >"$S3_FAULT"
fault_run run
fault_check
expect_rc 0
expect_summary deleted 3
echo "cut 1" >"$S3_FAULT"
setup cutonce
echo "cut 1" >"$S3_FAULT"
fault_run run
fault_check
expect_rc 0
expect_summary deleted 3
[ "$(puts cutonce)" = 3 ] || fail "cut once: $(puts cutonce) accepted PUTs, not 3"

for fault in "500 1000" "skew" "cut 1000" "slow 3"; do
	name=${fault%% *}
	echo "=== $fault"
	setup "f$name"
	echo "$fault" >"$S3_FAULT"
	if [ "$name" = slow ]; then
		fault_run -o pbx.timeout=1 -o pbx.retries=0 run
	else
		fault_run run
	fi
	expect_blocked
	[ "$name" != skew ] || grep -q "clock" <<<"$ERR" || fail "skew: the clock is not named: $ERR"
	expect_recovered "f$name"
done

echo "=== SIGKILL after an upload, before its record"
setup crash
set +e
NEXO_CRASH_AT=offsite.head:2 "$NEXO_TEST" -q -c "$CONF" run >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 137 ] || fail "the run was not killed (exit $rc)"
fault_check crashed
expect_no_deletion
fault_run run
fault_check
expect_rc 0
expect_summary deleted 3
grep -q ', 2 found there already' <<<"$OUT" || fail "not found by HEAD: $OUT"
[ "$(puts crash)" = 3 ] || fail "$(puts crash) recording PUTs accepted, not 3"

echo "=== [offsite] added to an archive of 20 days: a fortnight of backlog a run"
fault_fresh 20 1 --min-seconds 1 --max-seconds 1 --start "$(date -d '25 days ago' +%F)"
FAULT_CONF=()
fault_serve
fault_run run
expect_rc 0
expect_summary archived 20
FAULT_CONF=('[offsite]' "url = $PROXY_URL/locked/backlog" "access_key = $RGW_KEY"
	"secret_key_file = $T/s3.secret" 'lock_days = 60')
write_conf "${FAULT_CONF[@]}"
fault_run run
expect_rc 0
n=$(manifest_events offsite)
[ "$n" -ge 14 ] && [ "$n" -lt 20 ] || fail "$n offsite lines: not a fortnight of backlog (and the days the run read)"
grep -q "$((20 - n)) more days" <<<"$ERR" || fail "the backlog left is not said: $ERR"
fault_run run
expect_rc 0
[ "$(manifest_events offsite)" = 20 ] || fail "$(manifest_events offsite) offsite lines, not 20"
fault_run verify --offsite
expect_rc 0
[ "$(puts backlog)" = 20 ] || fail "$(puts backlog) recording PUTs accepted, not 20"
echo "ok"
