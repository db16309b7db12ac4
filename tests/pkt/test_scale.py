# SPDX-License-Identifier: BSD-3-Clause
"""Scale: 10,000 tunnels (20,000 SAs, 20,000 SPD rules) load in one espgw run,
and traffic to a sample of 200 of them comes out right both ways: the right
SA (SPI, keys, sequence 1), the right inner packet, nothing else."""

import random
import time

import pytest

import harness
from harness import Tunnel

N_TUNNELS = 10000
N_SAMPLE = 200
SUITES = ["aes-gcm-128", "aes-cbc-128+hmac-sha256-128"]


@pytest.fixture(scope="module")
def scale():
    rng = random.Random(4303)
    tun = [Tunnel(i, SUITES[i % 2], 4 if i % 3 else 6, 4 if i % 5 else 6)
           for i in range(N_TUNNELS)]
    conf = harness.base_conf()
    for t in tun:
        conf += t.conf()
    sample = sorted(rng.sample(range(N_TUNNELS), N_SAMPLE))
    plan = harness.Plan()
    for i in sample:
        t = tun[i]
        plan.protect(t, t.lan_pkt("udp", i % 300))
        pk = t.wan_pkt("tcp", i % 200)
        plan.wan_in(t.encap(pk, 1), pk)
    t0 = time.monotonic()
    res = harness.run(conf, lan=plan.lan, wan=plan.wan, mem=2048, timeout=60,
                      start_timeout=300)
    print("scale run: %.1f s for %d config lines" % (time.monotonic() - t0, len(conf)))
    return dict(tun=tun, sample=sample, plan=plan, res=res)


def test_counters(scale):
    st = scale["res"].stats
    harness.assert_drops(st)
    harness.assert_totals(st, rx=2 * N_SAMPLE, tx=2 * N_SAMPLE, drops=0)
    assert len(st["sa"]) == 2 * N_TUNNELS
    for i in scale["sample"]:
        t = scale["tun"][i]
        assert st["sa"][t.out_name]["pkts"] == 1 and st["sa"][t.in_name]["pkts"] == 1, i


def test_outbound_sample(scale):
    by_spi, clear = harness.split_esp(scale["res"].out["wan0"])
    assert clear == []
    assert len(by_spi) == N_SAMPLE
    for i in scale["sample"]:
        t = scale["tun"][i]
        frames = by_spi.get(t.out_sa.spi, [])
        assert len(frames) == 1, "tunnel %d: %d frames" % (i, len(frames))
        d = harness.Decap(frames[0], t)
        assert d.seq == 1 and d.inner == scale["plan"].esp[t.out_sa.spi][0], i


def test_inbound_sample(scale):
    scale["plan"].check_clear(scale["res"])
