-- SPDX-License-Identifier: BSD-3-Clause
--
-- RFC 2544 section 26.1 throughput (zero-loss binary search) for espgw with
-- pktgen-dpdk:   pktgen -l ... -- -P -m "[1:2].0,[3:4].1" -f scripts/pktgen/rfc2544.lua
--
-- Not run in espgw's CI (no NICs there): written against pktgen's Lua API
-- (pktgen.set, range commands, portStats); tests/bench runs its search logic
-- against a simulated device. Topology and configurations: README,
-- Performance, and scripts/bench/baremetal.py.
--
-- Port TX sends UDP from 10.1.0.10 to 10.64.0.1 + i * 256 (tunnel i < TUNNELS,
-- one /24 per SA on the gateway) with FLOWS source ports; port RX counts what
-- comes back (through espgw A and B, or the ESP of a single encrypting
-- gateway). A trial passes when RX received every packet TX sent; the search
-- halves [pass, fail] until it is narrower than RESOLUTION percent, then a
-- CONFIRM_MS trial at the best passing rate confirms it (RFC 2544 24: 60 s).
-- Frame sizes include the FCS (pktgen's convention).
--
-- Settings come from the environment (defaults in brackets):
--   ESPGW_TX_PORT [0]  ESPGW_RX_PORT [1]  ESPGW_SIZES [64,570,1420,1518]
--   ESPGW_TUNNELS [1]  ESPGW_FLOWS [64]   ESPGW_DST_MAC [02:00:00:00:01:01]
--   ESPGW_TRIAL_MS [10000]  ESPGW_CONFIRM_MS [60000]  ESPGW_RESOLUTION [0.5]
--   ESPGW_RESULTS [rfc2544-espgw.csv]

package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;../?.lua"

local M = {}

local function env(name, default)
	local v = os.getenv(name)
	if v == nil or v == "" then
		return default
	end
	return v
end

local function split_numbers(s)
	local t = {}
	for x in string.gmatch(s, "[^,]+") do
		t[#t + 1] = tonumber(x)
	end
	return t
end

function M.settings()
	return {
		tx = env("ESPGW_TX_PORT", "0"),
		rx = env("ESPGW_RX_PORT", "1"),
		sizes = split_numbers(env("ESPGW_SIZES", "64,570,1420,1518")),
		tunnels = tonumber(env("ESPGW_TUNNELS", "1")),
		flows = tonumber(env("ESPGW_FLOWS", "64")),
		dst_mac = env("ESPGW_DST_MAC", "02:00:00:00:01:01"),
		trial_ms = tonumber(env("ESPGW_TRIAL_MS", "10000")),
		confirm_ms = tonumber(env("ESPGW_CONFIRM_MS", "60000")),
		resolution = tonumber(env("ESPGW_RESOLUTION", "0.5")),
		results = env("ESPGW_RESULTS", "rfc2544-espgw.csv"),
		settle_ms = 1000, -- let in-flight packets arrive before reading counters
	}
end

-- Last destination of the sweep: 10.64.0.1 + (tunnels - 1) * 256.
function M.last_dst(tunnels)
	local i = tunnels - 1
	return string.format("10.%d.%d.1", 64 + i // 256, i % 256)
end

-- Range mode: every field of the packet from the range page.
function M.setup(pg, s, size)
	local p = s.tx
	pg.set_proto(p, "udp")
	pg.dst_mac(p, "start", s.dst_mac)
	pg.src_ip(p, "start", "10.1.0.10")
	pg.src_ip(p, "inc", "0.0.0.0")
	pg.src_ip(p, "min", "10.1.0.10")
	pg.src_ip(p, "max", "10.1.0.10")
	pg.dst_ip(p, "start", "10.64.0.1")
	pg.dst_ip(p, "inc", "0.0.1.0")
	pg.dst_ip(p, "min", "10.64.0.1")
	pg.dst_ip(p, "max", M.last_dst(s.tunnels))
	pg.src_port(p, "start", 1024)
	pg.src_port(p, "inc", 1)
	pg.src_port(p, "min", 1024)
	pg.src_port(p, "max", 1024 + s.flows - 1)
	pg.dst_port(p, "start", 5001)
	pg.dst_port(p, "inc", 0)
	pg.dst_port(p, "min", 5001)
	pg.dst_port(p, "max", 5001)
	pg.pkt_size(p, "start", size)
	pg.pkt_size(p, "inc", 0)
	pg.pkt_size(p, "min", size)
	pg.pkt_size(p, "max", size)
	pg.range(p, "on")
	pg.set(p, "count", 0) -- send until stopped
end

-- One trial: sent and received packet counts at rate (percent of line rate).
function M.trial(pg, s, rate, ms)
	pg.clr()
	pg.set(s.tx, "rate", rate)
	pg.start(s.tx)
	pg.delay(ms)
	pg.stop(s.tx)
	pg.delay(s.settle_ms)
	local tx = pg.portStats(s.tx, "port")[tonumber(s.tx)].opackets
	local rx = pg.portStats(s.rx, "port")[tonumber(s.rx)].ipackets
	return tx, rx
end

-- RFC 2544 26.1: the highest rate with no loss, by halving [lo, hi].
function M.search(pg, s, log)
	local lo, hi, rate = 0, 100, 100
	while true do
		local tx, rx = M.trial(pg, s, rate, s.trial_ms)
		local pass = tx > 0 and rx >= tx
		log(string.format("  rate %7.3f%%: tx %d rx %d %s", rate, tx, rx,
			pass and "pass" or "LOSS"))
		if pass then
			lo = rate
		else
			hi = rate
		end
		if pass and rate == 100 or hi - lo <= s.resolution then
			return lo
		end
		rate = (lo + hi) / 2
	end
end

-- Search, confirm over confirm_ms; returns rate %, Mpps and whether confirmed.
function M.size_run(pg, s, size, log)
	M.setup(pg, s, size)
	log(string.format("size %d B, %d tunnel(s)", size, s.tunnels))
	local rate = M.search(pg, s, log)
	if rate == 0 then
		return 0, 0, false
	end
	local tx, rx = M.trial(pg, s, rate, s.confirm_ms)
	return rate, rx / (s.confirm_ms / 1000) / 1e6, tx > 0 and rx >= tx
end

function M.main(pg)
	local s = M.settings()
	local out = assert(io.open(s.results, "w"))
	local function log(msg)
		print(msg)
	end
	pg.screen("off")
	out:write("size,tunnels,rate_pct,mpps,confirmed\n")
	for _, size in ipairs(s.sizes) do
		local rate, mpps, ok = M.size_run(pg, s, size, log)
		log(string.format("size %d: %.3f%% of line rate, %.3f Mpps%s", size, rate, mpps,
			ok and "" or " (NOT confirmed over the long trial)"))
		out:write(string.format("%d,%d,%.3f,%.4f,%s\n", size, s.tunnels, rate, mpps,
			ok and "yes" or "no"))
		out:flush()
	end
	out:close()
end

-- Inside pktgen the global `pktgen` exists: run. Loaded as a module by the
-- tests (with a simulated pktgen), only return the functions.
if pktgen ~= nil and not ESPGW_RFC2544_NO_MAIN then
	M.main(pktgen)
end
return M
