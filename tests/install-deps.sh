#!/bin/sh
# Installs the Debian 12 packages a set needs, when missing. Works as root; uses sudo otherwise.
#   sh tests/install-deps.sh         build and run the program, and `make demo` (make deps)
#   sh tests/install-deps.sh dev     that, and what the tests, fuzzing, benchmarks and the
#                                    package need (make deps-dev, used by make check and bench)
set -eu

# To build and run: the compiler, the libraries, and what `make demo` runs (the fake PBX is
# built with libmicrohttpd; the demo shows the archive with jq, age and minisign).
PACKAGES="gcc make pkg-config libc6-dev tzdata
libcurl4-openssl-dev libarchive-dev libjson-c-dev libsodium-dev libinih-dev libssl-dev
libmicrohttpd-dev jq age minisign"
# Only for tests, fuzzing, benchmarks and the .deb: never put on a box that only runs it
# (radosgw ... ceph-common: the offsite tests' S3 server, tests/e2e/rgw.sh).
DEV_PACKAGES="libcmocka-dev zlib1g-dev openssl sox libarchive-tools time python3 hyperfine valgrind
clang llvm libclang-rt-14-dev mandoc systemd dpkg-dev debhelper fakeroot lintian
python3-jsonschema prometheus chromium
curl radosgw ceph-mon ceph-osd ceph-common"

case "${1:-}" in
"") ;;
dev) PACKAGES="$PACKAGES $DEV_PACKAGES" ;;
*)
	echo "usage: install-deps.sh [dev]" >&2
	exit 2
	;;
esac

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "make deps: installing$missing"
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "make deps: missing packages:$missing; run as root or install sudo" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
