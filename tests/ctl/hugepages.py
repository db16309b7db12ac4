# SPDX-License-Identifier: BSD-3-Clause
"""2 MiB hugepages for a test, given back afterwards (TESTING.md): dpdk-dumpcap
attaches as a secondary process, which needs a primary with hugepages."""

import glob
import os
import subprocess

NR = "/proc/sys/vm/nr_hugepages"
# --base-virtaddr for a primary that a secondary process attaches to. The
# secondary maps the primary's memory at the same addresses; EAL's default
# hint (4 GiB) lies in AddressSanitizer's shadow, so an ASan-built espgw gets
# memory next to the shared libraries instead, where a secondary's own
# randomised layout sometimes already holds one: dpdk-dumpcap then crashes or
# hangs on the shared memory lock (seen in build-san runs). 32 TiB is user
# memory for ASan and far from where Linux puts libraries, stacks and heaps.
BASE_VA = "0x200000000000"
MNT = "/dev/hugepages"


def remove_files(prefix):
    """The hugepage files of an EAL --file-prefix: a killed primary leaves
    them, holding the pages past the test."""
    for f in glob.glob(os.path.join(MNT, prefix + "map_*")):
        os.unlink(f)


class Hugepages:
    """with Hugepages(256) as h: ... ; h.skip_reason is set when none could be had."""

    def __init__(self, pages):
        self.pages, self.before, self.mounted, self.skip_reason = pages, None, False, None

    def __enter__(self):
        if os.geteuid() != 0:
            self.skip_reason = "hugepages need root"
            return self
        with open(NR) as f:
            self.before = int(f.read())
        self._write(self.before + self.pages)
        with open(NR) as f:
            got = int(f.read()) - self.before
        if got < self.pages:
            self.skip_reason = "only %d of %d 2 MiB hugepages could be reserved" % (
                got, self.pages)
            return self
        if subprocess.run(["mountpoint", "-q", MNT]).returncode != 0:
            os.makedirs(MNT, exist_ok=True)
            r = subprocess.run(["mount", "-t", "hugetlbfs", "none", MNT])
            if r.returncode != 0:
                self.skip_reason = "cannot mount hugetlbfs on %s" % MNT
                return self
            self.mounted = True
        return self

    def _write(self, n):
        try:
            with open(NR, "w") as f:
                f.write(str(n))
        except OSError:
            pass

    def __exit__(self, *exc):
        if self.mounted:
            subprocess.run(["umount", MNT], check=False)
        if self.before is not None:
            self._write(self.before)
        return False
