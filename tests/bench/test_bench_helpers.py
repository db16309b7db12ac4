# SPDX-License-Identifier: BSD-3-Clause
"""The benchmark's arithmetic, parsers, configurations and pcaps, without
running a gateway: each check has a known answer worked out by hand."""

import json
import os
import shutil
import subprocess
import sys

import pytest

SRC = os.environ.get("ESPGW_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "scripts", "bench"))

import bench  # noqa: E402
import cryptoperf  # noqa: E402
import pcapgen  # noqa: E402
import report  # noqa: E402
import scenarios as S  # noqa: E402

ESPGW = os.environ.get("ESPGW", "")


def test_cipher_lengths():
    gcm, cbc = S.TRANSFORMS["gcm128"], S.TRANSFORMS["cbc-sha1"]
    # 64 B frame: 46 B IPv4 packet + pad length + next header = 48 (RFC 4303 2.4).
    assert S.cipher_len(gcm, 64) == 48 and S.cipher_len(cbc, 64) == 48
    # 570 B: 552 + 2 = 554 -> 556 (4-byte alignment) or 560 (AES block).
    assert S.cipher_len(gcm, 570) == 556 and S.cipher_len(cbc, 570) == 560
    assert S.cipher_len(gcm, 1518) == 1504 and S.cipher_len(cbc, 1518) == 1504
    assert S.mean_inner("imix") == pytest.approx((7 * 46 + 4 * 552 + 1500) / 12)


def test_imix_limit_is_harmonic():
    # 7 ops at 7 Mops, 4 at 4 Mops, 1 at 1 Mops: 12 ops take 3 us -> 4 Mops.
    assert cryptoperf.mix_limit("imix", {64: 7.0, 570: 4.0, 1518: 1.0}) == pytest.approx(4.0)
    assert cryptoperf.mix_limit("1420", {1420: 1.5}) == 1.5


def test_buffer_sizes_cover_the_mix():
    bufs = cryptoperf.buffer_sizes(S.TRANSFORMS["gcm128"], ["imix", "1420"])
    assert bufs == {64: 48, 570: 556, 1518: 1504, 1420: 1404}


CPERF_OUT = """\
#lcore id,Buffer Size(B),Burst Size,Enqueued,Dequeued,Failed Enq,Failed Deq,Ops(Millions),\
Throughput(Gbps),Cycles/Buf

1,48,32,200000,200000,0,0,3.309,1.271,785.787
1,512,32,200000,200000,0,0,1.668,6.831,1559.035
"""


def test_cperf_parse():
    assert cryptoperf.parse(CPERF_OUT) == {48: 3.309, 512: 1.668}
    with pytest.raises(ValueError):
        cryptoperf.parse(CPERF_OUT.replace("200000,200000,0,0,1.668", "200000,199000,0,0,1.668"))


def test_cperf_command_per_optype():
    cmd = cryptoperf.command(S.TRANSFORMS["cbc-sha256"], "encrypt", [48], 1000, "p")
    i = cmd.index("--optype")
    assert cmd[i + 1] == "cipher-then-auth" and "sha2-256-hmac" in cmd and "-l" in cmd
    cmd = cryptoperf.command(S.TRANSFORMS["gcm128"], "decrypt", [48], 1000, "p")
    assert cmd[cmd.index("--aead-op") + 1] == "decrypt"


def test_summary_and_ratios():
    s = report.summary([2.0, None, 4.0, 3.0])
    assert (s["median"], s["min"], s["max"]) == (3.0, 2.0, 4.0)
    assert s["spread_pct"] == pytest.approx(200 / 3)
    assert report.summary([None]) is None
    # The median of per-repetition ratios, not the ratio of the medians.
    assert report.ratios([1.0, 3.0, None], [2.0, 2.0, 1.0]) == [0.5, 1.5, None]
    assert report.gbps(1.0, "64") == pytest.approx(46 * 8 / 1000)


def _runs(*mpps):
    """runner.measure() stand-ins: one per repetition, None for a failed one."""
    return [None if m is None else {"mpps": m, "packets": 1} for m in mpps]


def test_vs_base_and_vs_secgw_ratios():
    # --vs-espgw and --vs-secgw together, 3 repetitions of 2 points; espgw-base
    # failed once. vs base is the median of espgw[r] / espgw-base[r] over the
    # repetitions both have: 1.2 / 1.0, 1.8 / 2.0 -> median (1.2 + 0.9) / 2 =
    # 1.05, where the ratio of the medians would be 1.5 / 1.5 = 1.0.
    out, byp = S.select("out-gcm128")[0], S.select("bypass")[0]
    points = [(out, "64"), (byp, "64")]
    res = {("espgw", "out-gcm128", "64"): _runs(1.2, 1.8, 1.5),
           ("espgw-base", "out-gcm128", "64"): _runs(1.0, 2.0, None),
           ("ipsec-secgw", "out-gcm128", "64"): _runs(2.4, 3.0, 1.0),
           ("espgw", "bypass", "64"): _runs(4.0, 4.0, 4.0),
           ("espgw-base", "bypass", "64"): _runs(5.0, 4.0, 2.0),
           ("ipsec-secgw", "bypass", "64"): _runs(None, None, None)}
    limits = [{("gcm128", "encrypt"): {"64": 3.0}}] * 3
    rows = bench.rows_of(points, res, limits, secgw=True, base=True)
    assert [(r["scenario"], r["impl"]) for r in rows] == [
        ("out-gcm128", "espgw"), ("out-gcm128", "espgw-base"), ("out-gcm128", "ipsec-secgw"),
        ("bypass", "espgw"), ("bypass", "espgw-base"), ("bypass", "ipsec-secgw")]
    e, b, g = rows[0], rows[1], rows[2]
    assert e["vs_base"]["samples"] == pytest.approx([1.2, 0.9])
    assert e["vs_base"]["median"] == pytest.approx(1.05)
    assert e["vs_secgw"]["samples"] == pytest.approx([0.5, 0.6, 1.5])
    assert e["vs_secgw"]["median"] == pytest.approx(0.6)
    # The baseline has its own row, its own ratios, and no ratio to itself.
    assert b["mpps"]["samples"] == [1.0, 2.0] and b["failed_reps"] == 1
    assert b["vs_secgw"]["samples"] == pytest.approx([1.0 / 2.4, 2.0 / 3.0])
    assert b["vs_base"] is None and g["vs_base"] is None and g["vs_secgw"] is None
    assert b["ratio_to_limit"]["median"] == pytest.approx(0.5)
    # 4/5, 4/4, 4/2 -> 1.0; no ipsec-secgw repetition succeeded -> no vs secgw.
    assert rows[3]["vs_base"]["median"] == pytest.approx(1.0)
    assert rows[3]["vs_secgw"] is None
    # Table cells vs secgw, vs base, cpu (no cpu share in these runs).
    assert report.table_line(e).split()[-3:] == ["0.60", "1.05", "-"]
    assert report.table_line(b).split()[-3:] == ["0.54", "-", "-"]
    # Without --vs-espgw: no baseline rows, no vs base; vs secgw as before.
    res = {k: v for k, v in res.items() if k[0] != "espgw-base"}
    rows = bench.rows_of(points, res, limits, secgw=True)
    assert [r["impl"] for r in rows] == ["espgw", "ipsec-secgw"] * 2
    assert all(r["vs_base"] is None for r in rows)
    assert rows[0]["vs_secgw"]["median"] == pytest.approx(0.6)


def test_composed_limit():
    """comp = 1 / (1/limit + 1/bypass) per repetition, bypass being espgw's
    bypass Mpps at the same size in that repetition; c.ratio = Mpps / comp.
    Issue 14's example: 1 / (1/8.8 + 1/10.6) = 4.81, 3.43 Mpps -> 0.71."""
    out, byp = S.select("out-gcm128")[0], S.select("bypass")[0]
    points = [(out, "1420"), (byp, "1420"), (out, "64")]
    res = {("espgw", "out-gcm128", "1420"): _runs(3.43, 3.43, None),
           ("espgw", "bypass", "1420"): _runs(10.6, None, 10.6),
           ("espgw", "out-gcm128", "64"): _runs(5.0)}
    limits = [{("gcm128", "encrypt"): {"1420": 8.8, "64": 17.5}}] * 3
    rows = bench.rows_of(points, res, limits)
    e = rows[0]
    assert e["composed_mpps"]["samples"] == pytest.approx([1 / (1 / 8.8 + 1 / 10.6)] * 2)
    assert e["ratio_to_composed"]["samples"] == pytest.approx([0.7134], abs=1e-3)
    assert report.table_line(e).split()[10:12] == ["4.81", "0.71"]
    # The bypass row has no crypto limit, hence no composed one; nor has a
    # size the run did not forward in clear.
    assert rows[1]["composed_mpps"] is None and rows[1]["ratio_to_composed"] is None
    res[("espgw", "out-gcm128", "64")] = _runs(5.0, 5.0, 5.0)
    assert bench.rows_of(points, res, limits)[2]["composed_mpps"] is None


def test_run_order_interleaves_the_baseline():
    import argparse

    class B:
        a = argparse.Namespace(vs_espgw="/old/espgw", vs_secgw="/secgw")
        run_espgw = run_espgw_base = run_secgw = None

    names = [n for n, _ in bench.implementations(B)]
    assert names == ["espgw", "espgw-base", "ipsec-secgw"]
    orders = [[n for n, _ in bench.run_order(bench.implementations(B), rep)] for rep in range(4)]
    assert orders[0] == orders[2] == names and orders[1] == orders[3] == names[::-1]
    B.a = argparse.Namespace(vs_espgw=None, vs_secgw=None)
    assert [n for n, _ in bench.implementations(B)] == ["espgw"]


def test_vs_espgw_option(tmp_path):
    exe = tmp_path / "espgw-old"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    a = bench.parse_args(["--espgw", "x", "--vs-espgw", str(exe)])
    assert a.vs_espgw == str(exe)
    with pytest.raises(SystemExit):
        bench.parse_args(["--espgw", "x", "--vs-espgw", str(tmp_path / "missing")])


def meson_build(root, **opts):
    """A fake meson build directory with an espgw binary in app/espgw/."""
    info = root / "meson-info"
    info.mkdir(parents=True)
    base = {"buildtype": "release", "b_lto": True, "native": True, "c_args": [],
            "werror": True}
    base.update(opts)
    (info / "intro-buildoptions.json").write_text(
        json.dumps([{"name": k, "value": v} for k, v in base.items()]))
    exe = root / "app" / "espgw" / "espgw"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    return str(exe)


def test_vs_espgw_unlike_builds(tmp_path, capsys):
    """An A/B of two builds with different code options says so (the
    results' method notes, stderr); alike builds, or a binary outside a
    build directory, say nothing."""
    new = meson_build(tmp_path / "new")
    alike = meson_build(tmp_path / "alike", werror=False)  # not a code option
    unlike = meson_build(tmp_path / "unlike", native=False, c_args=["-O2"])
    loose = tmp_path / "loose"
    loose.write_text("#!/bin/sh\n")
    loose.chmod(0o755)
    assert bench.options_differ(bench.build_options(new), bench.build_options(alike)) == []
    assert bench.options_differ(bench.build_options(new), bench.build_options(unlike)) == [
        ("native", True, False), ("c_args", [], ["-O2"])]
    assert bench.build_options(str(loose)) is None
    for base, warned in ((alike, False), (str(loose), False), (unlike, True)):
        a = bench.parse_args(["--espgw", new, "--vs-espgw", base])
        notes = bench.base_warning(a)
        assert bool(notes) == warned, (base, notes)
        assert ("WARNING" in capsys.readouterr().err) == warned
    assert "native True / False" in notes[0] and "c_args [] / ['-O2']" in notes[0]


def test_natt_scenarios():
    """ESP in UDP rows: the SA gets encap udp, the inbound pcap carries UDP 4500 of the
    right length (scapy leaves 8: pcapgen fixes it)."""
    sc = S.select("in-gcm128-natt-cpu")[0]
    assert "encap udp" in S.espgw_conf(sc, {"protected": "p", "unprotected": "u"})
    import pcapgen
    from scapy.layers.l2 import Ether
    from scapy.layers.inet import UDP
    f = Ether(pcapgen.esp_frames(S.TRANSFORMS["gcm128"], 1, "64", n=2, encap=True)[0])
    assert f[UDP].dport == 4500 and f[UDP].len == len(f[UDP]) > 8


def test_transport_scenarios():
    """Transport rows: a bump in the wire for the LAN host (its own header, the
    policies its endpoints), the inbound pcap ESP straight to the host."""
    sc = S.select("in-gcm128-trs-cpu")[0]
    conf = S.espgw_conf(sc, {"protected": "p", "unprotected": "u"})
    assert "mode transport local %s remote %s" % (S.HOST, S.PEER) in conf
    assert "sp add in src %s/32 dst %s/32 protect in0" % (S.PEER, S.HOST) in conf
    import pcapgen
    from scapy.layers.l2 import Ether
    from scapy.layers.inet import IP
    f = Ether(pcapgen.esp_frames(S.TRANSFORMS["gcm128"], 1, "64", n=2, transport=True)[0])
    assert (f[IP].src, f[IP].dst, f[IP].proto) == (S.PEER, S.HOST, 50)
    out = Ether(pcapgen.plain_frames(1, "64", n=1, transport=True)[0])
    assert (out[IP].src, out[IP].dst) == (S.HOST, S.PEER) and len(out) == 60


def test_ah_scenarios():
    """AH rows: proto ah with HMAC-SHA256-128, espgw only (ipsec-secgw has no AH),
    the inbound pcap AH in tunnel mode; the limit authenticates outer header,
    AH and inner packet."""
    sc = S.select("in-ah-sha256-cpu")[0]
    assert sc.espgw_only and not S.select("out-gcm128-cpu")[0].espgw_only
    assert "proto ah auth hmac-sha256-128 auth-key 0x" in S.espgw_conf(
        sc, {"protected": "p", "unprotected": "u"})
    assert S.cipher_len(S.TRANSFORMS["ah-sha256"], 64) == 46 + 20 + 28
    import pcapgen
    from scapy.layers.l2 import Ether
    from scapy.layers.inet import IP
    f = Ether(pcapgen.esp_frames(S.TRANSFORMS["ah-sha256"], 1, "64", n=2)[0])
    assert f[IP].proto == 51 and (f[IP].src, f[IP].dst) == (S.PEER, S.WAN_IP)
    assert [s.name for s in S.select("*ah*")] == ["out-ah-sha256-cpu", "in-ah-sha256-cpu"]


def test_selection():
    assert [s.name for s in S.select("bypass*")] == ["bypass", "bypass-1k"]
    assert len(S.select("")) == len(S.SCENARIOS) == 30
    assert [s.name for s in S.select("*natt-cpu")] == ["out-gcm128-natt-cpu", "in-gcm128-natt-cpu"]
    assert len(S.select("*natt*")) == 4
    with pytest.raises(ValueError):
        S.select("nope")
    with pytest.raises(ValueError):
        S.parse_sizes("63")


def test_scenarios_cover_the_issue():
    names = {s.name for s in S.SCENARIOS}
    for t in ("gcm128", "gcm256", "cbc-sha256", "cbc-sha1", "chacha"):
        assert {"out-" + t, "out-" + t + "-cpu"} <= names
    assert {"in-gcm128", "out-gcm128-1k", "in-gcm128-1k-cpu", "bypass", "bypass-1k"} <= names


@pytest.mark.skipif(not ESPGW, reason="ESPGW not set")
@pytest.mark.parametrize("sc", S.SCENARIOS, ids=lambda s: s.name)
def test_espgw_accepts_every_config(sc, tmp_path):
    devs = {"protected": "net_pcap0", "unprotected": "net_null0"}
    conf = tmp_path / "c.conf"
    conf.write_text(S.espgw_conf(sc, devs))
    p = subprocess.run([ESPGW, "--", "-f", str(conf), "--check"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    text = conf.read_text()
    assert text.count("sa add ") == (sc.n_sa if sc.transform else 0)
    assert text.count("sp add ") == sc.n_sa
    assert ("replay-window 0" in text) == (sc.dir == "in")


@pytest.mark.parametrize("sc", S.SCENARIOS, ids=lambda s: s.name)
def test_secgw_every_sa_has_a_policy(sc):
    # ipsec-secgw refuses an SA no policy uses, and needs an inbound SA.
    text = S.secgw_conf(sc, {"protected": 0, "unprotected": 1})
    sas = [ln.split()[1:3] for ln in text.splitlines() if ln.startswith("sa ")]
    sps = {(ln.split()[2], ln.split()[5]) for ln in text.splitlines()
           if ln.startswith("sp ") and " protect " in ln}
    assert sas and all((d, spi) in sps for d, spi in sas)
    assert any(d == "in" for d, _ in sas)
    assert ("type cpu-crypto" in text) == (sc.path in ("cpu", "direct"))


def test_plain_frames():
    frames = pcapgen.plain_frames(1000, "imix")
    assert len(frames) == pcapgen.N_FRAMES
    sizes = [len(f) + 4 for f in frames]
    assert (sizes.count(64), sizes.count(570), sizes.count(1518)) == (700, 400, 100)
    one = pcapgen.plain_frames(1, "64", 12)
    assert {len(f) for f in one} == {60}


def test_esp_frames_decrypt():
    from scapy.layers.inet import IP
    t = S.TRANSFORMS["gcm128"]
    frames = pcapgen.esp_frames(t, 3, "64", 6)
    sa = pcapgen.peer_sa(t, pcapgen.sa_order(3)[0])
    inner = sa.decrypt(IP(frames[0][14:]))
    assert inner.dst == S.HOST and len(inner) == 46
    spis = {int.from_bytes(f[34:38], "big") for f in frames}
    assert spis == {S.sa_spi("in", i) for i in range(3)}


def test_scale_queues_follow_the_owner(tmp_path):
    """scale.py: queue q carries exactly the SAs i with i mod W == q (inbound,
    the SA's owner: lib/sad deals the SAs to the workers in turn), every frame once."""
    import scale
    files = scale.split_pcaps("in", "64", 2, str(tmp_path), 1000)
    seen = 0
    for q, path in enumerate(files):
        frames = pcapgen.read_pcap(path)
        seen += len(frames)
        spis = {int.from_bytes(f[34:38], "big") for f in frames}
        assert spis and all((spi - S.sa_spi("in", 0)) % 2 == q for spi in spis)
    assert seen == pcapgen.N_FRAMES
    assert scale.lcores(1).count("@") == 2 and scale.lcores(2).count("@") == 3


def test_pcap_roundtrip(tmp_path):
    frames = [b"\x01" * 60, b"\x02" * 100]
    path = str(tmp_path / "x.pcap")
    pcapgen.write_pcap(path, frames)
    assert pcapgen.read_pcap(path) == frames


# ---------------------------------------------------------------- generator scripts
class _Rec(object):
    """Stands in for a TRex STL class: keeps its arguments."""

    def __init__(self, *args, **kw):
        self.args, self.kw = args, kw


class _Profile(_Rec):
    def get_streams(self):
        return list(self.args[0])


def _load_trex(monkeypatch, name):
    """Import scripts/trex/NAME with a recording stand-in for trex.stl.api."""
    import importlib.util
    import types
    api = types.ModuleType("trex.stl.api")
    for cls in ("STLPktBuilder", "STLScVmRaw", "STLStream", "STLTXCont", "STLVmFixIpv4",
                "STLVmFlowVar", "STLVmWrFlowVar"):
        setattr(api, cls, type(cls, (_Rec,), {}))
    api.STLProfile = _Profile
    for mod in ("trex", "trex.stl"):
        monkeypatch.setitem(sys.modules, mod, types.ModuleType(mod))
    monkeypatch.setitem(sys.modules, "trex.stl.api", api)
    path = os.path.join(SRC, "scripts", "trex", name + ".py")
    spec = importlib.util.spec_from_file_location(name, path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def _vm_vars(stream):
    vm = stream.kw["packet"].kw["vm"].args[0]
    return {v.kw["name"]: v.kw for v in vm if "name" in v.kw}, \
        {v.kw["fv_name"]: v.kw["pkt_offset"] for v in vm if "fv_name" in v.kw}


def test_trex_imix_tunnel_sweep(monkeypatch):
    m = _load_trex(monkeypatch, "espgw_stl")
    streams = m.register().get_streams(tunables=["--size", "imix", "--tunnels", "1000"],
                                       direction=1, port_id=1)
    assert [s.kw["mode"].kw["pps"] for s in streams] == [7, 4, 1]
    assert [len(s.kw["packet"].kw["pkt"]) for s in streams] == [60, 566, 1514]
    var, wr = _vm_vars(streams[0])
    # Tunnel i's network is 10.(64 + i / 256).(i % 256).0/24 (scenarios.remote_net).
    assert var["net"]["min_value"] == m.ip2int(S.remote_host(0, 0))
    assert var["net"]["max_value"] == m.ip2int(S.remote_host(999, 0))
    assert var["net"]["step"] == 256
    assert wr == {"net": "IP.src", "sport": "UDP.sport"}  # direction 1: remote is the source


def test_trex_old_style_tunables(monkeypatch):
    m = _load_trex(monkeypatch, "espgw_stl")
    streams = m.register().get_streams(direction=0, size=1420, tunnels=2)
    assert len(streams) == 1 and len(streams[0].kw["packet"].kw["pkt"]) == 1416
    var, wr = _vm_vars(streams[0])
    assert wr["net"] == "IP.dst" and var["net"]["max_value"] - var["net"]["min_value"] == 256


def test_trex_esp_pcap(monkeypatch, tmp_path):
    m = _load_trex(monkeypatch, "espgw_esp_pcap")
    path = str(tmp_path / "in.pcap")
    pcapgen.write_pcap(path, pcapgen.esp_frames(S.TRANSFORMS["gcm128"], 2, "64", 12))
    streams = m.register().get_streams(tunables=["--pcap", path])
    assert len(streams) == 12
    assert streams[0].kw["packet"].kw["pkt_buffer"] == pcapgen.read_pcap(path)[0]


def test_pktgen_rfc2544_search(tmp_path):
    lua = next((p for p in ("lua5.4", "lua5.3") if shutil.which(p)), None)
    if lua is None:
        pytest.skip("no lua5.4/lua5.3 (apt-get install lua5.4)")
    here = os.path.dirname(os.path.abspath(__file__))
    p = subprocess.run([lua, os.path.join(here, "pktgen_sim.lua"),
                        os.path.join(SRC, "scripts", "pktgen", "rfc2544.lua"),
                        str(tmp_path / "r.csv")], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr


def test_baremetal_configs_check(tmp_path):
    if not ESPGW:
        pytest.skip("ESPGW not set")
    import baremetal
    baremetal.main(["ab", "--tunnels", "300", "--a-lan", "0000:01:00.0", "--a-wan", "0000:01:00.1",
                    "--b-lan", "0000:02:00.0", "--b-wan", "0000:02:00.1", "--tg-mac0",
                    "02:aa:00:00:00:01", "--tg-mac1", "02:aa:00:00:00:02", "--out",
                    str(tmp_path)])
    for conf in ("gw-a.conf", "gw-b.conf"):
        p = subprocess.run([ESPGW, "--", "-f", str(tmp_path / conf), "--check"],
                           capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
    a, b = (open(str(tmp_path / c)).read() for c in ("gw-a.conf", "gw-b.conf"))
    # B's inbound SA i is A's outbound SA i: same SPI and key.
    def spi_and_keys(text, d):
        return [(ln.split()[6], ln.split(" aead ")[1]) for ln in text.splitlines()
                if ln.startswith("sa add ") and " dir %s " % d in ln]
    a_out = spi_and_keys(a, "out")
    assert len(a_out) == 300 and a_out == spi_and_keys(b, "in")
    assert spi_and_keys(a, "in") == spi_and_keys(b, "out")
    assert len({k for _, k in a_out}) == 300, "every SA has its own key"


def test_burst_cycles_every_worker(tmp_path):
    """Each worker's line of a -Dburst_cycles=true build (lib/dp/burst_cycles.c),
    not only the first: scale.py compares two workers' against one's."""
    import runner
    log = tmp_path / "gw.log"
    log.write_text("EAL: Detected CPU lcores: 2\n"
                   "DP: worker 1: cycles a packet over 900 full bursts: min 250 p10 255 median 262\n"
                   "DP: worker 0: cycles a packet over 1000 full bursts: min 201 p10 203 median 210\n")
    gw = runner.Gateway("gw", ["espgw"], [], [], str(tmp_path))
    assert gw.burst_cycles_all() == {
        0: {"bursts": 1000, "min": 201, "p10": 203, "median": 210},
        1: {"bursts": 900, "min": 250, "p10": 255, "median": 262}}
    assert gw.burst_cycles() == {"bursts": 1000, "min": 201, "p10": 203, "median": 210}
    log.write_text("EAL: a build without -Dburst_cycles\n")
    assert gw.burst_cycles_all() == {} and gw.burst_cycles() is None


def test_scale_cycles_ratio():
    """Two workers at 250 and 200 cycles a packet against one at 200: 0.8 + 1.0;
    by the minimum 190 / 190 + 190 / 200."""
    import scale
    one = {"cycles": {0: {"min": 190, "median": 200}}}
    two = {"cycles": {0: {"min": 190, "median": 250}, 1: {"min": 200, "median": 200}}}
    assert scale.cycles_ratio(one, two, "median") == pytest.approx(1.8)
    assert scale.cycles_ratio(one, two, "min") == pytest.approx(1.95)
    assert scale.cycles_ratio({"cycles": {}}, two, "min") is None
    assert scale.cycles_ratio(one, {"cycles": {0: {"min": 1, "median": 2}}}, "min") is None
    # Per repetition, then the median; "-" from builds without the option.
    res = {1: [one, one, one], 2: [two, two, {"cycles": {0: {"min": 95, "median": 100},
                                                          1: {"min": 95, "median": 100}}}]}
    assert scale.cycles_column(res, "median") == "1.80"
    assert scale.cycles_column({1: [{"cycles": {}}], 2: [{"cycles": {}}]}, "min") == "-"
    assert scale.cycles_text({"cycles": {1: {"min": 240, "median": 250},
                                         0: {"min": 190, "median": 200}}}) == \
        "  cyc/pkt min/median 190/200 240/250"
    assert scale.cycles_text({"cycles": {}}) == ""


def test_hugepages_missing(monkeypatch):
    import runner
    monkeypatch.setattr(runner, "hugepages_free", lambda: runner.HUGE_PAGES_NEEDED)
    assert runner.hugepages_missing() is None
    monkeypatch.setattr(runner, "hugepages_free", lambda: 3)
    assert runner.hugepages_missing().startswith("--hugepages: 3 free 2 MiB pages, %d needed"
                                                 % runner.HUGE_PAGES_NEEDED)


def test_scale_cycles_only_without_hand_off():
    """A worker that hands its packets over does not do their whole work."""
    import argparse
    import scale

    def a(sas, seq_order="", decrypt=""):
        return argparse.Namespace(sas=sas, seq_order=seq_order, decrypt=decrypt)
    assert not scale.handed_over(a(1000), "out") and not scale.handed_over(a(1000), "in")
    assert scale.handed_over(a(1, seq_order="strict"), "out")
    assert not scale.handed_over(a(1), "out") and not scale.handed_over(a(1), "bypass")
    assert scale.handed_over(a(1), "in") and scale.handed_over(a(1, decrypt="owner"), "in")
    assert not scale.handed_over(a(1, decrypt="any"), "in")
