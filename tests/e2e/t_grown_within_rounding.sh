#!/usr/bin/env bash
# Regression (found by an attacking review): a listing whose duration did not change is taken as
# proof that the PBX still holds the archived bytes. The vendor's listing states no size, and
# the duration is whole seconds (rounded), so a recording that grew by less than the rounding
# between the archiving and the deletion (a copy taken while the call went on, with a valid
# header) is deleted with bytes no "archived" line carries.
source "$TOP/tests/e2e/lib.sh"

case_grew_within_rounding() {
	fault_fresh 1 2 --min-seconds 2 --max-seconds 3
	local path first grown
	path=$(head -n 1 "$T/originals" | cut -d' ' -f1)
	# The copy the first run sees: 9.6 s so far (listed as "10").
	first=$(write_wav "$path" 9.6 7)
	remember_originals
	FAULT_CONF=()
	fault_serve
	fault_run run
	fault_check
	expect_rc 0
	manifest_versions "$path" | grep -q "^1 $first " || fail "run 1 did not archive the 9.6 s copy"
	# The call went on for 0.8 s more (same audio, longer; still listed as "10").
	grown=$(write_wav "$path" 10.4 7)
	FAULT_CONF=('[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')
	fault_serve
	fault_run run
	expect_rc 0
	if grep -qxF "$path $grown" "$T/deleted.log"; then
		manifest_versions "$path" | grep -q " $grown " ||
			fail "deleted the grown recording ($grown, 10.4 s) while the archive holds only the 9.6 s copy: $(manifest_versions "$path")"
	fi
	fault_check
}

# The same recording without retention. Its CDR is written at the hang-up: the first run
# archives the 9.6 s copy before the CDR exists (archived with "cdr": null). The call goes on to
# 10.4 s (still listed "10"), then its CDR appears (billsec 10). The run that joins the CDR sees
# a copy shorter than the call, fetches it again and archives the final 10.4 s bytes as
# version 2. (Without any CDR, a growth within the listing's rounding is found only when a
# deletion compares the bytes: docs/reliability.md.)
case_final_archived_when_cdr_comes() {
	fault_fresh 1 2 --min-seconds 2 --max-seconds 3
	local path grown row
	path=$(head -n 1 "$T/originals" | cut -d' ' -f1)
	write_wav "$path" 9.6 7 >/dev/null
	remember_originals
	row=$(jq -c --arg p "$path" 'select(."Recording filename" == $p)' "$PBXDIR/cdr.jsonl")
	[ -n "$row" ] || fail "no CDR row for $path"
	jq -c --arg p "$path" 'select(."Recording filename" != $p)' "$PBXDIR/cdr.jsonl" \
		>"$T/cdr.tmp" && mv "$T/cdr.tmp" "$PBXDIR/cdr.jsonl"
	FAULT_CONF=()
	fault_serve
	fault_run run
	expect_rc 0
	grown=$(write_wav "$path" 10.4 7)
	jq -c '.billsec = "10" | .duration = "13"' <<<"$row" >>"$PBXDIR/cdr.jsonl"
	fault_serve
	for _ in 1 2 3; do
		fault_run -o sync.lookback=3d run
		expect_rc 0
	done
	manifest_versions "$path" | grep -q "^2 $grown " ||
		fail "the final 10.4 s bytes the PBX holds were not archived: $(manifest_versions "$path")"
	[ "$(manifest_versions "$path" | wc -l)" = 2 ] || fail "archived more than twice"
}

fault_case grew_within_rounding case_grew_within_rounding
fault_case final_archived_when_cdr_comes case_final_archived_when_cdr_comes
fault_cases_done
