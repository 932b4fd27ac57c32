#!/usr/bin/env bash
# Setup: fakepbx --fault expire-after=5 (a session dies after 5 authenticated requests) with
# 2 days x 60 recordings; [sync] batch_files = 10, so a run needs well over 5 requests.
# Command: nexo-archive run; then, each in a fresh archive, fakepbx --no-session STYLE
# --fault expire-after=3 for STYLE in json, html, 401, redirect.
# Expected: every run exits 0 with "archived 120", the manifest verifies and matches the PBX,
# and fakepbx saw more than one login (the client logged in again when the session died).
source "$TOP/tests/e2e/lib.sh"

generate 2 60 --min-seconds 1 --max-seconds 1

# one_case NAME FAKEPBX-ARGS...: a fresh archive and fakepbx; the run must complete.
one_case() {
	local name=$1
	shift
	ARCHIVE="$T/archive-$name"
	: >"$T/fakepbx.log"
	start_pbx "$@"
	write_conf '[sync]' 'batch_files = 10'
	nexo run
	[ "$RC" -eq 0 ] || fail "$name: expected exit 0, got $RC: $ERR"
	[ "$(summary_field archived)" = 120 ] || fail "$name: expected archived 120 in: $OUT"
	[ "$(check_manifest_hashes)" = 120 ] || fail "$name: manifest does not hold 120 matching hashes"
	[ -z "$(manifest_dup_paths)" ] || fail "$name: archived twice: $(manifest_dup_paths | head -n 3)"
	stop_pbx
	[ "$(pbx_log_count 8404)" -ge 2 ] || fail "$name: only $(pbx_log_count 8404) login(s): the session never expired?"
	cp "$T/fakepbx.log" "$T/fakepbx-$name.log"
}

one_case default --fault expire-after=5
for style in json html 401 redirect; do
	one_case "$style" --no-session "$style" --fault expire-after=3
done
echo "ok"
