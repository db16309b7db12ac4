# SPDX-License-Identifier: BSD-3-Clause
"""Attack on the SPD's buckets (lib/spd/spd_bucket.c, commit e3f6ca0) switched
live: each direction holds the tunnel's policy, a catch-all bypass and 10
discard fillers (12 IPv4 rules: buckets, by destination outbound and by
source inbound); `sp add` / `sp del` cycle it through three states while
traffic flows: S0 the base, S1 with a better discard over half of the
tunnel (a /25 nested in the tunnel's /24: still buckets), S2 with four more
prefix lengths on the bucketed side (/8 /12 /28 /30: five lengths, and the
other side is one /24 for every rule: rte_acl). A verdict from the wrong
rule, a stale or a half-built SPD lets protect-class traffic out on the WAN
in clear, or clear traffic of the tunnel in on the LAN. Run inside a network
namespace (netns_run.sh)."""


import pytest

import live
import spd_churn

FILLERS = 10
RULES = [
    "sp add out priority 2000 src 0.0.0.0/0 dst 0.0.0.0/0 name obyp bypass",
    "sp add in priority 2000 src 0.0.0.0/0 dst 0.0.0.0/0 name ibyp bypass",
] + ["sp add out priority 1500 src 10.1.0.0/24 dst 10.200.%d.0/24 name fo%d discard" % (i, i)
     for i in range(FILLERS)] + \
    ["sp add in priority 1500 src 10.200.%d.0/24 dst 10.1.0.0/24 name fi%d discard" % (i, i)
     for i in range(FILLERS)]
# S1: better than the tunnel's policies, over half of its selectors: discard, never clear.
NESTED = ["sp add out priority 10 src 10.1.0.0/24 dst 10.3.0.128/25 name to discard",
          "sp add in priority 10 src 10.3.0.128/25 dst 10.1.0.0/24 name ti discard"]
# S2: four more lengths on the bucketed side, away from the traffic: rte_acl.
LENS = ["11.0.0.0/8", "172.16.0.0/12", "192.168.1.0/28", "192.168.2.0/30"]
LENS_ADD = ["sp add out priority 100 src 10.1.0.0/24 dst %s name lo%d discard" % (p, i)
            for i, p in enumerate(LENS)] + \
           ["sp add in priority 100 src %s dst 10.1.0.0/24 name li%d discard" % (p, i)
            for i, p in enumerate(LENS)]
LENS_DEL = ["sp del lo%d" % i for i in range(len(LENS))] + \
           ["sp del li%d" % i for i in range(len(LENS))]


@pytest.fixture(params=["one", "two"])
def gw(request):
    import harness
    # Started with S1 so that the log names the classifiers (INFO at startup).
    conf = "\n".join(live.tunnel_conf() + RULES + NESTED) + "\n"
    kw = {"lcores": harness.two_workers()} if request.param == "two" else {}
    g = live.Gateway(extra_conf=conf, eal=["--log-level=*:info"], **kw)
    try:
        yield g
    finally:
        g.kill()


def test_live_bucket_acl_switch(gw):
    log = gw.logs_all()
    assert "spd out: %d IPv4 rules (buckets by destination)" % (FILLERS + 3) in log, log
    assert "spd in: %d IPv4 rules (buckets by source)" % (FILLERS + 3) in log, log
    # S1's better discard overlaps the tunnel's inbound policy: no rule of its own for its SA
    # (lib/spd/spd_sa.h); in S0 it has one. The churn below switches between the two.
    assert "SAs with a rule of their own" not in log, log
    # S1 -> S2 -> S1 -> S0 -> S1 ...
    steps = [LENS_ADD, LENS_DEL, ["sp del to", "sp del ti"], NESTED]
    wan, lan, sent = spd_churn.churn(gw, steps, 60)
    spd_churn.check(wan, lan, sent, 4)
    gw.stop()
