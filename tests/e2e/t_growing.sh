#!/usr/bin/env bash
# Recordings still being recorded are neither failures nor deleted: MixMonitor writes the WAV
# header's sizes only when the call ends, and the PBX lists and serves the file while it grows.
# fakepbx's DIR/.live.jsonl grows a recording in place, a step per answer that lists or serves
# it, to its final bytes. In every case: the invariant after each run (every deleted file's
# sha256, from the delete log, is an archived version's) and, at the end, the final bytes
# archived and the PBX's copy deleted with exactly those bytes.
source "$TOP/tests/e2e/lib.sh"

# Without CDRs: with [cdr] join, a recording no CDR names yet is kept on the PBX anyway (its call
# may go on; case_no_cdr_yet).
FAULT_CONF=('[sync]' 'invalid_retries = 2' '[retention]' 'delete_from_pbx = true'
	'pbx_keep_days = 0' '[cdr]' 'join = false')

# live_recording HEADER STEPS SECONDS: a recording of yesterday, SECONDS s when done, growing
# over STEPS answers with a HEADER (zero|valid) header; prints its path, and its final sha256
# into $T/final.
live_recording() {
	local when day name path
	when=$(date -d 'yesterday 10:10:10' +%s)
	day=$(date -d "@$when" +%Y%m%d)
	name="$(date -d "@$when" +%Y%m%d-%H%M%S)-$when-Inbound-42-507-620(204).wav"
	path="$day/$name"
	write_wav ".live/$path" "$3" 5 >"$T/final"
	printf '{"path":"%s","final":".live/%s","header":"%s","steps":%s}\n' "$path" "$path" "$1" \
		"$2" >"$PBXDIR/.live.jsonl"
	echo "$path"
}

# Runs nightly until the live recording's final bytes are archived (at most 12 runs): every run
# exits 0 (a recording still being written is no failure) and none flags it invalid; until
# then no archived line holds other bytes of it (zero header) and the PBX deleted nothing of it.
until_final() {
	local path=$1 header=$2 final n
	final=$(cat "$T/final")
	for n in $(seq 1 12); do
		fault_run -o sync.lookback=3d run
		fault_check
		expect_rc 0
		! grep -q 'flagged invalid' <<<"$OUT" || fail "run $n flagged it invalid: $OUT"
		if manifest_versions "$path" | grep -q " $final "; then
			echo "final bytes archived by run $n"
			break
		fi
		[ "$header" = valid ] || [ -z "$(manifest_versions "$path")" ] ||
			fail "run $n archived unfinished bytes: $(manifest_versions "$path")"
		! grep -qF "$path " "$T/deleted.log" || fail "run $n deleted it before it was final"
	done
	manifest_versions "$path" | grep -q " $final " || fail "the final bytes were never archived"
	fault_run -o sync.lookback=3d run
	fault_check
	expect_rc 0
	grep -qxF "$path $final" "$T/deleted.log" ||
		fail "the PBX's copy was not deleted with the final bytes: $(grep -F "$path" "$T/deleted.log")"
	[ -z "$(grep -F "$path " "$T/deleted.log" | grep -vF " $final")" ] || fail "other bytes deleted"
}

# An Asterisk header (sizes 0) for 12 steps: fetched each run, never archived unfinished, never
# flagged (invalid_retries = 2 runs would have flagged it on today's main), archived once final.
case_zero_header() {
	local path
	fault_fresh 1 2 --min-seconds 1 --max-seconds 2
	path=$(live_recording zero 12 20)
	fault_serve
	until_final "$path" zero
	[ "$(manifest_versions "$path" | wc -l)" = 1 ] || fail "archived more than once"
	nexo verify
	expect_rc 0
}

# A header kept valid while growing (the copy of a call still going on is a fine, shorter
# WAV): each run may archive what is there, as a new version when it changed, and retention
# deletes only once the listing stops changing, with the bytes of the last version.
case_valid_header() {
	local path
	fault_fresh 1 2 --min-seconds 1 --max-seconds 2
	path=$(live_recording valid 12 20)
	fault_serve
	until_final "$path" valid
	nexo verify
	expect_rc 0
}

# A recording that keeps failing the same check counts once per run: alone in its batch, a
# rejected entry made the run ask again with the other download key and count it twice, so
# invalid_retries = 2 flagged it on its first run. Now run 1: discarded, counted 1, not
# archived; run 2: flagged invalid, archived as it is.
case_once_per_run() {
	fault_fresh 1 1 --min-seconds 1 --max-seconds 2
	fault_serve --fault wav-lying-header
	local path
	path=$(cut -d' ' -f1 "$T/originals")
	fault_run run
	expect_rc 1
	expect_summary failed 1
	[ -z "$(manifest_versions "$path")" ] || fail "run 1 archived it already"
	[ "$(jq -r --arg p "$path" '.[$p].count' "$ARCHIVE/.state/attempts.json")" = 1 ] ||
		fail "run 1 counted it $(jq -r --arg p "$path" '.[$p].count' "$ARCHIVE/.state/attempts.json") times"
	stop_pbx
	[ "$(req_count 20036)" -eq 1 ] || fail "a rejected entry made the run ask again"
	fault_serve --fault wav-lying-header
	fault_run run
	expect_rc 1
	grep -q 'flagged invalid' <<<"$OUT" || fail "run 2 did not flag it"
}

fault_case zero_header case_zero_header
fault_case valid_header case_valid_header
fault_case once_per_run case_once_per_run
fault_cases_done
