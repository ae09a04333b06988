# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import shutil
import stat

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _io
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


class Module:
    """What write_file needs of an AnsibleModule."""

    @staticmethod
    def atomic_move(src, dest):
        shutil.move(src, dest)


@pytest.fixture
def short_writes(monkeypatch):
    """os.write that writes at most 3 bytes a call, as a busy or nearly full disk may."""
    real = os.write

    def write(fd, data):
        return real(fd, bytes(data[:3]))

    monkeypatch.setattr(_io.os, "write", write)


def test_write_file_writes_everything_despite_short_writes(tmp_path, short_writes):
    target = tmp_path / "backup.manifest.json"
    _io.write_file(Module(), str(target), "x" * 1000 + "\n", mode=0o640)
    assert target.read_text() == "x" * 1000 + "\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["backup.manifest.json"]


def test_append_line_writes_everything_despite_short_writes(tmp_path, short_writes):
    log = tmp_path / "releases.jsonl"
    _io.append_line(str(log), '{"a": 1}')
    _io.append_line(str(log), '{"b": 2}')
    assert log.read_text() == '{"a": 1}\n{"b": 2}\n'


@pytest.mark.parametrize("fail", [errno.ENOSPC, errno.EIO])
def test_a_full_disk_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch, fail):
    target = tmp_path / "journal.json"
    target.write_text("old\n")
    calls = []

    def write(fd, data):
        if calls:
            raise OSError(fail, os.strerror(fail))
        calls.append(1)
        return os.pwrite(fd, bytes(data[:10]), 0)

    monkeypatch.setattr(_io.os, "write", write)
    with pytest.raises(GoliveError, match="cannot write .*journal.json"):
        _io.write_file(Module(), str(target), "new content that is long enough")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["journal.json"]


def test_a_write_that_makes_no_progress_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(_io.os, "write", lambda fd, data: 0)
    with pytest.raises(GoliveError, match="took no more bytes"):
        _io.write_file(Module(), str(tmp_path / "f"), "data")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_found_at_fsync_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    """A full disk may only show when the data is flushed: the file is not renamed into place."""
    target = tmp_path / "backup.manifest.json"
    target.write_text("old\n")

    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_io.os, "fsync", fsync)
    with pytest.raises(GoliveError, match="cannot write .*backup.manifest.json: No space left on device"):
        _io.write_file(Module(), str(target), "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["backup.manifest.json"]


def test_a_file_shorter_than_its_content_is_never_renamed_into_place(tmp_path, monkeypatch):
    """Should the bytes written and the file's size disagree, the file is not used."""
    target = tmp_path / "journal.json"
    target.write_text("old\n")
    real = os.fstat

    class Short:
        def __init__(self, st):
            self.st_size = st.st_size - 1

    monkeypatch.setattr(_io.os, "fstat", lambda fd: Short(real(fd)))
    with pytest.raises(GoliveError, match="3 of 4 bytes reached the disk"):
        _io.write_file(Module(), str(target), "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["journal.json"]
