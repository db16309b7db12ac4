# SPDX-License-Identifier: BSD-3-Clause
"""A real Prometheus (Debian's prometheus 2.42) for tests: scrapes one target
every second and answers /api/v1/query."""

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request


class Prometheus:
    """Debian's prometheus scraping target (HOST:PORT) every second, in a temp
    dir, its own API on listen (HOST:PORT)."""

    def __init__(self, target, listen):
        self.listen = listen
        self.dir = tempfile.mkdtemp(prefix="espgw-prom-")
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: espgw\n    static_configs:\n"
                    "      - targets: ['%s']\n" % target)
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + self.dir + "/db",
             "--web.listen-address=" + listen], stdout=self.log, stderr=subprocess.STDOUT)

    def query(self, q):
        url = "http://%s/api/v1/query?%s" % (self.listen, urllib.parse.urlencode({"query": q}))
        with urllib.request.urlopen(url, timeout=5) as r:
            doc = json.load(r)
        assert doc["status"] == "success", doc
        return doc["data"]["result"]

    def wait(self, q, pred, timeout=60):
        end, last = time.time() + timeout, None
        while time.time() < end:
            assert self.proc.poll() is None, "prometheus exited"
            try:
                last = self.query(q)
                if pred(last):
                    return last
            except OSError:
                pass  # not listening yet
            time.sleep(0.5)
        raise AssertionError("%s: %r" % (q, last))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
