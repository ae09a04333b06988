# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: the one way modules run commands. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


class Completed:
    """Result of one command: argv, rc, stdout, stderr, seconds."""

    def __init__(self, argv, rc, out, err, seconds):
        self.argv = argv
        self.rc = rc
        self.out = out
        self.err = err
        self.seconds = seconds

    @property
    def ok(self):
        return self.rc == 0


def run(module, argv, what=None, check=True, cwd=None, env=None, data=None, binary=False):
    """Run ``argv`` (a list, never a shell string) through ``module.run_command``.

    ``env`` is added to the module's environment for this command only; put no
    secret in argv (use PGPASSFILE and the like). With ``check`` a non-zero exit
    raises GoliveError naming ``what`` and the tool's own error text.
    """
    if not isinstance(argv, (list, tuple)):
        raise TypeError("argv must be a list")
    argv = ["%s" % a for a in argv]
    start = time.monotonic()
    rc, out, err = module.run_command(
        argv,
        cwd=cwd,
        environ_update=env or {},
        data=data,
        binary_data=binary,
        encoding=None if binary else "utf-8",
    )
    done = Completed(argv, rc, out, err, time.monotonic() - start)
    if check and rc != 0:
        raise GoliveError(
            "%s failed (%s exited %d): %s" % (what or argv[0], argv[0], rc, tail(err or out)),
            rc=rc,
            cmd=argv,
            stdout=out if not binary else "",
            stderr=err if not binary else "",
        )
    return done


def tail(text, lines=20):
    """The last lines of a tool's output, where its error usually is."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = (text or "").strip()
    parts = text.splitlines()
    if len(parts) > lines:
        return "...\n" + "\n".join(parts[-lines:])
    return text or "(no output)"


def which(module, name, required=True):
    """Absolute path of a tool, or a GoliveError saying how to get it."""
    path = module.get_bin_path(name, required=False)
    if not path and required:
        raise GoliveError("%s was not found on %s's PATH; install it on the host" % (name, "the target"))
    return path
