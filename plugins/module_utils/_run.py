# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: the one way modules run commands. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import grp
import os
import pwd
import signal
import stat
import subprocess
import sys
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


def run(module, argv, what=None, check=True, cwd=None, env=None, data=None, binary=False, user=None):
    """Run ``argv`` (a list, never a shell string) through ``module.run_command``.

    ``env`` is added to the module's environment for this command only; put no
    secret in argv (use PGPASSFILE and the like). With ``check`` a non-zero exit
    raises GoliveError naming ``what`` and the tool's own error text.
    ``user`` (an ``Account``) runs the command as that user, with its groups and
    HOME, when it is not the one the module runs as.
    """
    if not isinstance(argv, (list, tuple)):
        raise TypeError("argv must be a list")
    argv = ["%s" % a for a in argv]
    start = time.monotonic()
    if user is not None and user.switch:
        rc, out, err = _run_as(module, argv, user, what, cwd, env, data, binary)
    else:
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
        raise failure(what, done, stdout=out if not binary else "", stderr=err if not binary else "")
    return done


class Bounded(Completed):
    """Result of ``run_bounded``: a Completed whose ``out`` is the end of what the command wrote
    (stdout and stderr together), with ``timed_out``, ``output_bytes`` (all it wrote) and
    ``truncated`` (``out`` is only the end of it)."""

    def __init__(self, argv, rc, out, seconds, timed_out, output_bytes, truncated):
        super(Bounded, self).__init__(argv, rc, out, "", seconds)
        self.timed_out = timed_out
        self.output_bytes = output_bytes
        self.truncated = truncated


def _signal_group(pgid, signum):
    """Send ``signum`` to every process of group ``pgid``; a group already gone is no error."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _group_alive(pgid):
    """Whether a process of group ``pgid`` still runs. A zombie does not: it waits only for its
    parent, or init, to reap it, which may take a while (read from /proc where there is one)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        entries = None
    if entries is None:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile
        # After the command's name: state, ppid, pgrp.
        if len(fields) > 2 and fields[2] == "%d" % pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def _group_ended(proc, seconds):
    """Wait up to ``seconds`` for ``proc`` and every process of its group to end; whether they did."""
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None and not _group_alive(proc.pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def run_bounded(module, argv, timeout, what=None, cwd=None, env=None, keep=4096, grace=5.0):
    """Run ``argv`` (a list, never a shell string) for at most ``timeout`` seconds.

    For a command whose end is not certain, such as a team's own test suite. It runs
    in a session and process group of its own, reads nothing (stdin is /dev/null) and
    writes stdout and stderr together, in the order it wrote them, to a temp file of
    which only the last ``keep`` bytes are read back. At ``timeout`` its whole process
    group gets SIGTERM, and what of it still runs ``grace`` seconds later SIGKILL; what
    it leaves running in its group when it ends by itself is killed too, so nothing it started outlives it. The
    environment is the module's plus ``env``, as in ``run``. Judge the result by
    ``rc`` and ``timed_out``: only a command that cannot be started raises GoliveError.
    """
    argv, environ = _argv_environ(module, argv, env)
    with tempfile.TemporaryFile() as outfile:
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=environ,
                stdin=subprocess.DEVNULL,
                stdout=outfile,
                stderr=subprocess.STDOUT,
                close_fds=True,
                start_new_session=True,
            )
        except OSError as err:
            raise GoliveError("%s failed: cannot start %s: %s" % (what or argv[0], argv[0], err.strerror or err))
        timed_out = False
        try:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                _signal_group(proc.pid, signal.SIGTERM)
                _group_ended(proc, grace)
        finally:
            # Also on an error here (the module interrupted): the group never outlives the call.
            _signal_group(proc.pid, signal.SIGKILL)
            rc = proc.wait()
        seconds = time.monotonic() - start
        size = outfile.seek(0, os.SEEK_END)
        outfile.seek(max(0, size - keep))
        data = outfile.read()
    return Bounded(argv, rc, data.decode("utf-8", "replace"), seconds, timed_out, size, size > keep)


class Account:
    """A user of the host to run commands as (see ``account``): name, uid, gid, every group, home."""

    def __init__(self, name, uid, gid, groups, home, switch):
        self.name = name
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.home = home
        # False when the module already runs as this user: nothing to drop.
        self.switch = switch

    def environ(self):
        """What a login as the user would set, and the module's environment has as its own user's."""
        return dict(HOME=self.home, USER=self.name, LOGNAME=self.name)

    def can_enter(self, path):
        """None when the user can read and enter ``path`` and every directory above it, else why not."""
        path = os.path.abspath(path)
        parts = [path]
        while parts[-1] != os.path.dirname(parts[-1]):
            parts.append(os.path.dirname(parts[-1]))
        for where in reversed(parts):
            try:
                st = os.stat(where)
            except OSError as err:
                return "%s: %s" % (where, err.strerror or err)
            need = 5 if where == path else 1  # read and search the directory itself, search those above
            if st.st_uid == self.uid:
                bits = st.st_mode >> 6
            elif st.st_gid in self.groups:
                bits = st.st_mode >> 3
            else:
                bits = st.st_mode
            if self.uid != 0 and bits & need != need:
                return "%s is %s, owner %s, group %s" % (
                    where,
                    stat.filemode(st.st_mode),
                    _name(pwd.getpwuid, st.st_uid),
                    _name(grp.getgrgid, st.st_gid),
                )
        return None


def _name(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return "%d" % number


def account(name, option="run_as"):
    """The ``Account`` of user ``name`` from the host's passwd and group databases.

    Refuses a user that does not exist, and a switch the module cannot make
    (it runs as another user than root), naming ``option`` in the message.
    """
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise GoliveError(
            "%s %s: no such user on the host; create it (the setup role creates golive_app_user) "
            "or set %s to an existing user" % (option, name, option)
        )
    euid = os.geteuid()
    switch = entry.pw_uid != euid
    if switch and euid != 0:
        raise GoliveError(
            "%s %s: the module runs as %s and cannot switch to another user; run the task as root "
            "(become: true without become_user)" % (option, name, _name(pwd.getpwuid, euid))
        )
    if switch and sys.version_info < (3, 9):
        raise GoliveError(
            "%s %s: switching users needs Python 3.9 or later on the host, which runs %d.%d; "
            "set ansible_python_interpreter to a newer Python" % ((option, name) + tuple(sys.version_info[:2]))
        )
    groups = sorted(set(os.getgrouplist(entry.pw_name, entry.pw_gid)) | set([entry.pw_gid]))
    return Account(entry.pw_name, entry.pw_uid, entry.pw_gid, groups, entry.pw_dir, switch)


def _run_as(module, argv, user, what, cwd, env, data, binary):
    """``run``'s command as ``user``: the one place a command drops root for another user."""
    environ = dict(os.environ)
    environ.update(getattr(module, "run_command_environ_update", None) or {})
    environ.update(user.environ())
    environ.update(env or {})
    if data is not None and not binary:
        data = (data + "\n").encode("utf-8")
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=environ,
            stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=True,
            user=user.uid,
            group=user.gid,
            extra_groups=user.groups,
        )
    except OSError as err:
        raise GoliveError(
            "%s failed: cannot start %s as %s: %s" % (what or argv[0], argv[0], user.name, err.strerror or err)
        )
    out, err = proc.communicate(data)
    if not binary:
        out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    return proc.returncode, out, err


def failure(what, done, **result):
    """The GoliveError of a command that failed: ``what``, the tool, its exit status and its last words."""
    result.setdefault("stderr", done.err)
    return GoliveError(
        "%s failed (%s exited %d): %s" % (what or done.argv[0], done.argv[0], done.rc, tail(done.err or done.out)),
        rc=done.rc,
        cmd=done.argv,
        **result,
    )


def tail(text, lines=20):
    """The last lines of a tool's output, where its error usually is."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = (text or "").strip()
    parts = text.splitlines()
    if len(parts) > lines:
        return "...\n" + "\n".join(parts[-lines:])
    return text or "(no output)"


def said(err, lines=5):
    """What the tool of a failed command (a GoliveError of ``run``, ``Process.wait`` or
    ``Pipeline.wait``) said: the last lines of its stderr, behind its name unless they start with
    it, so that zstd's words are not taken for pg_restore's; the error's message if it said nothing."""
    stderr = err.result.get("stderr")
    if not (stderr or "").strip():
        return str(err)
    text = tail(stderr, lines)
    tool = os.path.basename((err.result.get("cmd") or [""])[0])
    if tool and not text.startswith(tool + ":"):
        text = "%s: %s" % (tool, text)
    return text


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
            raise failure(self.what, done)
        return done

    def kill(self):
        """Stop the command (on an error elsewhere) and reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(OSError, ValueError):
            self.wait(check=False)


def _stream(value):
    """Popen's stdin or stdout for ``value``: True a pipe, False none, else the file itself."""
    if value is True:
        return subprocess.PIPE
    if value is False or value is None:
        return subprocess.DEVNULL
    return value


def spawn(module, argv, what=None, env=None, stdin=False, stdout=True):
    """Start ``argv`` (a list, never a shell string) without waiting for it.

    For what ``run`` cannot do: hold a session open (a psql transaction) or run
    a tool while the module does other work. The environment
    is the module's plus ``env``, as in ``run``; stderr goes to a temp file so
    that a chatty tool can never block on a full pipe. ``stdin`` and
    ``stdout`` are True for a pipe the caller writes or reads, False for none,
    or a file (object or descriptor, such as another command's ``stdout``).
    """
    argv, environ = _argv_environ(module, argv, env)
    errfile = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
    try:
        proc = subprocess.Popen(
            argv,
            stdin=_stream(stdin),
            stdout=_stream(stdout),
            stderr=errfile,
            env=environ,
            close_fds=True,
        )
    except OSError as err:
        errfile.close()
        raise GoliveError("%s failed: cannot start %s: %s" % (what or argv[0], argv[0], err.strerror or err))
    return Process(argv, proc, errfile, what)


class Pipeline:
    """Commands started by ``pipeline``: ``stdout`` of the last, ``wait`` and ``kill`` of them all."""

    def __init__(self, procs, what):
        self.procs = procs
        self.what = what
        self.stdout = procs[-1].stdout

    def wait(self, check=True):
        """Wait for every command; a Completed like ``Process.wait``'s.

        On failure it is the first command that failed, upstream first: what
        fails after it often fails only because of it (pg_restore reading a
        stream zstd could not decompress). A command ended by SIGPIPE (the next
        one stopped reading) is blamed only when no other failed. On success
        ``err`` holds what every command wrote to stderr. The last command is
        waited for first, so an unread ``stdout`` cannot hold the others up.
        """
        done = [p.wait(check=False) for p in reversed(self.procs)][::-1]
        failed = [d for d in done if d.rc != 0]
        cause = [d for d in failed if d.rc != -signal.SIGPIPE] or failed
        if cause:
            if check:
                raise failure(self.what, cause[0])
            return cause[0]
        argv = [a for d in done for a in d.argv + ["|"]][:-1]
        err = "".join(d.err for d in done)
        return Completed(argv, 0, "", err, max(d.seconds for d in done))

    def kill(self):
        """Stop every command (on an error elsewhere) and reap them."""
        for proc in self.procs:
            proc.kill()


def pipeline(module, commands, what=None, env=None, stdout=True):
    """Start ``commands`` (argument lists, never shell strings) as ``a | b | ...``.

    Each command reads what the one before it writes, through an OS pipe the
    module never copies; the first reads nothing, the last writes to
    ``stdout`` of the result (or nowhere with ``stdout=False``). Environment
    and stderr as in ``spawn``.
    """
    procs = []
    try:
        for i, argv in enumerate(commands):
            upstream = procs[-1].stdout if procs else False
            last = i == len(commands) - 1
            procs.append(spawn(module, argv, what=what, env=env, stdin=upstream, stdout=stdout if last else True))
            if upstream:
                # The command after holds it now; without our copy, its end reaches the one before as SIGPIPE.
                upstream.close()
    except BaseException:
        for proc in procs:
            proc.kill()
        raise
    return Pipeline(procs, what)


def _argv_environ(module, argv, env):
    """``argv`` as text, and the environment of a command the module starts itself: the
    module's, with what Ansible adds to a module's commands and ``env``."""
    if not isinstance(argv, (list, tuple)):
        raise TypeError("argv must be a list")
    environ = dict(os.environ)
    environ.update(getattr(module, "run_command_environ_update", None) or {})
    environ.update(env or {})
    return ["%s" % a for a in argv], environ
