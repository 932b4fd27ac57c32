#!/usr/bin/env bash
# make demo: a few days of generated recordings on the fake PBX (127.0.0.1, a free port), the
# real nightly job against it with conf/demo.conf, the summary and the archive it made.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$top/$BUILD" ;; esac
demo="$top/build/demo"
pbx_pid=""
watch_pid=""
trap '[ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null; [ -n "$pbx_pid" ] && kill "$pbx_pid" 2>/dev/null; wait 2>/dev/null || true' EXIT

rm -rf "$demo"
mkdir -p "$demo"
(umask 077 && printf 'admin\n' >"$demo/password" && printf 'password\n' >"$demo/ami-secret")

echo "== making keys: an age identity (its recipient encrypts) and a minisign key pair (signs)"
mkdir -p "$demo/keys"
"$BUILD/nexo-archive" keygen -o "$demo/keys/identity.txt" >"$demo/keys/recipients.txt"
"$BUILD/nexo-archive" keygen --sign -o "$demo/keys/manifest.key" >/dev/null
echo "   recipient $(cat "$demo/keys/recipients.txt")"

echo "== generating 3 days x 8 recordings on the fake PBX's disk ($demo/pbx)"
"$BUILD/fakepbx" --generate "$demo/pbx" --days 3 --per-day 8 --seed 7

echo "== starting the fake PBX on 127.0.0.1 (web API and AMI)"
"$BUILD/fakepbx" --data "$demo/pbx" --listen 127.0.0.1:0 --port-file "$demo/port" \
	--ami-listen 127.0.0.1:0 --ami-port-file "$demo/ami-port" 2>"$demo/fakepbx.log" &
pbx_pid=$!
for _ in $(seq 1 100); do [ -s "$demo/port" ] && break; sleep 0.05; done
url="http://127.0.0.1:$(cat "$demo/port")"
ami_port=$(cat "$demo/ami-port")
echo "   web API at $url, AMI at 127.0.0.1:$ami_port"

run() {
	echo
	echo "== nexo-archive -c conf/demo.conf -o pbx.url=$url $*"
	set +e
	"$BUILD/nexo-archive" -c "$top/conf/demo.conf" -o "pbx.url=$url" -o "ami.port=$ami_port" "$@"
	rc=$?
	set -e
	echo "   (exit code $rc)"
}
run init   # a run never creates its archive: a folder init did not make is refused
run --dry-run run
run run
echo
echo "== the archive ($demo/archive)"
(cd "$demo/archive" && find . -path ./.state -prune -o -type f -print | sort | sed 's|^\./|   |')
echo
echo "== one manifest line: the recording, its hashes, and its call's CDR"
head -n 1 "$(ls "$demo"/archive/manifest/*.jsonl | head -n 1)" | sed 's/^/   /'
number=$(head -n 1 "$(ls "$demo"/archive/manifest/*.jsonl | head -n 1)" | jq -r .src)
run find --number "$number"
echo
echo "== an auditor checks a day's signature and a recording with stock tools"
day=$(ls "$demo"/archive/manifest/*.jsonl | head -n 1)
minisign -Vm "$day" -p "$demo/keys/manifest.key.pub" | sed 's/^/   /'
rec=$(find "$demo/archive" -name '*.wav.age' | sort | head -n 1)
rel=${rec#"$demo/archive/"}
echo "   age -d $rel | sha256sum"
echo "      $(age -d -i "$demo/keys/identity.txt" "$rec" | sha256sum | cut -d' ' -f1)"
echo "   its manifest line's sha256"
echo "      $(jq -r --arg f "$rel" 'select(.event=="archived" and .file==$f) | .sha256' "$demo"/archive/manifest/*.jsonl)"
echo
echo "== nexo-archive watch: a call ends on the PBX, and its recording is archived seconds later"
"$BUILD/nexo-archive" -c "$top/conf/demo.conf" -o "pbx.url=$url" -o "ami.port=$ami_port" \
	watch >"$demo/watch.out" 2>"$demo/watch.err" &
watch_pid=$!
for _ in $(seq 1 200); do grep -q 'watching for recordings' "$demo/watch.err" && break; sleep 0.05; done
before=$(cat "$demo"/archive/manifest/*.jsonl | grep -c '"event":"archived"')
kill -USR1 "$pbx_pid" # the fake PBX: "a call just ended" (a new recording, AMI events)
t0=$(date +%s%N)
for _ in $(seq 1 200); do
	[ "$(cat "$demo"/archive/manifest/*.jsonl | grep -c '"event":"archived"')" -gt "$before" ] && break
	sleep 0.05
done
t1=$(date +%s%N)
newest=$(cat "$demo"/archive/manifest/*.jsonl | grep '"event":"archived"' | tail -n 1)
echo "   archived $(jq -r .file <<<"$newest") $(( (t1 - t0) / 1000000 )) ms after the call ended"
echo "   with its CDR: $(jq -c '.cdr | {uniqueid, disposition, billsec}' <<<"$newest")"
kill "$watch_pid"
wait "$watch_pid" || true
watch_pid=""
sed 's/^/   /' "$demo/watch.out"
first=$(ls "$demo/pbx" | grep -E '^[0-9]{8}$' | sort | head -n 1)
run backfill --from "${first:0:4}-${first:4:2}-${first:6:2} 00:00" --to "$(date '+%Y-%m-%d %H:%M')"
echo
echo "The backfill over the same days downloaded nothing: the manifest already holds every"
echo "recording (\"already had\"), so re-listing is always safe and cheap."
echo
echo "== nexo-archive report: is every call archived? (from the archive alone, no PBX traffic)"
"$BUILD/nexo-archive" -c "$top/conf/demo.conf" -o "pbx.url=$url" report --html "$demo/coverage.html"
"$BUILD/nexo-archive" -c "$top/conf/demo.conf" -o "pbx.url=$url" report --json |
	jq -r '.days[] | "   \(.day): archived \(.archived), only on the PBX \(.only_on_pbx), " +
		"listed through: \(if .listed then "yes" else "not yet" end)"'
echo "   the calendar, one self-contained page: $demo/coverage.html"
echo "Retention (deleting from the PBX) is off in conf/demo.conf; see conf/nexo-archive.conf."
