# SPDX-License-Identifier: BSD-3-Clause
"""scripts/bench.sh --smoke keeps working: every scenario runs once (sizes
rotating over the scenarios) for about a second, crypto-perf gives each crypto
scenario its limit, and the table, JSON and plot are written and well formed.
No speed is asserted: only that packets went through, and through the SAs the
scenario says (all of them encrypted or decrypted, none for bypass).

With ESPGW_SECGW=/path/to/ipsec-secgw in the environment the run also
includes --vs-secgw, with ESPGW_BASE=/path/to/another/espgw --vs-espgw (each
makes the run about one smoke run longer)."""

import json
import os
import subprocess
import sys

import pytest

SRC = os.environ.get("ESPGW_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(SRC, "scripts", "bench"))

import scenarios as S  # noqa: E402

ESPGW = os.environ.get("ESPGW", "")
SECGW = os.environ.get("ESPGW_SECGW", "")
BASE = os.environ.get("ESPGW_BASE", "")
ESPGWS = ("espgw", "espgw-base")  # the implementations with espgw's own counters
pytestmark = pytest.mark.skipif(not ESPGW, reason="ESPGW not set")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    cmd = [os.path.join(SRC, "scripts", "bench.sh"), "--smoke", "--espgw", ESPGW,
           "--out", str(out)]
    if SECGW:
        cmd += ["--vs-secgw", SECGW]
    if BASE:
        cmd += ["--vs-espgw", BASE]
    p = subprocess.run(cmd, capture_output=True, text=True,
                       timeout=280 * (1 + bool(SECGW) + bool(BASE)), stdin=subprocess.DEVNULL)
    with open(os.path.join(str(out), "results.json")) as f:
        doc = json.load(f)
    return p, out, doc


def test_exit_status(smoke):
    p, _, _ = smoke
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]


def test_every_scenario_once(smoke):
    _, _, doc = smoke
    rows = [r for r in doc["rows"] if r["impl"] == "espgw"]
    assert [r["scenario"] for r in rows] == [s.name for s in S.SCENARIOS]
    assert {r["size"] for r in rows} == set(S.SIZES)
    assert doc["smoke"] is True and doc["settings"]["reps"] == 1


def test_every_point_sent_packets(smoke):
    _, _, doc = smoke
    impls = {"espgw"} | ({"ipsec-secgw"} if SECGW else set()) | ({"espgw-base"} if BASE else set())
    assert {r["impl"] for r in doc["rows"]} == impls
    for r in doc["rows"]:
        assert r["failed_reps"] == 0, r["scenario"]
        assert r["mpps"]["min"] > 0, r["scenario"]
        assert r["runs"][0]["packets"] > 0
        assert r["gbps"]["median"] > 0


def test_packets_went_through_the_sas(smoke):
    _, _, doc = smoke
    for r in doc["rows"]:
        if r["impl"] not in ESPGWS:
            continue
        share = r["sa_share"]["median"]
        if r["transform"]:
            assert share == pytest.approx(1.0, abs=0.01), r["scenario"]
        else:
            assert share == 0, r["scenario"]


def test_crypto_limit_and_ratio(smoke):
    _, _, doc = smoke
    for r in doc["rows"]:
        if r["transform"]:
            assert r["limit_mops"]["median"] > 0, r["scenario"]
            assert r["ratio_to_limit"]["median"] == pytest.approx(
                r["mpps"]["median"] / r["limit_mops"]["median"], rel=1e-6)
        else:
            assert r["limit_mops"] is None and r["ratio_to_limit"] is None


def test_cycles_and_tsc(smoke):
    _, _, doc = smoke
    assert doc["tsc_hz"] and doc["tsc_hz"] > 1e8
    for r in doc["rows"]:
        if r["impl"] in ESPGWS:
            assert r["cycles_per_pkt"]["median"] > 0, r["scenario"]
        assert r["oncpu_cycles_per_pkt"]["median"] > 0, r["scenario"]
        assert 0 < r["cpu_share"]["median"] <= 1.05, r["scenario"]


def test_vs_base(smoke):
    _, _, doc = smoke
    base = {r["scenario"]: r for r in doc["rows"] if r["impl"] == "espgw-base"}
    for r in doc["rows"]:
        if r["impl"] != "espgw":
            assert r["vs_base"] is None
        elif not BASE:
            assert r["vs_base"] is None and not base
        else:  # one repetition: the ratio of the two runs
            assert r["vs_base"]["median"] == pytest.approx(
                r["mpps"]["median"] / base[r["scenario"]]["mpps"]["median"], rel=1e-6)
    assert doc["espgw_base"] == (os.path.abspath(BASE) if BASE else None)


def test_table(smoke):
    _, out, doc = smoke
    with open(os.path.join(str(out), "results.txt")) as f:
        lines = f.read().splitlines()
    assert lines[0].split()[:4] == ["scenario", "impl", "size", "Mpps"]
    body = lines[2:2 + len(doc["rows"])]
    for r, ln in zip(doc["rows"], body):
        assert ln.split()[:3] == [r["scenario"], r["impl"], r["size"]]
        assert "FAILED" not in ln
    assert any("replay" in ln for ln in lines), "the inbound replay setting is stated"


def test_plot(smoke):
    _, out, _ = smoke
    pytest.importorskip("matplotlib")
    with open(os.path.join(str(out), "results.png"), "rb") as f:
        head = f.read(8)
    assert head == b"\x89PNG\r\n\x1a\n"


def test_pgo_use_builds_without_profiles(tmp_path):
    """scripts/pgo.sh's last build: with -Db_pgo=use, files that training
    left without a profile (the tools, the tests, here all of them) still
    build under -Werror, optimised as without PGO, not for size
    (-fprofile-partial-training), and without value profiles (meson.build
    says why)."""
    d = tmp_path / "pgo-use"
    p = subprocess.run(["meson", "setup", "--buildtype=release", "-Dtests=false",
                        "-Db_pgo=use", str(d), SRC], capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-4000:]
    p = subprocess.run(["ninja", "-C", str(d), "lib/spd/libespgw_spd.a"], capture_output=True,
                       text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout[-4000:]
    with open(d / "compile_commands.json") as f:
        cmds = [c["command"] for c in json.load(f) if c["file"].endswith("spd_bucket.c")]
    assert cmds
    for flag in ("-fprofile-use", "-fprofile-partial-training", "-fno-profile-values",
                 "-fno-vpt"):
        assert flag in cmds[0].split(), flag
