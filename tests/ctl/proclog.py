# SPDX-License-Identifier: BSD-3-Clause
"""A started espgw whose output goes to DIR/log: read it, wait for a line."""

import os
import subprocess
import time


class ProcLog:
    """Subclasses set self.d (the directory) and call start(cmd)."""

    def start(self, cmd, env=None):
        self.log = open(os.path.join(self.d, "log"), "w")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def logs(self):
        self.log.flush()
        with open(os.path.join(self.d, "log")) as f:
            return f.read()

    def wait_log(self, text, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            if text in self.logs():
                return
            assert self.proc.poll() is None, "espgw exited: " + self.logs()[-3000:]
            time.sleep(0.2)
        raise AssertionError("no '%s' in: %s" % (text, self.logs()[-3000:]))
