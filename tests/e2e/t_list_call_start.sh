#!/usr/bin/env bash
# Regression (found by an attacking review): the guide's 20053 table says its dates filter on
# the call's start ("Calls which start within this period ... will match, regardless of the
# call answer or end time"), while its example rows show the recording's own time (calldate
# "2021-03-29 00:10:04" for ".../20210329-001004-..."), and a recording starts at the answer
# (the CDR example: a call at 01:05:02, its recording named 01:05:06). A call that waited in a
# queue or rang for minutes is then asked for by its start and shown by its answer
# (fakepbx --list-call-start). The client lays its windows end to end and keeps of each answer
# only the rows shown inside the window: a call that started before a window's end and was
# answered after it is dropped by that window (shown after its end) and never asked for by the
# next one (it started before that window's padded start). A clean run (exit 0) did not
# archive it, moved the checkpoint past it (the next runs' lookback starts after it), and the
# report called its day listed whole, everything archived, nothing left on the PBX.
#
# Each case: a day three days back with a few recordings, one call of that day queued from
# 09:58:10 to 10:01:20 (its CDR's calldate, its recording's name), one call the next day at
# noon; [sync] since = that day 09:00, window = 60 (windows [09:00, 09:59], [10:00, ...]).
# Expected: the first run archives every recording (exit 0), and so does the second.
source "$TOP/tests/e2e/lib.sh"

DAY=$(date -d '3 days ago' +%F)
DAYC=${DAY//-/}

# queued_call [ANSWER [WAIT]]: the queued recording on the PBX (answered at ANSWER, default
# "$DAY 10:01:20", after WAIT seconds, default 190) and its CDR in cdr.jsonl; prints its path.
queued_call() {
	local answer start path day
	answer=$(date -d "${1:-$DAY 10:01:20}" +%s)
	start=$((answer - ${2:-190}))
	day=$(date -d "@$answer" +%Y%m%d)
	path="$day/$day-$(date -d "@$answer" +%H%M%S)-$answer-Inbound-96-506-820(202).wav"
	write_wav "$path" 3 5 >/dev/null
	python3 - "$PBXDIR/cdr.jsonl" "$path" "$(date -d "@$start" '+%F %T')" "$start" <<'PY'
import json, sys
f, path, calldate, start = sys.argv[1:5]
row = {"calldate": calldate, "src": "506", "contact": "", "groupname": "", "dst": "820(202)",
       "channel": "96", "dstchannel": "", "duration": "193", "billsec": "3",
       "disposition": "ANSWERED", "userfield": "Inbound", "accountcode": "",
       "cidname": "FROM96", "in_route": "FROM96", "IVR": "", "Recording filename": path,
       "UniqueID": start + ".900", "port": 0}
with open(f, "a") as out:
    out.write(json.dumps(row, separators=(",", ":")) + "\n")
PY
	echo "$path"
}

# report_day: the report's entry for $DAY (listed, archived, only_on_pbx).
report_day() {
	nexo report --json >/dev/null
	jq -c --arg d "$DAY" '.days[] | select(.day == $d) |
		{listed, archived: .archived, only_on_pbx, in_progress}' <<<"$OUT"
}

# queued_case [CONF-LINES] -- [FAKEPBX-ARGS]
queued_case() {
	local conf=() path run day
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		conf+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	fault_fresh 1 3 --min-seconds 1 --max-seconds 2 --start "$DAY"
	path=$(queued_call)
	# A call the next day at noon: the checkpoint (less the lookback) passes the whole day.
	add_recording "$(date -d "$(date -d "$DAY + 1 day" +%F) 12:00" +%s)" >/dev/null
	remember_originals
	FAULT_CONF=('[sync]' "since = $DAY 09:00" 'window = 60' "${conf[@]}")
	fault_serve --list-call-start "$@"
	for run in 1 2; do
		fault_run run
		[ "$RC" -le 1 ] || fail "run $run exited $RC"
		if ! manifest_paths archived | grep -qxF "$path"; then
			day=$(report_day)
			fail "run $run (exit $RC) did not archive $path (queued 09:58:10 to 10:01:20); the report's $DAY: $day; checkpoint $(cat "$ARCHIVE/.state/checkpoint")"
		fi
		fault_check
	done
	expect_all_archived
}

# [cdr] join = false: no CDR to witness the recording the listing left out.
case_no_join() {
	queued_case '[cdr]' 'join = false'
}

# The PBX turns its CDR CGI away from this user (the guide's recording examples log in as
# monitor, its CDR examples as admin): the run goes on without CDRs.
case_cdr_denied() {
	queued_case -- --fault 'status=403:1000@9006'
}

# A delete is judged by a re-list of its candidates' minutes. The queued recording, shown at
# 10:01, is not in a re-list asked for from 10:00 (its call started at 09:58): it reads as
# deleted whatever the PBX did. Setup: the queued call the oldest recording (the others a day
# later), listed whole by a walk from its day's 00:00 in day windows, retention on
# (pbx_keep_days 0), a PBX whose 20054 reads only `wavfiles` (the guide's example; the client
# starts with `wavefiles`, and learns it from a delete that "deleted 0" and removed nothing). Expected: no "pbx_deleted" line for a
# recording the PBX still holds, and every recording deleted in the end.
case_relist() {
	local path held
	fault_fresh 1 3 --min-seconds 1 --max-seconds 2 --start "$(date -d "$DAY + 1 day" +%F)"
	path=$(queued_call)
	remember_originals
	FAULT_CONF=('[sync]' "since = $DAY 00:00" '[retention]' 'delete_from_pbx = true' 'pbx_keep_days = 0')
	fault_serve --list-call-start --delete-key wavfiles
	fault_run run
	fault_check
	for held in $(manifest_paths pbx_deleted); do
		[ ! -f "$PBXDIR/$held" ] ||
			fail "$held: recorded deleted from the PBX (exit $RC), which still holds it"
	done
	fault_run run
	fault_check
	expect_rc 0
	expect_all_archived
	[ "$(pbx_count)" -eq 0 ] || fail "$(pbx_count) recordings left on the PBX: $(pbx_paths | tr '\n' ' ')"
}

# Retention walks its own windows, each judging the rows it shows (those shown after its end are
# the next one's). The queued recording is shown at 00:01:20 of the day after DAY, its call
# started at 23:58:10 on DAY: the window of DAY lists it (by its start) and leaves it to the
# next, the next day's window, asked for from its own start, did not list it. Setup: 3
# recordings on DAY and 3 the next day, the queued call, [sync] window = 1440 (retention's
# windows are DAY and the next day), retention on (pbx_keep_days 0), two runs. Expected: every
# recording archived and deleted, the queued one too (it stayed on the PBX for good).
case_retention_window() {
	local path
	fault_fresh 2 3 --min-seconds 1 --max-seconds 2 --start "$DAY"
	path=$(queued_call "$(date -d "$DAY + 1 day" +%F) 00:01:20" 190)
	remember_originals
	FAULT_CONF=('[sync]' "since = $DAY 00:00" 'window = 1440' '[retention]'
		'delete_from_pbx = true' 'pbx_keep_days = 0')
	fault_serve --list-call-start
	fault_run run
	fault_check
	fault_run run
	fault_check
	expect_rc 0
	expect_all_archived
	[ ! -f "$PBXDIR/$path" ] || fail "the queued $path (23:58:10 to 00:01:20) is still on the PBX after two runs with retention"
	[ "$(pbx_count)" -eq 0 ] || fail "$(pbx_count) recordings left on the PBX: $(pbx_paths | tr '\n' ' ')"
}

fault_case no_join case_no_join
fault_case cdr_denied case_cdr_denied
fault_case relist case_relist
fault_case retention_window case_retention_window
fault_cases_done
