# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs every integration target (tests/integration/playbooks/<name>/playbook.yml)
against the lab inventory. Each target asserts, in Ansible, the cycle
check mode -> real run -> idempotent rerun -> validation with the system's own tools.
They are playbooks that pytest runs against the lab, not ansible-test targets: under
tests/integration/targets ansible-test took them for empty roles and passed with nothing run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGETS = sorted(p.parent.name for p in (ROOT / "tests/integration/playbooks").glob("*/playbook.yml"))
ONLY = os.environ.get("GOLIVE_TARGETS", "").split()


@pytest.mark.parametrize("target", [t for t in TARGETS if not ONLY or t in ONLY])
def test_target(target):
    playbook = ROOT / "tests/integration/playbooks" / target / "playbook.yml"
    start = time.monotonic()
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(ROOT / "inventories/lab"), str(playbook)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    print("%s: %.1fs" % (target, time.monotonic() - start))
    assert proc.returncode == 0, "target %s failed:\n%s\n%s" % (target, proc.stdout[-20000:], proc.stderr[-5000:])
