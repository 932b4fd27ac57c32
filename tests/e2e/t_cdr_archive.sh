#!/usr/bin/env bash
# The CDR archive ([cdr] archive = true): the day's complete CDR, unrecorded calls too.
# Setup: fakepbx with 3 days x 8 recordings, their CDRs and unrecorded calls; the last day is
# yesterday. lookback = 1d, so yesterday is still open and the two days before are not.
# 0) --max-rows 3: 9006 answers capped; no day is sealed, all stay open, exit 1.
# 1) run, signing on: cdr/DAY.jsonl holds exactly the UniqueIDs fakepbx's cdr.jsonl has for
#    DAY (unrecorded calls too) and cdr/DAY.csv is byte for byte what 9005 answers for DAY;
#    the two older days are sealed (a "cdr_archived" line whose hashes are sha256sum's of the
#    files and whose rows count them), yesterday is not (still open in .state/cdr-days);
#    unrecorded calls appear in the CDR archive only (no manifest line joins them); verify 0.
# 2) run again with [cdr] delete_from_pbx = true: 9004 is asked exactly for the two sealed
#    days (whole days), their rows are gone from the PBX, each got a "cdr_deleted" line;
#    yesterday's rows are untouched; no recording was deleted (20054 never called).
# 3) a third run changes nothing: no new manifest line, the CDR files unchanged.
source "$TOP/tests/e2e/lib.sh"
# Which days are final is counted from today: a run after midnight seals yesterday too (3 days,
# not 2).
clear_of_midnight 120

generate 3 8 --min-seconds 1 --max-seconds 2
mapfile -t days < <(jq -r '.calldate[0:10]' "$PBXDIR/cdr.jsonl" | sort -u)
[ "${#days[@]}" = 3 ] || fail "expected CDRs on 3 days, got ${days[*]}"
# 0) a PBX that caps its answers (fewer rows than its totalcount): nothing is sealed, the
#    days stay open (.state/cdr-days), exit 1 with the reason; the next, whole answers seal.
start_pbx --max-rows 3
"$NEXO" keygen --sign -o "$T/sign.key" >/dev/null || fail "keygen --sign"
write_conf '[sync]' 'since = 2000-01-01 00:00' 'lookback = 1d' '[cdr]' 'archive = true' \
	'[signing]' "secret_key_file = $T/sign.key" "public_key_file = $T/sign.key.pub"
nexo run
expect_rc 1
grep -q 'days of the CDR archive stay open' <<<"$OUT" || fail "summary: $OUT"
[ "$(manifest_events cdr_archived)" = 0 ] || fail "a capped answer was sealed"
[ "$(grep -c ' open$' "$ARCHIVE/.state/cdr-days")" = 3 ] || fail "cdr-days: $(cat "$ARCHIVE/.state/cdr-days")"
stop_pbx

start_pbx --cdr-delete-log "$T/cdr-deleted.log"
write_conf '[sync]' 'lookback = 1d' '[cdr]' 'archive = true' \
	'[signing]' "secret_key_file = $T/sign.key" "public_key_file = $T/sign.key.pub"
nexo run
expect_rc 0
grep -q '^CDR archive: 2 days sealed' <<<"$OUT" || fail "summary: $OUT"

curl -sS -f -c "$T/jar" -o /dev/null \
	--data "UserName=admin&Password=21232f297a57a5a743894a0e4a801fc3" "$PBX_URL/cgi/webserve/8404"
for d in "${days[@]}"; do
	[ -f "$ARCHIVE/cdr/$d.jsonl" ] && [ -f "$ARCHIVE/cdr/$d.csv" ] || fail "no CDR files of $d"
	diff <(jq -r --arg d "$d" 'select(.calldate[0:10] == $d) | .UniqueID' "$PBXDIR/cdr.jsonl" |
		sort) <(jq -r .UniqueID "$ARCHIVE/cdr/$d.jsonl" | sort) ||
		fail "cdr/$d.jsonl does not hold the PBX's CDRs of $d"
	curl -sS -f -b "$T/jar" -o "$T/export.csv" \
		"$PBX_URL/cgi/webserve/9005?&startdate=$d%2000:00&enddate=$d%2023:59&src=&dst=&disposition=All&userfield=All"
	cmp "$T/export.csv" "$ARCHIVE/cdr/$d.csv" || fail "cdr/$d.csv differs from 9005's export"
done
jq -e 'select(.disposition != "ANSWERED")' "$ARCHIVE"/cdr/*.jsonl >/dev/null ||
	fail "no unrecorded call in the CDR archive"

sealed() { cat "$ARCHIVE"/manifest/*.jsonl | jq -r 'select(.event == "cdr_archived") | .day' | sort; }
diff <(printf '%s\n' "${days[0]}" "${days[1]}") <(sealed) || fail "sealed days: $(sealed)"
for d in "${days[0]}" "${days[1]}"; do
	line=$(jq -c 'select(.event == "cdr_archived")' "$ARCHIVE/manifest/$d.jsonl")
	[ "$(jq -r .jsonl_sha256 <<<"$line")" = "$(sha256sum <"$ARCHIVE/cdr/$d.jsonl" | cut -c1-64)" ] ||
		fail "$d: jsonl_sha256"
	[ "$(jq -r .csv_sha256 <<<"$line")" = "$(sha256sum <"$ARCHIVE/cdr/$d.csv" | cut -c1-64)" ] ||
		fail "$d: csv_sha256"
	[ "$(jq -r .rows <<<"$line")" = "$(wc -l <"$ARCHIVE/cdr/$d.jsonl")" ] || fail "$d: rows"
done
grep -qx "${days[2]} open" "$ARCHIVE/.state/cdr-days" || fail "yesterday is not open: $(cat "$ARCHIVE/.state/cdr-days")"

# Unrecorded calls are in the CDR archive only.
cat "$ARCHIVE"/manifest/*.jsonl | jq -r 'select(.cdr) | .cdr.uniqueid' | sort >"$T/joined"
jq -r 'select(."Recording filename" == "") | .UniqueID' "$PBXDIR/cdr.jsonl" | sort >"$T/unrecorded"
[ -s "$T/unrecorded" ] || fail "fakepbx generated no unrecorded calls"
[ -z "$(comm -12 "$T/joined" "$T/unrecorded")" ] || fail "an unrecorded call was joined"
[ "$(wc -l <"$T/joined")" = 24 ] || fail "expected 24 joined recordings"
nexo verify
expect_rc 0
if command -v minisign >/dev/null; then
	for d in "${days[0]}" "${days[1]}"; do
		minisign -Vm "$ARCHIVE/manifest/$d.jsonl" -p "$T/sign.key.pub" >/dev/null ||
			fail "minisign rejects manifest/$d.jsonl"
	done
fi

# 2) deleting the sealed days' CDRs from the PBX
write_conf '[sync]' 'lookback = 1d' '[cdr]' 'archive = true' 'delete_from_pbx = true' \
	'[signing]' "secret_key_file = $T/sign.key" "public_key_file = $T/sign.key.pub"
nexo run
expect_rc 0
stop_pbx
[ "$(wc -l <"$T/cdr-deleted.log")" = 2 ] || fail "expected 2 9004 calls: $(cat "$T/cdr-deleted.log")"
diff <(printf '%s 00:00 %s 23:59\n' "${days[0]}" "${days[0]}" "${days[1]}" "${days[1]}") \
	<(jq -r '.startdate + " " + .enddate' "$T/cdr-deleted.log" | sort) || fail "9004 windows"
[ -z "$(jq -r --arg a "${days[0]}" --arg b "${days[1]}" \
	'select(.calldate[0:10] == $a or .calldate[0:10] == $b) | .UniqueID' "$PBXDIR/cdr.jsonl")" ] ||
	fail "the sealed days' CDRs are still on the PBX"
[ "$(jq -r --arg d "${days[2]}" 'select(.calldate[0:10] == $d) | .UniqueID' "$PBXDIR/cdr.jsonl" | wc -l)" = \
	"$(wc -l <"$ARCHIVE/cdr/${days[2]}.jsonl")" ] || fail "yesterday's CDRs were touched"
[ "$(manifest_events cdr_deleted)" = 2 ] || fail "expected 2 cdr_deleted lines"
for d in "${days[0]}" "${days[1]}"; do
	[ "$(jq -r 'select(.event == "cdr_deleted") | .rows' "$ARCHIVE/manifest/$d.jsonl")" = \
		"$(wc -l <"$ARCHIVE/cdr/$d.jsonl")" ] || fail "$d: cdr_deleted rows"
done
[ ! -s "$T/deleted.log" ] || fail "recordings were deleted: $(head -n 3 "$T/deleted.log")"

# 3) nothing left to do
start_pbx --cdr-delete-log "$T/cdr-deleted.log"
write_conf '[sync]' 'lookback = 1d' '[cdr]' 'archive = true' 'delete_from_pbx = true' \
	'[signing]' "secret_key_file = $T/sign.key" "public_key_file = $T/sign.key.pub"
before=$(cat "$ARCHIVE"/manifest/*.jsonl | wc -l)
sums=$(sha256sum "$ARCHIVE"/cdr/*)
nexo run
expect_rc 0
[ "$(cat "$ARCHIVE"/manifest/*.jsonl | wc -l)" = "$before" ] || fail "a third run added lines"
[ "$(sha256sum "$ARCHIVE"/cdr/*)" = "$sums" ] || fail "a third run changed CDR files"
[ "$(wc -l <"$T/cdr-deleted.log")" = 2 ] || fail "a third run called 9004"
nexo verify
expect_rc 0
# verify: an altered sealed CDR file is a finding.
printf 'x' >>"$ARCHIVE/cdr/${days[0]}.csv"
nexo verify
expect_rc 1
grep -q "cdr/${days[0]}.csv.*altered" <<<"$OUT$ERR" || fail "verify did not name the altered CDR file"
echo "ok"
