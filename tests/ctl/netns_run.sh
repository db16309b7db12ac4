#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Run a command inside a network namespace of its own, deleted afterwards:
# the live control tests' tap ports and their traffic stay inside it.
# Needs root; without it exit 77 (meson: skipped).
[ "$(id -u)" = 0 ] || { echo "needs root (network namespace): skipped"; exit 77; }
ns="espgw-ctl-$$"
ip netns add "$ns" || exit 1
trap 'ip netns del "$ns"' EXIT INT TERM
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" "$@"
