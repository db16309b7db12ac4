# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Helpers shared by scripts/*.sh (sourced, never run): package installation on
# Debian 12, the meson build, EAL memory arguments and unique file prefixes.
# Each helper does one thing and says what it does on stderr, so the calling
# script's own output stays a readable list of steps.

# Everything the project needs to build, run its tests and run the demo.
ESPGW_PACKAGES=(dpdk dpdk-dev libdpdk-dev libipsec-mb-dev libnuma-dev meson ninja-build
	pkg-config gcc libpcap-dev libcmocka-dev python3 python3-scapy python3-cryptography
	python3-pytest python3-matplotlib lua5.4 tshark tcpdump iproute2 iputils-ping procps
	strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-extra-plugins
	libstrongswan-standard-plugins nftables conntrack
	scdoc man-db groff-base systemd prometheus python3-prometheus-client)

# What a benchmark run needs (dpdk has dpdk-test-crypto-perf), what building
# espgw for it adds, and the options of that build: scripts/bench.sh's
# build-release/ and scripts/pgo.sh's build-pgo/ (which adds -Db_pgo).
# shellcheck disable=SC2034 # used by bench.sh and pgo.sh
ESPGW_BENCH_RUN_PACKAGES=(dpdk python3 python3-scapy)
# shellcheck disable=SC2034
ESPGW_BENCH_BUILD_PACKAGES=(libdpdk-dev libipsec-mb-dev libnuma-dev meson ninja-build pkg-config
	gcc libpcap-dev)
# shellcheck disable=SC2034
ESPGW_RELEASE_MESON_ARGS=(--buildtype=release -Dnative=true -Db_lto=true -Dtests=false)

# Only for the fuzzers (scripts/fuzz.sh, the 'fuzz' suite of scripts/test.sh):
# libFuzzer and the sanitizer runtimes come with clang's compiler-rt.
# shellcheck disable=SC2034 # used by test.sh and fuzz.sh
ESPGW_FUZZ_PACKAGES=(clang libclang-rt-14-dev)

# The fuzz build (build-fuzz): clang, ASan + UBSan that stop at the first report,
# and coverage instrumentation of every library for libFuzzer. -Wno-cast-align:
# clang, unlike gcc on x86, warns about casts in DPDK's own headers (rte_lpm_sse.h).
# shellcheck disable=SC2034,SC2054 # used by test.sh and fuzz.sh; the commas are meson's
ESPGW_FUZZ_MESON_ARGS=(-Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false
	"-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=all -Wno-cast-align")

# Debian's interpreter: a pyenv or venv python3 earlier in PATH does not see
# the python3-scapy / python3-pytest modules installed by apt.
export ESPGW_PYTHON=/usr/bin/python3

ESPGW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

step() {
	printf '\n==> %s\n' "$*"
}

note() {
	printf '    %s\n' "$*" >&2
}

die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

need_root() {
	[ "$(id -u)" -eq 0 ] || die "${1:-this step} needs root: run it with sudo"
}

# Print the packages of "$@" that dpkg does not report as installed.
missing_packages() {
	local p st
	for p in "$@"; do
		st=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) || st=
		[ "${st:0:2}" = ii ] || printf '%s\n' "$p"
	done
}

# tshark's postinst asks whether non-root users may capture; answer "no"
# beforehand so that an unattended install never stops at a prompt.
preseed_tshark() {
	echo 'wireshark-common wireshark-common/install-setuid boolean false' |
		debconf-set-selections
}

# ensure_packages [PKG...]: install the missing ones of PKG (default: all the
# project needs). Needs root only when something is missing.
ensure_packages() {
	local -a want missing
	if [ $# -gt 0 ]; then want=("$@"); else want=("${ESPGW_PACKAGES[@]}"); fi
	mapfile -t missing < <(missing_packages "${want[@]}")
	if [ ${#missing[@]} -eq 0 ]; then
		note "all ${#want[@]} packages present"
		return 0
	fi
	need_root "installing ${missing[*]}"
	command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} by hand"
	preseed_tshark
	note "installing: ${missing[*]}"
	if [ -z "${ESPGW_APT_UPDATED:-}" ]; then
		apt-get update -q || die "apt-get update failed"
		ESPGW_APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" || die "apt-get install failed"
}

# ensure_build DIR [MESON_SETUP_ARGS...]: configure DIR once (or again when its
# configuration no longer loads, e.g. after a meson upgrade), then build
# everything with ninja. The setup arguments apply when DIR is configured.
ensure_build() {
	local dir=${1:?ensure_build DIR}
	shift
	if [ ! -f "$dir/build.ninja" ]; then
		note "configuring $dir"
		meson setup "$dir" "$ESPGW_ROOT" "$@" || die "meson setup $dir failed"
	elif ! meson introspect --projectinfo "$dir" >/dev/null 2>&1; then
		note "reconfiguring $dir"
		meson setup --reconfigure "$dir" "$ESPGW_ROOT" "$@" ||
			die "meson setup --reconfigure failed"
	fi
	ninja -C "$dir" || die "build failed in $dir"
}

hugepages_free() {
	awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo
}

# As root, reserve 256 2 MiB pages (never fewer than are already reserved) and
# mount hugetlbfs on /dev/hugepages if no hugetlbfs is mounted.
reserve_hugepages() {
	local pages=256 f=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
	if [ "$(id -u)" -ne 0 ] || [ ! -w "$f" ]; then
		return 1
	fi
	if [ "$(cat "$f")" -lt "$pages" ]; then
		echo "$pages" >"$f" || return 1
	fi
	if ! grep -qs ' hugetlbfs ' /proc/mounts; then
		mkdir -p /dev/hugepages && mount -t hugetlbfs nodev /dev/hugepages
	fi
}

# Print the EAL memory options: 512 MiB of hugepages when they can be had,
# else the same amount of ordinary memory (--no-huge; fine for vdevs, but
# secondary processes such as dpdk-proc-info cannot attach).
hugepages_eal_args() {
	if reserve_hugepages 2>/dev/null && [ "$(hugepages_free)" -ge 256 ]; then
		echo "-m 512"
	else
		note "no free hugepages: running with --no-huge"
		echo "--no-huge -m 512"
	fi
}

# unique_prefix NAME: an EAL --file-prefix no other run on this host uses.
unique_prefix() {
	printf 'espgw-%s-%s-%s\n' "${1:-run}" "$$" "$RANDOM"
}

# DPDK keeps a runtime directory per file prefix (and hugepage files when
# hugepages are used); remove both for a prefix we created.
remove_eal_files() {
	local prefix=${1:?remove_eal_files PREFIX} base=/var/run/dpdk
	[ "$(id -u)" -eq 0 ] || base=${XDG_RUNTIME_DIR:-/tmp}/dpdk
	rm -rf "${base:?}/$prefix"
	rm -f /dev/hugepages/"$prefix"map_* 2>/dev/null || true
}
