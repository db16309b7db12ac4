#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Data across the tunnel, checked end to end (run inside the namespaces; needs
nothing but python3). Each side prints one JSON line with what it sent or
received, so that the caller compares the SHA-256 of both ends.

  xfer.py tcp-recv ADDR PORT               accept one connection, read to EOF
  xfer.py tcp-send ADDR PORT BYTES SEED    connect, send BYTES of data made from SEED
  xfer.py udp-recv ADDR PORT TIMEOUT       wait for one datagram
  xfer.py udp-send ADDR PORT BYTES SEED DF send one datagram; DF: set | clear | kernel
  xfer.py tcp-flows-recv ADDR PORT FLOWS   accept FLOWS connections at once, read each to EOF
  xfer.py tcp-flows-send ADDR PORT FLOWS BYTES SEED
                                           FLOWS concurrent connections (each its own
                                           source port), BYTES of data of SEED:i on the i-th
  xfer.py udp-flows-recv ADDR PORT COUNT TIMEOUT
                                           receive COUNT datagrams (or until TIMEOUT s of
                                           silence)
  xfer.py udp-flows-send ADDR PORT FLOWS COUNT BYTES SEED
                                           COUNT rounds of one DF datagram of BYTES from
                                           each of FLOWS sockets (source ports)

The receivers print {"ready": true} once they listen. The flows commands report
what is independent of the order of arrival: the sorted SHA-256 of each
connection, or one SHA-256 over the sorted SHA-256 of every datagram. The data is a
pseudo-random stream (SHA-256 in counter mode over SEED): incompressible, and
anyone who knows SEED can look for pieces of it elsewhere (in a capture).
"""

import hashlib
import json
import socket
import sys
import threading
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
    t0 = time.monotonic()
    n, digest = drain(conn)
    report(bytes=n, sha256=digest, seconds=time.monotonic() - t0, peer=peer[0])


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


def drain(conn):
    """Bytes read from conn until the peer closes, and their SHA-256."""
    h, n = hashlib.sha256(), 0
    conn.settimeout(IDLE_S)
    while True:
        b = conn.recv(CHUNK)
        if not b:
            break
        h.update(b)
        n += len(b)
    return n, h.hexdigest()


def tcp_drain(conn, out, i):
    out[i] = drain(conn)
    conn.close()


def run_threads(target, args_list):
    threads = [threading.Thread(target=target, args=a) for a in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def tcp_flows_recv(addr, port, flows):
    flows = int(flows)
    srv = socket.socket(family(addr), socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, int(port)))
    srv.listen(flows)
    srv.settimeout(IDLE_S)
    report(ready=True)
    conns = [srv.accept() for _ in range(flows)]
    out = [None] * flows
    run_threads(tcp_drain, [(c, out, i) for i, (c, _) in enumerate(conns)])
    report(flows=flows, bytes=sum(n for n, _ in out), sha256=sorted(h for _, h in out),
           src_ports=len({p[1] for _, p in conns}))


def tcp_flow_send(addr, port, nbytes, seed, out, i):
    s = socket.create_connection((addr, int(port)), timeout=IDLE_S)
    h = hashlib.sha256()
    for b in stream(seed, nbytes):
        s.sendall(b)
        h.update(b)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    out[i] = (s.getsockname()[1], h.hexdigest())
    s.close()


def tcp_flows_send(addr, port, flows, nbytes, seed):
    flows, nbytes, out = int(flows), int(nbytes), [None] * int(flows)
    t0 = time.monotonic()
    run_threads(tcp_flow_send, [(addr, port, nbytes, "%s:%d" % (seed, i), out, i)
                                for i in range(flows)])
    if None in out:
        sys.exit("a connection failed")
    report(flows=flows, bytes=flows * nbytes, sha256=sorted(h for _, h in out),
           src_ports=len({p for p, _ in out}), seconds=time.monotonic() - t0)


def digest_of(hashes):
    return hashlib.sha256(b"".join(sorted(hashes))).hexdigest()


def udp_flows_recv(addr, port, count, timeout):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((addr, int(port)))
    s.settimeout(float(timeout))
    report(ready=True)
    hashes, ports = [], set()
    while len(hashes) < int(count):
        try:
            b, peer = s.recvfrom(65536)
        except socket.timeout:
            break
        hashes.append(hashlib.sha256(b).digest())
        ports.add(peer[1])
    report(datagrams=len(hashes), digest=digest_of(hashes), src_ports=len(ports))


def udp_flows_send(addr, port, flows, count, nbytes, seed):
    fam, socks, hashes = family(addr), [], []
    for _ in range(int(flows)):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET:
            s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_MTU_DISCOVER, IP_PMTUDISC_DO)
        s.connect((addr, int(port)))
        socks.append(s)
    for j in range(int(count)):
        for i, s in enumerate(socks):
            b = data("%s:%d:%d" % (seed, i, j), int(nbytes))
            s.send(b)
            hashes.append(hashlib.sha256(b).digest())
        time.sleep(0.02)  # a round at a time: no queue on the way overflows
    report(datagrams=len(hashes), digest=digest_of(hashes),
           src_ports=len({s.getsockname()[1] for s in socks}))


COMMANDS = {
    "tcp-recv": (tcp_recv, 2), "tcp-send": (tcp_send, 4),
    "udp-recv": (udp_recv, 3), "udp-send": (udp_send, 5),
    "tcp-flows-recv": (tcp_flows_recv, 3), "tcp-flows-send": (tcp_flows_send, 5),
    "udp-flows-recv": (udp_flows_recv, 4), "udp-flows-send": (udp_flows_send, 6),
}


def main(argv):
    if len(argv) < 2 or argv[1] not in COMMANDS or len(argv) - 2 != COMMANDS[argv[1]][1]:
        sys.exit(__doc__)
    COMMANDS[argv[1]][0](*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
