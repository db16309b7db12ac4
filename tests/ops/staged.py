# SPDX-License-Identifier: BSD-3-Clause
"""espgw as `meson install --destdir` lays it out, in a temporary directory:
the paths of what was installed, and the unit files' lines with their
programs pointed at the staged copies."""

import json
import os
import shutil
import subprocess
import tempfile


def run(*cmd, env=None, check=True):
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=check,
                          timeout=120)


class Staged:
    def __init__(self, build):
        self.opts = {}  # meson's prefix, bindir, sbindir, mandir, datadir
        for o in json.loads(run('meson', 'introspect', '--buildoptions', build).stdout):
            if o['name'] in ('prefix', 'bindir', 'sbindir', 'mandir', 'datadir'):
                self.opts[o['name']] = o['value']
        self.root = tempfile.mkdtemp(prefix='espgw-ops-')
        run('meson', 'install', '-C', build, '--no-rebuild', '--quiet', '--destdir', self.root)

    def path(self, *parts):
        """A path of the staged install: DESTDIR + prefix + parts."""
        return os.path.join(self.root, self.opts['prefix'].lstrip('/'), *parts)

    def installed(self, *parts):
        """Where parts (below the prefix) go on a real install."""
        return os.path.join(self.opts['prefix'], *parts)

    def unit_dir(self):
        """Where meson put the units: under the prefix or systemd's own dir."""
        for d in (self.path('lib', 'systemd', 'system'),
                  os.path.join(self.root, 'lib', 'systemd', 'system'),
                  os.path.join(self.root, 'usr', 'lib', 'systemd', 'system')):
            if os.path.exists(os.path.join(d, 'espgw.service')):
                return d
        raise AssertionError('espgw.service not installed')

    def unit_text(self, name):
        """The installed unit with its programs' absolute paths pointed at the
        staged ones (systemd-analyze verify and test_e2e run those)."""
        with open(os.path.join(self.unit_dir(), name)) as f:
            text = f.read()
        return text.replace('=' + self.installed(''), '=' + self.path('')).replace(
            ' ' + self.installed(''), ' ' + self.path(''))

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)
