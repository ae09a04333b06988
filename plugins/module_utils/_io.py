# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: the one way modules write files. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import tempfile

from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def write_all(fd, data, path):
    """Write every byte of ``data`` to ``fd``: ``os.write`` may write less than it was given
    (a full disk, a signal), and a short write must never pass for a whole one."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise GoliveError("cannot write %s: the disk took no more bytes (%d left)" % (path, len(view)))
        view = view[written:]


def write_file(module, path, content, mode=0o600):
    """Write ``content`` (bytes or text) to ``path`` atomically.

    A 0600 temp file in the same directory, fsync, ``module.atomic_move``, then
    the final mode: a reader never sees a half-written file, and nothing is
    world-readable while it is being written.
    """
    if not isinstance(content, bytes):
        content = content.encode("utf-8")
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".golive-", dir=directory)
    except OSError as err:
        raise GoliveError("cannot write %s: %s; check that %s exists and is writable" % (path, err.strerror, directory))
    try:
        try:
            write_all(fd, content, path)
            os.fsync(fd)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        if size != len(content):
            raise GoliveError("cannot write %s: %d of %d bytes reached the disk" % (path, size, len(content)))
        os.chmod(tmp, 0o600)
        module.atomic_move(tmp, path)
        os.chmod(path, mode)
        fsync_dir(directory)
    except OSError as err:
        raise GoliveError("cannot write %s: %s" % (path, err.strerror or err))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def append_line(path, line, mode=0o600):
    """Append one line durably (O_APPEND, fsync) to an append-only log file."""
    if not isinstance(line, bytes):
        line = line.encode("utf-8")
    if not line.endswith(b"\n"):
        line += b"\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode)
    except OSError as err:
        raise GoliveError("cannot append to %s: %s" % (path, err.strerror))
    try:
        write_all(fd, line, path)
        os.fsync(fd)
    except OSError as err:
        raise GoliveError("cannot append to %s: %s" % (path, err.strerror or err))
    finally:
        os.close(fd)
    fsync_dir(os.path.dirname(os.path.abspath(path)))


def fsync_dir(directory):
    """Make a rename or a new file in ``directory`` durable."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError as err:
        if err.errno in (errno.EACCES, errno.EPERM):
            return
        raise
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
