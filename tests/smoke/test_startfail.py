# SPDX-License-Identifier: BSD-3-Clause
"""A config the devices cannot run fails like a broken one: FILE:LINE: message
naming the object, exit 2, nothing half-started. Nothing of the run is left
on disk either: no EAL runtime directory (/var/run/dpdk/PREFIX), no hugepage
file (PREFIXmap_N), after a failed start as after a clean stop (DPDK leaves
both; espgw removes them, app/espgw/eal_files.h)."""

import os
import re
import time

import pytest

from smoke_util import (MINIMAL_CONF, Gateway, eal_args, hugepage_files, hugepages_free,
                        pcap_vdev, read_pcap_strict, run, runtime_dir, write_file)


def conf_with(workdir, extra="", first=""):
    """minimal.conf (ports net_pcap0/1, two AES-GCM SAs) between first and extra
    lines, 0600."""
    with open(MINIMAL_CONF) as f:
        text = first + f.read() + extra
    path = write_file(workdir, "gw.conf", text)
    os.chmod(path, 0o600)
    return path, text.splitlines()


def line_of(lines, start):
    return next(i for i, l in enumerate(lines, 1) if l.startswith(start))


def pcaps(workdir):
    empty = os.path.join(workdir, "in.pcap")
    with open(empty, "wb") as f:  # a pcap header, no packet
        f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
    return [pcap_vdev(i, empty, os.path.join(workdir, "out%d.pcap" % i)) for i in (0, 1)]


def assert_nothing_left(prefix, outs=()):
    assert not os.path.exists(runtime_dir(prefix)), os.listdir(runtime_dir(prefix))
    assert hugepage_files(prefix) == [], hugepage_files(prefix)
    for o in outs:  # net_pcap makes its output at probe: a header, no packet
        assert not os.path.exists(o) or read_pcap_strict(o) == [], o


def test_missing_port_device(workdir, prefix):
    path, lines = conf_with(workdir)
    vdevs = pcaps(workdir)[:1]  # net_pcap1 missing
    r = run(eal_args(prefix, vdevs) + ["--", "-f", path])
    assert r.returncode == 2, r.stderr
    n = line_of(lines, "port add wan0")
    assert "%s:%d: port wan0: no ethdev named 'net_pcap1'" % (path, n) in r.stderr, r.stderr
    assert "espgw: %s: nothing started" % path in r.stderr, r.stderr
    assert_nothing_left(prefix, [os.path.join(workdir, "out0.pcap")])


def test_missing_crypto_device(workdir, prefix):
    path, lines = conf_with(workdir, "crypto add c9 dev crypto_aesni_mb9\n")
    r = run(eal_args(prefix, pcaps(workdir)) + ["--", "-f", path])
    assert r.returncode == 2, r.stderr
    n = line_of(lines, "crypto add c9")
    assert "%s:%d: crypto c9: no crypto device crypto_aesni_mb9" % (path, n) in r.stderr, \
        r.stderr
    assert_nothing_left(prefix)


def test_algorithm_refused_by_device(workdir, prefix):
    """crypto_null (the only device named, so every SA's) cannot do AES-GCM: the
    first SA's line, its algorithm and the device."""
    path, lines = conf_with(workdir, first="crypto add nul dev crypto_null0\n")
    r = run(eal_args(prefix, pcaps(workdir) + ["crypto_null0"]) + ["--", "-f", path])
    assert r.returncode == 2, r.stderr
    n = line_of(lines, "sa add out-gcm")  # a joined command reports its first line
    assert "%s:%d: sa out-gcm: aes-gcm-128 not supported by crypto device crypto_null0" % (
        path, n) in r.stderr, r.stderr
    assert_nothing_left(prefix, [os.path.join(workdir, "out%d.pcap" % i) for i in (0, 1)])


def test_every_error_has_a_place(workdir, prefix):
    """Each espgw line of a failed start is FILE:LINE: or says what was not started."""
    path, _ = conf_with(workdir)
    r = run(eal_args(prefix, []) + ["--", "-f", path])
    assert r.returncode == 2, r.stderr
    mine = [l for l in r.stderr.splitlines() if l.startswith((path, "espgw:"))]
    assert mine and re.match(re.escape(path) + r":\d+: ", mine[0]), r.stderr
    assert mine[1:] == ["espgw: %s: nothing started" % path], r.stderr


def test_clean_stop_leaves_nothing(gateways, workdir, prefix):
    path, _ = conf_with(workdir)
    gw = Gateway(eal_args(prefix, pcaps(workdir)) + ["--", "-f", path], workdir)
    gateways.append(gw)
    deadline = time.monotonic() + 30
    while not os.path.exists(os.path.join(runtime_dir(prefix), "dpdk_telemetry.v2")):
        assert gw.proc.poll() is None and time.monotonic() < deadline, gw.logs()
        time.sleep(0.1)
    rc, _ = gw.stop(10)
    assert rc == 0, gw.logs()
    assert_nothing_left(prefix)


@pytest.mark.skipif(hugepages_free() < 64, reason="needs 64 free 2 MiB hugepages")
def test_hugepage_files_removed(workdir, prefix):
    """On hugepages: a failed start removes its PREFIXmap_N files (they would keep
    the pages reserved); so does a clean stop (test above, same code path)."""
    path, _ = conf_with(workdir)
    r = run(["-l", "0,1", "-m", "128", "--no-pci", "--file-prefix", prefix, "--",
             "-f", path])
    assert r.returncode == 2, r.stderr
    assert_nothing_left(prefix)
