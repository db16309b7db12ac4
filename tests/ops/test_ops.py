# SPDX-License-Identifier: BSD-3-Clause
"""What an operator gets from `meson install`: the layout, the systemd units
(systemd-analyze verify) and the manual pages (man -l), checked against the
programs' --help and README's configuration reference.

Usage: test_ops.py BUILD_DIR SOURCE_DIR. Installs into a temporary --destdir
once for all tests; nothing outside it is written.
"""

import os
import re
import sys
import tempfile
import unittest

from staged import Staged, run

BUILD = SRC = None  # from argv in __main__
STAGE = None        # the --destdir, made once
OPTS = {}           # meson's prefix, bindir, sbindir, mandir, datadir
S = None            # the Staged install


def read(path):
    with open(path) as f:
        return f.read()


def staged(*parts):
    """A path of the staged install: DESTDIR + prefix + parts."""
    return S.path(*parts)


def setUpModule():
    global S, STAGE
    S = Staged(BUILD)
    STAGE = S.root
    OPTS.update(S.opts)


def tearDownModule():
    S.remove()


def unit_dir():
    return S.unit_dir()


class Layout(unittest.TestCase):
    def test_programs(self):
        for d, prog in ((OPTS['sbindir'], 'espgw'), (OPTS['bindir'], 'espgwctl')):
            p = staged(d, prog)
            self.assertTrue(os.access(p, os.X_OK), p)
        out = run(staged(OPTS['sbindir'], 'espgw'), '--version').stdout
        self.assertTrue(out.startswith('espgw '), out)

    def test_examples(self):
        ex = staged(OPTS['datadir'], 'doc', 'espgw', 'examples')
        # Every example of the tree (config/meson.build lists them by name).
        confs = [f for f in os.listdir(os.path.join(SRC, 'config')) if f.endswith('.conf')]
        self.assertIn('minimal.conf', confs)
        for f in confs + ['espgw.default']:
            self.assertTrue(os.path.isfile(os.path.join(ex, f)), f)
        # The installed example is valid for the installed program.
        run(staged(OPTS['sbindir'], 'espgw'), '--check', '-f', os.path.join(ex, 'gw-a.conf'))

    def test_units_name_the_installed_programs(self):
        text = read(os.path.join(unit_dir(), 'espgw.service'))
        self.assertIn('ExecStart=' + os.path.join(OPTS['prefix'], OPTS['sbindir'], 'espgw'),
                      text)
        self.assertNotIn('@', text.replace('man:', ''))  # every @VAR@ substituted

    def test_man_pages(self):
        for sec, page in (('8', 'espgw.8'), ('8', 'espgwctl.8'), ('5', 'espgw.conf.5')):
            self.assertTrue(os.path.isfile(staged(OPTS['mandir'], 'man' + sec, page)), page)


class Units(unittest.TestCase):
    """systemd-analyze verify needs no running systemd. The units name their
    programs by absolute path under the prefix; the copies verified here point
    at the staged programs instead, so verify finds them executable, and
    MANPATH points at the staged pages, so verify checks Documentation= too.
    espgw-iked does not exist yet: a stub stands in for it."""

    def verify(self, names):
        tmp = tempfile.mkdtemp(dir=STAGE)
        stub = os.path.join(tmp, 'espgw-iked')
        with open(stub, 'w') as f:
            f.write('#!/bin/sh\nexit 0\n')
        os.chmod(stub, 0o755)
        for n in names:
            text = S.unit_text(n)
            text = text.replace(staged(OPTS['sbindir'], 'espgw-iked'), stub)
            with open(os.path.join(tmp, n), 'w') as f:
                f.write(text)
        env = dict(os.environ, MANPATH=staged(OPTS['mandir']) + ':', SYSTEMD_LOG_COLOR='0')
        r = run('systemd-analyze', 'verify', *[os.path.join(tmp, n) for n in names],
                env=env, check=False)
        return r.returncode, r.stdout + r.stderr

    def test_verify(self):
        rc, out = self.verify(['espgw.service', 'espgw-iked.service'])
        self.assertEqual(rc, 0, out)
        self.assertNotIn('espgw', out)  # no warning about our units at all

    def test_verify_catches_a_missing_program(self):
        """The check is real: a unit naming a program that is not there fails."""
        os.rename(staged(OPTS['sbindir'], 'espgw'), staged(OPTS['sbindir'], 'espgw.x'))
        try:
            rc, out = self.verify(['espgw.service'])
        finally:
            os.rename(staged(OPTS['sbindir'], 'espgw.x'), staged(OPTS['sbindir'], 'espgw'))
        self.assertNotEqual(rc, 0)
        self.assertIn('not executable', out)


def render(page):
    """man -l PAGE as plain text: wide, no hyphenation at line ends, ASCII hyphens."""
    env = dict(os.environ, MANWIDTH='250', LC_ALL='C.UTF-8', MAN_KEEP_FORMATTING='')
    out = run('man', '-l', '-Tutf8', page, env=env).stdout
    out = re.sub('.\b', '', out)  # overstrike bold/underline
    out = out.replace('\u2010', '-').replace('\u2212', '-').replace('\u2019', "'")
    return re.sub(r'-\n\s*', '-', out)


def help_options(prog):
    """Every --long and -s option a program's --help lists."""
    text = run(prog, '--help').stdout
    return set(re.findall(r'(?<![\w-])(--[a-z][a-z-]*|-[a-z])\b', text))


def readme_keywords():
    """The words of the Commands block and the first column of every option
    table of README's configuration reference."""
    text = read(os.path.join(SRC, 'README.md'))
    ref = text.split('## Configuration reference', 1)[1].split('### What `--check`', 1)[0]
    block = ref.split('### Commands', 1)[1].split('```')[1]
    words = set(re.findall(r'\b[a-z][a-z0-9]*(?:-[a-z0-9]+)*\b', block))
    for cell in re.findall(r'^\| ((?:[^|\\]|\\.)+)\|', ref, re.M):  # \| is no cell end
        for code in re.findall(r'`([^`]+)`', cell):
            words.update(re.findall(r'[a-z][a-z0-9-]*[a-z0-9]', code))
    return words


class ManPages(unittest.TestCase):
    def page(self, sec, name):
        return render(staged(OPTS['mandir'], 'man' + sec, name))

    def test_espgw_options(self):
        text = self.page('8', 'espgw.8')
        opts = help_options(staged(OPTS['sbindir'], 'espgw'))
        self.assertGreater(len(opts), 8)
        for o in sorted(opts):
            self.assertRegex(text, r'(?<![\w-])' + re.escape(o) + r'\b', o)

    def test_espgwctl_options_and_commands(self):
        text = self.page('8', 'espgwctl.8')
        ctl = staged(OPTS['bindir'], 'espgwctl')
        for o in sorted(help_options(ctl)):
            self.assertRegex(text, r'(?<![\w-])' + re.escape(o) + r'\b', o)
        usage = run(ctl, '--help').stdout.split('COMMAND:', 1)[1].split('(the', 1)[0]
        for w in sorted(set(re.findall(r'[a-z][a-z-]+', usage))):
            self.assertRegex(text, r'\b' + re.escape(w) + r'\b', w)

    def test_config_keywords(self):
        text = self.page('5', 'espgw.conf.5')
        words = readme_keywords()
        self.assertGreater(len(words), 60)
        missing = [w for w in sorted(words) if not re.search(r'\b' + re.escape(w) + r'\b', text)]
        self.assertEqual(missing, [])

    def test_man_finds_them_by_name(self):
        env = dict(os.environ, MANPATH=staged(OPTS['mandir']) + ':', MANWIDTH='100')
        out = run('man', '-P', 'cat', '5', 'espgw.conf', env=env).stdout
        self.assertIn('espgw.conf - configuration file of espgw', out)


if __name__ == '__main__':
    BUILD, SRC = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1], verbosity=2)
