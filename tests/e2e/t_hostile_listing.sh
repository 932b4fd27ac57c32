#!/usr/bin/env bash
# A hostile or broken PBX cannot make a run's memory grow with what it sends (issue 14.4).
# fakepbx json-tiny-rows=MB puts MB MiB of rows holding only a path (what costs a client most
# per byte: ~45 bytes of JSON make a ~620-byte row) before the real rows of a listing.
#  - flood_once: 255 MiB of tiny rows in the login's proof listing and the first window's
#    listing, then honest answers: the run stops reading at the 8 MiB cap, asks for the window
#    in halves, archives every recording: exit 0;
#  - rows_once: 4 MiB (under the byte cap, ~90,000 rows: over the 40,000-row cap) the same
#    way: the row cap splits the window: exit 0;
#  - flood_always: every listing a 255 MiB flood: after three single minutes over the cap the
#    run stops listing, names the cap, deletes nothing: exit 1;
#  - lying_count: 1 MiB of tiny rows in every listing and a totalcount a million too high
#    (found by review: the padded answer plus the narrowed minute passed the row cap and the
#    run archived nothing and exited 0 in silence): the minutes are reported, exit 1.
# Each run's peak RSS (GNU time's %M) stays under 64 MiB (not measured under ASan, whose shadow
# memory is not the program's).
source "$TOP/tests/e2e/lib.sh"

[ -x /usr/bin/time ] || skip "/usr/bin/time missing (Debian package time)"
measure=1
if ldd "$NEXO" 2>/dev/null | grep -q 'libasan'; then measure=0; fi

# rss_run ARGS: as nexo, under GNU time; sets RSS_KIB.
rss_run() {
	set +e
	timeout -s KILL 120 /usr/bin/time -f %M -o "$T/rss" "$NEXO" -c "$CONF" "$@" \
		>"$T/out" 2>"$T/err"
	RC=$?
	set -e
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	RSS_KIB=$(tail -n 1 "$T/rss")
	echo "--- nexo-archive $* -> exit $RC, peak RSS $RSS_KIB KiB"
	sed 's/^/    stderr: /' "$T/err" | tail -n 20
	[ "$RC" -ne 137 ] || fail "the run was killed after 120 s"
	if [ "$measure" = 1 ] && [ "$RSS_KIB" -ge $((64 * 1024)) ]; then
		fail "peak RSS $RSS_KIB KiB, over 64 MiB"
	fi
}

flood_case() {
	fault_fresh 1 4 --min-seconds 1 --max-seconds 2
	fault_serve --fault "$@"
}

flood_case json-tiny-rows=255:2
rss_run run
expect_rc 0
expect_summary archived 4
echo "case ok: flood_once ($RSS_KIB KiB)"

flood_case json-tiny-rows=4:2
rss_run run
expect_rc 0
expect_summary archived 4
echo "case ok: rows_once ($RSS_KIB KiB)"

FAULT_CONF=('[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')
flood_case json-tiny-rows=255
rss_run run
expect_rc 1
grep -q "size cap" "$T/err" || fail "flood_always: the cap is not named: $ERR"
grep -q "listing stops for this run" "$T/err" || fail "flood_always: the run did not stop: $ERR"
expect_no_deletion
echo "case ok: flood_always ($RSS_KIB KiB)"

FAULT_CONF=()
flood_case json-tiny-rows=1 --fault totalcount-lie=1000000
rss_run run
[ "$RC" -ne 0 ] || fail "lying_count: exit 0 with nothing archived"
grep -q "the minute" "$T/err" || fail "lying_count: no minute reported: $ERR"
echo "case ok: lying_count ($RSS_KIB KiB)"
echo "ok"
