#!/usr/bin/env bash
# The live progress line (issue 16 part 6): on a TTY it is redrawn at least once a second, while
# a listing drips and while a download drips; the summary that follows stays on its own row;
# -q draws none; stdout and stderr that are files get no progress bytes at all.
# Setup: fakepbx, 1 day (2024-03-04) x 2 recordings cut to 0.25 s; [sync] since that day. The
# first two listing answers drip at 120 B/s (an empty one of 127 bytes, then the listing: about
# 5 s), the first download at 2000 B/s (about 5 s). The TTY is script(1)'s pty, 200 columns.
source "$TOP/tests/e2e/lib.sh"

command -v script >/dev/null || skip "script(1) (util-linux) is not installed"

# shrink_recordings DATA_BYTES: every recording on the fake PBX cut to DATA_BYTES of audio.
shrink_recordings() {
	find "$PBXDIR" -name '*.wav' -type f -print0 | xargs -0 python3 -c '
import struct, sys
n = int(sys.argv[1])
for p in sys.argv[2:]:
    b = bytearray(open(p, "rb").read())
    b = b[:44 + n]
    struct.pack_into("<I", b, 4, 36 + n)
    struct.pack_into("<I", b, 40, n)
    open(p, "wb").write(b)
' "$1"
}

fresh() {
	stop_pbx
	rm -rf "$PBXDIR" "$ARCHIVE"
	generate 1 2 --start 2024-03-04 --min-seconds 1 --max-seconds 1
	shrink_recordings 4000
	start_pbx "$@"
	write_conf '[sync]' 'since = 2024-03-04 00:00'
}

# on_tty FILE ARGS...: nexo-archive ARGS on a pty (script(1)), everything it wrote to the
# terminal in FILE; sets RC.
on_tty() {
	local file=$1
	shift
	set +e
	timeout -s KILL 60 script -qefc "stty cols 200; exec $(printf '%q ' "$NEXO" -c "$CONF" "$@")" \
		"$file" >/dev/null 2>&1
	RC=$?
	set -e
	echo "--- on a TTY: nexo-archive $* -> exit $RC"
	tr '\r' '\n' <"$file" | sed 's/\x1b\[K//g' | grep -v '^$' | tail -n 8
}

# draws FILE PATTERN: the progress lines drawn in FILE that match PATTERN, one per line.
draws() {
	python3 - "$1" "$2" <<'PY'
import re, sys
data = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
for piece in data.split("\r\x1b[K")[1:]:
    line = re.split(r"[\r\n]", piece)[0]
    if line and re.search(sys.argv[2], line):
        print(line)
PY
}

# Case tty_drip: the listing, then the download, drip. Expected: exit 0; at least 3 "listing"
# draws and at least 4 "downloading" draws (2 a second over about 4 and 5 s); the received
# bytes grow while the download drips (3 or more different figures); the elapsed clock moves;
# the summary line stays, on a row of its own.
fresh --fault drip=120:2@20053 --fault drip=2000:1@20036
on_tty "$T/tty" run
expect_rc 0
draws "$T/tty" '^listing 2024-03-0[34]' >"$T/listing"
draws "$T/tty" '^downloading' >"$T/downloading"
echo "listing draws: $(wc -l <"$T/listing"), downloading draws: $(wc -l <"$T/downloading")"
[ "$(wc -l <"$T/listing")" -ge 3 ] || fail "the line was not redrawn while the listing dripped: $(cat "$T/listing")"
[ "$(wc -l <"$T/downloading")" -ge 4 ] || fail "the line was not redrawn while the download dripped: $(cat "$T/downloading")"
received=$(grep -oE '[0-9.]+ [KMG]?i?B received' "$T/downloading" | sort -u | wc -l)
[ "$received" -ge 3 ] || fail "the received bytes did not move during the drip: $(cat "$T/downloading")"
clocks=$(grep -oE '\| [0-9]+:[0-9]{2}$' "$T/downloading" | sort -u | wc -l)
[ "$clocks" -ge 3 ] || fail "the elapsed clock did not move: $(cat "$T/downloading")"
grep -q 'archived, 2 listed' "$T/downloading" || fail "no recordings count on the line: $(tail -n 2 "$T/downloading")"
# The summary's row: what the terminal shows after the last clear starts with "listed".
row=$(tr '\r' '\n' <"$T/tty" | sed 's/.*\x1b\[K//' | grep -E 'listed [0-9]+, archived' || true)
grep -qE '^listed 2, archived 2,' <<<"$row" || fail "the summary does not stay on its own row: '$row'"

# Case quiet_tty: -q on a TTY. Expected: exit 0 and not one progress byte (no CR, no erase).
fresh --fault drip=2000:1@20036
on_tty "$T/quiet" -q run
expect_rc 0
! grep -q $'\r\x1b\\[K' "$T/quiet" || fail "-q drew a progress line"

# Case files: stdout and stderr are files (cron, systemd). Expected: exit 0, no CR and no
# escape sequence in either.
fresh --fault drip=2000:1@20036
nexo run
expect_rc 0
expect_summary archived 2
for f in "$T/out" "$T/err"; do
	! grep -q $'[\r\x1b]' "$f" || fail "$f holds progress bytes: $(od -c "$f" | head -n 5)"
done
echo "PASS"
