# SPDX-License-Identifier: BSD-3-Clause
"""Client of a running espgw's DPDK telemetry (the v2 socket: SOCK_SEQPACKET,
one JSON reply per command), shared by the benchmark, the netns topology and
the test harnesses. Standard library only."""

import json
import os
import socket


def runtime_dir(prefix):
    """Where DPDK's EAL keeps the files of a --file-prefix (eal_create_runtime_dir)."""
    base = "/var/run" if os.getuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp")
    return os.path.join(base, "dpdk", prefix)


class Telemetry:
    """One connection to the telemetry socket of the espgw running with prefix."""

    def __init__(self, prefix):
        self.path = os.path.join(runtime_dir(prefix), "dpdk_telemetry.v2")
        self.sock = None

    def connect(self):
        """True once connected (the greeting read); False while there is no socket."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            s.connect(self.path)
            s.settimeout(5)
            json.loads(s.recv(16384).decode())
        except (OSError, ValueError):
            s.close()
            return False
        self.sock = s
        return True

    def query(self, cmd):
        """The reply's value; None for an unknown command or a null reply (espgw
        answers null once it stops). Raises OSError when the socket fails."""
        self.sock.send(cmd.encode())
        reply = json.loads(self.sock.recv(1 << 20).decode())
        return reply.get(cmd.split(",")[0]) if isinstance(reply, dict) else None

    def try_query(self, cmd):
        """query(), connecting first when needed; None while espgw is not (or no
        longer) there."""
        try:
            if self.sock is None and not self.connect():
                return None
            return self.query(cmd)
        except (OSError, ValueError):
            self.close()
            return None

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
