# SPDX-License-Identifier: BSD-3-Clause
"""espgw's log types (README "Logs"): one rte_log type per module, selected with
EAL's --log-level; and no key, salt or authentication-key bytes in the log,
even with every espgw module at debug through SA add, update and delete."""

from live import Gateway, Key, tunnel_conf, OUT3, IN3, PEER

# A CBC + HMAC SA besides the tunnel's GCM pair: an auth-key in the log too.
CBC_KEY = bytes(range(0xA0, 0xB0))
CBC_AUTH = bytes(range(0xC0, 0xE0))
CBC = ("sa add cbc1 dir out spi 0x5001 mode tunnel local 198.51.100.1 remote %s "
       "cipher aes-cbc-128 key 0x%s auth hmac-sha256-128 auth-key 0x%s"
       % (PEER, CBC_KEY.hex(), CBC_AUTH.hex()))
LIVE = Key(0x6001, 0x60)


def churn(gw):
    """SA add, update and delete through the control socket, one transaction too."""
    gw.ctl.ok(CBC)
    gw.ctl.ok(LIVE.conf("live1", "out"))
    gw.ctl.ok("sa update live1 remote 203.0.113.9")
    gw.ctl.txn(["sa del live1", LIVE.conf("live2", "out")])
    gw.ctl.ok("sa del cbc1")
    gw.ctl.ok("sa del live2")


def run_logged(eal):
    gw = Gateway(extra_conf="\n".join(tunnel_conf()) + "\n", eal=eal)
    try:
        churn(gw)
        gw.stop()
        return gw.logs_all()
    finally:
        gw.kill()


def secrets():
    out = []
    for k in (OUT3, IN3, LIVE):
        out += [k.key, k.salt]
    return out + [CBC_KEY, CBC_AUTH]


def test_module_debug_only_when_raised():
    """espgw.ctl:debug shows the control requests; espgw.sa:debug alone does not,
    but shows the SA lines (info) that *:warning hides."""
    ctl = run_logged(["--log-level=espgw.ctl:debug"])
    assert "espgw.ctl: request: sa add live1" in ctl, ctl
    assert "espgw.ctl: request: sa del cbc1" in ctl, ctl
    assert "espgw.sa: " not in ctl, ctl
    sa = run_logged(["--log-level=espgw.sa:debug"])
    assert "espgw.ctl: request:" not in sa, sa
    assert "espgw.sa: sa live1" in sa, sa


def test_no_key_material_at_debug():
    log = run_logged(["--log-level=espgw.*:debug"])
    assert "espgw.ctl: request: sa update live1" in log, log
    low = log.lower().replace(":", "").replace(" ", "")
    for s in secrets():
        # hex in any case, with or without separators: every 4-byte window of it
        for i in range(0, len(s) - 3):
            assert s[i:i + 4].hex() not in low, "key bytes %s in the log" % s.hex()


# In a private mount namespace: a tmpfs /dev (with null, zero, urandom) whose
# /dev/log is a datagram socket of this test, so nothing of the host's syslog is
# touched and what espgw sends there is read back.
SYSLOG_RUN = r"""
set -e
real=$(mktemp -d "$DIR/dev.XXXX")
mount --bind /dev "$real"
mount -t tmpfs none /dev
for n in null zero urandom random; do touch /dev/$n; mount --bind "$real/$n" /dev/$n; done
"$PY" - "$DIR/syslog" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
s.settimeout(5)
with open(sys.argv[1], "w") as out:
    try:
        while True:
            out.write(s.recv(4096).decode(errors="replace") + "\n")
    except socket.timeout:
        pass
PY
while [ ! -S /dev/log ]; do sleep 0.1; done
timeout -s INT 4 "$ESPGW" -l 0,1 --no-huge -m 256 --no-pci --file-prefix "espgw-syslog-$$" \
    --syslog local3 --vdev net_null0,no-rx=1 --vdev net_null1,no-rx=1 \
    -- -f "$DIR/gw.conf" --ctl-socket none > "$DIR/stderr" 2>&1 || true
wait
"""


def test_syslog_facility():
    """EAL's --syslog FACILITY: espgw's lines reach syslog with that facility
    (local3 = 19: <158> is local3.info) and stderr as well (DPDK 22.11 on Linux
    sends every line to both; without --syslog the facility is daemon)."""
    import os
    import shutil
    import subprocess
    import sys
    import tempfile
    from live import ESPGW
    d = tempfile.mkdtemp(prefix="espgw-syslog-")
    try:
        with open(os.path.join(d, "gw.conf"), "w") as f:
            f.write("port add lan0 dev net_null0 role protected address 10.1.0.1/24\n"
                    "port add wan0 dev net_null1 role unprotected address 198.51.100.1/24\n")
        os.chmod(os.path.join(d, "gw.conf"), 0o600)
        env = dict(os.environ, DIR=d, PY=sys.executable, ESPGW=ESPGW)
        subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", SYSLOG_RUN],
                       env=env, check=True, timeout=60)
        with open(os.path.join(d, "syslog")) as f:
            sys_log = f.read()
        with open(os.path.join(d, "stderr")) as f:
            err = f.read()
        assert "<158>" in sys_log and "espgw.gw: running: 1 workers" in sys_log, sys_log
        assert "espgw.gw: running: 1 workers" in err, err
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_host_neighbor_lines():
    """espgw.host says when a route's next hop is resolved, moves to another
    MAC, or stops answering (with the packets that waited for it)."""
    from scapy.layers.l2 import ARP, Ether
    import time
    import live

    nh, mac, new = "198.51.100.77", "02:00:00:00:02:77", "02:00:00:00:02:ee"
    dead = "198.51.100.253"
    gw = Gateway(extra_conf="\n".join(tunnel_conf()) + "\n",
                 eal=["--log-level=espgw.host:info"])
    try:
        gw.ctl.ok("route add 203.0.113.0/24 via %s port wan0" % nh)
        live.send_lan(gw, range(2))
        gw.wan.drain()
        gw.wan.send(Ether(src=mac, dst=live.WAN_MAC) /
                    ARP(op=2, hwsrc=mac, psrc=nh, hwdst=live.WAN_MAC, pdst=live.WAN))
        assert len(gw.wan.drain(want=2)) >= 2
        time.sleep(1.2)  # past the lock time: news may replace the MAC now
        gw.wan.send(Ether(src=new, dst="ff:ff:ff:ff:ff:ff") /
                    ARP(op=1, hwsrc=new, psrc=nh, pdst=live.WAN))
        gw.wan.drain()
        gw.ctl.ok("route del 203.0.113.0/24")
        gw.ctl.ok("route add 203.0.113.0/24 via %s port wan0" % dead)
        live.send_lan(gw, range(2, 5))
        time.sleep(4.5)  # 3 requests, 1 s apart, then the verdict
        gw.stop()
        logs = gw.logs_all()
    finally:
        gw.kill()
    assert "espgw.host: next hop %s on wan0 resolved: %s" % (nh, mac) in logs, logs[-3000:]
    assert "espgw.host: next hop %s on wan0 moved: %s -> %s" % (nh, mac, new) in logs
    assert ("espgw.host: next hop %s on wan0 unreachable: no answer to 3 requests, "
            "3 packets dropped" % dead) in logs, logs[-3000:]
