#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Install espgw on this machine the way a distribution lays it out: installs
# the Debian packages that are missing, configures build-install/ with
# --prefix=/usr --buildtype=release and runs meson install. Programs go to
# /usr/sbin (espgw) and /usr/bin (espgwctl), the systemd units to systemd's
# unit directory, the manual pages to /usr/share/man, the example configs and
# an example /etc/default/espgw to /usr/share/doc/espgw/examples. Nothing in
# /etc is written: copying the examples there is the operator's step (README,
# Operations).
#
# --destdir DIR stages the install under DIR instead (packaging, tests); it
# needs root only when packages are missing. --pgo builds with profile-guided
# optimisation for this machine's CPU (scripts/pgo.sh, in build-install-pgo/).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD=${ESPGW_INSTALL_BUILD_DIR:-build-install}
DESTDIR=
PGO=

usage() {
	cat <<USAGE
usage: $0 [--destdir DIR] [--pgo]

Installs missing Debian packages, builds espgw in $BUILD/ (--prefix=/usr,
release) and installs it; with --destdir DIR, under DIR instead of /.
--pgo: built with profile-guided optimisation for this machine's CPU in
$BUILD-pgo/ instead (scripts/pgo.sh: about three minutes of training).
Run as root (a fresh Debian 12 has no sudo; an ordinary user: sudo $0).
USAGE
}

while [ $# -gt 0 ]; do
	case $1 in
	--destdir)
		[ $# -ge 2 ] || die "--destdir needs a DIR"
		DESTDIR=$2
		shift 2
		;;
	--destdir=*)
		DESTDIR=${1#--destdir=}
		shift
		;;
	--pgo)
		PGO=1
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		die "unknown argument: $1"
		;;
	esac
done

cd "$ESPGW_ROOT"
step "Checking packages"
ensure_packages "${ESPGW_PACKAGES[@]}"
# The test suites are not installed: a release build without them is faster.
# Link-time optimisation inlines the small functions each packet calls across
# espgw's libraries (README, What changed the numbers).
if [ -n "$PGO" ]; then
	BUILD=$BUILD-pgo
	step "Building espgw in $BUILD/ (prefix /usr, release, LTO, profile-guided)"
	"$ESPGW_ROOT/scripts/pgo.sh" --build-dir "$BUILD" --prefix=/usr
else
	step "Building espgw in $BUILD/ (prefix /usr, release, LTO)"
	ensure_build "$BUILD" --prefix=/usr --buildtype=release -Db_lto=true -Dtests=false
fi
if [ -n "$DESTDIR" ]; then
	mkdir -p "$DESTDIR"
	DESTDIR=$(cd "$DESTDIR" && pwd) # meson wants it absolute
	step "Installing into $DESTDIR"
	meson install -C "$BUILD" --no-rebuild --destdir "$DESTDIR"
else
	need_root "installing into /usr"
	step "Installing into /"
	meson install -C "$BUILD" --no-rebuild
	# systemd learns about the new units; skipped where systemd is not PID 1.
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload || note "systemctl daemon-reload failed"
	fi
fi
step "Done: README, Operations says what next (systemctl enable --now espgw)"
