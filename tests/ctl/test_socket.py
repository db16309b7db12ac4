# SPDX-License-Identifier: BSD-3-Clause
"""The control socket under abuse (issue 11): who may connect (SO_PEERCRED,
--ctl-group), 64 clients at once, a request of 1 MiB without a newline, a
client that never reads its replies, garbage bytes. Each is refused or cut
off and counted, and meanwhile the gateway keeps forwarding and answering
the other clients. Runs inside its own network namespace (netns_run.sh)."""

import os
import shutil
import subprocess
import time

import pytest

import live
from live import Ctl, Gateway

CLIENT = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
try:
    s.connect(sys.argv[1])
    try:
        s.sendall(b"hello\\n")
    except BrokenPipeError:
        pass  # refused before our request arrived: the reason waits to be read
    print(s.recv(4096).decode().strip())
except OSError as e:
    print("OSError", e.errno)
"""


@pytest.fixture
def gw():
    g = Gateway(ctl_group="daemon", extra_conf="\n".join([
        live.Key(0x3001, 0x30).conf("out3", "out"),
        "sp add out src 10.1.0.0/24 dst 10.3.0.0/24 protect out3", ""]))
    try:
        yield g
    finally:
        g.kill()


def as_user(gw, *setpriv):
    """hello from a client run as another user: its first reply line."""
    os.chmod(gw.dir, 0o755)  # the socket's directory must be reachable
    r = subprocess.run(["setpriv", *setpriv, "/usr/bin/python3", "-c", CLIENT, gw.sock],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def forwards(gw, first, n=20):
    """n packets of the protect policy go out encrypted, none lost."""
    live_idx = range(first, first + n)
    for i in live_idx:
        gw.lan.send(live.lan_frame(i))
    out = gw.wan.drain(want=n)
    assert sorted(live.decrypt_all(out, [live.Key(0x3001, 0x30)])) == list(live_idx)


def ctl_counters(gw):
    return gw.ctl.ok("show ctl")["ctl"]


def test_credentials(gw):
    ok = as_user(gw, "--reuid=nobody", "--regid=daemon", "--clear-groups")
    assert '"ok":true' in ok and '"api":1' in ok, ok
    # In the group by a supplementary id only for the file system, not for
    # espgw: primary nogroup, and nobody is no member of daemon.
    bad = as_user(gw, "--reuid=nobody", "--regid=nogroup", "--groups=daemon")
    assert bad == '{"ok":false,"error":"permission denied: root or the control group only"}', bad
    # espgwctl says why, even when espgw refused it before its request arrived
    # (its send then fails: the reason waits to be read).
    ctl = os.path.join(gw.dir, "espgwctl")  # where nobody may run it (the tree may be in /root)
    shutil.copy(os.environ["ESPGWCTL"], ctl)
    os.chmod(ctl, 0o755)
    for _ in range(20):
        r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--groups=daemon",
                            ctl, "-s", gw.sock, "hello"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and "permission denied" in r.stderr, (r.returncode, r.stderr)
    # Neither: the socket's mode (0660 root:daemon) already keeps it out.
    assert as_user(gw, "--reuid=nobody", "--regid=nogroup", "--clear-groups") == "OSError 13"
    assert ctl_counters(gw)["refused_cred"] == 21
    assert oct(os.stat(gw.sock).st_mode & 0o777) == "0o660"
    forwards(gw, 0)
    gw.stop()


def test_64_clients(gw):
    clients = [Ctl(gw.sock) for _ in range(63)]  # and gw.ctl: 64
    for c in clients:
        assert c.request("hello")["ok"]
    extra = Ctl(gw.sock)
    assert extra.line() == {"ok": False, "error": "too many clients (64)"}
    with pytest.raises((EOFError, OSError)):
        extra.request("hello")
    forwards(gw, 0)
    clients.pop().close()
    time.sleep(0.1)
    again = Ctl(gw.sock)
    assert again.request("hello")["ok"]
    assert ctl_counters(gw)["refused_full"] == 1
    for c in clients + [again]:
        c.close()
    gw.stop()


def test_huge_request(gw):
    c = Ctl(gw.sock)
    try:
        c.s.sendall(b"x" * (1 << 20))
    except OSError:
        pass  # cut off while sending: as good
    r = c.line()
    assert r == {"ok": False,
                 "error": "request longer than 4096 bytes: closing the connection"}, r
    with pytest.raises((EOFError, OSError)):
        c.request("hello")
    assert ctl_counters(gw)["too_long"] == 1
    forwards(gw, 0)
    # 4095 bytes and the newline: the longest request, answered.
    r = gw.ctl.request("show sa " + "a" * 4087)
    assert r == {"ok": False, "error": "SA %s does not exist" % ("a" * 31)}, r
    gw.stop()


def test_client_that_never_reads(gw):
    c = Ctl(gw.sock)
    c.s.setblocking(False)
    sent = 0
    end = time.time() + 20
    try:
        while time.time() < end:
            sent += c.s.send(b"show stats\n" * 512)
    except (BlockingIOError, BrokenPipeError, ConnectionResetError):
        pass
    # Once over 1 MiB of replies waits unread, the server cuts it off.
    end = time.time() + 20
    while time.time() < end and ctl_counters(gw)["slow_reader"] == 0:
        time.sleep(0.1)
    assert ctl_counters(gw)["slow_reader"] == 1
    assert gw.ctl.request("hello")["ok"]
    forwards(gw, 0)
    c.close()
    gw.stop()


def test_garbage(gw):
    c = Ctl(gw.sock)
    r = c.request("sa\x01add")
    assert r == {"ok": False, "error": "request holds control bytes"}, r
    assert c.request("frobnicate now") == {
        "ok": False, "error": "unknown command 'frobnicate'"}
    assert c.request("commit") == {"ok": False, "error": "no transaction is open (begin first)"}
    assert c.request("hello")["ok"]
    c.close()
    assert ctl_counters(gw)["bad_bytes"] == 1
    forwards(gw, 0)
    gw.stop()
