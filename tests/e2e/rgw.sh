# tests/e2e/rgw.sh — a real S3 server for the offsite tests: a throwaway single-node Ceph
# cluster (one monitor, one memstore OSD, radosgw with the beast frontend; no mgr, no systemd,
# no keys) under $T/rgw, on free ports of 127.0.0.1. Sourced after lib.sh:
#
#   rgw_start                 the cluster and the gateway; sets RGW_URL, RGW_KEY, RGW_SECRET
#   rgw_bucket NAME [nolock]  a bucket, with Object Lock enabled unless "nolock"
#   s3 METHOD PATH [curl args...]   one signed request (curl --aws-sigv4); prints the body
#   rgw_gateway_stop / rgw_gateway_start    the gateway down and up again (the cluster stays)
#   s3proxy_start             a fault-injecting pass-through in front of it (s3proxy.py): sets
#                             PROXY_URL; faults are written to $S3_FAULT, requests logged in
#                             $S3_LOG
#
# What it takes, as found (issue 17): auth none everywhere, but a client's monitor connection
# mode defaults to "secure", which needs keys: `ms mon client mode = crc` for the clients;
# `paxos propose interval = 0.01` (the default 1 s makes start-up ~12 s); the gateway starts
# only after the OSD log says `booting -> active`. Every request carries x-amz-content-sha256
# (else 403 SignatureDoesNotMatch) and a length (chunked uploads get 411). The suite skips
# these tests, saying why, only where the Ceph packages are not installed (make deps).
# RGW_MEMSTORE_BYTES sizes the OSD (default 512 MiB; it lives in memory).

RGW_DIR="$T/rgw"
RGW_PIDS=()
RGW_GW_PID=""
PROXY_PID=""
S3_FAULT="$T/s3.fault"
S3_LOG="$T/s3.log"
RGW_KEY=NEXOTESTACCESSKEY
RGW_SECRET=nexo-test-secret-not-a-real-one
RGW_REGION=us-east-1
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

rgw_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

rgw_stop() {
	rgw_gateway_stop
	local p
	for p in "${RGW_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${RGW_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	RGW_PIDS=()
}

# lib.sh's EXIT trap calls cleanup(): the cluster goes with the fake PBX.
cleanup() {
	stop_pbx
	if [ -n "$PROXY_PID" ]; then
		kill "$PROXY_PID" 2>/dev/null || true
		wait "$PROXY_PID" 2>/dev/null || true
	fi
	rgw_stop
}

s3proxy_start() {
	: >"$S3_FAULT"
	rm -f "$T/proxy.port"
	python3 "$TOP/tests/e2e/s3proxy.py" "$RGW_PORT" "$T/proxy.port" "$S3_FAULT" "$S3_LOG" \
		2>>"$T/proxy.err" &
	PROXY_PID=$!
	local i
	for i in $(seq 1 100); do
		[ -s "$T/proxy.port" ] && break
		sleep 0.05
	done
	[ -s "$T/proxy.port" ] || fail "s3proxy did not start: $(cat "$T/proxy.err")"
	PROXY_URL="http://127.0.0.1:$(cat "$T/proxy.port")"
}

# rgw_wait_log FILE PATTERN SECONDS
rgw_wait_log() {
	local i
	for i in $(seq 1 $(($3 * 20))); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

rgw_start() {
	local b
	for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph; do
		command -v "$b" >/dev/null ||
			skip "no $b: the Ceph packages (radosgw ceph-mon ceph-osd ceph-common) are not installed; make deps installs them"
	done
	local mon_port fsid
	mon_port=$(rgw_free_port)
	RGW_PORT=$(rgw_free_port)
	fsid=$(cat /proc/sys/kernel/random/uuid)
	rm -rf "$RGW_DIR"
	mkdir -p "$RGW_DIR"/{mon,osd/osd.0,run,log,rgw}
	cat >"$RGW_DIR/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
keyring = /dev/null
ms bind ipv6 = false
osd objectstore = memstore
memstore device bytes = ${RGW_MEMSTORE_BYTES:-536870912}
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
paxos propose interval = 0.01
run dir = $RGW_DIR/run
admin socket = $RGW_DIR/run/\$name.asok
log file = $RGW_DIR/log/\$name.log
mon data = $RGW_DIR/mon/\$name
osd data = $RGW_DIR/osd/\$name
[client]
ms mon client mode = crc
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $RGW_DIR/rgw
rgw gc obj min wait = 0
EOF
	local c="$RGW_DIR/ceph.conf"
	monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$RGW_DIR/monmap" \
		>/dev/null
	ceph-mon -c "$c" --mkfs -i a --monmap "$RGW_DIR/monmap" >>"$RGW_DIR/log/setup.log" 2>&1 ||
		fail "ceph-mon --mkfs: $(tail -n 5 "$RGW_DIR/log/setup.log")"
	ceph-mon -c "$c" -i a -f >>"$RGW_DIR/log/setup.log" 2>&1 &
	RGW_PIDS+=($!)
	[ "$(timeout 30 ceph -c "$c" osd create 2>>"$RGW_DIR/log/setup.log")" = 0 ] ||
		fail "ceph osd create: $(tail -n 5 "$RGW_DIR/log/setup.log")"
	ceph-osd -c "$c" -i 0 --mkfs >>"$RGW_DIR/log/setup.log" 2>&1 ||
		fail "ceph-osd --mkfs: $(tail -n 5 "$RGW_DIR/log/setup.log")"
	ceph-osd -c "$c" -i 0 -f >>"$RGW_DIR/log/setup.log" 2>&1 &
	RGW_PIDS+=($!)
	rgw_wait_log "$RGW_DIR/log/osd.0.log" 'booting -> active' 30 ||
		fail "the OSD did not become active: $(tail -n 5 "$RGW_DIR/log/osd.0.log")"
	rgw_gateway_start
	timeout 30 radosgw-admin -c "$c" user create --uid=nexo --display-name=nexo \
		--access-key="$RGW_KEY" --secret="$RGW_SECRET" >/dev/null 2>>"$RGW_DIR/log/setup.log" ||
		fail "radosgw-admin user create: $(tail -n 5 "$RGW_DIR/log/setup.log")"
}

rgw_gateway_start() {
	radosgw -c "$RGW_DIR/ceph.conf" -n client.rgw -f >>"$RGW_DIR/log/setup.log" 2>&1 &
	RGW_GW_PID=$!
	RGW_URL="http://127.0.0.1:$RGW_PORT"
	local i
	for i in $(seq 1 600); do
		curl -s -o /dev/null "$RGW_URL/" && return 0
		kill -0 "$RGW_GW_PID" 2>/dev/null || fail "radosgw exited: $(tail -n 5 "$RGW_DIR/log/client.rgw.log")"
		sleep 0.05
	done
	fail "radosgw did not answer on $RGW_URL"
}

rgw_gateway_stop() {
	if [ -n "$RGW_GW_PID" ]; then
		kill "$RGW_GW_PID" 2>/dev/null || true
		wait "$RGW_GW_PID" 2>/dev/null || true
		RGW_GW_PID=""
	fi
}

# s3 METHOD PATH [curl args...]: PATH is "/bucket[/key][?query]", already percent-encoded.
# A request that names no x-amz-content-sha256 gets the empty body's. Prints the body; returns 0 for a 2xx, else 1 (the status is in $T/s3.status).
s3() {
	local method=$1 path=$2 code sha=(-H "x-amz-content-sha256: $EMPTY_SHA256")
	shift 2
	case "$*" in *x-amz-content-sha256*) sha=() ;; esac
	code=$(curl -s -o "$T/s3.body" -w '%{http_code}' -X "$method" \
		--aws-sigv4 "aws:amz:$RGW_REGION:s3" -u "$RGW_KEY:$RGW_SECRET" \
		"${sha[@]}" "$@" "$RGW_URL$path")
	echo "$code" >"$T/s3.status"
	cat "$T/s3.body"
	[ "${code:0:1}" = 2 ]
}

# rgw_bucket NAME [nolock]
rgw_bucket() {
	local lock=(-H "x-amz-bucket-object-lock-enabled: true")
	[ "${2:-}" != nolock ] || lock=()
	s3 PUT "/$1" "${lock[@]}" >/dev/null || fail "bucket $1: HTTP $(cat "$T/s3.status")"
}
