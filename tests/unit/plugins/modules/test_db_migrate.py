# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pwd
from collections import namedtuple

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _run
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError
from ansible_collections.runbook.golive.plugins.modules import db_migrate

Passwd = namedtuple("Passwd", "pw_name pw_passwd pw_uid pw_gid pw_gecos pw_dir pw_shell")
HISTORY = "0002 -> 0003 (head), score\n0001 -> 0002, note\n<base> -> 0001, create items\n"


class FakeAlembic:
    """Plays Alembic on a database whose revision is ``self.rev``; one seam: _run.run."""

    def __init__(self, rev, fail_upgrade=False, stop_at=None):
        self.rev = rev
        self.fail_upgrade = fail_upgrade
        self.stop_at = stop_at
        self.calls = []
        self.users = []

    def __call__(self, module, argv, what=None, check=True, cwd=None, env=None, **kwargs):
        self.calls.append((argv, env))
        self.users.append(kwargs.get("user"))
        args = argv[argv.index("alembic") + 1 :]
        out = ""
        if args == ["current"]:
            out = "%s (head)\n" % self.rev if self.rev == "0003" else ("%s\n" % self.rev if self.rev else "")
        elif args == ["history"]:
            out = HISTORY
        elif "--sql" in args:
            out = "BEGIN;\n-- %s\nCOMMIT;\n" % args[-1]
        elif args[0] in ("upgrade", "downgrade"):
            if self.fail_upgrade:
                self.rev = self.stop_at or self.rev
                raise GoliveError(
                    "%s failed" % what, rc=1, stdout="", stderr="sqlalchemy.exc.DataError: division by zero\n"
                )
            self.rev = None if args[1] == "base" else ("0003" if args[1] == "head" else args[1])
        return _run.Completed(argv, 0, out, "", 0.1)


@pytest.fixture
def alembic(monkeypatch, tmp_path):
    (tmp_path / "venv/bin").mkdir(parents=True)
    (tmp_path / "venv/bin/python").write_text("")
    (tmp_path / "app.env").write_text("DATABASE_URL=postgresql://app:pw-1234@db1/app\n")

    def install(rev, **kwargs):
        fake = FakeAlembic(rev, **kwargs)
        monkeypatch.setattr(_run, "run", fake)
        return fake

    install.args = dict(
        tool="alembic", chdir=str(tmp_path), virtualenv=str(tmp_path / "venv"), env_file=str(tmp_path / "app.env")
    )
    install.tmp = tmp_path
    return install


def test_upgrade_to_head(run_module, alembic):
    fake = alembic("0001")
    result, failed = run_module(db_migrate.main, alembic.args)
    assert not failed and result["changed"]
    assert (result["revision_before"], result["revision_after"]) == ("0001", "0003")
    assert result["pending"] == ["0002", "0003"] and result["heads"] == ["0003"]
    assert fake.calls[0][0][-3:] == ["-m", "alembic", "current"]
    assert fake.calls[0][1]["DATABASE_URL"].endswith("@db1/app")


def test_at_head_is_not_changed(run_module, alembic):
    fake = alembic("0003")
    result, failed = run_module(db_migrate.main, alembic.args)
    assert not failed and not result["changed"] and result["pending"] == []
    assert not any("upgrade" in argv for argv, _env in fake.calls)


def test_check_mode_renders_plan_and_changes_nothing(run_module, alembic):
    fake = alembic("0001")
    plan = alembic.tmp / "plan.sql"
    result, failed = run_module(db_migrate.main, dict(alembic.args, plan_file=str(plan)), check_mode=True)
    assert not failed and result["changed"] and fake.rev == "0001"
    assert result["revision_after"] == "0001"
    assert "--sql" in fake.calls[-1][0] and fake.calls[-1][0][-1] == "0001:head"
    assert plan.read_text() == result["plan"] and oct(plan.stat().st_mode & 0o777) == "0o600"


def test_downgrade_to_recorded_revision(run_module, alembic):
    alembic("0003")
    result, failed = run_module(db_migrate.main, dict(alembic.args, state="downgraded", revision="0001"))
    assert not failed and result["changed"] and result["revision_after"] == "0001"
    assert result["pending"] == ["0003", "0002"]


def test_failed_migration_reports_tool_error_and_revision(run_module, alembic):
    alembic("0002", fail_upgrade=True)
    result, failed = run_module(db_migrate.main, alembic.args)
    assert failed
    assert "division by zero" in result["msg"] and "still at 0002" in result["msg"]
    assert result["revision_after"] == "0002" and result["changed"] is False


def test_failure_after_committed_migrations_says_the_database_moved(run_module, alembic):
    alembic("0001", fail_upgrade=True, stop_at="0002")
    result, failed = run_module(db_migrate.main, alembic.args)
    assert failed and result["changed"] is True and result["revision_after"] == "0002"
    assert "now at 0002 (it moved)" in result["msg"] and "downgrade to 0001" in result["msg"]


def test_downgrade_needs_revision(run_module, alembic):
    alembic("0003")
    result, failed = run_module(db_migrate.main, dict(alembic.args, state="downgraded"))
    assert failed and "revision" in result["msg"]


def test_missing_virtualenv(run_module, alembic):
    alembic("0003")
    result, failed = run_module(db_migrate.main, dict(alembic.args, virtualenv="/nonexistent"))
    assert failed and "virtualenv /nonexistent has no bin/python" in result["msg"]


def test_command_tool_judges_by_revision(run_module, monkeypatch, tmp_path):
    state = {"rev": "41"}

    def fake(module, argv, what=None, **kwargs):
        if argv[-1] == "version":
            return _run.Completed(argv, 0, "%s\n" % state["rev"], "", 0)
        state["rev"] = "42"
        return _run.Completed(argv, 0, "", "", 0)

    monkeypatch.setattr(_run, "run", fake)
    args = dict(tool="command", chdir=str(tmp_path), commands=dict(current=["app", "version"], upgrade=["app", "up"]))
    result, failed = run_module(db_migrate.main, args)
    assert not failed and result["changed"] and result["revision_after"] == "42"
    result, failed = run_module(db_migrate.main, args)
    assert not failed and not result["changed"]


def test_diff_shows_the_revisions(run_module, alembic):
    alembic("0001")
    result, failed = run_module(db_migrate.main, dict(alembic.args, _ansible_diff=True), check_mode=True)
    assert not failed and result["diff"] == {"before": "revision: 0001\n", "after": "revision: head\n"}


def test_commands_run_as_the_user_named_by_run_as(run_module, alembic, monkeypatch):
    fake = alembic("0001")
    entry = Passwd("golive-app", "x", 990, 990, "", "/srv/golive-app", "/usr/sbin/nologin")
    real = pwd.getpwnam
    monkeypatch.setattr(pwd, "getpwnam", lambda name: entry if name == "golive-app" else real(name))
    monkeypatch.setattr(os, "getgrouplist", lambda name, gid: [gid])
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    # What the user may read is test_migrate_run_as's; the test's tmp_path is root's alone.
    monkeypatch.setattr(_run.Account, "can_enter", lambda self, path: None)
    result, failed = run_module(db_migrate.main, dict(alembic.args, run_as="golive-app"))
    assert not failed and result["changed"] and result["run_as"] == "golive-app"
    # current, history, upgrade, current: every one as the user, none as root.
    assert len(fake.users) == 4 and all(u is not None and (u.uid, u.switch) == (990, True) for u in fake.users)


def test_without_run_as_the_commands_run_as_the_module(run_module, alembic):
    fake = alembic("0001")
    result, failed = run_module(db_migrate.main, alembic.args)
    assert not failed and result["run_as"] is None and set(fake.users) == {None}


def test_an_unknown_run_as_user_is_refused_before_anything_runs(run_module, alembic):
    fake = alembic("0001")
    result, failed = run_module(db_migrate.main, dict(alembic.args, run_as="golive-nosuchuser"))
    assert failed and result["msg"].startswith("run_as golive-nosuchuser: no such user on the host")
    assert fake.calls == []


def test_the_timeouts_reach_the_tool_in_pgoptions(run_module, alembic):
    fake = alembic("0001")
    (alembic.tmp / "app.env").write_text(
        "DATABASE_URL=postgresql://app:pw-1234@db1/app\nPGOPTIONS=-c search_path=app\n"
    )
    result, failed = run_module(db_migrate.main, dict(alembic.args, lock_timeout="5s", statement_timeout="10min"))
    assert not failed
    assert {env["PGOPTIONS"] for _argv, env in fake.calls} == {
        "-c search_path=app -c lock_timeout=5s -c statement_timeout=10min"
    }


def test_the_default_timeouts(run_module, alembic):
    fake = alembic("0003")
    result, failed = run_module(db_migrate.main, alembic.args)
    assert not failed and fake.calls[0][1]["PGOPTIONS"] == "-c lock_timeout=30s -c statement_timeout=0"


def test_a_bad_timeout_is_refused_before_anything_runs(run_module, alembic):
    fake = alembic("0001")
    result, failed = run_module(db_migrate.main, dict(alembic.args, lock_timeout="30 secs"))
    assert failed and result["msg"].startswith("lock_timeout '30 secs' is not a PostgreSQL duration")
    assert fake.calls == []
