#!/usr/bin/env bash
# tests/fakepbx/selftest.sh — checks the fake PBX itself, so a failing e2e test can be blamed on
# the client and not on its opponent. Every check asserts; the script exits 1 on the first
# failure. Only 127.0.0.1 is ever used.
#   usage: tests/fakepbx/selftest.sh [path/to/fakepbx]     (default: $BUILD/fakepbx or build/fakepbx)
#   FAKEPBX_BIG=1 adds the heavy checks: a 1 GiB tar streamed in constant memory, a
#   100,000-row listing (needs ~1.1 GB of disk in $TMPDIR for a moment), a 300 MiB
#   json-huge listing and a 1 byte/s drip.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
FP=${1:-${BUILD:-$top/build}/fakepbx}
[ -x "$FP" ] || { echo "selftest: no fakepbx at $FP (run make first)" >&2; exit 1; }
FP=$(cd "$(dirname "$FP")" && pwd)/$(basename "$FP")
T=$(mktemp -d "${TMPDIR:-/tmp}/fakepbx-selftest.XXXXXX")
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
cd "$T"
MD5=$(printf admin | md5sum | cut -d' ' -f1)
n_ok=0

fail() { echo "not ok - $*" >&2; echo "server log tail:" >&2; tail -n 20 "$T/server.log" >&2; exit 1; }
ok() { n_ok=$((n_ok + 1)); echo "ok - $*"; }

# start ARGS...: serve on a free port, sets PID, PORT, B (CGI base URL), S (scheme)
start() {
	local s=http a
	for a in "$@"; do [ "$a" = --tls ] && s=https; done
	rm -f "$T/port"
	"$FP" --listen 127.0.0.1:0 --port-file "$T/port" "$@" 2>>"$T/server.log" &
	PID=$!
	for _ in $(seq 1 200); do
		[ -s "$T/port" ] && break
		kill -0 "$PID" 2>/dev/null || fail "fakepbx $* exited at start"
		sleep 0.05
	done
	PORT=$(cat "$T/port")
	B="$s://127.0.0.1:$PORT/cgi/webserve"
}

# stop: SIGTERM must end the server with exit 0 (and no sanitizer report)
stop() {
	kill "$PID"
	local rc=0
	wait "$PID" || rc=$?
	PID=""
	[ "$rc" -eq 0 ] || fail "fakepbx exited $rc after SIGTERM"
	! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/server.log" ||
		fail "sanitizer report in server log"
}

C() { if [ -f "$T/c.pem" ]; then curl -sS --cacert "$T/c.pem" "$@"; else curl -sS "$@"; fi; }
login() { C -c "$T/jar" "$B/8404?&UserName=admin&Password=$MD5" >/dev/null; }
enc() { python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe="/;"))' "$1"; }
# jq-like helper: py EXPR reads JSON from stdin as j
py() { python3 -c "import json,sys; j=json.load(sys.stdin); print(($1))"; }
ALL="startdate=2021-03-01+00:00&enddate=2021-12-31+23:59"

# --- generate ----------------------------------------------------------------------------
"$FP" --generate d --days 2 --per-day 5 --start 2021-03-28 >gen.out
grep -q 'wrote 10 files' gen.out || fail "generate output: $(cat gen.out)"
[ "$(find d -name '*.wav' | wc -l)" -eq 10 ] || fail "generate: not 10 files"
for f in d/*/*.wav; do
	name=$(basename "$f")
	[ "$(soxi -r "$f")" = 8000 ] && [ "$(soxi -b "$f")" = 16 ] && [ "$(soxi -c "$f")" = 1 ] ||
		fail "soxi format $f"
	secs=$(soxi -D "$f")
	want=$(( ($(stat -c %s "$f") - 44) / 16000 ))
	[ "${secs%.*}" = "$want" ] || fail "soxi duration $secs != $want for $f"
	[[ $name =~ ^[0-9]{8}-[0-9]{6}-[0-9]+-(Inbound|Outbound|CallBack|Conference)-[0-9]+-[^-]+-[^-]+\.wav$ ||
		$name =~ ^[0-9]{8}-[0-9]{6}-[0-9]+-Internal-[^-]+-[^-]+\.wav$ ]] || fail "bad name $name"
done
[ "$(sha256sum d/*/*.wav | cut -d' ' -f1 | sort -u | wc -l)" -eq 10 ] || fail "files not distinct"
[ "$(ls d/*/ | grep -c Internal)" -eq 2 ] || fail "expected 2 Internal calls"
"$FP" --generate d2 --days 2 --per-day 5 --start 2021-03-28 >/dev/null
diff -r d d2 >/dev/null || fail "generate is not deterministic"
ok "generate: 10 valid WAVs (soxi), durations match, distinct, deterministic"
"$FP" --generate dq0 --days 2 --per-day 5 --start 2021-03-28 --queue-percent 0 >/dev/null
"$FP" --generate dq1 --days 2 --per-day 5 --start 2021-03-28 --queue-percent 60 --queue-max 900 >/dev/null
diff dq0/cdr.jsonl d/cdr.jsonl >/dev/null && diff -r -x cdr.jsonl d dq1 >/dev/null ||
	fail "--queue-percent: 0 changed the CDRs, or 60 the recordings"
python3 - <<'PY' || fail "--queue-percent 60 --queue-max 900: the CDRs"
import json, datetime
key = lambda r: (r["Recording filename"] or r["UniqueID"], r["src"], r["dst"])
plain = {key(r): r for r in map(json.loads, open("d/cdr.jsonl"))}
queued = 0
for r in map(json.loads, open("dq1/cdr.jsonl")):
    p = plain[key(r)]
    if r == p:
        continue
    name = r["Recording filename"].split("/")[1]
    answer = datetime.datetime.strptime(name[:15], "%Y%m%d-%H%M%S")
    start = datetime.datetime.strptime(r["calldate"], "%Y-%m-%d %H:%M:%S")
    ring = (answer - datetime.datetime.strptime(p["calldate"], "%Y-%m-%d %H:%M:%S")).seconds
    wait = (answer - start).total_seconds() - ring
    assert 1 <= wait <= 900, (r, p)
    assert int(r["duration"]) == int(p["duration"]) + wait and r["billsec"] == p["billsec"], (r, p)
    queued += 1
assert 3 <= queued <= 9, queued
PY
ok "generate --queue-percent: recordings and other CDRs unchanged, queued calls start 1..S s earlier"

P1='20210329/20210329-074302-1617003782-CallBack-96-155-820(102).wav'
P2='20210328/20210328-155519-1616946919-Internal-105-204.wav'
P3='20210328/20210328-163921-1616949561-CallBack-44-102-820(204).wav'
for p in "$P1" "$P2" "$P3"; do [ -f "d/$p" ] || fail "fixture $p missing (generator changed?)"; done

# --- login, sessions, listing ---------------------------------------------------------------
start --data d
C -i "$B/8404?&UserName=admin&Password=$MD5" -c jar >login.out
grep -q '^Set-Cookie: session=[0-9a-f]\{32\}; Path=/; HttpOnly' login.out || fail "no cookie"
grep -q '{"status":"success"}' login.out || fail "login body"
C -c jar2 "$B/8404?&UserName=admin&Password=bad" | grep -q '"status":"fail"' || fail "bad login"
! grep -q session jar2 || fail "cookie on failed login"
C -c jar3 -d "UserName=admin&Password=$MD5" "$B/8404" | grep -q success || fail "POST login"
ok "login: GET and POST, cookie only on success"

L=$(C -b jar "$B/20053?&startdate=2021-03-28%2000:00&enddate=2021-04-14%2023:59&src=&dst=&trunk=All&calltype=All&minduration=&maxduration=")
[ "$(py 'len(j["json_array_recordings"])' <<<"$L")" = 10 ] || fail "list all: $L"
[ "$(py 'j["json_obj_filter"]["totalcount"]' <<<"$L")" = 10 ] || fail "totalcount"
[ "$(py '[r["calldate"] for r in j["json_array_recordings"]] == sorted([r["calldate"] for r in j["json_array_recordings"]], reverse=True)' <<<"$L")" = True ] ||
	fail "not newest first"
[ "$(py 'sorted(j["json_array_recordings"][0].keys())' <<<"$L")" = "['calldate', 'calltype', 'dst', 'duration', 'path', 'src', 'trunk']" ] ||
	fail "row keys"
[ "$(py '[r for r in j["json_array_recordings"] if r["calltype"]=="Internal"][0]["trunk"]' <<<"$L")" = "" ] ||
	fail "Internal trunk not empty"
[ "$(py 'type(j["json_array_recordings"][0]["duration"]).__name__' <<<"$L")" = str ] || fail "duration type"
cnt() { C -b jar "$B/20053?&$1&$ALL" | py 'len(j["json_array_recordings"]) if "json_array_recordings" in j else j["status"]'; }
[ "$(cnt 'startdate=2021-03-28+15:55&enddate=2021-03-28+16:39')" = 2 ] || fail "minute bounds inclusive"
[ "$(C -b jar "$B/20053?&startdate=&enddate=" | py 'j["json_obj_filter"]["startdate"]')" = "$(date +%Y-%m-%d) 00:00" ] ||
	fail "empty dates must mean today"
[ "$(cnt calltype=Interval)" = 2 ] && [ "$(cnt calltype=Call%20Back)" = 2 ] &&
	[ "$(cnt calltype=CallBack)" = 2 ] || fail "calltype spellings"
[ "$(cnt calltype=Bogus)" = fail ] || fail "bad calltype accepted"
[ "$(cnt trunk=96)" = 3 ] && [ "$(cnt src=15)" = 3 ] && [ "$(cnt 'dst=(10')" = 2 ] || fail "src/dst/trunk"
[ "$(cnt 'minduration=14&maxduration=17')" = 2 ] || fail "duration bounds"
C -b jar -d "$ALL" --data-urlencode "calltype=Call Back" "$B/20053" | grep -q '"totalcount":2' ||
	fail "POST form listing"
cp "d/$P2" "d/20210328/20210328-235959-1616975999-Inbound-42-1-2.wav"
touch d/20210328/.hidden.wav d/20210328/garbage.wav
[ "$(cnt '')" = 11 ] || fail "dropped-in file not listed (or junk listed)"
rm d/20210328/20210328-235959-1616975999-Inbound-42-1-2.wav d/20210328/.hidden.wav d/20210328/garbage.wav
[ "$(cnt '')" = 10 ] || fail "removed file still listed"
ok "list: filters, bounds, today default, spellings, POST form, rescan per request"

# --- download ---------------------------------------------------------------------------
C -D hdr -b jar -o t.tar "$B/20036?wavefiles=$(enc "$P1;$P2;$P3;../etc/passwd;/etc/passwd;20210328/nope.wav")"
grep -q '^Content-Type: application/x-tar' hdr || fail "tar content type"
grep -qE '^Content-Disposition: attachment; filename="AutoMonitor-[0-9]{4}[A-Z][a-z]{2}[0-9]{2}\.[0-9]{6}\.tar"' hdr ||
	fail "tar disposition"
[ "$(tar -tf t.tar | tr '\n' '|')" = "$P1|$P2|$P3|" ] || fail "tar entries: $(tar -tf t.tar)"
mkdir x && tar -xf t.tar -C x
for p in "$P1" "$P2" "$P3"; do cmp -s "x/$p" "d/$p" || fail "extracted $p differs"; done
[ "$(bsdtar -tf t.tar | wc -l)" = 3 ] || fail "bsdtar"
C -b jar "$B/20036?wavfiles=$(enc "$P2")" | tar -tf - | grep -qx "$P2" || fail "wavfiles spelling"
ok "download: 3-file tar, request order, bad paths ignored, bytes identical"

# --- delete -------------------------------------------------------------------------------
stop
rm -rf dd && cp -r d dd
start --data dd --delete-log "$T/dlog"
login
want="$(cd dd && sha256sum "$P1" "$P2" | awk '{print $2" "$1}')"
C -b jar --data-urlencode "wavefiles=$P1;$P2;20210101/20210101-000000-1-Inbound-1-2-3.wav" "$B/20054" |
	grep -q '{"status":"success","deleted":2}' || fail "delete answer"
[ "$(cat dlog)" = "$want" ] || fail "delete log: $(cat dlog)"
[ ! -e "dd/$P1" ] && [ ! -e "dd/$P2" ] || fail "files not deleted"
[ "$(cnt '')" = 8 ] || fail "listing did not shrink"
C -b jar "$B/20054?&wavfiles=$(enc "$P1")" | grep -q '"deleted":0' || fail "second delete"
stop
ok "delete: 2 removed, delete-log has path + sha256, listing shrinks"

# --- no session ---------------------------------------------------------------------------
for s in json html 401 redirect; do
	start --data d --no-session "$s"
	C -i "$B/20053?&$ALL" >ns.out
	case $s in
	json) grep -q '^HTTP/1.1 200' ns.out && grep -q '"not logged in"' ns.out ;;
	html) grep -q '^HTTP/1.1 200' ns.out && grep -q 'action="/cgi/webserve/8401"' ns.out ;;
	401) grep -q '^HTTP/1.1 401' ns.out && grep -q '"status":"fail"' ns.out ;;
	redirect) grep -q '^HTTP/1.1 302' ns.out && grep -q '^Location: /login.html' ns.out ;;
	esac || fail "--no-session $s: $(cat ns.out)"
	! grep -q json_array ns.out || fail "data without session"
	C -b session=0123456789abcdef0123456789abcdef "$B/20036?wavefiles=$(enc "$P2")" -o ns.bin
	! grep -q RIFF ns.bin || fail "download without session"
	stop
done
ok "no session: json, html, 401, redirect; never data"

# --- max-url, max-rows, 404 -----------------------------------------------------------------
start --data d --max-url 200 --max-rows 3
login
base="/cgi/webserve/20036?wavefiles="
u200="$base$(head -c $((200 - ${#base})) /dev/zero | tr '\0' a)"
[ "$(C -o /dev/null -w '%{http_code}' -b jar "http://127.0.0.1:$PORT$u200")" = 200 ] || fail "200-byte URL"
[ "$(C -o /dev/null -w '%{http_code}' -b jar "http://127.0.0.1:$PORT${u200}a")" = 414 ] || fail "201-byte URL"
[ "$(C -o /dev/null -w '%{http_code}' -b jar "$B/20036?wavefiles=$(enc "$P1;$P2;$P3")")" = 414 ] ||
	fail "long download URL"
L=$(C -b jar "$B/20053?&$ALL")
[ "$(py 'len(j["json_array_recordings"]), j["json_obj_filter"]["totalcount"]' <<<"$L")" = "(3, 10)" ] ||
	fail "max-rows: $L"
[ "$(C -o /dev/null -w '%{http_code}' -b jar "$B/9999")" = 404 ] || fail "unknown CGI"
stop
start --data d
login
python3 - "$PORT" "$(awk '$6=="session"{print $7}' jar)" "$P2" <<'PY' || fail "900 KB URL"
import http.client, sys, io, tarfile
port, cookie, p2 = int(sys.argv[1]), sys.argv[2], sys.argv[3]
u = "/cgi/webserve/20036?wavefiles=" + ";".join([p2] + ["20210328/nothing-here.wav"] * 36000)
c = http.client.HTTPConnection("127.0.0.1", port)
c.request("GET", u, headers={"Cookie": "session=" + cookie})
r = c.getresponse()
names = tarfile.open(fileobj=io.BytesIO(r.read())).getnames()
assert r.status == 200 and len(u) > 900000 and names == [p2], (r.status, len(u), names)
PY
stop
ok "max-url 414 at N+1 bytes, 900 KB URLs accepted without it, max-rows caps rows not totalcount, 404"
start --data d --max-rows 3 --totalcount-missing
login
[ "$(C -b jar "$B/20053?&$ALL" | py 'len(j["json_array_recordings"]), j["json_obj_filter"]')" = \
	"(3, {'startdate': '2021-03-01 00:00', 'enddate': '2021-12-31 23:59'})" ] || fail "--max-rows with --totalcount-missing"
stop
start --data d --max-rows 3 --totalcount-capped
login
[ "$(C -b jar "$B/20053?&$ALL" | py 'len(j["json_array_recordings"]), j["json_obj_filter"]["totalcount"]')" = "(3, 3)" ] &&
	[ "$(C -b jar "$B/20053?&$ALL&calltype=Internal" | py 'j["json_obj_filter"]["totalcount"]')" = 2 ] &&
	[ "$(C -b jar "$B/9006?&$ALL" | py 'len(j["json_array_astcdrs"]), j["json_obj_filter"]["totalcount"]')" = "(3, 3)" ] ||
	fail "--totalcount-capped"
stop
ok "--max-rows: capped rows without totalcount (--totalcount-missing), or a totalcount capped alike (--totalcount-capped)"
start --data d --long-fields 100
login
C -b jar -o lf1.json "$B/20053?&$ALL"
C -b jar -o lf2.json "$B/20053?&$ALL"
C -b jar -o lf.cdr.json "$B/9006?&$ALL"
C -b jar -o lf.csv "$B/9005?&$ALL"
[ "$(cnt src=15)" = 3 ] || fail "--long-fields: filters must see the name's values"
python3 - <<'PY' || fail "--long-fields"
import csv, json
LONG = ["channel", "dstchannel", "src", "dst", "cidname", "accountcode"]
def ok(v, base):
    return len(v) == 100 and v.startswith(base + " <sip:" + base + "@pbx.example.invalid;tag=") and v.endswith(">")
a, b = open("lf1.json", "rb").read(), open("lf2.json", "rb").read()
assert a == b, "not deterministic"
rows = json.loads(a)["json_array_recordings"]
assert len(rows) == 10
for r in rows:
    p = r["path"].split("/")[1][:-4].split("-")
    assert ok(r["src"], p[-2]) and ok(r["dst"], p[-1]), r
    assert r["trunk"] == "" if p[3] == "Internal" else ok(r["trunk"], p[4]), r
    assert r["calldate"][:4] == "2021" and r["duration"].isdigit()
want = {r["UniqueID"]: r for r in map(json.loads, open("d/cdr.jsonl"))}
got = json.load(open("lf.cdr.json"))["json_array_astcdrs"]
raw = open("lf.csv", newline="").read()
lines = list(csv.reader(raw.splitlines()))
assert len(got) == 20 and len(lines) == 21 and '"202 <sip:202@' in raw
for r, line in zip(got, lines[1:]):
    w = want[r["UniqueID"]]
    assert line == [str(v) for v in r.values()], (line, r)
    for k in w:
        assert ok(r[k], w[k]) if k in LONG else r[k] == w[k], (k, r[k], w[k])
PY
stop
ok "--long-fields: 20053 src/dst/trunk and 9006/9005 channel/dstchannel/src/dst/cidname/accountcode N long, CSV quoted, filters unchanged"

# --- variation switches -----------------------------------------------------------------------
start --data d --bare-single
login
C -D hdr -b jar -o one.wav "$B/20036?wavefiles=$(enc "$P2")"
cmp -s one.wav "d/$P2" && grep -q '^Content-Type: audio/x-wav' hdr || fail "bare-single"
C -b jar "$B/20036?wavefiles=$(enc "$P2;$P1")" | tar -tf - | wc -l | grep -qx 2 || fail "bare-single 2 files"
stop
for st in numbered keyed bare; do
	start --data d --list-style "$st"
	login
	L=$(C -b jar "$B/20053?&$ALL")
	case $st in
	numbered) [ "$(py 'j["0"]["path"] and j["9"]["path"] and j["json_obj_filter"]["totalcount"]' <<<"$L")" = 10 ] ;;
	keyed) [ "$(py 'len(j["recordings"]) + j["json_obj_filter"]["totalcount"]' <<<"$L")" = 20 ] ;;
	bare) [ "$(py 'len(j)' <<<"$L")" = 10 ] ;;
	esac || fail "--list-style $st: $L"
	stop
done
start --data d --int-values --totalcount-missing
login
L=$(C -b jar "$B/20053?&$ALL")
[ "$(py 'type(j["json_array_recordings"][0]["duration"]).__name__, "totalcount" in j["json_obj_filter"]' <<<"$L")" = "('int', False)" ] ||
	fail "int-values/totalcount-missing"
stop
start --data d --int-values
login
[ "$(C -b jar "$B/20053?&$ALL" | py 'repr(j["json_obj_filter"]["totalcount"])')" = "'10'" ] || fail "totalcount string"
stop
for tn in base dotslash; do
	start --data d --tar-names "$tn"
	login
	want=$([ "$tn" = base ] && echo "${P2#*/}" || echo "./$P2")
	C -b jar "$B/20036?wavefiles=$(enc "$P2")" | tar -tf - | grep -qxF "$want" || fail "--tar-names $tn"
	stop
done
for k in wavefiles wavfiles; do
	start --data d --download-key "$k"
	login
	other=$([ "$k" = wavefiles ] && echo wavfiles || echo wavefiles)
	[ "$(C -b jar "$B/20036?$k=$(enc "$P2")" | tar -tf - | wc -l)" = 1 ] &&
		[ "$(C -b jar "$B/20036?$other=$(enc "$P2")" | tar -tf - | wc -l)" = 0 ] ||
		fail "--download-key $k"
	stop
done
start --data d --login-style post
C "$B/8404?&UserName=admin&Password=$MD5" | grep -q fail && C -d "UserName=admin&Password=$MD5" "$B/8404" |
	grep -q success || fail "--login-style post"
stop
start --data d --login-style query
C "$B/8404?&UserName=admin&Password=$MD5" | grep -q success && C -d "UserName=admin&Password=$MD5" "$B/8404" |
	grep -q fail || fail "--login-style query"
stop
ok "switches: bare-single, list styles, int-values, totalcount-missing, tar-names, download-key, login-style"
for k in wavefiles wavfiles; do
	rm -rf dd && cp -r d dd
	start --data dd --delete-key "$k"
	login
	other=$([ "$k" = wavefiles ] && echo wavfiles || echo wavefiles)
	[ "$(C -b jar --data-urlencode "$other=$P1" "$B/20054")" = '{"status":"success","deleted":0}' ] && [ -f "dd/$P1" ] &&
		[ "$(C -b jar --data-urlencode "$k=$P1" "$B/20054")" = '{"status":"success","deleted":1}' ] && [ ! -e "dd/$P1" ] ||
		fail "--delete-key $k"
	stop
done
start --data d --no-session status6
C -D h -o ns.out "$B/20053?&$ALL"
grep -q '^HTTP/1.1 200' h && [ "$(cat ns.out)" = '{"status":-6}' ] || fail "--no-session status6: $(cat ns.out)"
stop
rm -rf dd && cp -r d dd
start --data dd --delete-no-session 1 --delete-log "$T/dns"
login
C -b jar "$B/20053?&$ALL" | grep -q json_array || fail "--delete-no-session: listing"
[ "$(C -b jar --data-urlencode "wavefiles=$P1" "$B/20054")" = '{"status":"fail","message":"not logged in"}' ] &&
	[ -f "dd/$P1" ] && [ ! -s dns ] || fail "--delete-no-session 1: first delete"
C -b jar "$B/20053?&$ALL" | grep -q '"not logged in"' || fail "--delete-no-session: the session did not die"
login
[ "$(C -b jar --data-urlencode "wavefiles=$P1" "$B/20054")" = '{"status":"success","deleted":1}' ] &&
	[ ! -e "dd/$P1" ] && [ "$(wc -l <dns)" = 1 ] || fail "--delete-no-session 1: second delete"
stop
ok "--delete-key wavefiles|wavfiles, --no-session status6, --delete-no-session (session dies, nothing deleted)"

# --- --any-folder: recordings in any folder chain ending in YYYYMMDD, or bare at the top ------------
rm -rf da && cp -r d da
N1=20240105-101010-1704449410-Inbound-42-1-2.wav
A1=x/20240105/$N1 A2=y/z/20240105/$N1 A3=20240106-111111-1704539471-Outbound-96-3-4.wav
mkdir -p da/x/20240105 da/y/z/20240105 da/.hid/20240105 da/x/20240107
cp "d/$P2" "da/$A1"; cp "d/$P1" "da/$A2"; cp "d/$P3" "da/$A3"
cp "d/$P2" da/.hid/20240105/20240105-121212-1704456732-Inbound-42-1-2.wav
cp "d/$P2" da/x/20240105-131313-1704460393-Inbound-42-1-2.wav
cp "d/$P2" da/x/20240107/20240105-141414-1704464054-Inbound-42-1-2.wav
ln -s x da/lnk
ln -s "$A1" da/20240105-151515-1704467715-Inbound-42-1-2.wav
Y24="startdate=2024-01-01+00:00&enddate=2024-12-31+23:59"
start --data da
login
[ "$(C -b jar "$B/20053?&$Y24" | py 'j["json_obj_filter"]["totalcount"]')" = 0 ] &&
	[ "$(C -b jar "$B/20036?wavefiles=$(enc "$A1;$A3")" | tar -tf - | wc -l)" = 0 ] ||
	fail "without --any-folder: other folders listed or served"
stop
start --data da --any-folder --delete-log "$T/adl"
login
C -b jar -o al.json "$B/20053?&$Y24"
python3 - "$A1" "$A2" "$A3" <<'PY' || fail "--any-folder listing: $(cat al.json)"
import json, sys
a1, a2, a3 = sys.argv[1:]
rows = json.load(open("al.json"))["json_array_recordings"]
by = {r["path"]: r for r in rows}
assert sorted(by) == sorted([a1, a2, a3]), sorted(by)
dur = lambda p: str(round((len(open("da/" + p, "rb").read()) - 44) / 16000))
assert by[a1] == {"calldate": "2024-01-05 10:10:10", "src": "1", "dst": "2", "trunk": "42", "duration": dur(a1),
                  "calltype": "Inbound", "path": a1}, by[a1]
assert by[a2]["duration"] == dur(a2) != by[a1]["duration"]
assert by[a3]["calldate"] == "2024-01-06 11:11:11" and by[a3]["calltype"] == "Outbound" and by[a3]["trunk"] == "96"
PY
[ "$(C -b jar "$B/20053?&$ALL" | py 'j["json_obj_filter"]["totalcount"]')" = 10 ] || fail "--any-folder: the usual layout"
C -b jar -o at.tar "$B/20036?wavefiles=$(enc "$A1;$A2;$A3;lnk/20240105/$N1;.hid/20240105/20240105-121212-1704456732-Inbound-42-1-2.wav;20240105-151515-1704467715-Inbound-42-1-2.wav;../da/$A1;/$A1;x/20240105-131313-1704460393-Inbound-42-1-2.wav")"
[ "$(tar -tf at.tar | tr '\n' '|')" = "$A1|$A2|$A3|" ] || fail "--any-folder download: $(tar -tf at.tar)"
mkdir ax && tar -xf at.tar -C ax && cmp -s "ax/$A1" "da/$A1" && cmp -s "ax/$A2" "da/$A2" && cmp -s "ax/$A3" "da/$A3" ||
	fail "--any-folder download: bytes"
want="$A2 $(sha256sum "da/$A2" | cut -d' ' -f1)"
[ "$(C -b jar --data-urlencode "wavefiles=$A2;lnk/20240105/$N1;20240105-151515-1704467715-Inbound-42-1-2.wav" "$B/20054")" = '{"status":"success","deleted":1}' ] &&
	[ ! -e "da/$A2" ] && [ -f "da/$A1" ] && [ -L da/20240105-151515-1704467715-Inbound-42-1-2.wav ] && [ "$(cat adl)" = "$want" ] ||
	fail "--any-folder delete: $(cat adl)"
stop
start --data da --any-folder --tar-names base
login
[ "$(C -b jar "$B/20036?wavefiles=$(enc "$A1;$A3")" | tar -tf - | tr '\n' '|')" = "$N1|$A3|" ] || fail "--any-folder --tar-names base"
stop
ok "--any-folder: other folder chains and bare names listed, served, deleted (+ delete log); dot folders, symlinks, .. refused; off by default"
rm -rf dd && cp -r d dd
O1=20210328/$(ls d/20210328 | sort | sed -n 1p) O2=20210328/$(ls d/20210328 | sort | sed -n 2p)
start --data dd --list-omit 2 --list-omit-path "$P3"
login
paths() { C -b jar "$B/20053?&$ALL" | py '" ".join(sorted(r["path"] for r in j["json_array_recordings"])) + " %d" % j["json_obj_filter"]["totalcount"]'; }
want=$(cd d && ls */*.wav | grep -vxF -e "$O1" -e "$O2" -e "$P3" | sort | tr '\n' ' ')
[ "$(paths)" = "${want}7" ] || fail "--list-omit 2 --list-omit-path: $(paths)"
C -b jar "$B/20036?wavefiles=$(enc "$O1;$P3")" | tar -tf - | tr '\n' '|' | grep -qxF "$O1|$P3|" &&
	[ "$(C -b jar "$B/9006?&$ALL" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(sum(r["Recording filename"] in sys.argv[1:] for r in j["json_array_astcdrs"]))' "$O1" "$P3")" = 2 ] ||
	fail "--list-omit: omitted recordings must stay downloadable and named by their CDRs"
C -b jar --data-urlencode "wavefiles=$O1" "$B/20054" | grep -q '"deleted":1' && [ "$(paths)" = "${want}7" ] ||
	fail "--list-omit: deleting an omitted recording must not shift the set: $(paths)"
stop
ok "--list-omit N (the N oldest, fixed at start) and --list-omit-path: not listed, still downloadable, deletable, named by CDRs"

# --- recordings in progress: DIR/.live.jsonl --------------------------------------------------------
rm -rf dl && cp -r d dl
LV=20240107/20240107-101010-1704622210-Inbound-42-7-8.wav
LT=20240108/20240108-101010-1704708610-Outbound-96-7-8.wav
LW=20240109/20240109-101010-1704795010-Internal-7-8.wav
mkdir -p dl/.live/20240107 dl/.live/20240108 dl/.live/20240109
cp "d/$P1" "dl/.live/$LV"; cp "d/$P3" "dl/.live/$LT"; cp "d/$P2" "dl/.live/$LW"
cat >dl/.live.jsonl <<JSONL
{"path":"$LV","final":".live/$LV","header":"zero","steps":3}
{"path":"$LT","final":".live/$LT","header":"valid","from":1000,"until":2000}
{"path":"$LW","final":".live/$LW","header":"valid","from":1000,"until":3000}
{"path":"20240110/20240110-101010-1704881410-Inbound-42-7-8.wav","final":".live/nothing.wav","steps":1}
{"path":"../x.wav","final":".live/$LV","steps":1}
JSONL
echo 1000 >clk
start --data dl --clock-file "$T/clk" --delete-log "$T/ldl"
login
# lrow P: "duration size" of P in the listing (the listing counts as one answer for steps)
lrow() { C -b jar "$B/20053?&$Y24" | python3 -c 'import json,sys; r=[r for r in json.load(sys.stdin)["json_array_recordings"] if r["path"]==sys.argv[1]]; print(r[0]["duration"] if r else "-", end=" ")' "$1"; stat -c %s "dl/$1"; }
# hdr32 F OFF: the little-endian 32-bit number at OFF in F
hdr32() { python3 -c 'import struct,sys; print(struct.unpack_from("<I", open(sys.argv[1],"rb").read(), int(sys.argv[2]))[0])' "$1" "$2"; }
FV=$(stat -c %s "dl/.live/$LV") FT=$(stat -c %s "dl/.live/$LT")
# fd 8 stays open on the live file: writes in place (no rename) reach it
[ "$(lrow "$LV")" = "0 44" ] && exec 8<"dl/$LV" && [ "$(hdr32 "dl/$LV" 40)" = 0 ] &&
	[ "$(stat -c %s "dl/$LT")" = 44 ] && [ "$(hdr32 "dl/$LT" 4)" = 36 ] && [ "$(hdr32 "dl/$LT" 40)" = 0 ] ||
	fail "live: at 0/3 and at from: $(lrow "$LV")"
[ ! -e dl/20240110 ] && grep -q "final .live/nothing.wav is missing, entry ignored" server.log &&
	grep -q "\.live\.jsonl:5: \"path\" is not a recording path, ignored" server.log || fail "live: bad entries"
third=$(( (FV - 44) / 2 / 3 * 2 ))
[ "$(lrow "$LV")" = "0 $((44 + third))" ] || fail "live: 1/3 with a zero header: $(lrow "$LV")"
C -b jar "$B/20036?wavefiles=$(enc "$LV")" | tar -xOf - >lv.part
python3 - "dl/.live/$LV" <<'PY' || fail "live: 2/3 as downloaded"
import sys
fin, part = open(sys.argv[1], "rb").read(), open("lv.part", "rb").read()
frames = (len(fin) - 44) // 2
assert len(part) == 44 + frames * 2 // 3 * 2, (len(part), len(fin))
assert part[4:8] == bytes(4) and part[40:44] == bytes(4) and part[:4] == fin[:4] and part[8:40] == fin[8:40]
assert part[44:] == fin[44:len(part)]
PY
[ "$(lrow "$LV")" = "$(( (FV - 44) / 16000 )) $FV" ] && cmp -s "dl/$LV" "dl/.live/$LV" && cmp -s /dev/fd/8 "dl/.live/$LV" ||
	fail "live: 3/3 must be the final bytes, in place"
exec 8<&-
echo 1500.5 >clk.new && mv clk.new clk
half=$(( (FT - 44) / 2 * 500500 / 1000000 * 2 ))
[ "$(lrow "$LT")" = "$(( (half + 8000) / 16000 )) $((44 + half))" ] && [ "$(hdr32 "dl/$LT" 4)" = $((36 + half)) ] &&
	[ "$(hdr32 "dl/$LT" 40)" = "$half" ] || fail "live: from/until at the middle: $(lrow "$LT")"
echo 2500 >clk.new && mv clk.new clk
lrow "$LT" >/dev/null
cmp -s "dl/$LT" "dl/.live/$LT" || fail "live: after until, not the final bytes"
echo 1200 >clk.new && mv clk.new clk
lrow "$LT" >/dev/null
cmp -s "dl/$LT" "dl/.live/$LT" || fail "live: a finished recording changed when time went back"
lrow "$LW" >/dev/null
want="$LW $(sha256sum "dl/$LW" | cut -d' ' -f1)"
[ "$(stat -c %s "dl/$LW")" -gt 44 ] && [ "$(stat -c %s "dl/$LW")" -lt "$(stat -c %s "dl/.live/$LW")" ] &&
	C -b jar --data-urlencode "wavefiles=$LW" "$B/20054" | grep -q '"deleted":1' && [ "$(cat ldl)" = "$want" ] ||
	fail "live: deleting a growing recording: $(cat ldl)"
echo 4000 >clk.new && mv clk.new clk
for _ in 1 2 3; do lrow "$LW" >/dev/null 2>&1 || true; done
[ ! -e "dl/$LW" ] || fail "live: a deleted live recording came back"
stop
ok "live: steps with a zero header, from/until with a valid one (clock file), whole frames, in place, final bytes at the end, bad entries ignored, delete is final and logged"

# the duration cache and a recording replaced at the same path: same size, same mtime, other duration
rm -rf dr && cp -r d dr
start --data dr
login
dur_of() { C -b jar "$B/20053?&$ALL" | python3 -c 'import json,sys; print([r["duration"] for r in json.load(sys.stdin)["json_array_recordings"] if r["path"]==sys.argv[1]][0])' "$1"; }
d0=$(dur_of "$P2")
python3 - "dr/$P2" "dr/20210328/.new.wav" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<I", b, 28, 32000)  # byte rate doubled: half the duration, same size
open(sys.argv[2], "wb").write(b)
PY
touch -r "dr/$P2" dr/20210328/.new.wav
i0=$(stat -c %i "dr/$P2")
mv dr/20210328/.new.wav "dr/$P2"
[ "$(stat -c %i "dr/$P2")" != "$i0" ] && [ "$(dur_of "$P2")" = $(( (d0 + 1) / 2 )) ] ||
	fail "duration cache: a file renamed over one of the same size and mtime kept its old duration ($d0 -> $(dur_of "$P2"))"
cp "d/$P2" dr/20210328/.ref.wav
i1=$(stat -c %i "dr/$P2")
cat dr/20210328/.ref.wav >"dr/$P2"
touch -r dr/20210328/.ref.wav "dr/$P2"
[ "$(stat -c %i "dr/$P2")" = "$i1" ] && [ "$(dur_of "$P2")" = "$d0" ] ||
	fail "duration cache: a file rewritten in place (same size, mtime put back) kept its old duration"
stop
ok "duration cache: a replaced recording (rename: new inode; in place: new ctime) never keeps a stale duration"

# --- faults -------------------------------------------------------------------------------
start --data d --fault omit-one
login
[ "$(C -b jar "$B/20036?wavefiles=$(enc "nope;$P1;$P2;$P3")" | tar -tf - | tr '\n' '|')" = "$P2|$P3|" ] ||
	fail "omit-one"
[ "$(C -b jar "$B/20036?wavefiles=$(enc "$P2;$P3")" | tar -tf - | tr '\n' '|')" = "$P2|$P3|" ] ||
	fail "omit-one: a tar without the omitted file lost another one"
[ "$(C -b jar "$B/20036?wavefiles=$(enc "$P3;$P1")" | tar -tf - | tr '\n' '|')" = "$P3|" ] ||
	fail "omit-one: the omitted file was served"
stop
start --data d --fault evil-names
login
C -b jar -o evil.tar "$B/20036?wavefiles=$(enc "$P2")"
python3 - <<'PY' || fail "evil-names"
import tarfile
m = {x.name: x for x in tarfile.open("evil.tar")}
assert m["../x.wav"].isfile() and m["/tmp/x.wav"].isfile(), m
assert m["20210101/link.wav"].issym() and m["20210101/link.wav"].linkname == "/etc/passwd"
assert len(m) == 4
PY
stop
start --data d --fault expire-after=2
login
for i in 1 2; do C -b jar "$B/20053?&$ALL" | grep -q json_array || fail "expire-after: request $i"; done
C -b jar "$B/20053?&$ALL" | grep -q '"not logged in"' || fail "expire-after: request 3 still served"
login
C -b jar "$B/20053?&$ALL" | grep -q json_array || fail "expire-after: relogin"
stop
ok "faults: omit-one, evil-names, expire-after=2"

# --- faults: answers replaced, clock, request log ---------------------------------------------
# tarls F: the entries of tar F as Python tuples (type, name, size, link, dev, data), read by hand
# so that a hardlink carrying data or a device entry is shown exactly as sent
cat >tarls.py <<'PY'
import sys
def tarls(path):
    b, off, out, pax = open(path, "rb").read(), 0, [], {}
    num = lambda f: int(f.strip(b"\0 ") or b"0", 8)
    while off + 512 <= len(b) and b[off:off + 512] != bytes(512):
        h = b[off:off + 512]
        name = h[:100].rstrip(b"\0").decode()
        if h[345:500].rstrip(b"\0"):
            name = h[345:500].rstrip(b"\0").decode() + "/" + name
        t, size = chr(h[156]), num(h[124:136])
        data = b[off + 512:off + 512 + size]
        off += 512 + (size + 511) // 512 * 512
        if t == "x":
            pax = dict(l.split(" ", 1)[1].split("=", 1) for l in data.decode().splitlines())
            continue
        out.append((t, pax.pop("path", name), size, h[157:257].rstrip(b"\0").decode(),
                    (num(h[329:337]), num(h[337:345])), data))
    return out
PY
start --data d --request-log "$T/rl" --fault status=503:2@20036 --fault status=429@20053 \
	--fault redirect-login@20054 --fault html-200@20054 --fault retry-after=7 --fault clock-skew=-3600
login
Q="$B/20036?wavefiles=$(enc "$P1;$P2;nope")"
for i in 1 2 3; do C -D "h$i" -b jar -o "b$i" "$Q"; done
grep -q '^HTTP/1.1 503' h1 && grep -q '^HTTP/1.1 503' h2 && grep -q '^HTTP/1.1 200' h3 &&
	grep -q '^Retry-After: 7' h2 && grep -q '"injected HTTP 503"' b1 &&
	[ "$(tar -tf b3 | wc -l)" = 2 ] || fail "status=503:2@20036: $(head -1 h1 h2 h3)"
C -D h4 -b jar -o b4 "$B/20053?&$ALL"
grep -q '^HTTP/1.1 429' h4 && grep -q '^Retry-After: 7' h4 &&
	C -b jar "$B/20053?&$ALL" | grep -q json_array || fail "status=429@20053 (default once)"
C -D h5 -b jar -o b5 "$B/20054?wavefiles=nope"
C -D h6 -b jar -o b6 "$B/20054?wavefiles=nope"
grep -q '^HTTP/1.1 302' h5 && grep -q '^Location: /login.html' h5 && grep -q '^HTTP/1.1 200' h6 &&
	grep -q 'action="/cgi/webserve/8401"' b6 && C -b jar "$B/20054?wavefiles=nope" |
	grep -q '"deleted":0' || fail "redirect-login then html-200 on 20054"
python3 - h4 <<'PY' || fail "clock-skew=-3600: $(grep Date h4)"
import sys, time, email.utils
d = [l.split(":", 1)[1] for l in open(sys.argv[1]) if l.startswith("Date:")]
assert len(d) == 1, d
assert abs(email.utils.parsedate_to_datetime(d[0].strip()).timestamp() - (time.time() - 3600)) < 5
PY
stop
want="GET 8404 200 21 - -
GET 20036 503 48 3 status
GET 20036 503 48 3 status
GET 20036 200 $(stat -c %s b3) 3 -
GET 20053 429 48 - status
GET 20053 200 1953 - -
GET 20054 302 67 1 redirect-login
GET 20054 200 $(stat -c %s b6) 1 html-200
GET 20054 200 33 1 -"
[ "$(cat rl)" = "$want" ] || fail "request log: $(diff <(echo "$want") rl)"
start --data d --fault status=503@8404 --fault retry-after=30 --fault retry-after-date
C -D h7 -o /dev/null "$B/8404?&UserName=admin&Password=$MD5"
python3 - h7 <<'PY' || fail "retry-after-date: $(cat h7)"
import sys, email.utils
h = dict(l.rstrip("\r\n").split(": ", 1) for l in open(sys.argv[1]) if ": " in l)
t = lambda k: email.utils.parsedate_to_datetime(h[k]).timestamp()
assert t("Retry-After") - t("Date") == 30, h
PY
login
C -b jar "$B/20053?&$ALL" | grep -q json_array || fail "status@8404 did not heal"
stop
"$FP" --data d --listen 127.0.0.1:0 --fault status=200 2>/dev/null && fail "status=200 accepted"
[ $? = 2 ] || fail "bad fault spec: exit code not 2"
ok "faults: status (count, @CGI, Retry-After, HTTP-date), redirect-login, html-200, clock-skew, request log"

# --- faults: listings ------------------------------------------------------------------------
start --data d --fault json-wrong-types:1 --fault totalcount-lie=-3 --fault size-mismatch
login
L=$(C -b jar "$B/20053?&$ALL")
[ "$(py '[(type(r["path"]).__name__, type(r["calldate"]).__name__, type(r["duration"]).__name__) for r in j["json_array_recordings"]] == [("int", "dict", "list")] * 10 and j["json_obj_filter"]["totalcount"] == {"count": 7}' <<<"$L")" = True ] ||
	fail "json-wrong-types: $L"
C -b jar "$B/20053?&$ALL" >L2
python3 - L2 <<'PY' || fail "totalcount-lie / size-mismatch: $(head -c 300 L2)"
import json, os, sys
j = json.load(open(sys.argv[1]))
rows = j["json_array_recordings"]
assert j["json_obj_filter"]["totalcount"] == 7 and len(rows) == 10
real = [os.path.getsize("d/" + r["path"]) for r in rows]
assert [int(r["size"]) for r in rows] == [real[0] + 1] + real[1:], rows[:2]
assert isinstance(rows[0]["duration"], str)
PY
stop
start --data d --fault json-truncated:1 --fault json-deep=100000:2 --fault json-truncated=10@20054 \
	--fault json-truncated=20@8404 --fault json-huge=2:1
C -D h8 -c jar "$B/8404?&UserName=admin&Password=$MD5" -o b8
[ "$(cat b8)" = '{"status":"success"}' ] && grep -q '^Connection: close' h8 &&
	grep -q '^Set-Cookie: session=' h8 || fail "json-truncated=20@8404: $(cat b8)"
C -D h9 -b jar -o b9 "$B/20053?&$ALL"
C -b jar -o b10 "$B/20053?&$ALL"
C -b jar -o b11 "$B/20053?&$ALL"
python3 - <<'PY' || fail "json-truncated / json-deep / json-huge"
import json
b9, b10, b11 = (open(f, "rb").read() for f in ("b9", "b10", "b11"))
h9 = open("h9").read()
# 1st: deep + huge, cut in half; 2nd: deep only; 3rd: healthy
assert f"Content-Length: {len(b9)}\n" in h9 and "Connection: close" in h9, h9
assert len(b9) == (len(b10) + (2 << 20)) // 2 and b9.startswith(b"[" * 100000 + b'{"json_array_recordings":[\n  ')
assert b10.startswith(b"[" * 100000 + b"{") and b10.rstrip().endswith(b"}\n" + b"]" * 100000)
assert json.loads(b10.strip()[100000:-100000]) == json.loads(b11)
PY
[ "$(C -b jar "$B/20054?wavefiles=nope")" = '{"status":' ] || fail "json-truncated=10@20054"
stop
ok "faults: json-wrong-types, totalcount-lie, size-mismatch, json-truncated (8404, 20053, 20054), json-deep, json-huge"

# --- faults: tars ------------------------------------------------------------------------------
TQ="20036?wavefiles=$(enc "$P1;$P2;$P3")"
start --data d --fault reset-mid-body --fault tar-cut-mid --fault tar-cut-boundary
login
S1=$(stat -c %s "d/$P1") S2=$(stat -c %s "d/$P2")
pad() { echo $(( ($1 + 511) / 512 * 512 )); }
full=$((512 + $(pad "$S1") + 512 + $(pad "$S2") + 512 + $(pad "$(stat -c %s "d/$P3")") + 1024))
rc=0; C -b jar -o c1 "$B/$TQ" 2>/dev/null || rc=$?
[ "$rc" = 56 ] && [ "$(stat -c %s c1)" = $((full / 2)) ] || fail "reset-mid-body: rc $rc, $(stat -c %s c1) bytes"
rc=0; C -D h2 -b jar -o c2 "$B/$TQ" 2>/dev/null || rc=$?
[ "$rc" = 18 ] && grep -q "^Content-Length: $full" h2 &&
	[ "$(stat -c %s c2)" = $((512 + $(pad "$S1") + 512 + S2 / 2)) ] || fail "tar-cut-mid: rc $rc"
rc=0; C -D h3 -b jar -o c3 "$B/$TQ" || rc=$?
[ "$rc" = 0 ] && [ "$(stat -c %s c3)" = $((512 + $(pad "$S1"))) ] && grep -q "^Content-Length: $((512 + $(pad "$S1")))" h3 &&
	[ "$(bsdtar -tf c3)" = "$P1" ] || fail "tar-cut-boundary: rc $rc $(stat -c %s c3)"
C -b jar "$B/$TQ" | tar -tf - | wc -l | grep -qx 3 || fail "tar cuts did not heal"
stop
start --data d --fault tar-extra --fault tar-duplicate --fault wav-lying-header
login
C -b jar -o e.tar "$B/$TQ"
python3 - "$P1" "$P2" "$P3" <<'PY' || fail "tar-extra / tar-duplicate / wav-lying-header"
import sys, struct
exec(open("tarls.py").read())
p1, p2, p3 = sys.argv[1:]
e = tarls("e.tar")
real = open("d/" + p1, "rb").read()
assert [(x[0], x[1]) for x in e] == [("0", "20210101/20210101-000000-1609459200-Inbound-1-100-200.wav"),
                                     ("0", p1), ("0", p1), ("0", p2), ("0", p3)], e
assert e[0][5][:4] == b"RIFF" and struct.unpack("<I", e[0][5][40:44])[0] == len(e[0][5]) - 44
lie = e[1][5]
assert len(lie) == len(real) and lie[44:] == real[44:]
assert struct.unpack("<I", lie[4:8])[0] == len(real) - 8 + 160000
assert struct.unpack("<I", lie[40:44])[0] == len(real) - 44 + 160000
dup = e[2][5]
assert dup[:-1] == lie[:-1] and dup[-1] == lie[-1] ^ 0xFF
assert e[3][5] == open("d/" + p2, "rb").read()
PY
stop
start --data d --fault tar-symlink:1 --fault tar-hardlink:1 --fault tar-device:1 --fault wav-zero-header
login
C -b jar -o l1.tar "$B/$TQ"
C -b jar -o l2.tar "$B/$TQ"
python3 - "$P1" "$P2" "$P3" <<'PY' || fail "tar-symlink / tar-hardlink / tar-device / wav-zero-header"
import sys
exec(open("tarls.py").read())
p1, p2, p3 = sys.argv[1:]
real = open("d/" + p1, "rb").read()
l1, l2 = tarls("l1.tar"), tarls("l2.tar")
assert [x[:5] for x in l1[:3]] == [("2", p1, 0, "../fakepbx-symlink-target.wav", (0, 0)),
                                   ("1", p1, len(real), "fakepbx-hardlink-target.wav", (0, 0)),
                                   ("3", p1, 0, "", (1, 3))], l1[:3]
assert l1[1][5] == real and [x[:2] for x in l1[3:]] == [("0", p2), ("0", p3)], l1[3:]
# the 2nd tar is healthy but for wav-zero-header, which the replaced entry never reached
z = l2[0][5]
assert [x[:2] for x in l2] == [("0", p1), ("0", p2), ("0", p3)]
assert z[4:8] == bytes(4) and z[40:44] == bytes(4) and len(z) == len(real) and z[44:] == real[44:]
PY
# libarchive obeys the size of a hardlink that has a pax header: the data is the entry's body
bsdtar -tvf l1.tar 2>/dev/null | grep -q "^-.* $(stat -c %s "d/$P1") .* $P1 link to fakepbx-hardlink-target.wav$" ||
	fail "tar-hardlink: bsdtar does not see a hardlink with data"
bsdtar -tvf l1.tar 2>/dev/null | grep -q "^c.* $P1$" || fail "tar-device: bsdtar does not see a device"
stop
start --data d --fault tar-missing
login
[ "$(C -b jar "$B/20036?wavefiles=$(enc "$P1;$P2")" | tar -tf -)" = "$P2" ] || fail "tar-missing"
stop
ok "faults: reset-mid-body, tar-cut-mid, tar-cut-boundary, tar-extra, tar-duplicate, tar-symlink, tar-hardlink, tar-device, wav-lying-header, wav-zero-header, tar-missing"

# --- faults: slow answers, deletes, headers --------------------------------------------------
rm -rf dd && cp -r d dd
start --data dd --delete-log "$T/dl2" --fault stall=3:1@20036 --fault stall=1:1@20054 \
	--fault drip=4000:1@20053 --fault header-flood:1@20053 --fault header-long:1@8404
C -D hl -c jar -o /dev/null "$B/8404?&UserName=admin&Password=$MD5"
[ "$(grep -c '^X-Fakepbx-Long: ' hl)" = 1 ] && [ "$(awk 'length($0) > 65536' hl | wc -l)" = 1 ] ||
	fail "header-long"
Q="$B/20036?wavefiles=$(enc "$P1;$P2")"
# three slow answers at once: a stall that trips curl's low-speed limit, a stall that
# resumes, a drip (and a header flood)
(rc=0; C -b jar -o /dev/null -Y 2000 -y 1 -w '%{size_download}' "$Q" >st1.out 2>/dev/null || rc=$?
	echo "$rc" >st1.rc) &
c1=$!
C -b jar -o st2.out -w '%{time_total}' "$B/20054?wavefiles=nope" >st2.t &
c2=$!
C -b jar -D dh -o dr.json -w '%{time_total}' "$B/20053?&$ALL" >dr.t
wait "$c1" "$c2"
[ "$(cat st1.rc) $(cat st1.out)" = "28 1024" ] || fail "stall: curl rc $(cat st1.rc), $(cat st1.out) bytes"
[ "$(cat st2.out)" = '{"status":"success","deleted":0}' ] && awk '{exit !($1 >= 1.0)}' st2.t ||
	fail "stall=1@20054: $(cat st2.out) in $(cat st2.t)s"
py 'len(j["json_array_recordings"])' <dr.json | grep -qx 10 && awk '{exit !($1 >= 0.35)}' dr.t ||
	fail "drip=4000: $(cat dr.t)s"
[ "$(grep -c '^X-Fakepbx-Flood-' dh)" = 1000 ] || fail "header-flood"
secs=$(C -b jar -o /dev/null -w '%{time_total}' "$Q")
awk "BEGIN{exit !($secs < 0.5)}" || fail "stall did not heal ($secs s)"
stop
start --data dd --delete-log "$T/dl2" --fault delete-noop:1 --fault delete-error-but-deletes:1
login
C -b jar --data-urlencode "wavefiles=$P1;$P2" "$B/20054" | grep -qx '{"status":"success","deleted":2}' &&
	[ -f "dd/$P1" ] && [ -f "dd/$P2" ] && [ ! -s dl2 ] || fail "delete-noop"
C -D h -b jar --data-urlencode "wavefiles=$P1;$P2" "$B/20054" | grep -q '"status":"fail"' &&
	grep -q '^HTTP/1.1 500' h && [ ! -e "dd/$P1" ] && [ ! -e "dd/$P2" ] || fail "delete-error-but-deletes"
[ "$(cat dl2)" = "$(cd d && sha256sum "$P1" "$P2" | awk '{print $2" "$1}')" ] || fail "delete log: $(cat dl2)"
C -b jar --data-urlencode "wavefiles=$P3" "$B/20054" | grep -q '"deleted":1' || fail "delete faults did not heal"
stop
ok "faults: stall (low-speed abort, resume), drip, header-flood, header-long, delete-noop, delete-error-but-deletes"

# --- TLS ------------------------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 2>/dev/null
start --data d --tls c.pem k.pem
login
C -b jar "$B/20036?wavefiles=$(enc "$P2")" | tar -xOf - | cmp -s - "d/$P2" || fail "TLS download"
! curl -s "$B/8404" 2>/dev/null || fail "TLS without CA accepted"
stop
ok "TLS: login, download with --cacert; unverified client refused"

# --- CDRs: the file, 9006, 9005, 9004 ----------------------------------------------------------
python3 - d <<'PY' || fail "generated CDRs disagree with the recordings"
import json, os, sys, glob, datetime
d = sys.argv[1]
keys = ["calldate", "src", "contact", "groupname", "dst", "channel", "dstchannel", "duration",
        "billsec", "disposition", "userfield", "accountcode", "cidname", "in_route", "IVR",
        "Recording filename", "UniqueID", "port"]
rows = [json.loads(l) for l in open(d + "/cdr.jsonl")]
assert all(list(r) == keys for r in rows), rows[0]
assert all(isinstance(r[k], str) for r in rows for k in keys[:-1])
assert all(isinstance(r["port"], int) for r in rows)
recs = sorted(os.path.relpath(p, d) for p in glob.glob(d + "/*/*.wav"))
assert sorted(r["Recording filename"] for r in rows if r["Recording filename"]) == recs
for r in rows:
    start = datetime.datetime.strptime(r["calldate"], "%Y-%m-%d %H:%M:%S")
    assert r["UniqueID"].split(".")[0] == str(int(start.timestamp())), r
    assert int(r["duration"]) >= int(r["billsec"]), r
    if not r["Recording filename"]:
        continue
    p = r["Recording filename"].split("/")[1][:-4].split("-")
    ftime = datetime.datetime.strptime(p[0] + p[1], "%Y%m%d%H%M%S")
    assert 0 <= (ftime - start).total_seconds() <= 8 and ftime.date() == start.date(), r
    assert (r["userfield"], r["src"], r["dst"]) == (p[3], p[-2], p[-1]), r
    assert r["disposition"] == "ANSWERED"
    assert int(r["billsec"]) == (os.path.getsize(d + "/" + r["Recording filename"]) - 44) // 16000
assert {r["disposition"] for r in rows if not r["Recording filename"]} == {"NO ANSWER", "BUSY", "FAILED", "ANSWERED"}
assert len(rows) == 10 + 2 * (5 // 4 + 4)
PY
ok "generate: cdr.jsonl agrees with the recordings, plus unrecorded calls"

# cdrn QUERY: totalcount of 9006 (or "fail: message"); cdrf PYEXPR: rows of d/cdr.jsonl where PYEXPR (r = row)
cdrn() { C -b jar "$B/9006?&$1&$ALL" | py 'j["json_obj_filter"]["totalcount"] if "json_obj_filter" in j else "fail: " + j["message"]'; }
cdrf() { python3 -c "import json,sys; print(sum(1 for r in map(json.loads, open(sys.argv[1])) if ($1)))" "${2:-d}/cdr.jsonl"; }
rm -rf dd && cp -r d dd
start --data dd --cdr-delete-log "$T/cdel"
login
L=$(C -b jar "$B/9006?&startdate=2021-03-28+00:00&enddate=2021-03-29+23:59&src=&dst=&disposition=All&userfield=All&minbillsec=&maxbillsec=&cidname=&in_route=&IVR=&port=-1")
python3 - "$L" <<'PY' || fail "9006: $L"
import json, sys
j = json.loads(sys.argv[1])
rows, want = j["json_array_astcdrs"], [json.loads(l) for l in open("d/cdr.jsonl")]
assert sorted(map(json.dumps, rows)) == sorted(map(json.dumps, want)), "rows differ from the file"
assert [r["calldate"] for r in rows] == sorted([r["calldate"] for r in rows], reverse=True)
assert j["json_obj_filter"] == {"startdate": "2021-03-28 00:00", "enddate": "2021-03-29 23:59", "totalcount": 20}
PY
[ "$(cdrn 'disposition=N%20O%20ANSWER')" = "$(cdrf 'r["disposition"]=="NO ANSWER"')" ] &&
	[ "$(cdrn 'disposition=FAILD')" = 2 ] && [ "$(cdrn 'disposition=ANSWERED/BUSY')" = 14 ] &&
	[ "$(cdrn 'disposition=answered')" = 12 ] || fail "9006 disposition"
[ "$(cdrn 'userfield=Interval')" = "$(cdrf 'r["userfield"]=="Internal"')" ] &&
	[ "$(cdrn 'userfield=Call%20Back')" = "$(cdrf 'r["userfield"]=="CallBack"')" ] &&
	[ "$(cdrn 'userfield=Inbound,Outbound')" = "$(cdrf 'r["userfield"] in ("Inbound","Outbound")')" ] ||
	fail "9006 userfield"
[ "$(cdrn 'src=202,205;569')" = "$(cdrf 'r["src"] in ("202","205","569")')" ] &&
	[ "$(cdrn 'src=20')" = 0 ] && [ "$(cdrn 'dst=820(102)')" = "$(cdrf 'r["dst"]=="820(102)"')" ] ||
	fail "9006 src/dst"
[ "$(cdrn 'minbillsec=5&maxbillsec=12')" = "$(cdrf '5<=int(r["billsec"])<=12')" ] &&
	[ "$(cdrn 'cidname=FROM42-')" = "$(cdrf 'r["cidname"]=="FROM42"')" ] &&
	[ "$(cdrn 'IVR=IVR620')" = "$(cdrf 'r["IVR"]=="IVR620"')" ] &&
	[ "$(cdrn 'in_route=FROM96')" = "$(cdrf 'r["in_route"]=="FROM96"')" ] &&
	[ "$(cdrn 'port=1')" = "$(cdrf 'r["port"]==1')" ] && [ "$(cdrn 'port=0')" = 20 ] ||
	fail "9006 billsec/cidname/IVR/in_route/port"
[ "$(cdrn 'startdate=2021-03-28+15:55&enddate=2021-03-28+23:59')" = \
	"$(cdrf '"2021-03-28 15:55" <= r["calldate"][:16] <= "2021-03-28 23:59"')" ] || fail "9006 minute bounds"
[ "$(cdrn 'minbillsec=x')" = "fail: bad minbillsec" ] && [ "$(cdrn 'port=a')" = "fail: bad port" ] ||
	fail "9006 bad filters"
[ "$(C -b jar "$B/9006?&startdate=&enddate=" | py 'j["json_obj_filter"]["startdate"]')" = "$(date +%Y-%m-%d) 00:00" ] ||
	fail "9006 empty dates must mean today"
C -b jar -d "$ALL" --data-urlencode "userfield=Call Back" "$B/9006" |
	grep -q "\"totalcount\":$(cdrf 'r["userfield"]=="CallBack"')}" || fail "9006 POST form"
C -b session=0123456789abcdef0123456789abcdef "$B/9006?&$ALL" | grep -q '"not logged in"' || fail "9006 without session"
C -D hdr -b jar -o cdr.csv "$B/9005?&$ALL&disposition=ANSWERED"
python3 - <<'PY' || fail "9005: $(head -3 cdr.csv)"
import csv, json
raw = open("cdr.csv", "rb").read()
assert raw.count(b"\r\n") == 13 and raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
rows = list(csv.reader(open("cdr.csv", newline="")))
want = [json.loads(l) for l in open("d/cdr.jsonl")]
assert rows[0] == list(want[0]), rows[0]
got = sorted(rows[1:])
assert got == sorted([[str(v) for v in r.values()] for r in want if r["disposition"] == "ANSWERED"])
PY
grep -q '^Content-Type: text/csv' hdr || fail "9005 content type"
C -b jar "$B/20053?&$ALL" | grep -q '"totalcount":10' || fail "20053 sees cdr.jsonl"
[ "$(C -b jar "$B/20036?wavefiles=cdr.jsonl;./cdr.jsonl;../dd/cdr.jsonl" | tar -tf - | wc -l)" = 0 ] || fail "20036 serves cdr.jsonl"
C -b jar "$B/9004?&$ALL&disposition=BUSY&userfield=All" | grep -qx '{"status":"success","deleted":2}' || fail "9004"
[ "$(cdrn '')" = 18 ] && [ "$(cdrf 'True' dd)" = 18 ] || fail "9004: rows left"
python3 - <<'PY' || fail "9004 log: $(cat cdel)"
import json
l = [json.loads(x) for x in open("cdel")]
want = sorted(json.loads(x)["UniqueID"] for x in open("d/cdr.jsonl") if json.loads(x)["disposition"] == "BUSY")
assert len(l) == 1 and l[0]["deleted"] == 2 and sorted(l[0]["UniqueIDs"]) == want, l
assert l[0]["disposition"] == "BUSY" and l[0]["startdate"] == "2021-03-01 00:00" and l[0]["src"] is None
PY
stop
start --data dd
login
[ "$(cdrn '')" = 18 ] && [ "$(cdrn 'disposition=BUSY')" = 0 ] || fail "9004 did not survive a restart"
stop
start --data dd --cdr-style numbered --cdr-int-values --cdr-recording-name full --max-rows 3
login
L=$(C -b jar "$B/9006?&$ALL&disposition=ANSWERED")
[ "$(py 'sorted(j["json_array_astcdrs"]) == ["0","1","2"] and j["json_obj_filter"]["totalcount"] == 12 and all(type(r["duration"]) is int and type(r["billsec"]) is int for r in j["json_array_astcdrs"].values()) and all(r["Recording filename"] == "" or r["Recording filename"].startswith("/media/usbStorage/monitor/2021") and "." not in r["Recording filename"] for r in j["json_array_astcdrs"].values())' <<<"$L")" = True ] ||
	fail "--cdr-style numbered --cdr-int-values --cdr-recording-name full --max-rows: $L"
stop
start --data dd --cdr-recording-name none --cdr-hide 3 --cdr-csv-noheader
login
[ "$(C -b jar "$B/9006?&$ALL" | py 'len(j["json_array_astcdrs"]), set(r["Recording filename"] for r in j["json_array_astcdrs"])')" = "(15, {''})" ] ||
	fail "--cdr-recording-name none / --cdr-hide 3"
[ "$(C -b jar "$B/9005?&$ALL" | head -1 | cut -c1-4)" = 2021 ] || fail "--cdr-csv-noheader"
C -b jar "$B/9004?&$ALL" | grep -q '"deleted":15' && [ "$(cdrf 'True' dd)" = 3 ] || fail "--cdr-hide: hidden rows must stay"
stop
start --data dd
login
[ "$(cdrn '')" = 3 ] || fail "hidden rows not back after a restart"
stop
rm dd/cdr.jsonl
start --data dd
login
[ "$(cdrn '')" = 0 ] && C -b jar "$B/20053?&$ALL" | grep -q '"totalcount":10' || fail "a disk without cdr.jsonl"
stop
ok "CDR: 9006 filters and spellings, 9005 CSV, 9004 + log + restart, styles, int values, names, hide, max-rows"

# --- listing bounds: --end-bound, --start-bound (20053 and 9006/9005/9004) ------------------------
rm -rf db && cp -r d db
for s in 120000 120030; do cp "d/$P2" "db/20210328/20210328-$s-16169$s-Inbound-42-1-2.wav"; done
# nb START END: rows of 20053 for that window; cb START END: totalcount of 9006;
# cx LO HI LO_STRICT HI_STRICT: the CDR rows of db/cdr.jsonl within (python comparison)
nb() { C -b jar "$B/20053?&startdate=$1&enddate=$2" | py 'len(j["json_array_recordings"]) if "json_array_recordings" in j else j'; }
cb() { C -b jar "$B/9006?&startdate=$1&enddate=$2" | py 'j["json_obj_filter"]["totalcount"]'; }
cx() { python3 -c "import json,sys; lo,hi,ls,hs=sys.argv[1:5]
print(sum(1 for r in map(json.loads, open('db/cdr.jsonl')) if (r['calldate'] > lo if ls == '1' else r['calldate'] >= lo) and (r['calldate'] < hi if hs == '1' else r['calldate'] <= hi)))" "$@"; }
# 20053: calls at 12:00:00 and 12:00:30; CDRs (generated): 13:36:25, 15:55:16 and 2021-03-29 02:26:00
W0="2021-03-28+12:00" W1="2021-03-28+13:36" W1E="2021-03-28+15:55" W2="2021-03-29+02:26"
[ "$(cx '2021-03-28 13:36:00' '2021-03-28 15:55:59' 0 0) $(cx '2021-03-29 02:26:00' '2021-03-29 02:26:00' 0 0)" = "2 1" ] ||
	fail "the CDR fixture changed (generator?)"
start --data db
login
[ "$(nb "$W0" "$W0")" = 2 ] && [ "$(nb "$W0" "$W0:15")" = 1 ] && [ "$(nb "$W0:30" "$W0:30")" = 1 ] &&
	[ "$(cb "$W1" "$W1E")" = 2 ] && [ "$(cb "$W2" "$W2")" = 1 ] &&
	[ "$(cb 2021-03-28+13:36:26 2021-03-28+15:55:16)" = 1 ] ||
	fail "--end-bound through (default): $(nb "$W0" "$W0") $(nb "$W0" "$W0:15")"
stop
start --data db --end-bound minute
login
L=$(C -b jar "$B/20053?&startdate=2021-03-28&enddate=2021-03-28")
[ "$(nb "$W0" "$W0")" = 1 ] && [ "$(nb "$W0" "$W0:30")" = 2 ] &&
	[ "$(py 'len(j["json_array_recordings"]), j["json_obj_filter"]' <<<"$L")" = "(0, {'startdate': '2021-03-28 00:00', 'enddate': '2021-03-28 23:59', 'totalcount': 0})" ] &&
	[ "$(cb "$W1" "$W1E")" = 1 ] && [ "$(cb "$W2" "$W2")" = 1 ] &&
	[ "$(C -b jar "$B/9005?&startdate=2021-03-28&enddate=2021-03-29" | tail -n +2 | wc -l)" = "$(cx '2021-03-28 00:00:00' '2021-03-29 00:00:00' 0 0)" ] ||
	fail "--end-bound minute: $(nb "$W0" "$W0") $(nb "$W0" "$W0:30") $L"
stop
start --data db --end-bound exclusive --cdr-delete-log "$T/bdel"
login
[ "$(nb "$W0" "$W0")" = 0 ] && [ "$(nb "$W0" 2021-03-28+12:01)" = 2 ] && [ "$(nb "$W0" "$W0:30")" = 1 ] &&
	[ "$(nb 2021-03-28 2021-03-29)" = 7 ] &&
	[ "$(cb "$W1" "$W1E")" = 1 ] && [ "$(cb "$W2" "$W2")" = 0 ] && [ "$(cb "$W2" 2021-03-29+02:27)" = 1 ] ||
	fail "--end-bound exclusive: $(nb "$W0" "$W0") $(nb "$W0" 2021-03-28+12:01) $(nb 2021-03-28 2021-03-29)"
n9004=$(cx '2021-03-28 00:00:00' '2021-03-29 00:00:00' 0 1)
C -b jar "$B/9004?&startdate=2021-03-28&enddate=2021-03-29" | grep -qx "{\"status\":\"success\",\"deleted\":$n9004}" &&
	[ "$(py 'j["startdate"] + "|" + j["enddate"]' <bdel)" = "2021-03-28 00:00|2021-03-29 23:59" ] ||
	fail "--end-bound exclusive on 9004: $(cat bdel)"
stop
cp d/cdr.jsonl db/cdr.jsonl
start --data db --start-bound exclusive
login
[ "$(nb "$W0" "$W0")" = 1 ] && [ "$(nb "$W0:30" 2021-03-28+12:01)" = 0 ] && [ "$(nb 2021-03-28+11:59:59 "$W0")" = 2 ] &&
	[ "$(cb "$W1" "$W1E")" = 2 ] && [ "$(cb "$W2" "$W2")" = 0 ] && [ "$(cb 2021-03-29+02:25:59 "$W2")" = 1 ] ||
	fail "--start-bound exclusive: $(nb "$W0" "$W0") $(nb "$W0:30" 2021-03-28+12:01)"
stop
ok "bounds: end through/minute/exclusive, start inclusive/exclusive, :SS kept, date-only ends, echo as sent, 9006/9005/9004 alike"
# --list-call-start: the 12:00:30 call queued from 11:57:10 (its CDR); the 12:00:00 one has none
python3 - <<'PY'
import json
row = json.loads(open("db/cdr.jsonl").readline())
row.update({"calldate": "2021-03-28 11:57:10", "UniqueID": "1616929030.999",
            "Recording filename": "20210328/20210328-120030-16169120030-Inbound-42-1-2.wav"})
open("db/cdr.jsonl", "a").write(json.dumps(row) + "\n")
PY
start --data db --list-call-start
login
Q=$(C -b jar "$B/20053?&startdate=2021-03-28+11:57&enddate=2021-03-28+11:57")
[ "$(py '[r["calldate"] for r in j["json_array_recordings"]]' <<<"$Q")" = "['2021-03-28 12:00:30']" ] &&
	[ "$(nb "$W0" "$W0")" = 1 ] && [ "$(nb 2021-03-27+23:00 2021-03-27+23:59)" = 0 ] ||
	fail "--list-call-start: $Q $(nb "$W0" "$W0")"
stop
cp d/cdr.jsonl db/cdr.jsonl
ok "--list-call-start: 20053 filters on the call's start (its CDR), rows show the recording's time"

# --- AMI and added calls ----------------------------------------------------------------------
# amic.py PORT SECRET PID N TIMEOUT [ACTIONS]: log in, send SIGUSR1 to PID N times (each once the
# previous call's Cdr arrived), read until N Cdr events or TIMEOUT s; prints the messages as JSON
cat >amic.py <<'PY'
import json, os, signal, socket, sys, time
port, secret, pid, n, timeout = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
extra = sys.argv[6].encode().replace(b"|", b"\r\n") if len(sys.argv) > 6 else b""
buf, msgs, end = b"", [], time.time() + timeout
def pump():
    global buf
    s.settimeout(max(0.01, min(0.2, end - time.time())))
    try:
        b = s.recv(65536)
    except socket.timeout:
        return True
    except OSError:
        b = b""
    if not b:
        msgs.append({"EOF": True})
        return False
    buf += b
    while b"\r\n\r\n" in buf:
        m, buf = buf.split(b"\r\n\r\n", 1)
        lines = m.decode().split("\r\n")
        if lines[0].startswith("Asterisk Call Manager"):
            msgs.append({"Banner": lines.pop(0)})
        if lines:
            msgs.append(dict(l.split(": ", 1) if ": " in l else (l.rstrip(":"), "") for l in lines))
    return True
s = socket.create_connection(("127.0.0.1", port))
try:
    s.sendall(b"Action: Login\r\nUsername: admin\r\nSecret: " + secret.encode() + b"\r\nActionID: a1\r\n\r\n" + extra)
except OSError:
    pass
cdrs = lambda: sum(1 for m in msgs if m.get("Event") == "Cdr")
sent, done = 0, None
while time.time() < end and pump():
    if sent < n and cdrs() == sent and any(m.get("Response") == "Success" for m in msgs):
        os.kill(pid, signal.SIGUSR1)
        sent += 1
    if n and cdrs() == n:
        done = done or time.time()
        if time.time() - done > 0.3:
            break
print(json.dumps(msgs))
PY
rm -rf dd && cp -r d dd
start --data dd --ami-listen 127.0.0.1:0 --ami-port-file "$T/aport" --ami-secret s3cret
AP=$(cat aport)
login
t0=$(date +%s.%N)
M=$(python3 amic.py "$AP" s3cret "$PID" 4 10 'Action: Ping|ActionID: p||Action: Bogus||')
python3 - "$M" "$(date +%Y%m%d)" <<'PY' || fail "AMI session: $M"
import json, os, sys
m, day = json.loads(sys.argv[1]), sys.argv[2]
assert m[0] == {"Banner": "Asterisk Call Manager/1.1"}, m[0]
assert m[1] == {"Response": "Success", "ActionID": "a1", "Message": "Authentication accepted"}, m[1]
r = [x for x in m if "Response" in x]
assert {"Response": "Success", "ActionID": "p", "Ping": "Pong"}.items() <= r[1].items(), r
assert r[2] == {"Response": "Error", "Message": "Invalid/unknown command"}, r
cdr = [x for x in m if x.get("Event") == "Cdr"]
mon = [x for x in m if x.get("Event") == "AutoMixMonitorEnd"]
assert len(cdr) == 4 and len(mon) == 3, (len(cdr), len(mon))
assert [c["Recording File Name"] for c in cdr[:3]] == [x["File Name"] for x in mon]
assert cdr[3]["Recording File Name"] == "" and cdr[3]["Disposition"] == "NO ANSWER"
keys = ["Privilege", "AccountCode", "Source", "Destination", "DestinationContext", "CallerID", "Channel",
        "DestinationChannel", "LastApplication", "LastData", "StartTime", "AnswerTime", "EndTime", "Duration",
        "BillableSeconds", "Disposition", "AMAFlags", "UniqueID", "UserField", "Recording File Name"]
assert all(list(c)[1:] == keys for c in cdr), list(cdr[0])
rows = {json.loads(l)["UniqueID"]: json.loads(l) for l in open("dd/cdr.jsonl")}
for c, x in zip(cdr, mon):
    f = x["File Name"]
    assert f.startswith("/media/usbStorage/monitor/" + day + "/" + day + "-") and not f.endswith(".wav")
    rel = f[len("/media/usbStorage/monitor/"):] + ".wav"
    assert os.path.isfile("dd/" + rel), rel
    row = rows[c["UniqueID"]]
    assert row["Recording filename"] == rel and row["src"] == c["Source"] == x["Source Number"]
    assert row["dst"] == c["Destination"] == x["Destination Number"] and row["calldate"] == c["StartTime"]
    assert (row["duration"], row["billsec"]) == (c["Duration"], c["BillableSeconds"])
assert rows[cdr[3]["UniqueID"]]["Recording filename"] == ""
assert any(x.get("Event") == "Newchannel" for x in m) and any(x.get("Event") == "Hangup" for x in m)
PY
t1=$(date +%s.%N)
awk "BEGIN{exit !($t1 - $t0 < 5)}" || fail "4 calls took $(awk "BEGIN{print $t1 - $t0}") s"
L=$(C -b jar "$B/20053?&startdate=&enddate=")
[ "$(py 'j["json_obj_filter"]["totalcount"]' <<<"$L")" = 3 ] || fail "20053 does not list the added calls: $L"
p=$(py 'j["json_array_recordings"][0]["path"]' <<<"$L")
C -b jar "$B/20036?wavefiles=$(enc "$p")" | tar -xOf - | cmp -s - "dd/$p" || fail "20036 of an added call"
[ "$(C -b jar "$B/9006?&startdate=&enddate=" | py 'j["json_obj_filter"]["totalcount"]')" = 4 ] || fail "9006 today"
[ "$(python3 amic.py "$AP" wrong "$PID" 0 2)" = '[{"Banner": "Asterisk Call Manager/1.1"}, {"Response": "Error", "ActionID": "a1", "Message": "Authentication failed"}, {"EOF": true}]' ] ||
	fail "AMI bad login"
printf 'Action: Login\nUsername: admin\nSecret: s3cret\n\nAction: Logoff\n\n' >lf.in
python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(open("lf.in", "rb").read())
out = b""
while True:
    b = s.recv(4096)
    if not b: break
    out += b
assert b"Response: Success\r\n" in out and out.endswith(b"Response: Goodbye\r\nMessage: Thanks for all the fish.\r\n\r\n"), out
' "$AP" || fail "AMI bare-LF login + Logoff"
# an outage: every connection closed, new ones refused, a call meanwhile reaches nobody
exec 7<>"/dev/tcp/127.0.0.1/$AP"
printf 'Action: Login\r\nUsername: admin\r\nSecret: s3cret\r\n\r\n' >&7
for _ in $(seq 1 10); do
	IFS= read -r -t 2 line <&7 || fail "outage: no login answer"
	[[ $line == "Message: Authentication accepted"* ]] && break
done
kill -USR2 "$PID"
timeout 3 cat <&7 >/dev/null || fail "SIGUSR2 did not close an AMI connection"
exec 7<&-
n0=$(cdrf 'True' dd)
kill -USR1 "$PID"
[ "$(python3 amic.py "$AP" s3cret "$PID" 0 1)" = '[{"EOF": true}]' ] || fail "outage: connection not refused"
wait_n() { for _ in $(seq 1 100); do [ "$(cdrf 'True' dd)" = "$1" ] && return 0; sleep 0.05; done; return 1; }
wait_n $((n0 + 1)) || fail "a call in an outage was not written"
for _ in $(seq 1 50); do
	python3 amic.py "$AP" s3cret "$PID" 0 0.2 | grep -q Banner && break
	sleep 0.1
done
M=$(python3 amic.py "$AP" s3cret "$PID" 1 5)
[ "$(py 'sum(1 for x in j if x.get("Event") == "Cdr")' <<<"$M")" = 1 ] || fail "AMI after the outage: $M"
stop
ok "AMI: banner, login, ActionID, Ping, unknown, Logoff, bad login; SIGUSR1 calls on disk, in 20053/20036/9006, as events; SIGUSR2 outage"

# restart on the same ports (SO_REUSEADDR on both listeners), --ami-drop-after, --simulate-calls
start --data dd --ami-listen 127.0.0.1:0 --ami-port-file "$T/aport" --ami-drop-after 5 --simulate-calls 120
HP=$PORT AP=$(cat aport)
login
M=$(python3 amic.py "$AP" password "$PID" 0 2.5)
[ "$(py '[x.get("Event") for x in j][-2:]' <<<"$M")" = "['Cdr', None]" ] &&
	[ "$(py 'sum(1 for x in j if x.get("Event") == "Cdr")' <<<"$M")" = 1 ] || fail "--ami-drop-after 5 / --simulate-calls: $M"
stop
"$FP" --data dd --listen "127.0.0.1:$HP" --ami-listen "127.0.0.1:$AP" 2>>"$T/server.log" &
PID=$!
for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$HP/login.html" >/dev/null && break; sleep 0.05; done
[ "$(python3 amic.py "$AP" password "$PID" 1 5 | py 'sum(1 for x in j if x.get("Event") == "Cdr")')" = 1 ] ||
	fail "restart on the same ports"
stop
ok "AMI: --simulate-calls, --ami-drop-after, restart on the same HTTP and AMI ports"

# --- clocks: --clock-file, --clock-offset, --zone-offset (the fake in UTC) ------------------------
# hdr_date FILE: the Date header of a curl -D dump
hdr_date() { sed -n 's/^Date: \(.*\)\r$/\1/p' "$1"; }
today_of() { C -b jar "$B/$1?&startdate=&enddate=" | py 'j["json_obj_filter"]["startdate"]'; }
rm -rf dc && cp -r d dc
echo 1700000000.75 >clk
TZ=UTC start --data dc --clock-file "$T/clk" --ami-listen 127.0.0.1:0 --ami-port-file "$T/aport"
AP=$(cat aport)
login
C -D hc -b jar -o /dev/null "$B/20053?&$ALL"
[ "$(hdr_date hc)" = "Tue, 14 Nov 2023 22:13:20 GMT" ] && [ "$(today_of 20053)" = "2023-11-14 00:00" ] ||
	fail "--clock-file: Date $(hdr_date hc), today $(today_of 20053)"
echo 1700100000 >clk.new && mv clk.new clk
[ "$(today_of 20053)" = "2023-11-16 00:00" ] && [ "$(today_of 9006)" = "2023-11-16 00:00" ] ||
	fail "--clock-file not re-read: $(today_of 20053)"
M=$(python3 amic.py "$AP" password "$PID" 1 5 'Action: Ping|ActionID: p||')
f=$(ls dc/20231116/20231116-020000-1700100000-Inbound-*.wav) || fail "--clock-file: added call's name"
python3 - "$M" "${f#dc/}" <<'PY' || fail "--clock-file: AMI and CDR of an added call: $M"
import json, sys
m, rel = json.loads(sys.argv[1]), sys.argv[2]
ping = [x for x in m if x.get("Ping") == "Pong"][0]
cdr = [x for x in m if x.get("Event") == "Cdr"][0]
row = [json.loads(l) for l in open("dc/cdr.jsonl")][-1]
assert ping["Timestamp"] == "1700100000.000000", ping
assert row["Recording filename"] == rel and cdr["StartTime"] == row["calldate"], (row, cdr)
ring = 1700100000 - int(row["UniqueID"].split(".")[0])
assert 1 <= ring <= 5 and row["calldate"] == "2023-11-16 01:59:%02d" % (60 - ring), row
PY
C -D hc -b jar -o ck.tar "$B/20036?wavefiles=$(enc "$P2;${f#dc/}")"
grep -q '^Content-Disposition: attachment; filename="AutoMonitor-2023Nov16.020000.tar"' hc &&
	[ "$(python3 -c 'import tarfile; print([m.mtime for m in tarfile.open("ck.tar")][1])')" = 1700100000 ] ||
	fail "--clock-file: tar name $(grep Disposition hc), or the added call's mtime"
rm clk
[ "$(today_of 20053)" = "$(TZ=UTC date +%Y-%m-%d) 00:00" ] &&
	grep -q "fakepbx: --clock-file $T/clk: No such file or directory; using the real clock" server.log ||
	fail "--clock-file missing: not the real clock, or no message"
stop
ok "--clock-file: Date, today, added call (name, CDR, AMI), tar name follow the file; re-read; missing = real clock"

# both offsets cross midnight from 2023-11-14 22:13:20 UTC
echo 1700000000 >clk
for mode in clock zone; do
	rm -rf dc && cp -r d dc
	TZ=UTC start --data dc --clock-file "$T/clk" --$mode-offset 7200 --ami-listen 127.0.0.1:0 \
		--ami-port-file "$T/aport"
	AP=$(cat aport)
	login
	M=$(python3 amic.py "$AP" password "$PID" 1 5 'Action: Ping|ActionID: p||')
	C -D hc -b jar -o /dev/null "$B/20036?wavefiles=$(enc "$P2")"
	unix=$([ $mode = clock ] && echo 1700007200 || echo 1700000000)
	date=$([ $mode = clock ] && echo "Wed, 15 Nov 2023 00:13:20 GMT" || echo "Tue, 14 Nov 2023 22:13:20 GMT")
	f=$(ls dc/20231115/20231115-001320-$unix-Inbound-*.wav) || fail "--$mode-offset: added call's name"
	[ "$(hdr_date hc)" = "$date" ] && [ "$(today_of 20053)" = "2023-11-15 00:00" ] &&
		[ "$(today_of 9006)" = "2023-11-15 00:00" ] &&
		grep -q 'filename="AutoMonitor-2023Nov15.001320.tar"' hc ||
		fail "--$mode-offset: Date $(hdr_date hc), today $(today_of 20053), $(grep Disposition hc)"
	python3 - "$M" "${f#dc/}" "$unix" <<'PY' || fail "--$mode-offset: AMI and CDR: $M"
import json, sys
m, rel, unix = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ping = [x for x in m if x.get("Ping") == "Pong"][0]
cdr = [x for x in m if x.get("Event") == "Cdr"][0]
row = [json.loads(l) for l in open("dc/cdr.jsonl")][-1]
assert ping["Timestamp"] == "%d.000000" % unix, ping
ring = unix - int(row["UniqueID"].split(".")[0])
assert 1 <= ring <= 5 and row["calldate"] == "2023-11-15 00:13:%02d" % (20 - ring), row
assert row["Recording filename"] == rel and cdr["StartTime"] == row["calldate"], (row, cdr)
assert cdr["EndTime"] == "2023-11-15 00:13:%02d" % (20 + int(row["billsec"])), cdr
PY
	stop
done
ok "--clock-offset shifts Date and every local time and unix time; --zone-offset every local time only"

# --queue-file: a call answered at 22:13:20 that waited 600 s in a queue starts at 22:03:1x (its
# CDR, AMI StartTime); --list-call-start lists it by 22:03, not by 22:13. The file is taken by
# that one call: the next rings 1..5 s; a bad file is removed and the call does not queue.
rm -rf dq && cp -r d dq
echo 1700000000 >clk
TZ=UTC start --data dq --clock-file "$T/clk" --queue-file "$T/qf" --list-call-start \
	--ami-listen 127.0.0.1:0 --ami-port-file "$T/aport"
AP=$(cat aport)
login
echo ' 600' >qf.tmp && mv qf.tmp qf
M=$(python3 amic.py "$AP" password "$PID" 1 5)
[ ! -e qf ] || fail "--queue-file: the file was not taken"
echo 17x >qf
M2=$(python3 amic.py "$AP" password "$PID" 1 5)
[ ! -e qf ] && grep -q "fakepbx: --queue-file $T/qf: not a number of seconds in 0..86400" server.log ||
	fail "--queue-file: a bad file was kept, or no message"
python3 - "$M" "$M2" <<'PY' || fail "--queue-file: CDR and AMI of a queued call: $M"
import json, sys
m, m2 = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rows = [json.loads(l) for l in open("dq/cdr.jsonl")][-2:]
cdr = [x for x in m if x.get("Event") == "Cdr"][0]
row, plain = rows
name = row["Recording filename"]
assert name.startswith("20231114/20231114-221320-1700000000-"), row
wait_ring = 1700000000 - int(row["UniqueID"].split(".")[0])
assert 601 <= wait_ring <= 605 and row["calldate"] == "2023-11-14 22:03:%02d" % (20 - wait_ring + 600), row
assert int(row["duration"]) == wait_ring + int(row["billsec"]), row
assert cdr["StartTime"] == row["calldate"] and cdr["AnswerTime"] == "2023-11-14 22:13:20", cdr
ring = 1700000000 - int(plain["UniqueID"].split(".")[0])
assert 1 <= ring <= 5 and plain["Recording filename"].startswith("20231114/20231114-221320-"), plain
PY
grep -q '^fakepbx: call queued 600 s: started 2023-11-14 22:03:1[5-9]$' server.log ||
	fail "--queue-file: no 'call queued' line"
q=$(python3 -c 'import json; print([json.loads(l) for l in open("dq/cdr.jsonl")][-2]["Recording filename"])')
[ "$(C -b jar "$B/20053?&startdate=2023-11-14+22:03&enddate=2023-11-14+22:03" |
	py '[r["path"] for r in j["json_array_recordings"]]')" = "['$q']" ] &&
	[ "$(C -b jar "$B/20053?&startdate=2023-11-14+22:13&enddate=2023-11-14+22:13" |
		py "'$q' in [r['path'] for r in j['json_array_recordings']]")" = False ] ||
	fail "--queue-file with --list-call-start: not listed by its start minute only"
stop
ok "--queue-file: a queued call's CDR starts the wait earlier, its recording keeps the answer's time; one call per file"

# --- heavy ------------------------------------------------------------------------------------
if [ "${FAKEPBX_BIG:-0}" = 1 ]; then
	"$FP" --generate g --days 1 --per-day 40 --min-seconds 1600 --max-seconds 1700 --start 2021-04-01 >/dev/null
	start --data g
	login
	Q=$(C -b jar "$B/20053?&startdate=2021-04-01+00:00" | python3 -c 'import json,sys,urllib.parse
print(";".join(urllib.parse.quote(r["path"],safe="/") for r in json.load(sys.stdin)["json_array_recordings"]))')
	hwm0=$(awk '/VmHWM/{print $2}' /proc/$PID/status)
	t0=$(date +%s.%N)
	C -b jar "$B/20036?wavefiles=$Q" | tar -xf - -C "$T" || fail "1 GiB tar"
	t1=$(date +%s.%N)
	hwm1=$(awk '/VmHWM/{print $2}' /proc/$PID/status)
	(cd g && sha256sum */*.wav) >a.sum && sha256sum -c --quiet a.sum || fail "1 GiB content"
	[ $((hwm1 - hwm0)) -lt 20000 ] || fail "RSS grew by $((hwm1 - hwm0)) kB"
	stop
	ok "1 GiB tar in $(awk "BEGIN{print $t1 - $t0}")s, VmHWM $hwm0 -> $hwm1 kB, all 40 files identical"
	rm -rf g 2021*

	# 100,000 names, hard-linked to 20 real files to spare the disk
	python3 - <<'PY'
import os, datetime, shutil
types = ["Inbound", "Outbound", "Internal", "CallBack", "Conference"]
src = [f for f in sorted(os.listdir("d/20210328"))][0]
os.mkdir("big")
for day in range(20):
    dt = datetime.datetime(2021, 1, 1) + datetime.timedelta(days=day)
    ymd = dt.strftime("%Y%m%d")
    os.mkdir(f"big/{ymd}")
    shutil.copy(f"d/20210328/{src}", f"big/.src{day}")
    for i in range(5000):
        t = dt + datetime.timedelta(seconds=i * 17)
        ty = types[i % 5]
        mid = "202-204" if ty == "Internal" else "44-202-620(204)"
        os.link(f"big/.src{day}", f"big/{ymd}/{t:%Y%m%d-%H%M%S}-{int(t.timestamp())}-{ty}-{mid}.wav")
PY
	start --data big
	login
	C -b jar -o /dev/null "$B/20053?&startdate=2020-01-01+00:00"
	secs=$(C -b jar -o rows.json -w '%{time_total}' "$B/20053?&startdate=2020-01-01+00:00")
	[ "$(py 'len(j["json_array_recordings"]), j["json_obj_filter"]["totalcount"]' <rows.json)" = "(100000, 100000)" ] ||
		fail "100k listing"
	stop
	ok "100,000-row listing in ${secs}s (second request; the first also fills the duration cache)"
	rm -rf big

	# json-huge=300: over the client's 256 MiB cap, streamed in constant memory
	start --data d --fault json-huge=300 --fault drip=1@20054
	login
	hwm0=$(awk '/VmHWM/{print $2}' /proc/$PID/status)
	nh=$(C -b jar -o /dev/null -w '%{size_download}' "$B/20053?&$ALL")
	hwm1=$(awk '/VmHWM/{print $2}' /proc/$PID/status)
	[ "$nh" -gt $((300 << 20)) ] && [ $((hwm1 - hwm0)) -lt 20000 ] ||
		fail "json-huge=300: $nh bytes, VmHWM $hwm0 -> $hwm1 kB"
	# drip=1: one byte a second, until curl's low-speed limit gives up
	rc=0
	n=$(C -b jar -o /dev/null -Y 2 -y 3 -w '%{size_download}' "$B/20054?wavefiles=nope" 2>/dev/null) ||
		rc=$?
	[ "$rc" = 28 ] && [ "$n" -ge 2 ] && [ "$n" -le 6 ] || fail "drip=1: curl rc $rc after $n bytes"
	stop
	ok "json-huge=300: $nh bytes streamed, VmHWM $hwm0 -> $hwm1 kB; drip=1: curl gave up after $n bytes"
fi

echo "$n_ok passed"
