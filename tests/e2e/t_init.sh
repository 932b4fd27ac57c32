#!/usr/bin/env bash
# An archive must exist before a run writes to it (issue 15).
# 1) Setup: fakepbx with 1 day x 3 recordings; a config whose [archive] dir does not exist.
#    Commands: run, backfill, reconcile, watch, each; and --dry-run run.
#    Expected: exit 6 naming the folder and `nexo-archive init`; the folder is still missing.
# 2) Setup: the folder exists, empty (a mount point whose disk did not mount).
#    Expected: the same, exit 6, and the folder stays empty.
# 3) Command: init. Expected: exit 0; the folder holds only .nexo-archive ("format 1"); a run
#    archives the 3 recordings; a second init says it is an archive already and changes nothing.
# 4) Setup: an archive of an older version (made, then its marker removed): run refuses it;
#    init marks it and keeps every file; the next run archives nothing new (exit 0).
# 5) init --owner nobody: the archive and all its files are nobody's, mode 0750; a run as root
#    into it is refused (exit 6, naming the owner) and writes nothing (as root only).
source "$TOP/tests/e2e/lib.sh"

generate 1 3 --min-seconds 1 --max-seconds 2
start_pbx
ARCHIVE="$T/mnt/nas/archive"
write_conf '[ami]' 'username = admin' 'secret = password' 'port = 1'
[ ! -e "$ARCHIVE" ] || rm -rf "$T/mnt" # write_conf inits; this test does it by hand
chmod 600 "$CONF"

refused() { # $1: what the folder is
	local cmd
	for cmd in run "backfill --from 2024-01-01 --to 2024-01-02" reconcile watch "--dry-run run"; do
		# shellcheck disable=SC2086
		nexo $cmd
		expect_rc 6
		grep -qF "$ARCHIVE" "$T/err" || fail "$cmd: the folder is not named: $ERR"
		grep -q "nexo-archive init" "$T/err" || fail "$cmd: init is not named: $ERR"
	done
	case $1 in
	missing) [ ! -e "$T/mnt" ] || fail "a refused command created $(find "$T/mnt" | head -n 3)" ;;
	empty) [ -z "$(ls -A "$ARCHIVE")" ] || fail "a refused command wrote into the folder: $(ls -A "$ARCHIVE")" ;;
	esac
}
refused missing
mkdir -p "$ARCHIVE"
refused empty

nexo init
expect_rc 0
[ "$(ls -A "$ARCHIVE")" = .nexo-archive ] || fail "init made more than the marker: $(ls -A "$ARCHIVE")"
grep -qx "format 1" "$ARCHIVE/.nexo-archive" || fail "the marker names no format: $(cat "$ARCHIVE/.nexo-archive")"
nexo run
expect_rc 0
expect_summary archived 3
before=$(cd "$ARCHIVE" && find . -printf '%p %s %T@\n' | sort)
nexo init
expect_rc 0
grep -q "already an archive" "$T/out" || fail "a second init does not say so: $OUT"
[ "$(cd "$ARCHIVE" && find . -printf '%p %s %T@\n' | sort)" = "$before" ] || fail "a second init changed the archive"

# An older version's archive: no marker.
rm "$ARCHIVE/.nexo-archive"
nexo run
expect_rc 6
grep -q "nexo-archive init" "$T/err" || fail "an unmarked archive: init is not named: $ERR"
nexo init
expect_rc 0
grep -q "^initialised" "$T/out" || fail "init of an unmarked archive: $OUT"
[ "$(manifest_events archived)" = 3 ] || fail "init lost manifest lines"
nexo run
expect_rc 0
expect_summary archived 0

# Given to another user: root refuses to write into it. (Giving files away takes root.)
if [ "$(id -u)" -eq 0 ]; then
	nexo init --owner nobody
	expect_rc 0
	bad=$(find "$ARCHIVE" ! -user nobody | head -n 3)
	[ -z "$bad" ] || fail "init --owner left files of another owner: $bad"
	[ "$(stat -c %a "$ARCHIVE")" = 750 ] || fail "the archive folder is mode $(stat -c %a "$ARCHIVE")"
	before=$(cd "$ARCHIVE" && find . -printf '%p %s %T@ %u\n' | sort)
	nexo run
	expect_rc 6
	grep -q "belongs to nobody" "$T/err" || fail "the owner is not named: $ERR"
	[ "$(cd "$ARCHIVE" && find . -printf '%p %s %T@ %u\n' | sort)" = "$before" ] || fail "a refused root run changed the archive"
else
	echo "NOTE: not root: init --owner (a chown) and root's refusal are not checked"
fi
nexo init --owner no-such-user-here
expect_rc 6
echo "ok"
