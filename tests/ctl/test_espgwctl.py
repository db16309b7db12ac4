# SPDX-License-Identifier: BSD-3-Clause
"""espgwctl against a fake espgw control socket (protocol version 1).

The fake server is a thread on an AF_UNIX socket in a temporary directory: it
records every request line and answers from a canned table, so each test
states exactly what espgw said and asserts exactly what espgwctl printed,
sent and returned. Usage: test_espgwctl.py PATH_TO_ESPGWCTL
"""

import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

ESPGWCTL = None  # set from argv in __main__
TIMEOUT = 20     # seconds for any one espgwctl run


class FakeEspgw:
    """Accepts one connection; answer(request) gives the bytes to send back,
    or None to close the connection without a reply."""

    def __init__(self, path, answer):
        self.path = path
        self.answer = answer
        self.requests = []
        self.conn = None
        self.monitoring = threading.Event()
        self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.lsock.bind(path)
        self.lsock.listen(1)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            self.conn, _ = self.lsock.accept()
        except OSError:
            return  # closed before anyone connected
        with self.conn.makefile("rb") as lines:
            for raw in lines:
                req = raw.decode()
                self.requests.append(req[:-1] if req.endswith("\n") else req)
                out = self.answer(self.requests[-1])
                if out is None:
                    break
                self.conn.sendall(out)
                if self.requests[-1] == "monitor":
                    self.monitoring.set()
                    return  # the test writes the events itself
        self.conn.close()

    def push(self, line):
        self.conn.sendall(line.encode() + b"\n")

    def close(self):
        # shutdown() wakes a thread blocked in accept() or recv(); either side
        # may have closed already.
        for s in (self.conn, self.lsock):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except (OSError, AttributeError):
                pass
            if s is not None:
                s.close()
        self.thread.join(5)


def reply(obj):
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


def table(replies):
    """answer() from {request: reply object}; anything else is {"ok":true}."""
    def answer(req):
        r = replies.get(req, {"ok": True})
        return r if isinstance(r, bytes) or r is None else reply(r)
    return answer


class CtlTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.sock = os.path.join(self.tmp.name, "espgw.sock")
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.close()
        self.tmp.cleanup()

    def serve(self, replies):
        answer = replies if callable(replies) else table(replies)
        self.server = FakeEspgw(self.sock, answer)
        return self.server

    def ctl(self, *args, stdin=None, env=None, sock=True):
        argv = [ESPGWCTL] + (["-s", self.sock] if sock else []) + list(args)
        e = dict(os.environ)
        e.pop("ESPGW_CTL_SOCKET", None)
        e.update(env or {})
        return subprocess.run(argv, input=stdin, capture_output=True, text=True,
                              env=e, timeout=TIMEOUT)

    def assertRun(self, r, rc, out="", err=""):
        self.assertEqual((r.returncode, r.stdout, r.stderr), (rc, out, err))

    def write(self, name, text):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path


class TestRequests(CtlTest):
    def test_hello_prints_fields(self):
        srv = self.serve({"hello": {"ok": True, "api": 1, "version": "espgw 0.1.0"}})
        self.assertRun(self.ctl("hello"), 0, "api: 1\nversion: espgw 0.1.0\n")
        self.assertEqual(srv.requests, ["hello"])

    def test_hello_json_is_the_reply_line(self):
        line = b'{"ok": true, "api": 1, "version": "espgw 0.1.0"}\n'
        self.serve({"hello": line})
        self.assertRun(self.ctl("--json", "hello"), 0, line.decode())

    def test_words_joined_and_ok_prints_nothing(self):
        srv = self.serve({})
        self.assertRun(self.ctl("sa", "del", "ab4"), 0)
        self.assertEqual(srv.requests, ["sa del ab4"])

    def test_alloc_spi_prints_spi(self):
        self.serve({"sa alloc-spi": {"ok": True, "spi": 4097}})
        self.assertRun(self.ctl("sa", "alloc-spi"), 0, "spi: 0x1001\n")

    def test_string_escapes(self):
        self.serve({"hello": b'{"ok":true,"v":"a\\"b\\\\c\\/d\\u0041\\u00e9\\tx"}\n'})
        self.assertRun(self.ctl("hello"), 0, 'v: a"b\\c/dA?\tx\n')

    def test_error_reply_exits_2(self):
        srv = self.serve({"sa del nope": {"ok": False, "error": "SA nope does not exist"}})
        self.assertRun(self.ctl("sa", "del", "nope"), 2, err="espgwctl: SA nope does not exist\n")
        self.assertEqual(srv.requests, ["sa del nope"])

    def test_error_reply_json_exits_2(self):
        self.serve({"sa del nope": {"ok": False, "error": "SA nope does not exist"}})
        self.assertRun(self.ctl("--json", "sa", "del", "nope"), 2,
                       err="espgwctl: SA nope does not exist\n")


class TestShow(CtlTest):
    SA = {"ok": True, "sa": [
        {"name": "out1", "dir": "out", "spi": 4096, "esn": True, "peer": None,
         "ports": ["wan0", "wan1"]},
        {"name": "in1-long-name", "dir": "in", "spi": 4097, "esn": False, "peer": "192.0.2.2",
         "ports": [], "owner": 2},
    ]}

    def test_table(self):
        self.serve({"show sa": self.SA})
        self.assertRun(self.ctl("show", "sa"), 0,
                       "name           dir  spi     esn  peer       ports      owner\n"
                       "out1           out  0x1000  yes  -          wan0,wan1  -\n"
                       "in1-long-name  in   0x1001  no   192.0.2.2  -          2\n")

    def test_json_passthrough(self):
        line = reply(self.SA)
        self.serve({"show sa out1": line})
        self.assertRun(self.ctl("--json", "show", "sa", "out1"), 0, line.decode())

    def test_json_after_the_command(self):
        """show sa NAME --json, as the issue writes it: the same request and output."""
        line = reply(self.SA)
        self.serve({"show sa out1": line})
        self.assertRun(self.ctl("show", "sa", "out1", "--json"), 0, line.decode())

    def test_empty(self):
        self.serve({"show neighbor": {"ok": True, "neighbor": []}})
        self.assertRun(self.ctl("show", "neighbor"), 0, "no neighbor\n")

    def test_stats_drops_filtered(self):
        stats = {"ok": True, "stats": {
            "rx": 10, "tx": 8,
            "drops": {"no_sa": 0, "replay": 2, "auth": 0, "ttl": 1},
            "ports": {"wan0": {"rx": 5, "drops": {"nombuf": 0, "full": 0}}},
            "workers": [{"lcore": 1, "rx": 4, "sa": {}}],
        }}
        self.serve({"show stats": stats})
        self.assertRun(self.ctl("show", "stats"), 0,
                       "rx: 10\ntx: 8\n"
                       "drops:\n  replay: 2\n  ttl: 1\n"
                       "ports:\n  wan0:\n    rx: 5\n    drops: none\n"
                       "workers:\n  0:\n    lcore: 1\n    rx: 4\n    sa: -\n")

    def test_stats_all_drops_zero(self):
        self.serve({"show stats": {"ok": True, "stats": {"rx": 0, "drops": {"a": 0, "b": 0}}}})
        self.assertRun(self.ctl("show", "stats"), 0, "rx: 0\ndrops: none\n")

    def test_list_of_non_objects_is_malformed(self):
        self.serve({"show sa": {"ok": True, "sa": [1, 2]}})
        self.assertRun(self.ctl("show", "sa"), 1, err="espgwctl: malformed reply from espgw\n")

    def test_hostile_table_is_malformed(self):
        """Review finding: one row of 40,000 keys and 40,000 empty rows made the
        table printer quadratic in time and allocate 1.6e9 cells. More than 64
        columns (or 4 Mi cells) is no table of espgw's: refused at once."""
        row = {"k%d" % i: 1 for i in range(40000)}
        self.serve({"show sa": {"ok": True, "sa": [row] + [{}] * 39999}})
        t0 = time.monotonic()
        self.assertRun(self.ctl("show", "sa"), 1, err="espgwctl: malformed reply from espgw\n")
        self.assertLess(time.monotonic() - t0, 5)

    def test_64_columns_are_a_table(self):
        self.serve({"show sa": {"ok": True, "sa": [{"c%d" % i: i for i in range(64)}]}})
        self.assertEqual(self.ctl("show", "sa").returncode, 0)


class TestConnection(CtlTest):
    def test_no_server(self):
        self.assertRun(self.ctl("hello"), 1,
                       err="espgwctl: cannot connect to %s: No such file or directory\n"
                       % self.sock)

    def test_socket_from_environment(self):
        srv = self.serve({"hello": {"ok": True}})
        self.assertRun(self.ctl("hello", sock=False, env={"ESPGW_CTL_SOCKET": self.sock}), 0)
        self.assertEqual(srv.requests, ["hello"])

    def test_option_beats_environment(self):
        srv = self.serve({"hello": {"ok": True}})
        other = os.path.join(self.tmp.name, "other.sock")
        self.assertRun(self.ctl("hello", env={"ESPGW_CTL_SOCKET": other}), 0)
        self.assertEqual(srv.requests, ["hello"])

    def test_close_without_reply(self):
        self.serve({"hello": None})
        self.assertRun(self.ctl("hello"), 1,
                       err="espgwctl: %s closed the connection without replying\n" % self.sock)

    def test_malformed_replies(self):
        for bad in [b"not json\n", b'{"ok":true\n', b'{"ok":1}\n', b'{"ok":false}\n',
                    b'{"ok":true} x\n', b"[1]\n", b'{"ok":true,"a":01}\n',
                    b'{"ok":true,"a":"x\x01"}\n', b'{"ok":true,"a":"\\q"}\n',
                    b'{"ok":true,"a":1.}\n', b'{"ok":true,"a":tru}\n',
                    b'{"ok":true,}\n', b'{"ok":true,"a":[1,]}\n', b'{"ok":true}\x00\n',
                    b'{"ok":true,"a":' + b"[" * 40 + b"]" * 40 + b"}\n"]:  # too deep
            with self.subTest(reply=bad):
                self.serve({"hello": bad})
                self.assertRun(self.ctl("hello"), 1,
                               err="espgwctl: malformed reply from espgw\n")
                self.server.close()
                os.unlink(self.sock)
                self.server = None

    def test_request_too_long_refused_locally(self):
        # No server: a connection attempt would exit 1, not 2.
        word = "x" * 4089
        self.assertRun(self.ctl("sa", "del", word), 2,
                       err="espgwctl: request too long: 4096 bytes, at most 4095\n")

    def test_request_of_4095_bytes_sent(self):
        srv = self.serve({})
        word = "x" * 4088
        self.assertRun(self.ctl("sa", "del", word), 0)
        self.assertEqual(srv.requests, ["sa del " + word])
        self.assertEqual(len(srv.requests[0]), 4095)

    def test_usage_errors(self):
        self.assertRun(self.ctl(), 2, err="espgwctl: COMMAND or -f FILE needed (see --help)\n")
        # A line break would make two requests (no server: connecting would exit 1).
        self.assertRun(self.ctl("sa", "del", "x\nhello"), 2,
                       err="espgwctl: COMMAND cannot contain a line break (see --help)\n")
        self.assertRun(self.ctl("-f", "x.conf", "hello"), 2,
                       err="espgwctl: -f FILE takes no COMMAND (see --help)\n")

    def test_version_and_help(self):
        r = self.ctl("--version", sock=False)
        self.assertEqual((r.returncode, r.stdout[:9]), (0, "espgwctl "))
        r = self.ctl("--help", sock=False)
        self.assertEqual(r.returncode, 0)
        for opt in ("-s PATH", "-f FILE", "--json", "--help", "--version", "monitor"):
            self.assertIn(opt, r.stdout)


CONF = """\
# gateway A
sa add out1 dir out spi 4096 \\
    enc aes-gcm-128 key 00112233445566778899aabbccddeeff   # trailing comment

   sp add p1 out src 10.1.0.0/24 \\
\tdst 10.2.0.0/24 sa out1
route add 10.9.0.0/16 via 192.0.2.1
"""
CONF_CMDS = [
    "sa add out1 dir out spi 4096 enc aes-gcm-128 key 00112233445566778899aabbccddeeff",
    "sp add p1 out src 10.1.0.0/24 dst 10.2.0.0/24 sa out1",
    "route add 10.9.0.0/16 via 192.0.2.1",
]


class TestFile(CtlTest):
    def answer_tx(self, errors=None, commit=None):
        """A transaction: begin, queued N, commit applied N (or an error)."""
        state = {"n": 0}
        errors = errors or {}

        def answer(req):
            if req in ("begin", "abort"):
                return reply({"ok": True})
            if req == "commit":
                return reply(commit or {"ok": True, "applied": state["n"]})
            if req in errors:
                return reply({"ok": False, "error": errors[req]})
            state["n"] += 1
            return reply({"ok": True, "queued": state["n"]})
        return answer

    def test_file_is_one_transaction(self):
        srv = self.serve(self.answer_tx())
        self.assertRun(self.ctl("-f", self.write("a.conf", CONF)), 0)
        self.assertEqual(srv.requests, ["begin"] + CONF_CMDS + ["commit"])

    def test_file_json_prints_commit_reply(self):
        self.serve(self.answer_tx())
        self.assertRun(self.ctl("--json", "-f", self.write("a.conf", CONF)), 0,
                       '{"ok":true,"applied":3}\n')

    def test_stdin(self):
        srv = self.serve(self.answer_tx())
        self.assertRun(self.ctl("-f", "-", stdin=CONF), 0)
        self.assertEqual(srv.requests, ["begin"] + CONF_CMDS + ["commit"])

    def test_refused_command_names_line_and_aborts(self):
        srv = self.serve(self.answer_tx({CONF_CMDS[1]: "SA out1 does not exist"}))
        path = self.write("a.conf", CONF)
        self.assertRun(self.ctl("-f", path), 2, err="%s:5: SA out1 does not exist\n" % path)
        # Pipelined: the command after the refused one may be sent; commit never is.
        self.assertEqual(srv.requests[:3], ["begin"] + CONF_CMDS[:2])
        self.assertEqual(srv.requests[-1], "abort")
        self.assertNotIn("commit", srv.requests)

    # A refused commit closes the transaction in espgw (lib/ctlsrv/txn.c):
    # no abort after it.
    def test_refused_commit_names_line(self):
        err = {"ok": False, "error": "command 2 (sp add): SA out1 does not exist"}
        srv = self.serve(self.answer_tx(commit=err))
        path = self.write("a.conf", CONF)
        self.assertRun(self.ctl("-f", path), 2, err="%s:5: SA out1 does not exist\n" % path)
        self.assertEqual(srv.requests, ["begin"] + CONF_CMDS + ["commit"])

    def test_refused_commit_of_one_command(self):
        # espgw names no command when the transaction held only one.
        srv = self.serve(self.answer_tx(commit={"ok": False, "error": "SA x does not exist"}))
        path = self.write("one.conf", "# one\n\nsa del x\n")
        self.assertRun(self.ctl("-f", path), 2, err="%s:3: SA x does not exist\n" % path)
        self.assertEqual(srv.requests, ["begin", "sa del x", "commit"])

    def test_refused_commit_without_command_number(self):
        srv = self.serve(self.answer_tx(commit={"ok": False, "error": "out of memory"}))
        path = self.write("a.conf", CONF)
        self.assertRun(self.ctl("-f", path), 2, err="%s: out of memory\n" % path)
        self.assertEqual(srv.requests[-1], "commit")

    def test_missing_file_sends_nothing(self):
        srv = self.serve(self.answer_tx())
        path = os.path.join(self.tmp.name, "none.conf")
        self.assertRun(self.ctl("-f", path), 2,
                       err="espgwctl: %s: cannot open: No such file or directory\n" % path)
        self.assertEqual(srv.requests, [])

    def test_long_command_refused_before_connecting(self):
        # No server: the file is judged before connecting (else exit 1).
        path = self.write("long.conf", "hello\nsa del " + "x" * 4100 + "\n")
        self.assertRun(self.ctl("-f", path), 2,
                       err="%s:2: command too long (max 4094 characters)\n" % path)

    def test_session_verbs_refused_before_connecting(self):
        # No server: a connection attempt would exit 1.
        path = self.write("verbs.conf", "sa del x\n  commit  # early\nsa del y\n")
        self.assertRun(self.ctl("-f", path), 2,
                       err="%s:2: 'commit' cannot be used in a file (-f is one transaction)\n"
                       % path)

    def test_commands_are_pipelined(self):
        # This espgw answers no command before it has all three: a client that
        # waits for each reply before sending the next would time out.
        held = []

        def answer(req):
            if req in ("begin", "commit"):
                return reply({"ok": True})
            held.append(reply({"ok": True, "queued": len(held) + 1}))
            return b"".join(held) if len(held) == len(CONF_CMDS) else b""
        srv = self.serve(answer)
        self.assertRun(self.ctl("-f", self.write("a.conf", CONF)), 0)
        self.assertEqual(srv.requests, ["begin"] + CONF_CMDS + ["commit"])

    def test_many_commands(self):
        srv = self.serve(self.answer_tx())
        cmds = ["route add 10.%d.%d.0/24 via 192.0.2.1" % (i // 256, i % 256)
                for i in range(1000)]
        self.assertRun(self.ctl("--json", "-f", self.write("big.conf", "\n".join(cmds))), 0,
                       '{"ok":true,"applied":1000}\n')
        self.assertEqual(srv.requests, ["begin"] + cmds + ["commit"])


class TestMonitor(CtlTest):
    EXPIRE = '{"event":"expire","sa":"ab4","kind":"soft","limit":"bytes"}'
    ACQUIRE = ('{"event":"acquire","policy":"p1","src":"10.1.0.10","dst":"10.2.0.10",'
               '"proto":17,"sport":5000,"dport":5000}')

    def start(self, *args):
        srv = self.serve({"monitor": {"ok": True, "monitor": True}})
        proc = subprocess.Popen([ESPGWCTL, "-s", self.sock] + list(args) + ["monitor"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(self.reap, proc)
        self.assertTrue(srv.monitoring.wait(TIMEOUT), "monitor was not requested")
        return srv, proc

    @staticmethod
    def reap(proc):
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()

    def next_line(self, proc):
        # The event must come out while the connection is still open (flushed).
        ready, _, _ = select.select([proc.stdout], [], [], TIMEOUT)
        self.assertTrue(ready, "no event line within %d s" % TIMEOUT)
        return proc.stdout.readline()

    def test_human_events_then_server_closes(self):
        srv, proc = self.start()
        srv.push(self.EXPIRE)
        self.assertEqual(self.next_line(proc), "expire soft sa=ab4 limit=bytes\n")
        srv.push(self.ACQUIRE)
        self.assertEqual(self.next_line(proc),
                         "acquire policy=p1 src=10.1.0.10 dst=10.2.0.10 proto=17 sport=5000 "
                         "dport=5000\n")
        srv.close()
        self.assertEqual(proc.wait(TIMEOUT), 0)
        self.assertEqual(proc.stdout.read() + proc.stderr.read(), "")
        self.assertEqual(srv.requests, ["monitor"])

    def test_json_events(self):
        srv, proc = self.start("--json")
        srv.push(self.EXPIRE)
        self.assertEqual(self.next_line(proc), self.EXPIRE + "\n")
        srv.push('{"event":"sa-added","sa":"x"}')
        self.assertEqual(self.next_line(proc), '{"event":"sa-added","sa":"x"}\n')
        srv.close()
        self.assertEqual(proc.wait(TIMEOUT), 0)

    def test_sigint_exits_0(self):
        srv, proc = self.start()
        srv.push('{"event":"sa-deleted","sa":"x"}')
        self.assertEqual(self.next_line(proc), "sa-deleted sa=x\n")
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(TIMEOUT), 0)
        self.assertEqual(proc.stderr.read(), "")

    def test_malformed_event_exits_1(self):
        srv, proc = self.start()
        srv.push('{"event":')
        self.assertEqual(proc.wait(TIMEOUT), 1)
        self.assertEqual(proc.stderr.read(), "espgwctl: malformed reply from espgw\n")

    def test_refused_monitor_exits_2(self):
        self.serve({"monitor": {"ok": False, "error": "too many monitors"}})
        self.assertRun(self.ctl("monitor"), 2, err="espgwctl: too many monitors\n")


COMPLETION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "app",
                          "espgwctl", "espgwctl.bash-completion")


class TestCompletion(CtlTest):
    def complete(self, *words):
        """COMPREPLY for the command line words (the last one being completed)."""
        script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
                  '_espgwctl; printf "%s\\n" "${COMPREPLY[@]}"')
        r = subprocess.run(["bash", "-c", script, "bash", COMPLETION, ESPGWCTL] + list(words),
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        return r.stdout.split()

    def test_words(self):
        self.assertEqual(self.complete("sh"), ["show"])
        self.assertEqual(self.complete("show", "s"), ["sa", "sp", "stats"])
        self.assertEqual(self.complete("--json", "sa", ""),
                         ["add", "del", "update", "alloc-spi", "declare"])
        self.assertEqual(self.complete("stats", ""), ["clear"])
        self.assertEqual(self.complete("--js"), ["--json"])

    def test_sa_names_from_espgw(self):
        srv = self.serve({"show sa": {"ok": True, "sa": [{"name": "out1"}, {"name": "in-2"}]}})
        self.assertEqual(self.complete("-s", self.sock, "sa", "del", ""), ["out1", "in-2"])
        self.assertEqual(srv.requests, ["show sa"])

    def test_names_without_espgw(self):
        self.assertEqual(self.complete("-s", self.sock, "show", "sa", ""), [])


if __name__ == "__main__":
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        sys.exit("usage: %s PATH_TO_ESPGWCTL" % sys.argv[0])
    ESPGWCTL = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[2:])
