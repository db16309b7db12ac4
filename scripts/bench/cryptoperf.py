# SPDX-License-Identifier: BSD-3-Clause
"""The crypto limit: dpdk-test-crypto-perf (throughput test) with the same
crypto_aesni_mb PMD, on the same worker lcore (EAL -l 0,1), for the same
transform and the same cipher lengths the gateway processes.

The buffer size of each frame size is the ESP payload the cipher sees (inner
packet + padding + 2, aligned; scenarios.cipher_len). For CBC+HMAC crypto-perf
authenticates the buffer only, 24 bytes fewer than ESP (header and IV): the
limit is slightly optimistic there. The IMIX limit is the rate at which the
device finishes the 7:4:1 mix: 12 / (7/r64 + 4/r570 + 1/r1518).
"""

import shutil
import subprocess
import uuid

import runner
import scenarios as S

CPERF = "dpdk-test-crypto-perf"


def buffer_sizes(t, sizes):
    """{frame size: cipher length} for every frame size the size names need."""
    out = {}
    for s in sizes:
        for f, _ in S.size_mix(s):
            out[f] = S.cipher_len(t, f)
    return out


def command(t, op, buffers, total_ops, prefix, exe=CPERF):
    if t.cperf_op == "aead":
        opargs = ["--optype", "aead", "--aead-op", op]
    elif t.cperf_op == "auth-only":
        # verify needs a test vector file in crypto-perf: generate both ways
        # (the same HMAC; the receiver's compare is in the gateway's cost).
        opargs = ["--optype", "auth-only", "--auth-op", "generate"]
    else:
        gen = "generate" if op == "encrypt" else "verify"
        order = "cipher-then-auth" if op == "encrypt" else "auth-then-cipher"
        opargs = ["--optype", order, "--cipher-op", op, "--auth-op", gen]
    return ([exe, "-l", runner.LCORES] + runner.EAL_MEM
            + ["--file-prefix", prefix, "--vdev", "crypto_aesni_mb", "--log-level=*:error",
               "--", "--ptest", "throughput", "--devtype", "crypto_aesni_mb"]
            + opargs + list(t.cperf) + ["--buffer-sz", ",".join(str(b) for b in buffers),
                                        "--total-ops", str(total_ops), "--burst-sz", "32",
                                        "--csv-friendly"])


def parse(text):
    """{buffer size: Mops} from crypto-perf's --csv-friendly throughput lines
    (lcore,buffer,burst,enqueued,dequeued,failed enq,failed deq,Mops,Gbps,cycles)."""
    out = {}
    for line in text.splitlines():
        f = line.strip().split(",")
        if len(f) != 10 or not f[0].isdigit():
            continue
        if int(f[3]) == 0 or int(f[4]) != int(f[3]):
            raise ValueError("crypto-perf: not every operation completed: %s" % line)
        out[int(f[1])] = float(f[7])
    return out


def mix_limit(size, mops_by_frame):
    """Mops of a size name from Mops per frame size (harmonic for a mix)."""
    mix = S.size_mix(size)
    return sum(w for _, w in mix) / sum(w / mops_by_frame[f] for f, w in mix)


def run(t, op, sizes, total_ops, log_path):
    """{size name: Mops} for transform t and op ('encrypt' or 'decrypt')."""
    bufs = buffer_sizes(t, sizes)
    prefix = "espgw-bench-cperf-%s" % uuid.uuid4().hex[:8]
    cmd = command(t, op, sorted(set(bufs.values())), total_ops, prefix)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                           stdin=subprocess.DEVNULL)
    finally:
        shutil.rmtree(runner.runtime_dir(prefix), ignore_errors=True)
    with open(log_path, "w") as f:
        f.write("# " + " ".join(cmd) + "\n" + p.stdout + p.stderr)
    mops = parse(p.stdout)
    missing = [b for b in bufs.values() if b not in mops]
    if p.returncode != 0 or missing:
        raise runner.RunError("crypto-perf %s %s failed (status %d, missing %s); see %s"
                              % (t.name, op, p.returncode, missing, log_path))
    by_frame = {f: mops[b] for f, b in bufs.items()}
    return {s: mix_limit(s, by_frame) for s in sizes}
