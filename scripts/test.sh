#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Install what is missing, build espgw in build/, and run its test suites with
# meson test; the fuzz suite runs in its own clang build (build-fuzz/), and
# --sanitize runs the suites again built with ASan + UBSan (build-san/).
# Works from a fresh clone on Debian 12 as root (CI runs it through .ci/run);
# once the packages are there it also runs as an ordinary user.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
usage: $0 [--sanitize] [--suite NAME]... [-- MESON_TEST_ARGS...]

Installs the missing Debian packages, builds espgw in build/ (or in
\$ESPGW_BUILD_DIR) and runs 'meson test -C build --print-errorlogs' over
every suite, or only over the
suites named with --suite (unit, dpdk, smoke, pkt, fuzz, ...). Arguments after --
go to meson test unchanged, e.g. -- --list, -- -v, -- TESTNAME.

The fuzz suite is built with clang in build-fuzz/ (clang and libclang-rt-14-dev
are installed for it): each libFuzzer harness replays its seeds and regression
inputs, then fuzzes for \$FUZZ_SECONDS seconds (default 20). It runs when no
--suite and no meson test arguments are given, or with --suite fuzz.

  --sanitize  build in build-san/ with AddressSanitizer and UndefinedBehavior-
              Sanitizer (gcc, -Db_sanitize=address,undefined) and run the suites
              there, every report fatal (the fuzz suite is sanitized already and
              runs only when named).
Exit status: 0 when every test passed.
EOF
}

BUILD=${ESPGW_BUILD_DIR:-build}
FUZZ_BUILD=build-fuzz
SANITIZE=
NAMES=()
EXTRA=()
while [ $# -gt 0 ]; do
	case $1 in
	--suite)
		[ $# -ge 2 ] || die "--suite needs a NAME"
		NAMES+=("$2")
		shift 2
		;;
	--suite=*)
		NAMES+=("${1#--suite=}")
		shift
		;;
	--sanitize)
		SANITIZE=1
		BUILD=build-san
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

# The suites named for $BUILD (all but fuzz), as meson test arguments.
SUITES=()
RUN_MAIN=
RUN_FUZZ=
for n in "${NAMES[@]}"; do
	if [ "$n" = fuzz ]; then
		RUN_FUZZ=1
	else
		SUITES+=(--suite "$n")
		RUN_MAIN=1
	fi
done
if [ ${#NAMES[@]} -eq 0 ]; then
	RUN_MAIN=1
	[ -n "$SANITIZE" ] || [ ${#EXTRA[@]} -gt 0 ] || RUN_FUZZ=1
fi

# Every sanitizer report ends the process with an error, in the test binaries
# and in the espgw processes the python suites start (they inherit these).
# No suppressions are needed: see tests/fuzz/README.md before adding one.
sanitizer_env() {
	local fatal=halt_on_error=1:abort_on_error=1:print_summary=1
	export ASAN_OPTIONS=${ASAN_OPTIONS:-$fatal:detect_leaks=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-$fatal:print_stacktrace=1}
}

# run_suites DIR MESON_TEST_ARGS...: meson test in DIR; returns its status.
run_suites() {
	local dir=$1 rc=0
	shift
	step "Running tests: meson test -C $dir --print-errorlogs $*"
	meson test -C "$dir" --print-errorlogs "$@" || rc=$?
	if [ "$rc" -eq 0 ]; then
		step "All tests passed in $dir/"
	else
		step "Tests FAILED (meson test exit status $rc); full log: $dir/meson-logs/testlog.txt"
	fi
	return "$rc"
}

cd "$ESPGW_ROOT"
step "Checking packages"
ensure_packages "${ESPGW_PACKAGES[@]}"
[ -z "$RUN_FUZZ" ] || ensure_packages "${ESPGW_FUZZ_PACKAGES[@]}"
rc=0
if [ -n "$RUN_MAIN" ]; then
	if [ -n "$SANITIZE" ]; then
		step "Building espgw with ASan + UBSan in $BUILD/"
		ensure_build "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false \
			-Dc_args=-fno-sanitize-recover=all
		sanitizer_env
	else
		step "Building espgw in $BUILD/"
		ensure_build "$BUILD"
	fi
	run_suites "$BUILD" "${SUITES[@]}" "${EXTRA[@]}" || rc=$?
fi
if [ -n "$RUN_FUZZ" ]; then
	step "Building the fuzzers with clang in $FUZZ_BUILD/"
	CC=clang ensure_build "$FUZZ_BUILD" "${ESPGW_FUZZ_MESON_ARGS[@]}"
	run_suites "$FUZZ_BUILD" --suite fuzz "${EXTRA[@]}" || rc=$?
fi
exit "$rc"
