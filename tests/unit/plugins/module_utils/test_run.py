# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pipelines of real commands (coreutils): data flows, the right command is blamed, kill reaps them all."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import signal
import time

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _run
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

MODULE = object()  # spawn needs nothing of the module but its optional environment


def test_pipeline_passes_the_data_through_os_pipes():
    pipe = _run.pipeline(MODULE, [["printf", "a\\nb\\n"], ["tr", "a-z", "A-Z"], ["sort", "-r"]], what="shout")
    assert pipe.stdout.read() == b"B\nA\n"
    done = pipe.wait()
    assert done.rc == 0
    assert done.argv == ["printf", "a\\nb\\n", "|", "tr", "a-z", "A-Z", "|", "sort", "-r"]


def test_pipeline_keeps_what_every_command_said():
    pipe = _run.pipeline(
        MODULE, [["sh", "-c", "echo one >&2; echo x"], ["sh", "-c", "cat; echo two >&2"]], stdout=False
    )
    assert pipe.stdout is None
    assert pipe.wait().err == "one\ntwo\n"


def test_the_first_command_that_failed_is_blamed():
    pipe = _run.pipeline(MODULE, [["sh", "-c", "echo broken stream >&2; exit 3"], ["cat"]], what="full read of x")
    with pytest.raises(GoliveError) as info:
        pipe.wait()
    assert str(info.value) == "full read of x failed (sh exited 3): broken stream"
    assert info.value.result["rc"] == 3 and info.value.result["stderr"] == "broken stream\n"


def test_a_command_ended_by_sigpipe_is_not_blamed_for_the_one_after_it():
    # yes writes forever; the reader stops and fails, and yes dies of SIGPIPE because of it.
    pipe = _run.pipeline(MODULE, [["yes"], ["sh", "-c", "head -c 1 >/dev/null; echo full disk >&2; exit 2"]])
    done = pipe.wait(check=False)
    assert (done.argv[0], done.rc, done.err) == ("sh", 2, "full disk\n")


def test_sigpipe_alone_is_a_failure():
    # head read one byte and stopped: the rest of the stream was never read.
    done = _run.pipeline(MODULE, [["yes"], ["head", "-c", "1"]], stdout=False).wait(check=False)
    assert (done.argv[0], done.rc) == ("yes", -signal.SIGPIPE)


def test_kill_stops_and_reaps_every_command():
    pipe = _run.pipeline(MODULE, [["sleep", "30"], ["cat"]])
    start = time.monotonic()
    pipe.kill()
    assert time.monotonic() - start < 5
    assert all(p.proc.returncode is not None for p in pipe.procs)


def test_a_command_that_cannot_start_stops_the_ones_started():
    with pytest.raises(GoliveError, match="cannot start /nonexistent/zstd"):
        _run.pipeline(MODULE, [["sleep", "30"], ["/nonexistent/zstd", "-d"]], what="full read")


@pytest.mark.parametrize(
    "cmd, stderr, said",
    [
        (
            ["/usr/bin/zstd", "-d"],
            "x.zst : Read error (39) : premature end\n",
            "zstd: x.zst : Read error (39) : premature end",
        ),
        (["/usr/bin/pg_restore"], "pg_restore: error: could not read\n", "pg_restore: error: could not read"),
        (["/usr/bin/zstd"], "", "failed (zstd exited 1)"),
    ],
)
def test_said_names_the_tool(cmd, stderr, said):
    err = GoliveError("failed (zstd exited 1)", cmd=cmd, stderr=stderr, rc=1)
    assert _run.said(err) == said
