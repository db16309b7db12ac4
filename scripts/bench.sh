#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# espgw single-core benchmark: installs what is missing, builds an optimised
# espgw (release, -O3, -march=native) in build-release/ and runs
# scripts/bench/bench.py with every argument given here. The method, the
# output and the bare-metal variant are in README, section Performance.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"


usage() {
	cat <<EOF
usage: $0 [--espgw PATH | [--pgo] [--build-dir DIR]] [BENCH OPTIONS]

Builds espgw in DIR (default build-release: --buildtype=release -Dnative=true
-Db_lto=true -Dtests=false) unless --espgw names a binary, then runs the
benchmark. --pgo builds it with profile-guided optimisation instead
(scripts/pgo.sh; DIR default build-pgo; about three minutes of training).
Bench options (scripts/bench/bench.py --help for all):
  --scenarios PATTERNS  e.g. 'out-gcm128*,bypass' (--list shows them all)
  --sizes LIST          64,imix,1420 by default
  --reps N --warmup S --window S
  --vs-secgw PATH       also run a built DPDK ipsec-secgw on every point;
                        --vs-secgw build: build it first, from Debian's
                        dpdk-doc example source, in build-secgw/ with espgw's
                        release flags (-O3, -march=native)
  --vs-espgw PATH       also run a baseline espgw (e.g. the previous commit's)
                        on every point, interleaved: rows espgw-base, column
                        'vs base' (espgw / baseline, per-repetition median)
  --hugepages           2 MiB pages instead of --no-huge, as in production
                        (reserve 600 first: echo 600 > /proc/sys/vm/nr_hugepages)
  --smoke               every scenario once for ~1 s (the test suite's mode)
  --out DIR             where results.{txt,json,png} and the logs go
EOF
}

ESPGW_BIN=
BUILD_DIR=
SECGW_DIR=$ESPGW_ROOT/build-secgw
BUILD_SECGW=
PGO=
ARGS=()
while [ $# -gt 0 ]; do
	case $1 in
	--espgw) ESPGW_BIN=${2:?--espgw needs a PATH}; ARGS+=("$1" "$2"); shift 2 ;;
	--espgw=*) ESPGW_BIN=${1#--espgw=}; ARGS+=("$1"); shift ;;
	--build-dir) BUILD_DIR=${2:?--build-dir needs a DIR}; shift 2 ;;
	--build-dir=*) BUILD_DIR=${1#--build-dir=}; shift ;;
	--pgo) PGO=1; shift ;;
	--vs-secgw=build) BUILD_SECGW=1; shift ;;
	--vs-secgw)
		[ "${2:-}" = build ] && BUILD_SECGW=1 || ARGS+=("$1" "${2:?--vs-secgw needs a PATH}")
		shift 2
		;;
	--list) exec "$ESPGW_PYTHON" "$ESPGW_ROOT/scripts/bench/bench.py" --list ;;
	-h | --help) usage; exit 0 ;;
	*) ARGS+=("$1"); shift ;;
	esac
done
[ -z "$PGO" ] || [ -z "$ESPGW_BIN" ] || die "--pgo builds espgw: not with --espgw"

# matplotlib only draws results.png: install it when we can, go on without it.
ensure_matplotlib() {
	if [ -z "$(missing_packages python3-matplotlib)" ]; then
		return 0
	fi
	if [ "$(id -u)" -eq 0 ]; then
		ensure_packages python3-matplotlib
	else
		note "python3-matplotlib missing and not root: no results.png"
	fi
}

# build_secgw DIR: DPDK's ipsec-secgw example (Debian's dpdk-doc) built in DIR
# as espgw's release build is: -O3 (its Makefile's) and -march=native after
# libdpdk.pc's -march=corei7, which would win otherwise. A pkg-config wrapper
# appends it to --cflags, so that the example's own Makefile builds it as is.
# One change to the source: its default port config asks for RX checksum
# offload, which vdevs do not have, and it refuses to start without (TESTING.md).
build_secgw() {
	local dir=$1 src=/usr/share/dpdk/examples
	rm -rf "$dir"
	mkdir -p "$dir"
	cp -r "$src/ipsec-secgw" "$src/common" "$dir/"
	sed -i 's/^\(\t\t\.offloads = \)RTE_ETH_RX_OFFLOAD_CHECKSUM,/\10, \/* espgw bench: vdevs *\//' \
		"$dir/ipsec-secgw/ipsec-secgw.c"
	grep -q 'offloads = 0, /\* espgw bench' "$dir/ipsec-secgw/ipsec-secgw.c" ||
		die "ipsec-secgw.c: its RX checksum offload line was not found"
	cat >"$dir/pkg-config-native" <<'WRAP'
#!/bin/sh
case " $* " in *" --cflags "*) ;; *) exec pkg-config "$@" ;; esac
out=$(pkg-config "$@") || exit
printf '%s -march=native\n' "$out"
WRAP
	chmod +x "$dir/pkg-config-native"
	make -s -C "$dir/ipsec-secgw" PKGCONF="$dir/pkg-config-native" shared ||
		die "building ipsec-secgw in $dir failed"
}

# build_release DIR: configure DIR for speed once (link-time optimisation too:
# README, What changed the numbers), then build espgw in it.
build_release() {
	local dir=$1
	if [ ! -f "$dir/build.ninja" ]; then
		note "configuring $dir (release, native, LTO)"
		meson setup "${ESPGW_RELEASE_MESON_ARGS[@]}" "$dir" "$ESPGW_ROOT" ||
			die "meson setup $dir failed"
	fi
	ninja -C "$dir" app/espgw/espgw || die "build failed in $dir"
}

step "Checking packages"
if [ -n "$ESPGW_BIN" ]; then
	ensure_packages "${ESPGW_BENCH_RUN_PACKAGES[@]}"
else
	ensure_packages "${ESPGW_BENCH_RUN_PACKAGES[@]}" "${ESPGW_BENCH_BUILD_PACKAGES[@]}"
fi
if [ -n "$BUILD_SECGW" ]; then
	ensure_packages dpdk-doc libdpdk-dev make gcc pkg-config
	step "Building DPDK's ipsec-secgw in $SECGW_DIR/ (-O3 -march=native)"
	build_secgw "$SECGW_DIR"
	ARGS+=(--vs-secgw "$SECGW_DIR/ipsec-secgw/build/ipsec-secgw")
fi
ensure_matplotlib
if [ -n "$PGO" ] && [ -z "$ESPGW_BIN" ]; then
	BUILD_DIR=${BUILD_DIR:-$ESPGW_ROOT/build-pgo}
	step "Building profile-guided espgw in $BUILD_DIR/ (scripts/pgo.sh)"
	"$ESPGW_ROOT/scripts/pgo.sh" --build-dir "$BUILD_DIR"
	ESPGW_BIN=$BUILD_DIR/app/espgw/espgw
	ARGS+=(--espgw "$ESPGW_BIN")
elif [ -z "$ESPGW_BIN" ]; then
	BUILD_DIR=${BUILD_DIR:-$ESPGW_ROOT/build-release}
	step "Building optimised espgw in $BUILD_DIR/"
	build_release "$BUILD_DIR"
	ESPGW_BIN=$BUILD_DIR/app/espgw/espgw
	ARGS+=(--espgw "$ESPGW_BIN")
fi
[ -x "$ESPGW_BIN" ] || die "no espgw binary at $ESPGW_BIN"
step "Benchmark: scripts/bench/bench.py ${ARGS[*]}"
exec "$ESPGW_PYTHON" "$ESPGW_ROOT/scripts/bench/bench.py" "${ARGS[@]}"
