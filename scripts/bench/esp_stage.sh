#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The ESP stage alone: cycles a packet of espgw_esp_outb and espgw_esp_inb on
# the direct AES-GCM path, from `test_esp --bench` (tests/dpdk/test_esp.c) in a
# release build with tests (build-stage/). The minimum and 10th percentile of
# many bursts hold still on a shared VM where the gateway's rate moves by 10%
# and more between repetitions (README, The store buffer); --vs runs another
# build's test_esp in turn with this one, for an A/B of a change to lib/esp.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

usage() {
	cat <<EOF
usage: $0 [--build-dir DIR] [--vs TEST_ESP] [--bursts N] [--rounds R] [--cpu C]

  --build-dir DIR  build here (default build-stage: release, -march=native, tests on)
  --vs TEST_ESP    another build's tests/dpdk/test_esp, run in turn with this one
  --bursts N       bursts of 32 per case (default 100000; 1420 B takes N/4)
  --rounds R       rounds of each binary (default 2)
  --cpu C          the CPU to pin to (default 1)
EOF
}

DIR=$ESPGW_ROOT/build-stage
VS=
BURSTS=100000
ROUNDS=2
CPU=1
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir)
		DIR=$2
		shift 2
		;;
	--vs)
		VS=$2
		shift 2
		;;
	--bursts)
		BURSTS=$2
		shift 2
		;;
	--rounds)
		ROUNDS=$2
		shift 2
		;;
	--cpu)
		CPU=$2
		shift 2
		;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
done
[ -z "$VS" ] || [ -x "$VS" ] || die "--vs $VS: no such program"

step "Checking packages"
ensure_packages dpdk libdpdk-dev libipsec-mb-dev libnuma-dev meson ninja-build pkg-config gcc \
	libpcap-dev libcmocka-dev
step "Building $DIR (release, native, tests) for tests/dpdk/test_esp"
if [ ! -f "$DIR/build.ninja" ]; then
	meson setup --buildtype=release -Dnative=true "$DIR" "$ESPGW_ROOT" ||
		die "meson setup $DIR failed"
fi
ninja -C "$DIR" tests/dpdk/test_esp || die "build failed in $DIR"

for r in $(seq 1 "$ROUNDS"); do
	for bin in "$DIR/tests/dpdk/test_esp" ${VS:+"$VS"}; do
		step "round $r: $bin"
		taskset -c "$CPU" "$bin" --bench "$BURSTS"
	done
done
