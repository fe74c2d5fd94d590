#!/bin/sh
# Installs every Debian package runsc-c needs to build and test, then
# builds it. Idempotent; run as root on Debian 12.
#   tools/setup.sh            install and build (build/)
#   tools/setup.sh --deps     install only
set -eu
cd "$(dirname "$0")/.."

PACKAGES="build-essential clang meson ninja-build pkg-config python3
linux-libc-dev libseccomp-dev libunwind-dev liburing-dev libcriterion-dev
libjson-c-dev busybox-static procps time gdb"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: missing packages:$missing (run as root to install them)" >&2
		exit 1
	fi
	echo "setup: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q $missing >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null && apt-get install -y -q $missing; }
fi
[ "${1:-}" = "--deps" ] && exit 0

[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
echo "setup: built build/runsc/runsc-c"
