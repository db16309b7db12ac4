# SPDX-License-Identifier: BSD-3-Clause
"""Attack on the SPD's scan of small families (lib/spd/spd_scan.c, commit
48cb79e) switched live: both directions hold 8 IPv4 rules (classified by
scan) and a ninth is added and deleted by `sp add` / `sp del` over and over,
so each publication moves the SPD between the scan and rte_acl while
traffic flows. A catch-all bypass ranks behind every protect rule in both
directions: a verdict from the wrong rule, a stale or a half-built SPD lets
protect-class traffic out on the WAN in clear, or clear traffic of the
tunnel in on the LAN. Run inside a network namespace (netns_run.sh)."""


import pytest

import live
import spd_churn

# 2 + 6 fillers = 8 rules a direction: the scan. The toggled ninth: rte_acl.
FILLERS = 6
RULES = [
    "sp add out priority 2000 src 0.0.0.0/0 dst 0.0.0.0/0 name obyp bypass",
    "sp add in priority 2000 src 0.0.0.0/0 dst 0.0.0.0/0 name ibyp bypass",
] + ["sp add out priority 1500 src 10.1.0.0/24 dst 10.200.%d.0/24 name fo%d discard" % (i, i)
     for i in range(FILLERS)] + \
    ["sp add in priority 1500 src 10.200.%d.0/24 dst 10.1.0.0/24 name fi%d discard" % (i, i)
     for i in range(FILLERS)]
# Better than the tunnel's policies, over half of its selectors: discard, never clear.
NINTH = ["sp add out priority 10 src 10.1.0.0/24 dst 10.3.0.128/25 name to discard",
         "sp add in priority 10 src 10.3.0.128/25 dst 10.1.0.0/24 name ti discard"]


@pytest.fixture(params=["one", "two"])
def gw(request):
    import harness
    g = live.Gateway(lcores=harness.two_workers()) if request.param == "two" else live.Gateway()
    try:
        yield g
    finally:
        g.kill()


def test_live_scan_acl_switch(gw):
    assert gw.ctl.txn(live.tunnel_conf() + RULES)["ok"]
    wan, lan, sent = spd_churn.churn(gw, [NINTH, ["sp del to", "sp del ti"]], 150)
    spd_churn.check(wan, lan, sent, 3)
    gw.stop()
