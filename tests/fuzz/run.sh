#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Runs one libFuzzer harness for the 'fuzz' test suite (tests/fuzz/meson.build).
#
#   run.sh replay EXE DIR...              every file under DIR... once (seeds,
#                                         regression inputs); fails on any finding
#   run.sh fuzz EXE SEEDS DICT WORKDIR    fuzz for $FUZZ_SECONDS (default 20),
#                                         starting from SEEDS and WORKDIR/corpus (new
#                                         inputs go there); crashes go to
#                                         WORKDIR/artifacts/; fails on any finding
#
# A finding is anything that makes libFuzzer stop with a non-zero status: a
# crash, a sanitizer report, a leak, an abort() of the harness (mbuf or op
# leak, counters that do not add up), a timeout (one input running 25 s: they
# take milliseconds, the margin is for loaded machines) or running out of memory.
# -error_exitcode=1: libFuzzer's default, 77, is what meson reads as "skipped".
set -euo pipefail

die() {
	printf 'run.sh: %s\n' "$*" >&2
	exit 2
}

replay() {
	local exe=$1 d
	local -a files=()
	shift
	for d in "$@"; do
		[ -d "$d" ] || continue
		while IFS= read -r -d '' f; do
			files+=("$f")
		done < <(find "$d" -type f -print0 | sort -z)
	done
	[ ${#files[@]} -gt 0 ] || die "no inputs under $*"
	echo "replaying ${#files[@]} inputs through $(basename "$exe")"
	"$exe" -error_exitcode=1 -timeout=25 "${files[@]}"
}

fuzz() {
	local exe=$1 seeds=$2 dict=$3 work=$4 secs=${FUZZ_SECONDS:-20} rc=0 log
	mkdir -p "$work/corpus" "$work/artifacts"
	log=$work/last.log
	echo "fuzzing $(basename "$exe") for ${secs}s (corpus $work/corpus + $seeds)"
	# libFuzzer stops itself after $secs; the outer bound is for a harness that hangs.
	timeout -k 10 $((secs + 60)) "$exe" -max_total_time="$secs" -error_exitcode=1 -timeout=25 \
		-print_final_stats=1 -dict="$dict" -artifact_prefix="$work/artifacts/" \
		"$work/corpus" "$seeds" >"$log" 2>&1 || rc=$?
	grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done )' "$log" || true
	if [ "$rc" -ne 0 ]; then
		tail -n 60 "$log"
		echo "FINDING: $(basename "$exe") stopped with status $rc; input in $work/artifacts/"
		echo "keep it as a regression input: tests/fuzz/regressions/ (fixed) or tests/fuzz/crashers/"
	fi
	return "$rc"
}

[ $# -ge 2 ] || die "usage: run.sh replay EXE DIR... | run.sh fuzz EXE SEEDS DICT WORKDIR"
mode=$1
shift
case $mode in
replay) replay "$@" ;;
fuzz)
	[ $# -eq 4 ] || die "usage: run.sh fuzz EXE SEEDS DICT WORKDIR"
	fuzz "$@"
	;;
*) die "unknown mode $mode" ;;
esac
