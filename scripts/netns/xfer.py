#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Data across the tunnel, checked end to end (run inside the namespaces; needs
nothing but python3). Each side prints one JSON line with what it sent or
received, so that the caller compares the SHA-256 of both ends.

  xfer.py tcp-recv ADDR PORT               accept one connection, read to EOF
  xfer.py tcp-send ADDR PORT BYTES SEED    connect, send BYTES of data made from SEED
  xfer.py udp-recv ADDR PORT TIMEOUT       wait for one datagram
  xfer.py udp-send ADDR PORT BYTES SEED DF send one datagram; DF: set | clear | kernel

The receivers print {"ready": true} once they listen. The data is a
pseudo-random stream (SHA-256 in counter mode over SEED): incompressible, and
anyone who knows SEED can look for pieces of it elsewhere (in a capture).
"""

import hashlib
import json
import socket
import sys
import time

CHUNK = 65536
IDLE_S = 30  # a side that hears nothing for this long gives up (TimeoutError)
# linux/in.h: IP_MTU_DISCOVER values (python's socket module lacks some of them).
IP_MTU_DISCOVER = 10
IP_PMTUDISC_DONT, IP_PMTUDISC_DO = 0, 2
IPV6_MTU_DISCOVER = 23


def stream(seed, nbytes):
    """The data of SEED, CHUNK bytes at a time."""
    block, i, left = b"", 0, nbytes
    while left > 0:
        while len(block) < min(CHUNK, left):
            block += hashlib.sha256(b"%s:%d" % (seed.encode(), i)).digest()
            i += 1
        yield block[:min(CHUNK, left)]
        block, left = block[min(CHUNK, left):], left - min(CHUNK, left)


def data(seed, nbytes):
    return b"".join(stream(seed, nbytes))


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def report(**kw):
    print(json.dumps(kw), flush=True)


def tcp_recv(addr, port):
    srv = socket.socket(family(addr), socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, int(port)))
    srv.listen(1)
    srv.settimeout(IDLE_S)
    report(ready=True)
    conn, peer = srv.accept()
    conn.settimeout(IDLE_S)
    h, n, t0 = hashlib.sha256(), 0, time.monotonic()
    while True:
        b = conn.recv(CHUNK)
        if not b:
            break
        h.update(b)
        n += len(b)
    report(bytes=n, sha256=h.hexdigest(), seconds=time.monotonic() - t0, peer=peer[0])


def tcp_send(addr, port, nbytes, seed):
    s = socket.create_connection((addr, int(port)), timeout=IDLE_S)
    h, t0 = hashlib.sha256(), time.monotonic()
    for b in stream(seed, int(nbytes)):
        s.sendall(b)
        h.update(b)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)  # the receiver's close: everything arrived
    dt = time.monotonic() - t0
    mss = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
    report(bytes=int(nbytes), sha256=h.hexdigest(), seconds=dt,
           mbit_s=int(nbytes) * 8 / dt / 1e6, mss=mss)


def udp_recv(addr, port, timeout):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    s.settimeout(float(timeout))
    report(ready=True)
    try:
        b, peer = s.recvfrom(65536)
    except socket.timeout:
        report(bytes=0, sha256=None, timeout=True)
        return
    report(bytes=len(b), sha256=hashlib.sha256(b).hexdigest(), peer=peer[0])


def udp_send(addr, port, nbytes, seed, df):
    fam = family(addr)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if df != "kernel":
        val = IP_PMTUDISC_DO if df == "set" else IP_PMTUDISC_DONT
        if fam == socket.AF_INET:
            s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, val)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, val)
    b = data(seed, int(nbytes))
    s.sendto(b, (addr, int(port)))
    report(bytes=len(b), sha256=hashlib.sha256(b).hexdigest())


COMMANDS = {
    "tcp-recv": (tcp_recv, 2), "tcp-send": (tcp_send, 4),
    "udp-recv": (udp_recv, 3), "udp-send": (udp_send, 5),
}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS or len(argv) - 2 != COMMANDS[argv[1]][1]:
        sys.exit(__doc__)
    COMMANDS[argv[1]][0](*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
