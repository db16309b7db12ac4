# SPDX-License-Identifier: BSD-3-Clause
"""Every algorithm x tunnel family (4in4, 6in6, 4in6, 6in4) x direction x crypto
path (cryptodev, cpu, and for AES-GCM direct). One espgw run per (algorithm group, path) carries all the
SAs of that group at once: an AEAD or GMAC alone, or a cipher with each of the
four HMACs; the pytest items then judge their own slice of the run."""

import pytest

import espcodec
import harness
from harness import Tunnel

FAMILIES = {"4in4": (4, 4), "6in6": (6, 6), "4in6": (4, 6), "6in4": (6, 4)}
GROUPS = espcodec.AEADS + espcodec.GMACS + espcodec.CIPHERS
PATHS = ["cryptodev", "cpu"]
# (group, path): every group on both generic paths, AES-GCM on the direct one too.
CASES = [(g, p) for g in GROUPS for p in PATHS] + \
    [(g, "direct") for g in ("aes-gcm-128", "aes-gcm-256")]
SIZES = [0, 1, 17, 100, 1000, 1400]
_runs = {}


def group_suites(group):
    if group in espcodec.CIPHERS:
        return ["%s+%s" % (group, a) for a in espcodec.HMACS]
    return [group]


class MatrixRun:
    def __init__(self, group, path):
        self.tun = {}
        conf = harness.base_conf(crypto_path=path)
        plan = harness.Plan()
        slot = 100
        for suite in group_suites(group):
            for fam, (inner, outer) in FAMILIES.items():
                t = Tunnel(slot, suite, inner, outer)
                slot += 1
                self.tun[(suite, fam)] = t
                conf += t.conf()
                for i, n in enumerate(SIZES):
                    for l4 in ("udp", "tcp", "icmp"):
                        pk = t.lan_pkt(l4, n)
                        if t.fits(len(pk)):
                            plan.protect(t, pk)
                    pk = t.wan_pkt("udp", n)
                    if t.fits(len(pk)):
                        plan.wan_in(t.encap(pk, i + 1), pk)
        self.plan = plan
        self.res = harness.run(conf, lan=plan.lan, wan=plan.wan)
        self.by_spi, _ = harness.split_esp(self.res.out["wan0"])
        self.inbound = {}
        for f in self.res.out["lan0"]:
            self.inbound.setdefault(harness.flow_key(f[14:]), []).append(f)
        self.tshark = self._tshark()

    def _tshark(self):
        frames, uats = [], []
        for t in self.tun.values():
            u = t.out_sa.tshark_uat(t.outer, t.local, t.peer)
            if u:
                frames += self.by_spi.get(t.out_sa.spi, [])
                uats.append(u)
        if not frames:
            return {}
        verdict = {}
        for spi, seq, good in harness.tshark_icv(frames, uats):
            verdict.setdefault(spi, []).append((seq, good))
        return verdict


def get_run(group, path):
    """The run for (group, path), made once; a failed run fails its items without a rerun."""
    key = (group, path)
    if key not in _runs:
        try:
            _runs[key] = MatrixRun(group, path)
        except AssertionError as e:
            _runs[key] = e
    r = _runs[key]
    if isinstance(r, AssertionError):
        raise AssertionError("the espgw run for %s on path %s failed: %s" % (group, path, r))
    return r


@pytest.mark.parametrize("group,path", CASES)
def test_run_counters(group, path):
    r = get_run(group, path)
    n_out = sum(len(v) for v in r.plan.esp.values())
    harness.assert_drops(r.res.stats)
    harness.assert_totals(r.res.stats, rx=len(r.plan.lan) + len(r.plan.wan),
                          tx=n_out + len(r.plan.to_lan), drops=0)
    for (suite, fam), t in r.tun.items():
        sa = r.res.stats["sa"]
        assert sa[t.out_name]["pkts"] == len(r.plan.esp.get(t.out_sa.spi, [])), (suite, fam)
        assert sa[t.in_name]["errors"] == 0 and sa[t.out_name]["errors"] == 0, (suite, fam)


@pytest.mark.parametrize("fam", list(FAMILIES))
@pytest.mark.parametrize("group,path", CASES)
def test_outbound(group, fam, path):
    r = get_run(group, path)
    for suite in group_suites(group):
        t = r.tun[(suite, fam)]
        frames = r.by_spi.get(t.out_sa.spi, [])
        want = r.plan.esp[t.out_sa.spi]
        assert len(frames) == len(want), "%s %s: %d ESP frames, expected %d" % (
            suite, fam, len(frames), len(want))
        for i, (f, w) in enumerate(zip(frames, want)):
            d = harness.Decap(f, t)
            assert d.seq == i + 1, "%s %s: seq %d, expected %d" % (suite, fam, d.seq, i + 1)
            assert d.inner == w, "%s %s frame %d: inner packet differs" % (suite, fam, i)
            assert d.ttl == 64
        if t.out_sa.tshark_uat(t.outer, t.local, t.peer):
            assert r.tshark[t.out_sa.spi] == [(i + 1, True) for i in range(len(want))], \
                "%s %s: tshark %s" % (suite, fam, r.tshark[t.out_sa.spi])


@pytest.mark.parametrize("fam", list(FAMILIES))
@pytest.mark.parametrize("group,path", CASES)
def test_inbound(group, fam, path):
    r = get_run(group, path)
    for suite in group_suites(group):
        t = r.tun[(suite, fam)]
        want = [harness.ttl_dec(t.wan_pkt("udp", n)) for n in SIZES
                if t.fits(len(t.wan_pkt("udp", n)))]
        got = r.inbound.get(harness.flow_key(want[0]), [])
        assert len(got) == len(want), "%s %s: %d frames out of lan0, expected %d" % (
            suite, fam, len(got), len(want))
        for f, w in zip(got, want):
            harness.clear_frame_check(f, w, "lan0")
