# tests/e2e/lib.sh — shared helpers for end-to-end tests. Each test is a bash script run by
# tests/run-tests.sh in a fresh temp dir $T, with $BUILD and $TOP set. It starts its own
# fakepbx on 127.0.0.1 (a free port), writes a config, runs the real binary, and asserts on
# exit codes, files and manifest lines. Exit 0 = pass, 77 = skip, anything else = fail.
set -euo pipefail

: "${T:?}" "${BUILD:?}" "${TOP:?}"
NEXO="$BUILD/nexo-archive"
FAKEPBX="$BUILD/fakepbx"
PBXDIR="$T/pbx"
ARCHIVE="$T/archive"
CONF="$T/nexo.conf"
PBX_PID=""
export NEXO_RETRY_BASE_MS=${NEXO_RETRY_BASE_MS:-50}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

cleanup() {
	stop_pbx
}
trap cleanup EXIT

# generate DAYS PER_DAY [extra fakepbx --generate args]
generate() {
	local days=$1 per=$2
	shift 2
	"$FAKEPBX" --generate "$PBXDIR" --days "$days" --per-day "$per" "$@" >/dev/null
}

# start_pbx [fakepbx args]: serves $PBXDIR; sets PBX_URL (http, or https with --tls).
start_pbx() {
	local scheme=http arg
	for arg in "$@"; do [ "$arg" = --tls ] && scheme=https; done
	rm -f "$T/port"
	# The reading of a minute end bound this run of the suite tests (run-tests.sh rotates it);
	# a test that names its own --end-bound wins (fakepbx takes the last one).
	local bound=()
	[ -z "${FAKEPBX_END_BOUND:-}" ] || bound=(--end-bound "$FAKEPBX_END_BOUND")
	"$FAKEPBX" --data "$PBXDIR" --listen 127.0.0.1:0 --port-file "$T/port" \
		--delete-log "$T/deleted.log" "${bound[@]}" "$@" 2>>"$T/fakepbx.log" &
	PBX_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$T/port" ] && break
		kill -0 "$PBX_PID" 2>/dev/null || fail "fakepbx exited at start: $(tail -n 5 "$T/fakepbx.log")"
		sleep 0.05
	done
	[ -s "$T/port" ] || fail "fakepbx did not write its port"
	PBX_URL="$scheme://127.0.0.1:$(cat "$T/port")"
}

stop_pbx() {
	if [ -n "$PBX_PID" ]; then
		kill "$PBX_PID" 2>/dev/null || true
		wait "$PBX_PID" 2>/dev/null || true
		PBX_PID=""
	fi
}

# init_archive: `nexo-archive init` of $ARCHIVE with $CONF, unless it is an archive already
# (every other command refuses a folder without the marker init writes). A config that does
# not load (t_config_errors) leaves the folder as it is: the command under test says why.
init_archive() {
	[ -e "$ARCHIVE/.nexo-archive" ] || [ ! -e "$CONF" ] ||
		"$NEXO" -c "$CONF" init >/dev/null 2>>"$T/init.err" || true
}

# write_conf [extra config lines...]: a config for $PBX_URL and $ARCHIVE, and the archive
# made (init_archive); extra lines are appended verbatim (later sections may repeat a section
# header).
write_conf() {
	umask 077
	printf 'admin\n' >"$T/password"
	{
		printf '[pbx]\nurl = %s\nusername = admin\npassword_file = %s\n' "$PBX_URL" "$T/password"
		printf 'timeout = 10\nconnect_timeout = 5\nretries = 2\n'
		printf '[archive]\ndir = %s\n' "$ARCHIVE"
		for line in "$@"; do printf '%s\n' "$line"; done
	} >"$CONF"
	umask 022
	init_archive
}

# nexo ARGS...: runs the client with $CONF; sets RC, OUT (stdout) and ERR (stderr); never fails.
nexo() {
	set +e
	"$NEXO" -c "$CONF" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	echo "--- nexo-archive $* -> exit $RC"
	cat "$T/out"
	sed 's/^/    stderr: /' "$T/err" | tail -n 40
}

expect_rc() {
	[ "$RC" -eq "$1" ] || fail "expected exit $1, got $RC: $ERR"
}

# summary_field NAME: the number after NAME in the summary line ("archived 400, ...").
summary_field() {
	grep -oE "(^|, |: )$1 [0-9]+" <<<"$OUT" | head -n 1 | grep -oE '[0-9]+$'
}

expect_summary() {
	local got
	got=$(summary_field "$1")
	[ "$got" = "$2" ] || fail "summary: expected $1 $2, got '${got}' in: $OUT"
}

# Number of recordings on the fake PBX.
pbx_count() {
	find "$PBXDIR" -name '*.wav' -type f | wc -l
}

# Number of archived .wav files.
archive_count() {
	find "$ARCHIVE" -path "$ARCHIVE/.state" -prune -o -name '*.wav' -type f -print | wc -l
}

# All manifest lines of one event.
manifest_events() {
	cat "$ARCHIVE"/manifest/*.jsonl 2>/dev/null | grep -c "\"event\":\"$1\"" || true
}

# Every archived file's sha256 equals its manifest line's, and the file exists.
check_manifest_hashes() {
	python3 - "$ARCHIVE" <<'PY'
import json, hashlib, os, sys, glob
root = sys.argv[1]
n = 0
for mf in sorted(glob.glob(os.path.join(root, "manifest", "*.jsonl"))):
    for line in open(mf, encoding="utf-8"):
        o = json.loads(line)
        if o["event"] != "archived":
            continue
        p = os.path.join(root, o["file"])
        h = hashlib.sha256(open(p, "rb").read()).hexdigest()
        want = o.get("stored_sha256", o["sha256"])
        if h != want or os.path.getsize(p) != o["size"]:
            sys.exit("hash or size mismatch: " + o["file"])
        n += 1
print(n)
PY
}

# ---- helpers for the end-to-end cases (t_*.sh) ----

# clear_of_midnight SECONDS: when fewer than SECONDS are left of the local day, sleeps into the
# next one. For a test whose expectations count days from today (which day is still open,
# which are due): a command run after midnight counts from another today than the setup did,
# and the test fails by the clock, not by a bug. SECONDS: more than the test takes under the
# sanitizers on a loaded machine (and, with the wait, less than the runner's 300 s).
clear_of_midnight() {
	local h m s left
	read -r h m s < <(date '+%H %M %S')
	left=$((86400 - 10#$h * 3600 - 10#$m * 60 - 10#$s))
	if [ "$left" -lt "$1" ]; then
		echo "NOTE: $left s to midnight, less than this test may take: waiting for the new day"
		sleep $((left + 1))
	fi
}

# more_than N CMD...: CMD prints a number greater than N (for wait_until: re-evaluated on every
# try).
more_than() {
	local n=$1
	shift
	[ "$("$@")" -gt "$n" ]
}

# wait_until SECONDS CMD...: re-runs CMD every 20 ms until it succeeds; fails the test when it
# has not succeeded after SECONDS.
wait_until() {
	local limit=$1 i
	shift
	for ((i = 0; i < limit * 50; i++)); do
		"$@" && return 0
		sleep 0.02
	done
	fail "timed out after ${limit}s waiting for: $*"
}

# pbx_log_count CGI [STATUS]: how many requests for CGI (8404, 20053, 20036, 20054) fakepbx has
# logged in $T/fakepbx.log ("fakepbx: METHOD CGI STATUS BYTES"), optionally only with STATUS.
# fakepbx logs a streamed answer when it is done with it: stop_pbx first when every request of
# a finished run must be counted.
pbx_log_count() {
	grep -cE "^fakepbx: [A-Z]+ $1 ${2:-[0-9]+} " "$T/fakepbx.log" || true
}

# sums_of DIR: "SHA256 BASENAME" of every .wav under DIR (not under DIR/.state), sorted. The same
# recording has the same base name on the PBX (YYYYMMDD/name.wav) and in the archive
# (YYYY/MM/DD/name.wav).
sums_of() {
	find "$1" -path "$1/.state" -prune -o -name '*.wav' -type f -print0 |
		xargs -0 -r sha256sum | sed -E 's#^([0-9a-f]{64}) [ *].*/#\1 #' | sort
}

# manifest_paths EVENT: the pbx_path of every manifest line of EVENT, sorted (repeats kept).
manifest_paths() {
	cat "$ARCHIVE"/manifest/*.jsonl 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    o = json.loads(line)
    if o["event"] == sys.argv[1]:
        print(o["pbx_path"])
' "$1" | sort
}

# manifest_dup_paths: the pbx_paths that have more than one "archived" line.
manifest_dup_paths() {
	manifest_paths archived | uniq -d
}

# pbx_paths: "YYYYMMDD/name.wav" of every recording on the fake PBX, sorted.
pbx_paths() {
	(cd "$PBXDIR" && find . -name '*.wav' -type f -printf '%P\n' | sort)
}

# check_deleted_log: every "<path> <sha256>" line fakepbx wrote to $T/deleted.log has an
# "archived" manifest line with that pbx_path and sha256 and a "pbx_deleted" line for the same
# pbx_path; no path is deleted twice. Prints the number of deleted recordings; fails otherwise.
check_deleted_log() {
	touch "$T/deleted.log"
	python3 - "$ARCHIVE" "$T/deleted.log" <<'PY' || fail "check_deleted_log"
import json, os, sys, glob
from collections import Counter
root, log = sys.argv[1], sys.argv[2]
archived, marks = {}, Counter()
for mf in glob.glob(os.path.join(root, "manifest", "*.jsonl")):
    for line in open(mf, encoding="utf-8"):
        o = json.loads(line)
        if o["event"] == "archived":
            archived.setdefault(o["pbx_path"], set()).add(o["sha256"])
        elif o["event"] == "pbx_deleted":
            marks[o["pbx_path"]] += 1
seen, deletions = set(), Counter()
for line in open(log, encoding="utf-8"):
    path, sha = line.split()
    if (path, sha) in seen:
        sys.exit("the same bytes deleted twice: %s %s" % (path, sha))
    seen.add((path, sha))
    deletions[path] += 1
    if sha not in archived.get(path, ()):
        sys.exit("deleted without a matching archived line: %s %s" % (path, sha))
for path, n in deletions.items():
    if marks[path] < n:
        sys.exit("deleted without a pbx_deleted line: " + path)
print(len(seen))
PY
}

# add_recording EPOCH [SRC_WAV]: puts a new recording on the fake PBX: a copy of SRC_WAV
# (default: the first generated file) with one sample changed, named as an Outbound call at
# local time EPOCH (YYYYMMDD/YYYYMMDD-HHMMSS-EPOCH-Outbound-96-202-DST.wav). Prints its PBX path.
add_recording() {
	local when=$1 src=${2:-} day name
	[ -n "$src" ] || src=$(find "$PBXDIR" -name '*.wav' -type f | sort | head -n 1)
	[ -f "$src" ] || fail "add_recording: no WAV to copy"
	day=$(date -d "@$when" +%Y%m%d)
	name="$(date -d "@$when" +%Y%m%d-%H%M%S)-$when-Outbound-96-202-5$((when % 900 + 100)).wav"
	mkdir -p "$PBXDIR/$day"
	cp "$src" "$PBXDIR/$day/.$name.tmp"
	# shellcheck disable=SC2059 # the format is the byte, on purpose
	printf "\\$(printf %03o $((when % 256)))\\$(printf %03o $((when / 256 % 256)))" |
		dd of="$PBXDIR/$day/.$name.tmp" bs=1 seek=100 conv=notrunc status=none
	mv "$PBXDIR/$day/.$name.tmp" "$PBXDIR/$day/$name"
	echo "$day/$name"
}

# flip_byte FILE OFFSET [MASK]: xors the byte at OFFSET with MASK (default 1), so the file
# surely changes (writing a fixed byte leaves it as it was when that byte was already there).
flip_byte() {
	local file=$1 off=$2 mask=${3:-1} byte
	byte=$(od -An -tu1 -j "$off" -N 1 "$file" | tr -d ' ')
	[ -n "$byte" ] || fail "flip_byte: $file has no byte at $off"
	# shellcheck disable=SC2059 # the format is the byte, on purpose
	printf "\\$(printf %03o $((byte ^ mask)))" | dd of="$file" bs=1 seek="$off" conv=notrunc status=none
	[ "$(od -An -tu1 -j "$off" -N 1 "$file" | tr -d ' ')" = $((byte ^ mask)) ] || fail "flip_byte: $file did not change"
}

# tmp_empty: ARCHIVE/.state/tmp holds no files (a finished run leaves no temp files).
tmp_empty() {
	[ -z "$(find "$ARCHIVE/.state/tmp" -mindepth 1 2>/dev/null | head -n 1)" ]
}

# variant_case NAME [CONFIG-LINES...] -- [FAKEPBX-ARGS...]: a fresh archive ($T/archive-NAME)
# and a fresh fakepbx with FAKEPBX-ARGS serving $PBXDIR; one run must exit 0 and archive every
# PBX recording, with a verified manifest that matches the PBX and no temp files left.
variant_case() {
	local name=$1 n conf=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		conf+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	n=$(pbx_count)
	ARCHIVE="$T/archive-$name"
	start_pbx "$@"
	write_conf "${conf[@]}"
	nexo run
	[ "$RC" -eq 0 ] || fail "$name: expected exit 0, got $RC: $ERR"
	[ "$(summary_field archived)" = "$n" ] || fail "$name: expected archived $n in: $OUT"
	[ "$(check_manifest_hashes)" = "$n" ] || fail "$name: manifest does not hold $n matching hashes"
	diff <(pbx_paths) <(manifest_paths archived) >/dev/null || fail "$name: manifest differs from the PBX"
	diff <(sums_of "$PBXDIR") <(sums_of "$ARCHIVE") >/dev/null || fail "$name: archived bytes differ"
	tmp_empty || fail "$name: .state/tmp is not empty"
	stop_pbx
}

# --- crash and fault testing -------------------------------------------------------------
NEXO_TEST="$BUILD/test/nexo-archive" # the same program with failpoints (src/base/failpoint.h)

# remember_originals: records "<pbx path> <sha256>" of every recording now on the fake PBX in
# $T/originals (the truth a lost recording would be missing from).
remember_originals() {
	(cd "$PBXDIR" && find . -name '*.wav' -type f -printf '%P\n' | sort | xargs -r sha256sum |
		awk '{print $2, $1}') >"$T/originals"
}

# check_invariant [crashed]: the promises that hold at every instant, checked against the fake
# PBX's delete log (the oracle) and $T/originals:
#  - a recording deleted on the PBX has an "archived" manifest line with the same content hash
#    and a file that still hashes to its stored hash;
#  - every original recording is on the PBX or archived with its original hash (nothing lost);
#  - no recording is archived twice with the same bytes (a path may have several versions);
#    every manifest line parses and its hash chain holds;
#  - without "crashed": every file of the date tree is one an "archived" line names (no
#    orphan), and no two archived lines name one file;
#  - the checkpoint is never ahead of the manifest: every original recording whose call started
#    before the checkpoint minute is archived (or still on the PBX and ... not: it must be
#    archived, since the checkpoint only moves past windows whose recordings all landed);
#  - without "crashed": .state/tmp is empty.
# With "failed" (after a run that stopped at a storage error): a file renamed into place whose
# manifest line was never written may stay; the next run replaces it.
check_invariant() {
	python3 - "$ARCHIVE" "$PBXDIR" "$T/originals" "$T/deleted.log" "${1:-}" <<'PY'
import glob, hashlib, json, os, sys
root, pbx, originals, dellog, mode = sys.argv[1:6]
crashed, failed = mode == "crashed", mode == "failed"
def sha(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()
archived, problems, files = {}, [], set()
for mf in sorted(glob.glob(os.path.join(root, "manifest", "*.jsonl"))):
    prev = hashlib.sha256(b"").hexdigest()
    data = open(mf, "rb").read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    elif crashed:
        lines.pop()  # a torn tail a crash may leave; the next run cuts it
    for n, raw in enumerate(lines, 1):
        try:
            o = json.loads(raw)
        except ValueError:
            problems.append("%s:%d does not parse" % (mf, n)); break
        if o.get("prev") != prev:
            problems.append("%s:%d breaks the chain" % (mf, n))
        prev = hashlib.sha256(raw).hexdigest()
        if o["event"] == "archived":
            versions = archived.setdefault(o["pbx_path"], [])
            if any(v["sha256"] == o["sha256"] for v in versions):
                problems.append("archived twice: " + o["pbx_path"])
            if o["file"] in files:
                problems.append("two archived lines name %s" % o["file"])
            files.add(o["file"])
            versions.append(o)
for line in open(dellog) if os.path.exists(dellog) else []:
    path, digest = line.split()
    o = next((v for v in archived.get(path, []) if v["sha256"] == digest), None)
    if not o:
        problems.append("DELETED WITHOUT AN ARCHIVED COPY OF THOSE BYTES: " + path); continue
    f = os.path.join(root, o["file"])
    if not os.path.exists(f) or sha(f) != o.get("stored_sha256", o["sha256"]):
        problems.append("DELETED, AND ITS ARCHIVED FILE IS BAD: " + path)
cp = None
if os.path.exists(os.path.join(root, ".state", "checkpoint")):
    cp = open(os.path.join(root, ".state", "checkpoint")).read().strip()
for line in open(originals):
    path, digest = line.split()
    o = archived.get(path)
    on_pbx = os.path.exists(os.path.join(pbx, path))
    if o and not any(v["sha256"] == digest for v in o):
        problems.append("archived with a different hash: " + path)
    if not o and not on_pbx:
        problems.append("LOST: " + path)
    if cp and not o:
        name = os.path.basename(path)
        start = "%s-%s-%s %s:%s" % (name[0:4], name[4:6], name[6:8], name[9:11], name[11:13])
        if start < cp:
            problems.append("checkpoint %s ahead of the manifest: %s" % (cp, path))
tmp = os.path.join(root, ".state", "tmp")
if not crashed and os.path.isdir(tmp) and os.listdir(tmp):
    problems.append("temp files left: %s" % os.listdir(tmp))
if not crashed and not failed:
    for f in sorted(glob.glob(os.path.join(root, "[0-9]" * 4, "[0-9][0-9]", "[0-9][0-9]", "*"))):
        rel = os.path.relpath(f, root)
        if rel not in files:
            problems.append("orphan file (no archived line names it): " + rel)
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
PY
}

# --- fault cases (t_fault_*.sh) ------------------------------------------------------------
# A t_fault_*.sh file holds several cases; each runs in its own subshell (errexit on, fakepbx
# stopped at its end), so one failing case is reported and the others still run. The file
# fails at the end (fault_cases_done) when any case failed, listing each one's FAIL line.
FAULT_FAILED=()
FAULT_CONF=() # config lines fault_serve writes (set by each case)

# fault_case NAME FUNCTION [ARGS...]: runs one case.
fault_case() {
	local name=$1 rc t0
	shift
	t0=$(date +%s%N)
	echo "=== case $name"
	set +e
	(
		trap cleanup EXIT
		set -e
		"$@"
	) 2>&1 | tee "$T/case.out"
	rc=${PIPESTATUS[0]}
	set -e
	t0=$((($(date +%s%N) - t0) / 1000000))
	if [ "$rc" -eq 0 ]; then
		echo "case ok: $name ($t0 ms)"
	else
		FAULT_FAILED+=("$name: $(sed -n '/^FAIL: /,$p' "$T/case.out" | sed -E \
			-e 's/nexo-archive: warning: [^ ]* is plain http.*offers it( \(said again[^)]*\))?//' \
			-e 's/nexo-archive: first run and no .sync. since.*holds//' |
			grep -v '^ *$' | cut -c 1-400 | tr '\n' ' ' | cut -c 7-1000)")
		echo "CASE FAILED: $name ($t0 ms)"
	fi
}

# fault_cases_done: the file's verdict.
fault_cases_done() {
	local f
	if [ ${#FAULT_FAILED[@]} -gt 0 ]; then
		for f in "${FAULT_FAILED[@]}"; do echo "FAILED CASE $f"; done
		fail "${#FAULT_FAILED[@]} case(s) failed"
	fi
	echo "ok"
}

# fault_fresh DAYS PER_DAY [generate args]: stops fakepbx; a new PBX disk, no archive, empty
# delete and request logs; the originals remembered for check_invariant.
fault_fresh() {
	stop_pbx
	rm -rf "$PBXDIR" "$ARCHIVE" "$T/deleted.log" "$T/requests.log" "$T/originals"
	generate "$@"
	remember_originals
	init_archive
}

# fault_serve [FAKEPBX-ARGS...]: (re)starts fakepbx with these arguments and a fresh request
# log ($T/requests.log: this instance's answers only), and rewrites the config (the port
# changes) with the lines in FAULT_CONF.
fault_serve() {
	stop_pbx
	: >"$T/requests.log"
	start_pbx --request-log "$T/requests.log" "$@"
	write_conf "${FAULT_CONF[@]}"
}

# fault_run ARGS...: as nexo ARGS (sets RC, OUT, ERR), under a deadline of FAULT_DEADLINE
# seconds (default 60): a run still going then is killed and the case fails, naming it (a hang
# is a finding, not a runner timeout). Fails too on a crash: an exit by signal or a sanitizer
# report.
fault_run() {
	local limit=${FAULT_DEADLINE:-60}
	set +e
	timeout -s KILL "$limit" "$NEXO" -c "$CONF" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
	echo "--- nexo-archive $* -> exit $RC"
	cat "$T/out"
	sed 's/^/    stderr: /' "$T/err" | tail -n 40
	if [ "$RC" -eq 137 ]; then
		local inv
		inv=$(check_invariant crashed) && inv=holds || inv=$(tr '\n' ';' <<<"$inv")
		fail "nexo-archive $* was still running after $limit s and was killed (invariant after the kill: $inv)"
	fi
	[ "$RC" -lt 128 ] || fail "nexo-archive $* died by signal $((RC - 128))"
	! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/err" ||
		fail "nexo-archive $*: sanitizer report: $(grep -m 3 -E 'Sanitizer|runtime error:' "$T/err")"
}

# req_count CGI [STATUS]: answers of CGI in the request log, optionally only with STATUS. Streams
# are logged when they end: stop_pbx first.
req_count() {
	awk -v c="$1" -v s="${2:-}" '$2 == c && (s == "" || $3 == s)' "$T/requests.log" 2>/dev/null |
		wc -l
}

# deleted_count: recordings the fake PBX really deleted (lines of its delete log).
deleted_count() {
	if [ -f "$T/deleted.log" ]; then wc -l <"$T/deleted.log"; else echo 0; fi
}

# fault_check: after every run: check_invariant (nothing deleted without a verified archived
# copy, nothing lost, nothing archived twice, chains hold, checkpoint not ahead, no temp file)
# and every real deletion has its "pbx_deleted" line (check_deleted_log).
fault_check() {
	local out
	out=$(check_invariant "${1:-}") || fail "invariant: $(tr '\n' ';' <<<"$out")"
	check_deleted_log >/dev/null
}

# expect_no_deletion: the fake PBX deleted nothing and the manifest records no deletion.
expect_no_deletion() {
	[ "$(deleted_count)" -eq 0 ] || fail "$(deleted_count) recordings were deleted from the PBX"
	[ "$(manifest_events pbx_deleted)" = 0 ] || fail "pbx_deleted lines were written"
}

# expect_all_archived: every original recording (remember_originals) has an "archived" line;
# that its hash is the original's is the invariant's business.
expect_all_archived() {
	diff <(cut -d' ' -f1 "$T/originals") <(manifest_paths archived) >/dev/null ||
		fail "not every recording is archived: $(comm -23 <(cut -d' ' -f1 "$T/originals") <(manifest_paths archived) | head -n 3 | tr '\n' ' ')"
}

# fault_clean_run LEFT: fakepbx restarted without faults; the next run must finish the job:
# exit 0, every original recording archived, LEFT recordings still on the PBX, invariant holds.
fault_clean_run() {
	fault_serve
	fault_run run
	fault_check
	expect_rc 0
	expect_all_archived
	[ "$(pbx_count)" -eq "$1" ] || fail "the clean run left $(pbx_count) recordings on the PBX, not $1"
}

# fault_first_run [FAKEPBX-ARGS...]: a fresh disk of 1 day x 4 recordings (1-2 s), fakepbx
# serving it with these arguments, one run (RC, OUT, ERR set) and fault_check.
fault_first_run() {
	fault_fresh 1 4 --min-seconds 1 --max-seconds 2
	fault_serve "$@"
	fault_run run
	fault_check
}

# fault_recovers SPEC...: a fresh disk of 1 day x 4 recordings; one run against fakepbx --fault
# SPEC (each) must complete: exit 0, archived 4, deleted 4 (FAULT_CONF turns retention on with
# pbx_keep_days = 0), every recording archived with its original hash. fakepbx is stopped
# afterwards, so the request log is complete.
fault_recovers() {
	local spec args=()
	for spec in "$@"; do args+=(--fault "$spec"); done
	fault_first_run "${args[@]}"
	expect_rc 0
	expect_summary archived 4
	expect_summary deleted 4
	expect_all_archived
	[ "$(pbx_count)" -eq 0 ] || fail "$(pbx_count) recordings left on the PBX"
	stop_pbx
}

# fresh_pbx DAYS PER_DAY SEED: the PBX disk generated anew (1-3 s recordings), no archive, an
# empty delete log; the originals remembered for check_invariant. Every disk of a test starts
# on the day the first one did (FRESH_START): the tests that call this keep one fakepbx, which
# read its CDRs at its start, and a disk generated after midnight would lie a day later than
# the recordings those CDRs name (a PBX that lost them, to the CDR witness).
fresh_pbx() {
	rm -rf "$PBXDIR" "$ARCHIVE" "$T/deleted.log"
	: "${FRESH_START:=$(date -d "$1 days ago" +%F)}"
	generate "$1" "$2" --min-seconds 1 --max-seconds 3 --seed "$3" --start "$FRESH_START"
	remember_originals
	init_archive
}

# retention_on [CONF-LINES...]: the config of the crash and storage-fault tests: several batches
# (batch_files = 2), every archived recording deleted from the PBX (pbx_keep_days = 0).
retention_on() {
	write_conf '[sync]' 'batch_files = 2' '[retention]' 'delete_from_pbx = true' \
		'pbx_keep_days = 0' "$@"
}

# crash_walk_setup SEED: fresh_pbx 1 5 SEED, fakepbx started, retention_on, and $T/walk: each
# "failpoint visit" (label, count) that a clean run of the failpoint build reaches. Defines
# fresh() (fresh_pbx 1 5 SEED) for the walk's loop.
crash_walk_setup() {
	CRASH_WALK_SEED=$1
	fresh() { fresh_pbx 1 5 "$CRASH_WALK_SEED"; }
	fresh
	start_pbx
	retention_on
	NEXO_FAILPOINT_LOG="$T/points" "$NEXO_TEST" -q -c "$CONF" run >/dev/null 2>&1 ||
		fail "the planning run failed"
	check_invariant || fail "the planning run broke the invariant"
	sort -u "$T/points" >"$T/walk"
}

# crash_run LABEL:HIT [VAR=VALUE...]: a run of the failpoint build, with that environment, that
# kills itself (SIGKILL) at the HIT-th visit of failpoint LABEL; fails unless it was killed.
crash_run() {
	local at=$1 rc
	shift
	set +e
	env "$@" NEXO_CRASH_AT="$at" "$NEXO_TEST" -q -c "$CONF" run >"$T/crash.out" 2>&1
	rc=$?
	set -e
	[ "$rc" -eq 137 ] || fail "$at: the run was not killed (exit $rc)"
}

# expect_recovery WHAT: after a crash or fault (WHAT names it), the next run finishes the job:
# exit 0, the invariant, every recording archived exactly once and deleted from the PBX.
expect_recovery() {
	nexo run
	[ "$RC" -eq 0 ] || fail "$1: the next run exited $RC"
	check_invariant || fail "$1: invariant after the next run"
	[ "$(pbx_count)" -eq 0 ] || fail "$1: $(pbx_count) recordings left on the PBX"
	[ -z "$(manifest_dup_paths)" ] || fail "$1: archived twice"
}

# expect_storage_failure POINT ERRNO TEXT: a run of the failpoint build whose POINT fails with
# ERRNO must exit 6 naming the cause (TEXT in stderr), delete nothing, and keep the invariant.
expect_storage_failure() {
	local rc
	set +e
	NEXO_FAILPOINT="$1:$2" "$NEXO_TEST" -c "$CONF" run >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	[ "$rc" -eq 6 ] || fail "$1:$2: exit $rc, not 6: $(cat "$T/err")"
	grep -q "$3" "$T/err" || fail "$1:$2: the cause is not named: $(cat "$T/err")"
	[ ! -s "$T/deleted.log" ] || fail "$1:$2: something was deleted after a storage error"
	check_invariant failed || fail "$1:$2: invariant"
}

# signed_archive DAYS PER_DAY: DAYS x PER_DAY recordings ending yesterday, fakepbx started, a
# minisign key pair in $T/sign.key(.pub) whose config lines are in the array `signing` (for
# later write_conf calls), and a first run that archives them all (exit 0).
signed_archive() {
	local days=$1 per_day=$2
	generate "$days" "$per_day" --min-seconds 1 --max-seconds 2 \
		--start "$(date -d "$days days ago" +%F)"
	start_pbx
	"$NEXO" keygen --sign -o "$T/sign.key" >/dev/null 2>&1 || fail "keygen --sign"
	signing=('[signing]' "secret_key_file = $T/sign.key" "public_key_file = $T/sign.key.pub")
	write_conf "${signing[@]}"
	nexo run
	expect_rc 0
	expect_summary archived $((days * per_day))
}

# write_wav PBX_PATH SECONDS SEED [zero]: writes a recording of SECONDS s (8 kHz 16-bit mono, a
# tone whose pitch SEED picks) at $PBXDIR/PBX_PATH, through a dot-named temp and a rename, as a
# PBX writes a finished file; with "zero", its RIFF and data sizes are 0 (MixMonitor's header
# while the call is recorded). Prints the file's sha256.
write_wav() {
	python3 - "$PBXDIR/$1" "$2" "$3" "${4:-}" <<'PY'
import hashlib, math, os, struct, sys
path, secs, seed, zero = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
n = int(8000 * secs)
freq = 200 + 37 * seed
data = b"".join(struct.pack("<h", int(9000 * math.sin(2 * math.pi * freq * i / 8000)))
                for i in range(n))
riff, size = (0, 0) if zero else (36 + len(data), len(data))
head = b"RIFF" + struct.pack("<I", riff) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1,
       8000, 16000, 2, 16) + b"data" + struct.pack("<I", size)
os.makedirs(os.path.dirname(path), exist_ok=True)
tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
with open(tmp, "wb") as f:
    f.write(head + data)
os.rename(tmp, path)
print(hashlib.sha256(head + data).hexdigest())
PY
}

# manifest_versions PBX_PATH: "version sha256 file" of each archived line of PBX_PATH, in order.
manifest_versions() {
	cat "$ARCHIVE"/manifest/*.jsonl 2>/dev/null |
		jq -r --arg p "$1" 'select(.event == "archived" and .pbx_path == $p) |
			"\(.version // 1) \(.sha256) \(.file)"'
}
