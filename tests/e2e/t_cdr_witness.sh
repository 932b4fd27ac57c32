#!/usr/bin/env bash
# The CDR is a witness the listing cannot silence: a recording that 20053 leaves out (a PBX
# whose database is out of step with its disk) but that its call's CDR names is fetched by
# name and said. Fails on a main that believes the listing.
# Setup: fakepbx with 2 days x 8 recordings and their CDRs; --list-omit 3 (the 3 oldest are
# never listed, still downloadable, their CDR rows still name them); [sync] since 2000.
# 1) run with [cdr] join off: the 3 are missed (the listing is all it has): exit 0, listed 13.
# 2) run with [cdr] join on (the default), from scratch: every recording on the PBX is archived,
#    the 3 each warned "named by the CDR, missing from the listing", the summary counts them,
#    each carries its CDR; a second run finds nothing more.
# 3) the same with the CDR naming recordings as AMI does (--cdr-recording-name full: the PBX
#    disk path without ".wav") and with --list-omit-path on a recording of the last day.
source "$TOP/tests/e2e/lib.sh"

generate 2 8 --min-seconds 1 --max-seconds 2
pbx_paths >"$T/all"
[ "$(wc -l <"$T/all")" = 16 ] || fail "expected 16 recordings on the PBX"

# 1) No witness: the listing's word is all there is.
start_pbx --list-omit 3
write_conf '[sync]' 'since = 2000-01-01 00:00' '[cdr]' 'join = false'
nexo run
expect_rc 0
expect_summary listed 13
expect_summary archived 13
[ "$(manifest_paths archived | wc -l)" = 13 ] || fail "join off: expected 13 archived"

# 2) The CDR names them.
rm -rf "$ARCHIVE"
write_conf '[sync]' 'since = 2000-01-01 00:00'
nexo run
expect_rc 0
expect_summary listed 13
expect_summary archived 16
diff "$T/all" <(manifest_paths archived) >"$T/diff" ||
	fail "the archive lacks recordings the CDR names: $(head -n 5 "$T/diff")"
[ "$(grep -c 'named by the CDR, missing from the listing' "$T/err")" = 3 ] ||
	fail "the 3 omitted recordings are not each said: $(grep -c 'named by the CDR' "$T/err")"
grep -q '^3 recordings named by the CDR were missing from the PBX' <<<"$OUT" ||
	fail "the summary does not count them: $OUT"
[ "$(cat "$ARCHIVE"/manifest/*.jsonl | jq -r 'select(.event == "archived" and .cdr == null)
	| .pbx_path' | wc -l)" = 0 ] || fail "a recording was archived without its CDR"
check_manifest_hashes >/dev/null
nexo run
expect_rc 0
expect_summary archived 0
grep -q 'named by the CDR' "$T/err" && fail "run 2 fetched a known recording again"
stop_pbx

# 3) AMI's spelling in the CDR, and one omitted recording of the last day by path.
last=$(tail -n 1 "$T/all")
rm -rf "$ARCHIVE"
start_pbx --list-omit 2 --list-omit-path "$last" --cdr-recording-name full
write_conf '[sync]' 'since = 2000-01-01 00:00'
nexo run
expect_rc 0
expect_summary archived 16
diff "$T/all" <(manifest_paths archived) >"$T/diff" ||
	fail "full names: the archive lacks recordings the CDR names: $(head -n 5 "$T/diff")"
grep -qF "$last: named by the CDR, missing from the listing" "$T/err" ||
	fail "--list-omit-path $last is not said"
echo "ok"
