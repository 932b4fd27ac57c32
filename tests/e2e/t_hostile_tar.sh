#!/usr/bin/env bash
# A download answer cannot make the archive keep more than the listing allows (issue 14.4).
# Each case: a fresh fakepbx disk of 1 day x 4 recordings (1-2 s; the listing states durations,
# no sizes), retention on, [sync] max_recording_bytes = 1M. After every run: the invariant
# (nothing deleted without a verified copy, no temp file, chains hold).
#  - oversize: the first file's tar entry 8 MiB longer than the file: refused by its header's
#    size before a byte is stored, reported, exit 1; the other 3 archived; a clean run gets it;
#  - gzip_undeclared: the tar gzip'd without Content-Encoding: refused whole ("without saying
#    so"), nothing archived, exit 1; a clean run archives all 4;
#  - gzip_declared: gzip'd and said so: inflated, all 4 archived, exit 0;
#  - gzip_bomb: gzip'd and said so, the first entry 64 MiB of zeros more (~64 KiB on the wire):
#    refused by its size, nothing of it stored, exit 1;
#  - bare: a one-file request answered with a bare WAV (no size stated anywhere) of 70 s
#    (1.1 MB): cut where it passes 1 MiB, not stored, exit 1; with max_recording_bytes = 2M
#    it is archived.
source "$TOP/tests/e2e/lib.sh"

FAULT_CONF=('[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0'
	'[sync]' 'max_recording_bytes = 1M')

fresh4() {
	fault_fresh 1 4 --min-seconds 1 --max-seconds 2
	OLDEST=$(head -n 1 "$T/originals" | cut -d' ' -f1)
}

# nothing_big: no file in the archive is over 1 MiB.
nothing_big() {
	[ -z "$(find "$ARCHIVE" -type f -size +1024k)" ] ||
		fail "$1: a file over 1 MiB was kept: $(find "$ARCHIVE" -type f -size +1024k)"
}

fresh4
fault_serve --fault tar-oversize=8:1
fault_run run
fault_check
expect_rc 1
expect_summary archived 3
grep -q "more than its listing allows" "$T/err" || fail "oversize: not reported: $ERR"
grep -q "arrived larger than their listing allows" "$T/out" || fail "oversize: no summary: $OUT"
! manifest_paths archived | grep -qxF "$OLDEST" || fail "oversize: the entry was archived"
nothing_big oversize
fault_clean_run 0
echo "case ok: oversize"

fresh4
fault_serve --fault tar-gzip
fault_run run
fault_check
expect_rc 1
grep -q "gzip-compressed without saying so" "$T/err" || fail "gzip_undeclared: not named: $ERR"
[ "$(manifest_events archived)" = 0 ] || fail "gzip_undeclared: something was archived"
fault_clean_run 0
echo "case ok: gzip_undeclared"

fresh4
fault_serve --fault tar-gzip=1
fault_run run
fault_check
expect_rc 0
expect_summary archived 4
echo "case ok: gzip_declared"

fresh4
fault_serve --fault tar-gzip=1 --fault tar-oversize=64:1
fault_run run
fault_check
expect_rc 1
expect_summary archived 3
grep -q "more than its listing allows" "$T/err" || fail "gzip_bomb: not reported: $ERR"
nothing_big gzip_bomb
echo "case ok: gzip_bomb"

fault_fresh 1 1 --min-seconds 70 --max-seconds 70
fault_serve --bare-single
fault_run run
fault_check
expect_rc 1
grep -q "it arrives with more bytes, more than its listing allows" "$T/err" ||
	fail "bare: not reported: $ERR"
[ "$(manifest_events archived)" = 0 ] || fail "bare: it was archived"
nothing_big bare
FAULT_CONF=('[sync]' 'max_recording_bytes = 2M')
fault_serve --bare-single
fault_run run
fault_check
expect_rc 0
expect_summary archived 1
echo "case ok: bare"
echo "ok"
