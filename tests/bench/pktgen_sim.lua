-- SPDX-License-Identifier: BSD-3-Clause
--
-- Runs scripts/pktgen/rfc2544.lua against a simulated pktgen: a device that
-- forwards everything up to CAPACITY percent of line rate and drops the
-- excess. Usage: lua5.4 pktgen_sim.lua SCRIPT RESULTS_CSV; exit status 0 when
-- every check holds (each failure is printed).

local script, results = arg[1], arg[2]
ESPGW_RFC2544_NO_MAIN = true
local M = dofile(script)
local failures = 0

local function check(cond, what)
	if not cond then
		failures = failures + 1
		print("FAIL: " .. what)
	end
end

-- The simulated pktgen: per port settings, counters of the last trial.
local function sim(capacity)
	local pg = {calls = {}, rate = 0, tx = 0, rx = 0, running = false}
	local line_pps = 1000 -- packets per ms at 100 %
	local function record(name)
		return function(...)
			pg.calls[#pg.calls + 1] = {name, ...}
		end
	end
	for _, f in ipairs({"set_proto", "dst_mac", "src_ip", "dst_ip", "src_port", "dst_port",
			"pkt_size", "range", "screen"}) do
		pg[f] = record(f)
	end
	function pg.set(port, what, v)
		record("set")(port, what, v)
		if what == "rate" then
			pg.rate = v
		end
	end
	function pg.clr() pg.tx, pg.rx = 0, 0 end
	function pg.start() pg.running = true end
	function pg.stop() pg.running = false end
	function pg.delay(ms)
		if pg.running then
			local sent = pg.rate * line_pps * ms // 100
			pg.tx = pg.tx + sent
			pg.rx = pg.rx + math.min(sent, capacity * line_pps * ms // 100)
		end
	end
	function pg.portStats(port, kind)
		assert(kind == "port")
		return {[0] = {opackets = pg.tx, ipackets = 0}, [1] = {opackets = 0, ipackets = pg.rx}}
	end
	return pg
end

local base_settings = M.settings

local function settings()
	local s = base_settings()
	s.trial_ms, s.confirm_ms, s.settle_ms, s.resolution = 100, 600, 0, 0.5
	s.sizes, s.tunnels = {64, 1518}, 1000
	return s
end

-- A device at 37.3 % of line rate: the search ends within 0.5 % below it.
local pg, s = sim(37.3), settings()
local rate, mpps, ok = M.size_run(pg, s, 64, function() end)
check(rate <= 37.3 and rate > 37.3 - 0.5, "search found " .. rate .. ", want (36.8, 37.3]")
check(ok, "confirmation trial passed")
-- Line rate is 1 Mpps in the simulation: rate % of it.
check(math.abs(mpps - rate / 100) < 1e-4, "Mpps from received packets: " .. mpps)

-- A device that forwards everything passes at 100 % in one trial.
pg = sim(100)
check(M.search(pg, s, function() end) == 100, "line rate at the first trial")

-- A device that forwards nothing: rate 0, not confirmed.
pg = sim(0)
rate, mpps, ok = M.size_run(pg, s, 64, function() end)
check(rate == 0 and not ok, "a dead device gives 0")

-- The destination sweep covers exactly the tunnels' networks.
check(M.last_dst(1) == "10.64.0.1", "one tunnel: 10.64.0.1")
check(M.last_dst(1000) == "10.67.231.1", "1000 tunnels end at 10.67.231.1")
pg = sim(50)
M.setup(pg, s, 570)
local seen, range_on = {}, false
for _, c in ipairs(pg.calls) do
	seen[c[1] .. ":" .. tostring(c[3])] = c[4]
	range_on = range_on or (c[1] == "range" and c[3] == "on")
end
check(seen["dst_ip:max"] == "10.67.231.1", "range dst max")
check(seen["pkt_size:min"] == 570 and seen["pkt_size:max"] == 570, "fixed size in range mode")
check(range_on, "range mode switched on")
check(seen["src_port:max"] == 1024 + s.flows - 1, "flows: source ports 1024..1024+FLOWS-1")

-- main() writes one CSV line per size.
s = nil
pg = sim(80)
os.remove(results)
M.settings = function()
	local t = settings()
	t.results = results
	return t
end
M.main(pg)
M.settings = base_settings
local lines = {}
for line in io.lines(results) do
	lines[#lines + 1] = line
end
check(#lines == 3 and lines[1] == "size,tunnels,rate_pct,mpps,confirmed", "CSV header + 2 rows")
check(lines[2] ~= nil and lines[2]:match("^64,1000,79%.") ~= nil, "64 B row near 80 %: " ..
	tostring(lines[2]))

if failures > 0 then
	os.exit(1)
end
print("pktgen rfc2544 simulation: all checks passed")
