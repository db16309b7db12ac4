#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Build the libFuzzer harnesses (tests/fuzz/) with clang, ASan and UBSan in
# build-fuzz/, replay their seeds and regression inputs, then fuzz each one
# for SECONDS (default 60), all at once (one process per harness). The corpus
# each run grows stays in build-fuzz/tests/fuzz/work-NAME/corpus for the next.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	cat <<EOF
usage: $0 [SECONDS] [HARNESS...]

Fuzzes every harness (conf, pkt), or the ones named, for SECONDS (default 60)
each and prints, per harness, the executions, the corpus size and any
finding: a crash, a sanitizer report, a leak (memory, mbufs or crypto ops),
counters that do not add up, a timeout. A finding's input is kept in
build-fuzz/tests/fuzz/work-NAME/artifacts/; replay it with
  build-fuzz/tests/fuzz/fuzz_NAME FILE
and keep it under tests/fuzz/regressions/NAME/ once fixed (tests/fuzz/README.md).
Exit status: 0 when no harness found anything.
EOF
}

SECS=60
HARNESSES=()
for a in "$@"; do
	case $a in
	-h | --help)
		usage
		exit 0
		;;
	[0-9]*) SECS=$a ;;
	conf | pkt) HARNESSES+=("$a") ;;
	*)
		usage >&2
		die "unknown argument: $a"
		;;
	esac
done
[ ${#HARNESSES[@]} -gt 0 ] || HARNESSES=(conf pkt)

BUILD=build-fuzz
OUT=$BUILD/tests/fuzz
SRC=tests/fuzz

# Every seed and regression input of each harness, once; the log tail on failure.
replay_all() {
	local h rc=0
	for h in "${HARNESSES[@]}"; do
		if ! "$SRC/run.sh" replay "$OUT/fuzz_$h" "$SRC/corpus/$h" "$SRC/regressions/$h" \
			>"$OUT/replay-$h.log" 2>&1; then
			tail -n 40 "$OUT/replay-$h.log"
			note "fuzz_$h: a seed or regression input fails (log: $OUT/replay-$h.log)"
			rc=1
		fi
	done
	return "$rc"
}

# stat NAME LOG: one of libFuzzer's final statistics (-print_final_stats).
stat() {
	awk -v k="stat::$1:" '$1 == k { print $2 }' "$2"
}

fuzz_all() {
	local h st rc=0 res
	local -A pid
	for h in "${HARNESSES[@]}"; do
		FUZZ_SECONDS=$SECS "$SRC/run.sh" fuzz "$OUT/fuzz_$h" "$SRC/corpus/$h" "$SRC/$h.dict" \
			"$OUT/work-$h" >"$OUT/fuzz-$h.out" 2>&1 &
		pid[$h]=$!
	done
	printf '\n%-8s %12s %8s %8s  %s\n' harness executions exec/s corpus result
	for h in "${HARNESSES[@]}"; do
		st=0
		wait "${pid[$h]}" || st=$?
		res=ok
		if [ "$st" -ne 0 ]; then
			res="FINDING (status $st): $OUT/fuzz-$h.out, input in $OUT/work-$h/artifacts/"
			rc=1
		fi
		printf '%-8s %12s %8s %8s  %s\n' "$h" \
			"$(stat number_of_executed_units "$OUT/work-$h/last.log")" \
			"$(stat average_exec_per_sec "$OUT/work-$h/last.log")" \
			"$(find "$OUT/work-$h/corpus" -type f | wc -l)" "$res"
	done
	return "$rc"
}

cd "$ESPGW_ROOT"
step "Checking packages"
ensure_packages "${ESPGW_PACKAGES[@]}" "${ESPGW_FUZZ_PACKAGES[@]}"
step "Building the fuzzers with clang in $BUILD/"
CC=clang ensure_build "$BUILD" "${ESPGW_FUZZ_MESON_ARGS[@]}"
rc=0
step "Replaying seeds and regression inputs"
replay_all || rc=1
step "Fuzzing ${HARNESSES[*]} for ${SECS}s"
fuzz_all || rc=1
exit "$rc"
