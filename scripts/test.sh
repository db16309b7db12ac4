#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Install what is missing, build espgw in build/, and run its test suites with
# meson test. Works from a fresh clone on Debian 12 as root (CI runs it through
# .ci/run); once the packages are there it also runs as an ordinary user.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
usage: $0 [--suite NAME]... [-- MESON_TEST_ARGS...]

Installs the missing Debian packages, builds espgw in build/ (or in
\$ESPGW_BUILD_DIR) and runs 'meson test -C build --print-errorlogs' over
every suite, or only over the
suites named with --suite (unit, dpdk, smoke, pkt, ...). Arguments after --
go to meson test unchanged, e.g. -- --list, -- -v, -- TESTNAME.
Exit status: 0 when every test passed.
EOF
}

BUILD=${ESPGW_BUILD_DIR:-build}
SUITES=()
EXTRA=()
while [ $# -gt 0 ]; do
	case $1 in
	--suite)
		[ $# -ge 2 ] || die "--suite needs a NAME"
		SUITES+=(--suite "$2")
		shift 2
		;;
	--suite=*)
		SUITES+=(--suite "${1#--suite=}")
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	--)
		shift
		EXTRA=("$@")
		break
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
step "Building espgw in $BUILD/"
ensure_build "$BUILD"
step "Running tests: meson test -C $BUILD --print-errorlogs ${SUITES[*]} ${EXTRA[*]}"
rc=0
meson test -C "$BUILD" --print-errorlogs "${SUITES[@]}" "${EXTRA[@]}" || rc=$?
if [ "$rc" -eq 0 ]; then
	step "All tests passed"
else
	step "Tests FAILED (meson test exit status $rc); full log: $BUILD/meson-logs/testlog.txt"
fi
exit "$rc"
