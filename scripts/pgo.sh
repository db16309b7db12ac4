#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# espgw built with profile-guided optimisation (gcc -fprofile-use): builds an
# instrumented espgw, trains it on every benchmark scenario at the IMIX frame
# size (scripts/bench/bench.py on vdevs, no NIC, no hugepages needed), then
# builds it again with the profiles. gcc then lays out each burst loop for the
# branches packets take and inlines by measured calls: README, What changed
# the numbers. The bench measures at 64 and 1420 B, sizes training never ran.
#
# A profile belongs to the sources it was taken from: every run trains again.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD_DIR=$ESPGW_ROOT/build-pgo

usage() {
	cat <<EOF
usage: $0 [--build-dir DIR] [MESON OPTIONS...]

Builds a profile-guided espgw in DIR (default build-pgo): configured as
bench.sh's release build (--buildtype=release -Dnative=true -Db_lto=true
-Dtests=false) plus MESON OPTIONS (e.g. --prefix=/usr), instrumented
(-Db_pgo=generate), trained on every bench scenario once at IMIX (about
three minutes), then rebuilt with the profiles (-Db_pgo=use). The result
is DIR/app/espgw/espgw; meson install -C DIR installs it.
EOF
}

MESON_ARGS=()
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) BUILD_DIR=${2:?--build-dir needs a DIR}; shift 2 ;;
	--build-dir=*) BUILD_DIR=${1#--build-dir=}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) MESON_ARGS+=("$1"); shift ;;
	esac
done

# configure_pgo MODE: DIR set up (or set again) for b_pgo MODE.
configure_pgo() {
	local mode=$1
	if [ -f "$BUILD_DIR/build.ninja" ]; then
		meson configure "$BUILD_DIR" -Db_pgo="$mode" "${MESON_ARGS[@]}" >/dev/null ||
			die "meson configure $BUILD_DIR failed"
	else
		meson setup "${ESPGW_RELEASE_MESON_ARGS[@]}" -Db_pgo="$mode" "${MESON_ARGS[@]}" \
			"$BUILD_DIR" "$ESPGW_ROOT" ||
			die "meson setup $BUILD_DIR failed"
	fi
}

# train: every scenario once at IMIX, the profiles written into BUILD_DIR as
# each espgw process exits; a failed run is an error, not a thinner profile.
train() {
	local out
	out=$(mktemp -d /tmp/espgw-pgo-XXXXXX)
	"$ESPGW_PYTHON" "$ESPGW_ROOT/scripts/bench/bench.py" --espgw "$BUILD_DIR/app/espgw/espgw" \
		--sizes imix --reps 1 --warmup 0.5 --window 1 --no-cperf --out "$out" >"$out/train.log" 2>&1 ||
		die "training failed: $out/train.log"
	if grep -q FAILED "$out/train.log"; then
		die "a training run failed: $out/train.log"
	fi
	rm -rf "$out"
}

step "Checking packages"
ensure_packages "${ESPGW_BENCH_RUN_PACKAGES[@]}" "${ESPGW_BENCH_BUILD_PACKAGES[@]}"
step "Building instrumented espgw in $BUILD_DIR/ (-Db_pgo=generate)"
configure_pgo generate
find "$BUILD_DIR" -name '*.gcda' -delete
ninja -C "$BUILD_DIR" app/espgw/espgw || die "build failed in $BUILD_DIR"
step "Training: every bench scenario once at IMIX"
train
[ -n "$(find "$BUILD_DIR" -name '*.gcda' -print -quit)" ] || die "training wrote no profile"
step "Building espgw with the profiles (-Db_pgo=use)"
configure_pgo use
ninja -C "$BUILD_DIR" || die "build failed in $BUILD_DIR"
step "Done: $BUILD_DIR/app/espgw/espgw"
