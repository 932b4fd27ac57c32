#!/bin/sh
# Installs the Debian 12 packages that the build, the tests and the demo need, when missing.
# Works as root; uses sudo otherwise. Called by `make deps` (and so by `make check`/`make demo`).
set -eu

PACKAGES="gcc make pkg-config libc6-dev tzdata
libcurl4-openssl-dev libarchive-dev libjson-c-dev libsodium-dev libinih-dev libssl-dev
libmicrohttpd-dev libcmocka-dev zlib1g-dev
curl openssl sox libarchive-tools time python3 jq age minisign hyperfine valgrind clang llvm libclang-rt-14-dev"

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
