# SPDX-License-Identifier: BSD-3-Clause
"""Security review of ca9e90b (espgw --check refuses decrypt any under a set
crypto-path cpu|cryptodev): only a set crypto-path BEFORE the SA is seen
(lib/ctl/store_sa.c sa_check_direct reads the store's global as it is when
the SA is added). The same line after the SA: --check exits 0, start refuses
(lib/sad/sa_rt.c), so a config that passed --check does not start (a reload
validated with --check, or a restart after one, takes the gateway down).
Fixed: set crypto-path checks the SAs already given (espgw_store_sas_fit_path)."""

import harness
from harness import Tunnel


def test_check_refuses_trailing_set_crypto_path():
    t = Tunnel(42, "aes-gcm-128", 4, 4, in_opts="decrypt any")
    conf = harness.base_conf() + t.conf() + ["set crypto-path cpu"]
    with harness.Workdir() as d:
        r = harness.check_conf(conf, d)
    started = True
    try:
        harness.run_two_queues(conf, start_timeout=20, timeout=5)
    except harness.GatewayError:
        started = False
    assert started or r.returncode != 0, (
        "espgw --check exits %d on decrypt any followed by 'set crypto-path cpu', "
        "which start refuses" % r.returncode)
