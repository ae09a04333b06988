# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: the one way modules run commands. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import os
import subprocess
import tempfile
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


class Process:
    """A started command (see ``spawn``): ``stdin``/``stdout`` pipes, stderr kept in a temp file."""

    def __init__(self, argv, proc, errfile, what):
        self.argv = argv
        self.proc = proc
        self.stdin = proc.stdin
        self.stdout = proc.stdout
        self.what = what
        self._errfile = errfile
        self._start = time.monotonic()

    def stderr(self):
        self._errfile.seek(0)
        return self._errfile.read().decode("utf-8", "replace")

    def wait(self, check=True):
        """Wait for the end; a Completed (stdout is not collected). Raises like ``run``."""
        for pipe in (self.stdin, self.stdout):
            if pipe is not None and not pipe.closed:
                with contextlib.suppress(OSError):
                    pipe.close()
        rc = self.proc.wait()
        err = self.stderr()
        self._errfile.close()
        done = Completed(self.argv, rc, "", err, time.monotonic() - self._start)
        if check and rc != 0:
            raise GoliveError(
                "%s failed (%s exited %d): %s" % (self.what or self.argv[0], self.argv[0], rc, tail(err)),
                rc=rc,
                cmd=self.argv,
                stderr=err,
            )
        return done

    def kill(self):
        """Stop the command (on an error elsewhere) and reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(OSError, ValueError):
            self.wait(check=False)


def spawn(module, argv, what=None, env=None, stdin=False, stdout=True):
    """Start ``argv`` (a list, never a shell string) without waiting for it.

    For what ``run`` cannot do: hold a session open (a psql transaction) or run
    a tool while the module does other work. The environment
    is the module's plus ``env``, as in ``run``; stderr goes to a temp file so
    that a chatty tool can never block on a full pipe.
    """
    if not isinstance(argv, (list, tuple)):
        raise TypeError("argv must be a list")
    argv = ["%s" % a for a in argv]
    environ = dict(os.environ)
    environ.update(getattr(module, "run_command_environ_update", None) or {})
    environ.update(env or {})
    errfile = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout else subprocess.DEVNULL,
            stderr=errfile,
            env=environ,
            close_fds=True,
        )
    except OSError as err:
        errfile.close()
        raise GoliveError("%s failed: cannot start %s: %s" % (what or argv[0], argv[0], err.strerror or err))
    return Process(argv, proc, errfile, what)
