#!/usr/bin/env bash
# tests/bench/run.sh — `make bench`: how close nexo-archive comes to "as fast as the disk".
#
#   make bench                         (= BUILD=build bash tests/bench/run.sh, after building)
#   QUICK=1 make bench                 smoke run: 2 pairs, smaller data, docs left alone
#   PAIRS=11 BENCH_DIR=/var/tmp/b make bench
#
# Measures, in one session, against build/fakepbx on 127.0.0.1 serving a generated disk
# (default 200 recordings of 13..312 s, 8 kHz 16-bit mono, ~510 MB, in 50-file batches):
#   (a)   fetch only: the client's 20036 batches with `curl -o /dev/null`
#   (b)   the floor: the same batches `curl | bsdtar -xf - -C DIR`
#   (c+f) the naive script: (b), then `sha256sum` of every file, then `sync FILE...` (fsync of
#         each file and folder)
#   (r)   `nexo-archive run` into an empty archive, [sync] since = 2000-01-01 00:00
#   (r1)  the same pipeline over the data's day only (`backfill` of that day: one listing, no
#         checkpoint writes), to separate the data path from the window walk of (r)
#   (r1+E) (r1) with [encryption] recipients = an age key, when the client knows that section
#   (r1+S3) (r1) with [offsite] to a Ceph RGW on 127.0.0.1 (tests/e2e/rgw.sh; lock = off so that
#         each round's bucket can be emptied), when the Ceph packages are installed: rounds of
#         its own against (r1) after the main rounds, the RGW up only then (its daemons would
#         slow every other variant). The RGW shares the cores: its ratio is written down, not
#         targeted.
# as rounds of all variants after a warm-up round (order rotated and reversed every round);
# every ratio is the median of the per-round ratios, so slow drift of the machine cancels.
# Then: peak RSS of the client with a ~100 MB and a ~1.1 GiB tar (one batch each; the 1.1 GiB
# one with [offsite] too, with the RGW); a nightly
# run with nothing new over a 2-year archive (2,000 recordings a day, synthesized manifests)
# against the same over a 1-day archive, in alternating pairs; listing_parse() over a
# 40,000-row 20053 answer (the most a listing holds) (tests/bench/listing_bench.c, linked against $BUILD/libnexo.a).
#
# Prints one table and, unless QUICK=1 or BENCH_DOC=0, rewrites the block between
# <!-- bench:begin --> and <!-- bench:end --> in docs/performance.md.
#
# Environment: BUILD (default build), BENCH_DIR (default /tmp/nexo-bench; generated data is kept
# under BENCH_DIR/data and reused), PAIRS (default 7; QUICK=1: 2), QUICK (0/1), BENCH_DOC (1/0).
# Page caches are not dropped (that needs root): the PBX's data is read warm, which is what
# makes fakepbx cheap enough not to be the bound; (a) shows that it is not.
set -euo pipefail
export LC_ALL=C

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_SRC="$TOP/tests/bench"
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
NEXO="$BUILD/nexo-archive"
FAKEPBX="$BUILD/fakepbx"
LIBNEXO="$BUILD/libnexo.a"
BENCH_DIR=${BENCH_DIR:-/tmp/nexo-bench}
QUICK=${QUICK:-0}
BENCH_DOC=${BENCH_DOC:-1}
PAIRS_SET=${PAIRS:+1}
if [ "$QUICK" = 1 ]; then
	PAIRS=${PAIRS:-2}
	MAIN_PER_DAY=40     # ~100 MB
	NIGHT_DAYS=30       # history of the "2-year" archive, shortened
	RSS_REPS=1
	LIST_REPS=1
else
	PAIRS=${PAIRS:-7}
	MAIN_PER_DAY=200    # ~510 MB
	NIGHT_DAYS=730
	RSS_REPS=3
	LIST_REPS=3
fi
NIGHT_PER_DAY=2000
NIGHT_PAIRS=$((PAIRS * 3))   # (n) runs are short: more pairs for the same noise
LIST_ROWS=40000 # LISTING_MAX_ROWS: the most one listing holds
BATCH_FILES=50
BATCH_URL_BYTES=4000         # the client's default; batches.py mirrors its cut
ADMIN_MD5=21232f297a57a5a743894a0e4a801fc3

case "$PAIRS" in '' | *[!0-9]* | 0) echo "bench: PAIRS must be a positive number" >&2; exit 2 ;; esac
for tool in curl bsdtar sha256sum sync python3 /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make deps)" >&2; exit 2; }
done
for f in "$NEXO" "$FAKEPBX" "$LIBNEXO"; do
	[ -x "$f" ] || [ -f "$f" ] || { echo "bench: $f is missing (make all)" >&2; exit 2; }
done

DATA="$BENCH_DIR/data"           # generated once, reused
W="$BENCH_DIR/session"           # this session's scratch: configs, archives, results
mkdir -p "$DATA"
rm -rf "$W"
mkdir -p "$W/bin"
# Private copies: a rebuild of $BUILD by someone else during the session must not swap (or
# half-write) the binaries under the measurements.
cp "$NEXO" "$FAKEPBX" "$LIBNEXO" "$W/bin/"
NEXO="$W/bin/nexo-archive"
FAKEPBX="$W/bin/fakepbx"
LIBNEXO="$W/bin/libnexo.a"
"$NEXO" --help >/dev/null 2>&1 || { echo "bench: $NEXO does not run" >&2; exit 2; }
RESULTS="$W/results.tsv"
META="$W/meta.tsv"
: >"$RESULTS"
: >"$META"
T_START=$EPOCHREALTIME

PBX_PIDS=()
bench_cleanup() {
	local p
	if declare -F rgw_stop >/dev/null; then rgw_stop; fi
	for p in "${PBX_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	PBX_PIDS=()
	rm -rf "$W/out" "$W/night-1d" "$W/night-2y"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
meta() { printf '%s\t%s\n' "$1" "$2" >>"$META"; }
elapsed() { awk -v a="$T_START" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }'; }

# ---- the machine ------------------------------------------------------------------------------
meta date "$(date '+%Y-%m-%d %H:%M %Z')"
meta nproc "$(nproc)"
meta cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
meta ram "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
meta kernel "$(uname -r)"
# shellcheck disable=SC1091 # the running system's file
meta os "$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null || echo unknown)"
meta fs "$(df -PT "$BENCH_DIR" | awk 'NR == 2 { print $2 " (" $1 ")" }')"
meta bench_dir "$BENCH_DIR"
meta load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
meta pairs "$PAIRS"
meta night_pairs "$NIGHT_PAIRS"
meta quick "$QUICK"
commit=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$TOP" status --porcelain -- src 2>/dev/null)" ]; then
	commit="$commit + uncommitted changes in src/"
fi
meta commit "$commit"
cmd="make bench"
[ -n "${MAKELEVEL:-}" ] || cmd="BUILD=${BUILD#"$TOP"/} bash tests/bench/run.sh"
[ "$QUICK" = 1 ] && cmd="QUICK=1 $cmd"
[ -n "$PAIRS_SET" ] && cmd="PAIRS=$PAIRS $cmd"
[ "$BENCH_DIR" != /tmp/nexo-bench ] && cmd="BENCH_DIR=$BENCH_DIR $cmd"
meta command "$cmd"

# ---- helpers ------------------------------------------------------------------------------------

# generate NAME FAKEPBX-GENERATE-ARGS...: $DATA/NAME holds the recordings; reused when a previous
# session completed it with the same arguments.
generate() {
	local name=$1 dir="$DATA/$1"
	shift
	if [ -f "$dir/.complete" ] && [ "$(cat "$dir/.complete")" = "$*" ]; then
		return 0
	fi
	say "generating $name: fakepbx --generate $*"
	rm -rf "$dir"
	"$FAKEPBX" --generate "$dir" "$@" >/dev/null
	printf '%s' "$*" >"$dir/.complete"
}

# start_pbx NAME DATADIR: a fakepbx serving DATADIR on 127.0.0.1; sets URL.
start_pbx() {
	local name=$1 port="$W/port-$1" pid
	rm -f "$port"
	"$FAKEPBX" --data "$2" --listen 127.0.0.1:0 --port-file "$port" 2>>"$W/fakepbx-$name.log" &
	pid=$!
	PBX_PIDS+=("$pid")
	for _ in $(seq 1 200); do
		[ -s "$port" ] && break
		kill -0 "$pid" 2>/dev/null || die "fakepbx ($name) exited at start: $(tail -n 3 "$W/fakepbx-$name.log")"
		sleep 0.05
	done
	[ -s "$port" ] || die "fakepbx ($name) did not write its port"
	URL="http://127.0.0.1:$(cat "$port")"
	PBX_PID=$pid
}

stop_pbx() {
	local p keep=()
	for p in "${PBX_PIDS[@]}"; do
		if [ "$p" = "$1" ]; then
			kill "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
		else
			keep+=("$p")
		fi
	done
	PBX_PIDS=("${keep[@]}")
}

# write_conf FILE URL ARCHIVE [extra lines...]: a client config (password file mode 0600).
write_conf() {
	local file=$1 url=$2 archive=$3 line
	shift 3
	(umask 077 && printf 'admin\n' >"$W/password")
	{
		printf '[pbx]\nurl = %s\nusername = admin\npassword_file = %s\n' "$url" "$W/password"
		printf 'timeout = 30\nconnect_timeout = 5\nretries = 2\n'
		printf '[archive]\ndir = %s\n' "$archive"
		printf '[sync]\nbatch_files = %s\nbatch_url_bytes = %s\n' "$BATCH_FILES" "$BATCH_URL_BYTES"
		for line in "$@"; do printf '%s\n' "$line"; done
	} >"$file"
	chmod 600 "$file"
}

# login URL JAR: a session cookie for curl.
login() {
	rm -f "$2"
	curl -sS -f -c "$2" -o /dev/null --data "UserName=admin&Password=$ADMIN_MD5" \
		"$1/cgi/webserve/8404" || die "login to fakepbx failed"
	grep -q session "$2" || die "fakepbx gave no session cookie"
}

# measure GROUP ROUND VARIANT CMD...: runs CMD once (stdout/stderr to $W/last.out, last.err) and
# appends "group round variant wall user sys maxrss_kib rc" to the results. Sets RC.
measure() {
	local group=$1 round=$2 variant=$3 t0 t1 line
	shift 3
	t0=$EPOCHREALTIME
	RC=0
	/usr/bin/time -f '%U %S %M' -o "$W/time.txt" "$@" >"$W/last.out" 2>"$W/last.err" || RC=$?
	t1=$EPOCHREALTIME
	line=$(tail -n 1 "$W/time.txt")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$group" "$round" "$variant" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')" \
		"$(tr ' ' '\t' <<<"$line")" "$RC" >>"$RESULTS"
}

# summary_field NAME: the number after NAME in the client's summary line ($W/last.out).
summary_field() {
	grep -oE "(^|, |: )$1 [0-9]+" "$W/last.out" | head -n 1 | grep -oE '[0-9]+$' || true
}

# expect_client N: the last client run exited 0 and archived N recordings.
expect_client() {
	[ "$RC" -eq 0 ] || die "$VARIANT exited $RC: $(tail -n 5 "$W/last.err")"
	[ "$(summary_field archived)" = "$1" ] ||
		die "$VARIANT archived '$(summary_field archived)', expected $1: $(cat "$W/last.out")"
}

# fresh_out: an empty $W/out, made an archive (`init`: a run refuses any other folder; the
# marker is one small file, which the floor variants ignore).
fresh_out() {
	rm -rf "$W/out"
	"$NEXO" -q -c "$W/r1.conf" init >/dev/null
	sync -f "$W"
}

wav_count() { find "$1" -name '*.wav' -type f | wc -l; }

# ---- build listing_bench with the Makefile's flags -------------------------------------------------
build_listing_bench() {
	local flags cc cflags libs
	flags=$(make -s --no-print-directory -C "$TOP" -f Makefile -f - bench-print-flags 2>/dev/null <<'EOF' || true
bench-print-flags: ; @printf '%s\n%s\n%s\n' '$(CC)' '$(CFLAGS_ALL) $(INC) $(PKG_CFLAGS)' '$(PKG_LIBS)'
EOF
)
	cc=$(sed -n 1p <<<"$flags")
	cflags=$(sed -n 2p <<<"$flags")
	libs=$(sed -n 3p <<<"$flags")
	if [ -z "$cc" ] || [ -z "$libs" ]; then # the Makefile could not be read: its flags, by hand
		local pkgs="libcurl libarchive json-c libsodium inih libcrypto"
		cc=${CC:-cc}
		cflags="-std=gnu11 -O2 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
-Wmissing-prototypes -Wformat=2 -Wvla -D_GNU_SOURCE $(pkg-config --cflags "$pkgs")"
		libs=$(pkg-config --libs "$pkgs")
	fi
	# shellcheck disable=SC2086 # word splitting of the flag lists is intended
	$cc $cflags -I"$TOP/src" -o "$W/listing_bench" "$BENCH_SRC/listing_bench.c" "$LIBNEXO" \
		$libs -lpthread || die "cannot build listing_bench"
}

# ==== 1. data ==================================================================================
generate "main-$MAIN_PER_DAY" --days 1 --per-day "$MAIN_PER_DAY" --min-seconds 13 --max-seconds 312
generate rss-4 --days 1 --per-day 4 --min-seconds 1600 --max-seconds 1700
generate rss-44 --days 1 --per-day 44 --min-seconds 1600 --max-seconds 1700
MAIN="$DATA/main-$MAIN_PER_DAY"
MAIN_N=$(wav_count "$MAIN")
MAIN_BYTES=$(find "$MAIN" -name '*.wav' -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
MAIN_DAY=$(find "$MAIN" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort | head -n 1)
MAIN_DAY="${MAIN_DAY:0:4}-${MAIN_DAY:4:2}-${MAIN_DAY:6:2}"
meta main_set "$MAIN_N recordings, $MAIN_BYTES bytes (13..312 s each)"
meta main_n "$MAIN_N"
meta main_bytes "$MAIN_BYTES"

# (n): the PBX holds yesterday's recordings; the archives hold their manifest (+ history)
YESTERDAY=$(date -d yesterday +%F)
generate "night-$YESTERDAY" --days 1 --per-day "$NIGHT_PER_DAY" --start "$YESTERDAY" \
	--min-seconds 1 --max-seconds 1
for old in "$DATA"/night-????-??-??; do
	[ "$old" = "$DATA/night-$YESTERDAY" ] || rm -rf "$old"
done
HIST_FIRST=$(date -d "$YESTERDAY - $((NIGHT_DAYS - 1)) days" +%F)
HIST_LAST=$(date -d "$YESTERDAY - 1 day" +%F)
HIST="$DATA/history-$NIGHT_DAYS"
# The synthesized history only has to end before the PBX's day; it is kept as long as it does.
if [ ! -f "$HIST/.complete" ] || [[ "$(cat "$HIST/.complete")" > "$HIST_LAST" ]]; then
	say "synthesizing $NIGHT_DAYS days x $NIGHT_PER_DAY manifest lines ($HIST_FIRST .. $HIST_LAST)"
	rm -rf "$HIST"
	python3 "$BENCH_SRC/mkmanifest.py" "$HIST/manifest" "$HIST_FIRST" "$HIST_LAST" \
		"$NIGHT_PER_DAY" >/dev/null
	# the chain check of docs/manifest.md, on the first and the last day
	for f in "$HIST/manifest/$HIST_FIRST.jsonl" "$HIST/manifest/$HIST_LAST.jsonl"; do
		python3 - "$f" <<'PY' || die "synthesized manifest $f fails the chain check"
import hashlib, json, sys
prev = hashlib.sha256(b"").hexdigest()
for n, line in enumerate(open(sys.argv[1], "rb"), 1):
    line = line.rstrip(b"\n")
    assert json.loads(line)["prev"] == prev, f"chain broken at line {n}"
    prev = hashlib.sha256(line).hexdigest()
PY
	done
	printf '%s' "$HIST_LAST" >"$HIST/.complete"
fi
HIST_DAYS=$(find "$HIST/manifest" -name '*.jsonl' | wc -l)
say "data ready ($(elapsed) s)"

# ==== 2. the main rounds: (a) (b) (c+f) (r) (r1) (r1+E) ==========================================
start_pbx main "$MAIN"
MAIN_URL=$URL
MAIN_PID=$PBX_PID
JAR="$W/cookies"
login "$MAIN_URL" "$JAR"
curl -sS -f -b "$JAR" --data-urlencode 'startdate=2000-01-01 00:00' \
	--data-urlencode 'enddate=2099-12-31 23:59' -o "$W/listing.json" "$MAIN_URL/cgi/webserve/20053"
python3 "$BENCH_SRC/batches.py" "$MAIN_URL" "$BATCH_FILES" "$BATCH_URL_BYTES" \
	<"$W/listing.json" >"$W/urls.txt" 2>"$W/batches.txt"
NBATCH=$(wc -l <"$W/urls.txt")
[ "$(cut -d' ' -f1 "$W/batches.txt")" = "$MAIN_N" ] || die "the listing does not show $MAIN_N recordings"
meta batches "$NBATCH"

cat >"$W/fetch.sh" <<EOF
set -eu
while IFS= read -r u; do curl -sS -f -g -b '$JAR' -o /dev/null "\$u"; done <'$W/urls.txt'
EOF
cat >"$W/floor.sh" <<EOF
set -eu -o pipefail
while IFS= read -r u; do
	curl -sS -f -g -b '$JAR' "\$u" | bsdtar -xf - -C "\$1"
done <'$W/urls.txt'
EOF
cat >"$W/naive.sh" <<EOF
set -eu -o pipefail
bash '$W/floor.sh' "\$1"
find "\$1" -type f -print0 | sort -z | xargs -0 sha256sum >"\$1.sha256"
find "\$1" -type f -print0 | xargs -0 sync
find "\$1" -type d -print0 | xargs -0 sync
sync "\$1.sha256"
EOF

AGE_KEY="$W/age.key"
write_conf "$W/r.conf" "$MAIN_URL" "$W/out" 'since = 2000-01-01 00:00'
write_conf "$W/r1.conf" "$MAIN_URL" "$W/out"
R1_ARGS=(backfill --from "$MAIN_DAY 00:00" --to "$MAIN_DAY 23:59")
E_STATUS="n/a (encryption not built yet)"
if command -v age-keygen >/dev/null; then
	age-keygen -o "$AGE_KEY" 2>/dev/null
	RECIPIENT=$(age-keygen -y "$AGE_KEY")
	write_conf "$W/rE.conf" "$MAIN_URL" "$W/out" '[encryption]' "recipients = $RECIPIENT"
	fresh_out
	VARIANT="r1+E probe"
	measure probe 0 rE "$NEXO" -q -c "$W/rE.conf" "${R1_ARGS[@]}"
	if [ "$RC" -eq 2 ] && grep -q 'unknown section \[encryption\]' "$W/last.err"; then
		E_STATUS="n/a (encryption not built yet)"
	elif [ "$RC" -eq 0 ] && [ "$(summary_field archived)" = "$MAIN_N" ]; then
		E_STATUS=ok
	else
		E_STATUS="n/a (the client failed with [encryption]: exit $RC, $(head -n 1 "$W/last.err" | cut -c1-120))"
	fi
else
	E_STATUS="n/a (age-keygen missing: make deps)"
fi
meta e_status "$E_STATUS"
say "encryption: $E_STATUS"

VARIANTS=(a b cf r r1)
[ "$E_STATUS" = ok ] && VARIANTS+=(rE)

# (r1+S3): a throwaway Ceph cluster (tests/e2e/rgw.sh), its OSD in memory, up only for its own
# rounds and the RSS run with [offsite] (so that its daemons never run beside the other
# variants); each run's objects are removed afterwards (outside the measure).
S3_STATUS="n/a (the Ceph packages are not installed: make deps)"
S3_UP=0
if command -v radosgw >/dev/null && command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null; then
	S3_STATUS=ok
fi
meta s3_status "$S3_STATUS"
say "offsite: $S3_STATUS"
s3_start() {
	T="$W/s3"
	mkdir -p "$T"
	fail() { die "rgw: $*"; }
	skip() { die "rgw: $*"; }
	# shellcheck source=../e2e/rgw.sh
	. "$TOP/tests/e2e/rgw.sh"
	RGW_MEMSTORE_BYTES=$((3 << 30)) rgw_start
	(umask 077 && printf '%s\n' "$RGW_SECRET" >"$W/s3.secret")
	S3_UP=1
}
# s3_round NAME: a fresh bucket NAME for the next run; s3_empty NAME: its objects gone and the
# RGW's garbage collected, so that the OSD's memory is given back.
s3_round() { rgw_bucket "$1" nolock; }
s3_empty() {
	radosgw-admin -c "$RGW_DIR/ceph.conf" bucket rm --bucket="$1" --purge-objects >/dev/null 2>&1 ||
		die "rgw: cannot empty bucket $1"
	radosgw-admin -c "$RGW_DIR/ceph.conf" gc process --include-all >/dev/null 2>&1 || true
}
# s3_conf FILE URL ARCHIVE BUCKET [lines...]: write_conf with [offsite] to BUCKET, unlocked.
s3_conf() {
	local file=$1 url=$2 archive=$3 bucket=$4
	shift 4
	write_conf "$file" "$url" "$archive" "$@" '[offsite]' "url = $RGW_URL/$bucket/pbx1" \
		"access_key = $RGW_KEY" "secret_key_file = $W/s3.secret" 'lock = off'
}
# expect_uploaded N: the last client run put at least N objects in the bucket.
expect_uploaded() {
	local n
	n=$(grep -oE 'offsite: [0-9]+ uploaded' "$W/last.out" | grep -oE '[0-9]+' || true)
	[ -n "$n" ] && [ "$n" -ge "$1" ] || die "$VARIANT uploaded '${n}' objects, expected $1 or more: $(cat "$W/last.out")"
}

# run_variant ROUND V: one measured run of V from a fresh output folder, checked.
run_variant() {
	local round=$1 v=$2 before after lists_before
	VARIANT=$v
	fresh_out
	before=$(grep -c ' 20036 ' "$W/fakepbx-main.log" || true)
	lists_before=$(grep -c ' 20053 ' "$W/fakepbx-main.log" || true)
	case $v in
	a) measure main "$round" a bash "$W/fetch.sh" ;;
	b) measure main "$round" b bash "$W/floor.sh" "$W/out" ;;
	cf) measure main "$round" cf bash "$W/naive.sh" "$W/out" ;;
	r) measure main "$round" r "$NEXO" -q -c "$W/r.conf" run ;;
	r1) measure main "$round" r1 "$NEXO" -q -c "$W/r1.conf" "${R1_ARGS[@]}" ;;
	rE) measure main "$round" rE "$NEXO" -q -c "$W/rE.conf" "${R1_ARGS[@]}" ;;
	esac
	case $v in
	a | b | cf)
		[ "$RC" -eq 0 ] || die "($v) failed: $(tail -n 3 "$W/last.err")"
		if [ "$v" != a ]; then
			[ "$(wav_count "$W/out")" = "$MAIN_N" ] || die "($v) extracted $(wav_count "$W/out") of $MAIN_N"
		fi
		;;
	*) expect_client "$MAIN_N" ;;
	esac
	if [ "$round" = 0 ]; then # the warm-up also checks what each variant did
		case $v in
		cf) [ "$(wc -l <"$W/out.sha256")" = "$MAIN_N" ] || die "(c+f) hashed the wrong number of files" ;;
		r)
			sleep 0.3
			meta r_lists "$(($(grep -c ' 20053 ' "$W/fakepbx-main.log" || true) - lists_before))"
			;;
		r1)
			sleep 0.3 # fakepbx logs a streamed answer when it is done with it
			after=$(grep -c ' 20036 ' "$W/fakepbx-main.log" || true)
			[ $((after - before)) = "$NBATCH" ] ||
				die "the client made $((after - before)) download requests; curl makes $NBATCH"
			check_archive plain
			;;
		rE)
			check_archive age
			# one stored file, opened with stock age, is the PBX's recording
			local one
			one=$(find "$W/out" -name '*.wav.age' -type f | sort | sed -n 1p) # not head: under pipefail, sort may get SIGPIPE
			[ -n "$one" ] || die "(r1+E) stored no .wav.age file"
			check_one_age "$one"
			;;
		esac
	fi
	rm -rf "$W/out" "$W/out.sha256"
}

# check_one_age FILE: `age -d` of FILE equals the PBX recording of the same name.
check_one_age() {
	local name src
	name=$(basename "$1" .age)
	src=$(find "$MAIN" -name "$name" -type f | head -n 1)
	[ -n "$src" ] || die "(r1+E) $name is not on the PBX"
	[ "$(age -d -i "$AGE_KEY" "$1" | sha256sum | cut -c1-64)" = "$(sha256sum <"$src" | cut -c1-64)" ] ||
		die "(r1+E) age -d of $1 does not give the PBX's bytes"
}

# check_archive plain|age: every manifest line's sha256 is the SHA-256 of the PBX's file (and,
# plain, its size the file's size; age, the stored file is NAME.wav.age), one line per recording.
check_archive() {
	python3 - "$W/out" "$MAIN" "$1" <<'PY' || die "($VARIANT) archived bytes differ from the PBX's"
import glob, hashlib, json, os, sys
root, pbx, mode = sys.argv[1], sys.argv[2], sys.argv[3]
n = 0
for mf in glob.glob(os.path.join(root, "manifest", "*.jsonl")):
    for line in open(mf, encoding="utf-8"):
        o = json.loads(line)
        if o.get("event") != "archived":
            continue
        src = os.path.join(pbx, o["pbx_path"])
        h = hashlib.sha256()
        with open(src, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        if h.hexdigest() != o["sha256"]:
            sys.exit("sha256 mismatch: " + o["pbx_path"])
        stored = os.path.join(root, o["file"])
        if os.path.getsize(stored) != o["size"]:
            sys.exit("size mismatch: " + o["file"])
        if mode == "plain" and o["size"] != os.path.getsize(src):
            sys.exit("stored size differs from the PBX's: " + o["file"])
        if mode == "age" and not o["file"].endswith(".wav.age"):
            sys.exit("not stored encrypted: " + o["file"])
        n += 1
if n != len(glob.glob(os.path.join(pbx, "*", "*.wav"))):
    sys.exit("manifest holds %d recordings" % n)
PY
}

for ((round = 0; round <= PAIRS; round++)); do
	login "$MAIN_URL" "$JAR"
	n=${#VARIANTS[@]}
	order=()
	for ((i = 0; i < n; i++)); do order+=("${VARIANTS[$(((i + round) % n))]}"); done
	if ((round % 2)); then
		rev=()
		for ((i = n - 1; i >= 0; i--)); do rev+=("${order[$i]}"); done
		order=("${rev[@]}")
	fi
	for v in "${order[@]}"; do run_variant "$round" "$v"; done
	if [ "$round" = 0 ]; then
		say "warm-up round done and checked ($(elapsed) s)"
	else
		say "round $round of $PAIRS: ${order[*]} ($(elapsed) s)"
	fi
done

# ==== 2b. (r1+S3) against (r1), in pairs, with the RGW up ========================================
if [ "$S3_STATUS" = ok ]; then
	s3_start
	say "rgw up ($(elapsed) s)"
	for ((round = 0; round <= PAIRS; round++)); do
		login "$MAIN_URL" "$JAR"
		if ((round % 2)); then order=(rS r1); else order=(r1 rS); fi
		for v in "${order[@]}"; do
			VARIANT="(s3) $v"
			fresh_out
			if [ "$v" = r1 ]; then
				measure s3 "$round" s3r1 "$NEXO" -q -c "$W/r1.conf" "${R1_ARGS[@]}"
				expect_client "$MAIN_N"
			else
				s3_round "bench-r$round"
				s3_conf "$W/rS.conf" "$MAIN_URL" "$W/out" "bench-r$round"
				measure s3 "$round" rS "$NEXO" -q -c "$W/rS.conf" "${R1_ARGS[@]}"
				expect_client "$MAIN_N"
				expect_uploaded "$MAIN_N"
				s3_empty "bench-r$round"
			fi
			rm -rf "$W/out"
		done
	done
	say "(r1+S3) rounds done ($(elapsed) s)"
fi
stop_pbx "$MAIN_PID"

# ==== 3. peak RSS with a ~100 MB and a ~1.1 GiB tar ===============================================
for set in 4 44; do
	d="$DATA/rss-$set"
	meta "rss_bytes_$set" "$(find "$d" -name '*.wav' -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')"
done
start_pbx rss4 "$DATA/rss-4"
RSS4_URL=$URL
RSS4_PID=$PBX_PID
start_pbx rss44 "$DATA/rss-44"
RSS44_URL=$URL
RSS44_PID=$PBX_PID
write_conf "$W/rss4.conf" "$RSS4_URL" "$W/out"
write_conf "$W/rss44.conf" "$RSS44_URL" "$W/out"
rss_day() {
	local day
	day=$(find "$1" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort | head -n 1)
	echo "${day:0:4}-${day:4:2}-${day:6:2}"
}
D4=$(rss_day "$DATA/rss-4")
D44=$(rss_day "$DATA/rss-44")
for ((rep = 1; rep <= RSS_REPS; rep++)); do
	for set in 4 44; do
		if ((rep % 2 == 0)); then set=$((48 - set)); fi # alternate the order
		fresh_out
		VARIANT="rss $set"
		if [ "$set" = 4 ]; then
			measure rss "$rep" rss4 "$NEXO" -q -c "$W/rss4.conf" backfill --from "$D4 00:00" --to "$D4 23:59"
		else
			measure rss "$rep" rss44 "$NEXO" -q -c "$W/rss44.conf" backfill --from "$D44 00:00" --to "$D44 23:59"
		fi
		expect_client "$set"
		rm -rf "$W/out"
	done
	if [ "$S3_UP" = 1 ]; then
		fresh_out
		VARIANT="rss 44 + S3"
		s3_round "bench-rss$rep"
		s3_conf "$W/rss44S.conf" "$RSS44_URL" "$W/out" "bench-rss$rep"
		measure rss "$rep" rss44S "$NEXO" -q -c "$W/rss44S.conf" backfill --from "$D44 00:00" --to "$D44 23:59"
		expect_client 44
		expect_uploaded 44
		s3_empty "bench-rss$rep"
		rm -rf "$W/out"
	fi
done
stop_pbx "$RSS4_PID"
stop_pbx "$RSS44_PID"
if [ "$S3_UP" = 1 ]; then
	rgw_stop
	S3_UP=0
fi
say "peak RSS runs done ($(elapsed) s)"

# ==== 4. (n) the nightly run with nothing new: 2-year vs 1-day archive ===========================
start_pbx night "$DATA/night-$YESTERDAY"
NIGHT_URL=$URL
write_conf "$W/night-1d.conf" "$NIGHT_URL" "$W/night-1d" 'lookback = 2d'
write_conf "$W/night-2y.conf" "$NIGHT_URL" "$W/night-2y" 'lookback = 2d'
# The 1-day archive is made by the client itself (its manifest is then the real thing) ...
"$NEXO" -q -c "$W/night-1d.conf" init >/dev/null
VARIANT="night setup"
measure setup 0 night-setup "$NEXO" -q -c "$W/night-1d.conf" backfill \
	--from "$YESTERDAY 00:00" --to "$YESTERDAY 23:59"
expect_client "$NIGHT_PER_DAY"
# ... and the 2-year one is the synthesized history plus that same day's manifest.
"$NEXO" -q -c "$W/night-2y.conf" init >/dev/null
cp -al "$HIST/manifest" "$W/night-2y/manifest"
cp "$W/night-1d/manifest/$YESTERDAY.jsonl" "$W/night-2y/manifest/"
meta night_days "$((HIST_DAYS + 1))"
meta night_archive "$((HIST_DAYS + 1)) days x $NIGHT_PER_DAY lines, $(du -sb "$W/night-2y/manifest" | awk '{ printf "%.0f MB", $1 / 1e6 }') of manifest"
for ((pair = 0; pair <= NIGHT_PAIRS; pair++)); do
	if ((pair % 2)); then order=(2y 1d); else order=(1d 2y); fi
	for v in "${order[@]}"; do
		mkdir -p "$W/night-$v/.state"
		date '+%Y-%m-%d %H:%M' >"$W/night-$v/.state/checkpoint"
		VARIANT="(n) $v"
		measure night "$pair" "n$v" "$NEXO" -q -c "$W/night-$v.conf" run
		expect_client 0
		[ "$(summary_field 'already had')" = "$NIGHT_PER_DAY" ] ||
			die "(n) $v: expected 'already had $NIGHT_PER_DAY': $(cat "$W/last.out")"
	done
done
# nothing may have been appended to the history (the copies are hard links); the head's own
# history (manifest/heads/history.jsonl, new since issue 14.2) is the run's to write
[ "$(find "$W/night-2y/manifest" -newer "$HIST/.complete" -name '*.jsonl' ! -name "$YESTERDAY.jsonl" ! -path '*/heads/*' | wc -l)" = 0 ] ||
	die "(n): the nightly run wrote into old manifest days"
say "nightly runs done ($(elapsed) s)"

# ==== 5. (l) listing_parse over 40,000 rows ======================================================
build_listing_bench
for ((rep = 1; rep <= LIST_REPS; rep++)); do
	VARIANT="(l)"
	measure list "$rep" l "$W/listing_bench" "$LIST_ROWS"
	[ "$RC" -eq 0 ] || die "listing_bench failed: $(cat "$W/last.err")"
	printf 'list\t%s\tl_detail\t%s\n' "$rep" "$(cat "$W/last.out")" >>"$RESULTS"
done

meta load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
meta total_s "$(elapsed)"
say "measured in $(elapsed) s"

# ==== 6. the table =================================================================================
doc=""
if [ "$QUICK" != 1 ] && [ "$BENCH_DOC" != 0 ]; then doc="$TOP/docs/performance.md"; fi
python3 "$BENCH_SRC/report.py" "$RESULTS" "$META" "$doc"
