#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# espgw's demo: two branch offices joined by an ESP tunnel across a simulated
# internet, on one machine, without a NIC. Installs what is missing, builds,
# then (scripts/demo.py, scripts/netns/topo.py) creates three network
# namespaces (branch-a, internet, branch-b), starts gw-a and gw-b (espgw with
# config/gw-a.conf and gw-b.conf on net_tap ports) and shows:
#   1. pings from branch to branch (IPv4, IPv6, IPv6 in the IPv4 tunnel);
#   2. a TCP transfer across the tunnel, its throughput, SHA-256 at both ends;
#   3. a capture of the internet: only ESP between the two gateways, and
#      tshark, given the demo keys, verifies the ICV of every ESP packet;
#   4. both gateways' counters, per SA and per drop reason.
# Then it removes every namespace, link, process and file it created, also on
# failure or Ctrl-C. Needs root (namespaces, taps).
#
# --nat puts gw-a behind a NAT box (an nftables masquerade in a namespace of
# its own) with config/gw-a-nat.conf and gw-b-nat.conf: the tunnels go in UDP
# (RFC 3948) and the internet sees only UDP 4500 between the NAT and gw-b.
#
# --pcap runs the older, smaller demo: one gateway (config/minimal.conf) on two
# pcap-file ports, no root needed once the packages are there.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD=${ESPGW_BUILD_DIR:-build}
MODE=branches
MIB=16
CONF=
RUN_S=3
KEEP=
NO_HUGE=
WORK=
PREFIX=
GW_PID=

usage() {
	cat <<EOF
usage: $0 [--nat] [--mib N] [--keep]
       $0 --pcap [--config FILE] [--seconds N] [--no-huge] [--keep]

Installs the missing Debian packages, builds espgw in build/ (or in
\$ESPGW_BUILD_DIR) and runs the two-branch-office demo as root: network
namespaces, two gateways on net_tap ports, pings, a TCP transfer, a capture
of the internet judged by tshark, the counters; everything removed at the end.

  --nat          gw-a behind a NAT box (nftables masquerade): the tunnels in
                 UDP 4500 (RFC 3948 NAT traversal, config/gw-*-nat.conf)
  --mib N        size of the TCP transfer in MiB (default $MIB)
  --keep         keep the scratch directory (capture, logs, counters JSON)

  --pcap         instead: one gateway on two net_pcap ports with test traffic,
                 showing what went in and what came out
  --config FILE  (--pcap) config to run (default config/minimal.conf); its two
                 ports must be net_pcap devices
  --seconds N    (--pcap) how long espgw forwards before SIGTERM (default $RUN_S)
  --no-huge      (--pcap) do not reserve hugepages, run with --no-huge -m 512
EOF
}

# Only the espgw this script started (by PID): asked to stop, killed if it hangs.
stop_leftover() {
	local i
	kill -TERM "$GW_PID" 2>/dev/null || return 0
	for ((i = 0; i < 20; i++)); do
		kill -0 "$GW_PID" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$GW_PID" 2>/dev/null || true
}

# demo.py removes the topology itself; topo.py down is the backstop for when
# it could not (killed): it reads what was created from the state file in WORK.
cleanup() {
	local rc=$?
	trap - EXIT
	[ -z "$GW_PID" ] || stop_leftover
	[ -z "$PREFIX" ] || remove_eal_files "$PREFIX"
	if [ -n "$WORK" ] && [ "$MODE" != pcap ]; then
		"$ESPGW_PYTHON" scripts/netns/topo.py down "$WORK" || rc=1
	fi
	if [ -n "$WORK" ] && [ -n "$KEEP" ]; then
		note "kept $WORK"
	elif [ -n "$WORK" ]; then
		rm -rf "$WORK"
	fi
	exit "$rc"
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--pcap) MODE=pcap; shift ;;
		--nat) MODE=nat; shift ;;
		--mib) MIB=${2:?--mib needs N}; shift 2 ;;
		--config)
			[ -f "${2:-}" ] || die "--config needs an existing FILE"
			CONF=$(realpath -- "$2")
			shift 2
			;;
		--seconds) RUN_S=${2:?--seconds needs N}; shift 2 ;;
		--keep) KEEP=1; shift ;;
		--no-huge) NO_HUGE=1; shift ;;
		-h | --help) usage; exit 0 ;;
		*) usage >&2; die "unknown argument: $1" ;;
		esac
	done
	[[ $RUN_S =~ ^[0-9]+$ ]] || die "--seconds needs a whole number"
	[[ $MIB =~ ^[1-9][0-9]*$ ]] || die "--mib needs a whole number of MiB, at least 1"
}

# prepare [EXTRA_PACKAGE...]: install what is missing, build.
prepare() {
	step "Checking packages"
	ensure_packages "${ESPGW_PACKAGES[@]}" "$@"
	step "Building espgw in $BUILD/"
	ensure_build "$BUILD"
	[ -x "$BUILD"/app/espgw/espgw ] || die "the build did not produce $BUILD/app/espgw/espgw"
}

check_config() {
	local c
	step "Checking $* (espgw --check)"
	for c in "$@"; do
		"$BUILD"/app/espgw/espgw --check -f "$c" || die "$c is not valid"
	done
	note "valid"
}

traps() {
	trap cleanup EXIT
	trap 'note interrupted; exit 130' INT
	trap 'note terminated; exit 143' TERM
}

# ---------------------------------------------------------------- branches
branches_main() {
	local what=branches confs=(config/gw-a.conf config/gw-b.conf)
	[ "$MODE" = nat ] && what=nat confs=(config/gw-a-nat.conf config/gw-b-nat.conf)
	need_root "the two-branch demo (network namespaces, tap interfaces)"
	# ping in the namespaces comes from iputils-ping.
	prepare iputils-ping
	check_config "${confs[@]}"
	traps
	WORK=$(mktemp -d /tmp/espgw-demo.XXXXXX)
	local rc=0
	"$ESPGW_PYTHON" scripts/demo.py "$what" "$BUILD" "$WORK" "$MIB" || rc=$?
	[ "$rc" -eq 0 ] || die "the demo failed (exit status $rc); rerun with --keep to keep the logs"
	if [ "$MODE" = nat ]; then
		step "Done: two branch offices talked through espgw and a NAT, and only ESP in UDP crossed the internet"
	else
		step "Done: two branch offices talked through espgw, and only ESP crossed the internet"
	fi
}

# ---------------------------------------------------------------- --pcap
make_traffic() {
	step "Generating test traffic with scapy (in $WORK)"
	"$ESPGW_PYTHON" scripts/demo.py prepare "$CONF" "$WORK"
	# shellcheck source=/dev/null
	. "$WORK/demo.env"
}

start_gateway() {
	local -a eal
	if [ -n "$NO_HUGE" ]; then
		eal=(--no-huge -m 512)
	else
		read -ra eal <<<"$(hugepages_eal_args)"
	fi
	eal+=(-l "0,1" --no-pci --file-prefix "$PREFIX"
		--vdev "$LAN_DEV,rx_pcap=$WORK/lan-in.pcap,tx_pcap=$WORK/lan-out.pcap"
		--vdev "$WAN_DEV,rx_pcap=$WORK/wan-in.pcap,tx_pcap=$WORK/wan-out.pcap")
	GW_CMD=("$BUILD"/app/espgw/espgw "${eal[@]}" -- -f "$CONF" --stats-json "$WORK/stats.json")
	step "Starting espgw"
	note "${GW_CMD[*]}"
	"${GW_CMD[@]}" >"$WORK/espgw.out" 2>"$WORK/espgw.err" &
	GW_PID=$!
}

show_log() {
	step "espgw's log (stderr)"
	sed 's/^/    | /' "$WORK/espgw.err"
}

# Fails when espgw exits early, ignores SIGTERM or exits non-zero.
run_gateway() {
	local rc=0 i
	note "forwarding for $RUN_S s (pid $GW_PID)"
	for ((i = 0; i < RUN_S * 10; i++)); do
		kill -0 "$GW_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! kill -0 "$GW_PID" 2>/dev/null; then
		wait "$GW_PID" || rc=$?
		GW_PID=
		sed 's/^/    | /' "$WORK/espgw.out"
		show_log
		die "espgw stopped on its own (exit status $rc) instead of forwarding"
	fi
	step "Stopping espgw with SIGTERM"
	kill -TERM "$GW_PID"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$GW_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$GW_PID" 2>/dev/null; then
		show_log
		die "espgw still running 10 s after SIGTERM"
	fi
	wait "$GW_PID" || rc=$?
	GW_PID=
	show_log
	[ "$rc" -eq 0 ] || die "espgw exited with status $rc after SIGTERM"
	note "espgw stopped cleanly (exit status 0)"
}

report() {
	step "Counters espgw printed when it stopped (stdout)"
	sed 's/^/    /' "$WORK/espgw.out"
	step "The same counters as JSON (--stats-json), summarised"
	if [ -s "$WORK/stats.json" ]; then
		"$ESPGW_PYTHON" scripts/demo.py counters "$WORK/stats.json"
	else
		note "espgw wrote no $WORK/stats.json"
	fi
	step "Out of $WAN_NAME: the LAN packets, encrypted (tshark decrypts them with the demo keys)"
	"$ESPGW_PYTHON" scripts/demo.py show "$WORK/wan-out.pcap" "$WORK/tshark.args"
	step "Out of $LAN_NAME: the peer's ESP packets, decrypted"
	"$ESPGW_PYTHON" scripts/demo.py show "$WORK/lan-out.pcap" "$WORK/tshark.args"
}

pcap_main() {
	CONF=${CONF:-config/minimal.conf}
	prepare
	check_config "$CONF"
	traps
	WORK=$(mktemp -d /tmp/espgw-demo.XXXXXX)
	PREFIX=$(unique_prefix demo)
	make_traffic
	step "Input for $LAN_NAME (plain) and $WAN_NAME (ESP from the peer)"
	"$ESPGW_PYTHON" scripts/demo.py show "$WORK/lan-in.pcap" "$WORK/tshark.args"
	"$ESPGW_PYTHON" scripts/demo.py show "$WORK/wan-in.pcap" "$WORK/tshark.args"
	start_gateway
	run_gateway
	report
	step "Done: espgw started, forwarded and stopped cleanly"
}

main() {
	parse_args "$@"
	cd "$ESPGW_ROOT"
	if [ "$MODE" = pcap ]; then
		pcap_main
	else
		branches_main
	fi
}

main "$@"
