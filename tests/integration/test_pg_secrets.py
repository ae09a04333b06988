# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The database password never shows: not in ansible-playbook -vvv output, not in
any process's argv or environment on db1 while the PostgreSQL modules run, and
no PGPASSFILE directory is left behind (playbooks/pg_secrets/secrets.yml)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "tests/integration/playbooks/pg_secrets/secrets.yml"
HOST = "golive-lab-db1"
STOP = "/tmp/golive-test-pg-secrets.stop"

# Inside db1: every 20 ms, all command lines, the environment of every PostgreSQL
# client process, and any PGPASSFILE directory; until the stop file appears.
WATCH = r"""
rm -f {stop}; i=0
while [ ! -e {stop} ] && [ $i -lt 6000 ]; do
  ps -eww -o pid=,args=
  for p in $(pgrep -x 'psql|pg_dump|pg_restore'); do
    echo "ENV $p"; tr '\0' '\n' < /proc/$p/environ 2>/dev/null
  done
  ls -d /tmp/golive-pg-* 2>/dev/null | sed 's/^/TMPDIR /'
  i=$((i+1)); sleep 0.02
done
""".format(stop=STOP)


def lab_is_up():
    if not shutil.which("docker"):
        return False
    out = subprocess.run(["docker", "ps", "--format", "{{.Names}}"], capture_output=True, text=True, check=False)
    return HOST in out.stdout.split()


ONLY = os.environ.get("GOLIVE_TARGETS", "").split()


@pytest.mark.skipif(bool(ONLY) and "pg_secrets" not in ONLY, reason="GOLIVE_TARGETS does not name pg_secrets")
@pytest.mark.skipif(not lab_is_up(), reason="the lab is not running")
def test_password_appears_nowhere():
    password = (ROOT / ".lab/db_password").read_text().strip()
    wrong = "wrong-" + secrets.token_hex(12)
    watcher = subprocess.Popen(["docker", "exec", HOST, "sh", "-c", WATCH], stdout=subprocess.PIPE, text=True)
    try:
        env = dict(os.environ, GOLIVE_TEST_WRONG_PASSWORD=wrong)
        play = subprocess.run(
            ["ansible-playbook", "-vvv", "-i", str(ROOT / "inventories/lab"), str(PLAYBOOK)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env=env,
        )
    finally:
        subprocess.run(["docker", "exec", HOST, "touch", STOP], check=False)
        watched = watcher.communicate(timeout=60)[0]
        subprocess.run(["docker", "exec", HOST, "rm", "-f", STOP], check=False)
    output = play.stdout + play.stderr
    assert play.returncode == 0, output[-20000:]
    for secret in (password, wrong):
        assert secret not in output, "a password is in the ansible-playbook -vvv output"
        assert secret not in watched, "a password is in a process's argv or environment on db1"
    assert "PGPASSWORD" not in watched
    # The watcher did see the tools run, reading the password from a PGPASSFILE.
    assert any("pg_dump" in line and "--snapshot=" in line for line in watched.splitlines()), watched[-3000:]
    assert "PGPASSFILE=/tmp/golive-pg-" in watched
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output
    left = subprocess.run(
        ["docker", "exec", HOST, "sh", "-c", "ls -d /tmp/golive-pg-* 2>/dev/null || true"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert left.stdout.strip() == "", "PGPASSFILE directories left behind: %s" % left.stdout
