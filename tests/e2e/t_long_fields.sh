#!/usr/bin/env bash
# Rows are never dropped for a cosmetic field. A PBX that sends src/dst/trunk (20053) and
# channel, dstchannel, src, dst, cidname, accountcode (9006) longer than our fields (SIP URIs with
# tags) has every recording archived, joined to its CDR, the long fields cut with a note ("cut"
# in the manifest line and in its "cdr" object), and the window is not pinned: the next run has
# nothing to do. Fails on a main that drops such rows (and fails 9006 answers whole).
# Cases: --long-fields 100 and 5000.
source "$TOP/tests/e2e/lib.sh"

long_case() {
	local n=$1
	rm -rf "$ARCHIVE" "$PBXDIR"
	generate 1 4 --min-seconds 1 --max-seconds 2
	start_pbx --long-fields "$n"
	write_conf '[sync]' 'since = 2000-01-01 00:00'
	nexo run
	expect_rc 0
	expect_summary listed 4
	expect_summary archived 4
	diff <(pbx_paths) <(manifest_paths archived) >/dev/null || fail "$n: the archive differs from the PBX"
	cat "$ARCHIVE"/manifest/*.jsonl | jq -e -s '
		[.[] | select(.event == "archived")] | length == 4 and all(
			(.cut | index("src") and index("dst")) and (.src | length) < 64 and
			.cdr != null and (.cdr.cut | length) > 0)' >/dev/null ||
		fail "$n: an archived line lacks its cut note or its CDR: $(head -c 600 "$ARCHIVE"/manifest/*.jsonl)"
	nexo run
	expect_rc 0
	expect_summary archived 0
	stop_pbx
	echo "case ok: long fields of $n characters"
}

long_case 100
long_case 5000
echo "ok"
