# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Migrations as an unprivileged user and under timeouts: the run-as user, PGOPTIONS, the env file."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import pwd
import shutil
import tempfile
from collections import namedtuple

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _migrate, _run
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

Passwd = namedtuple("Passwd", "pw_name pw_passwd pw_uid pw_gid pw_gecos pw_dir pw_shell")
APP = Passwd("golive-app", "x", 990, 990, "", "/srv/golive-app", "/usr/sbin/nologin")


@pytest.fixture
def passwd(monkeypatch):
    """A host whose passwd database holds ``golive-app`` (uid 990, also in group 4 adm); the module runs as root."""
    users = {"golive-app": APP}

    def getpwnam(name):
        return users[name]

    monkeypatch.setattr(_run.pwd, "getpwnam", getpwnam)
    monkeypatch.setattr(_run.os, "getgrouplist", lambda name, gid: [gid, 4] if name == "golive-app" else [gid])
    monkeypatch.setattr(_run.os, "geteuid", lambda: 0)
    return users


# ------------------------------------------------------------------ PGOPTIONS


@pytest.mark.parametrize(
    "existing, lock, statement, expected",
    [
        (None, "30s", "0", "-c lock_timeout=30s -c statement_timeout=0"),
        ("", "5min", "10s", "-c lock_timeout=5min -c statement_timeout=10s"),
        # The env file's own options come first: a later -c wins, so the module's timeouts hold.
        (
            "-c search_path=app -c lock_timeout=0",
            "30s",
            "0",
            "-c search_path=app -c lock_timeout=0 -c lock_timeout=30s -c statement_timeout=0",
        ),
        ("  -c work_mem=64MB ", " 500 ms", "1.5h", "-c work_mem=64MB -c lock_timeout=500ms -c statement_timeout=1.5h"),
        (None, 10, 0, "-c lock_timeout=10 -c statement_timeout=0"),
    ],
)
def test_pg_options(existing, lock, statement, expected):
    assert _migrate.pg_options(existing, lock, statement) == expected


@pytest.mark.parametrize(
    "lock, statement, bad",
    [
        ("30 seconds", "0", "lock_timeout '30 seconds'"),
        ("30s", "forever", "statement_timeout 'forever'"),
        ("30s -c statement_timeout=0", "0", "lock_timeout"),
        ("-1s", "0", "lock_timeout '-1s'"),
        ("30s", "", "statement_timeout ''"),
    ],
)
def test_pg_options_refuses_what_is_not_a_duration(lock, statement, bad):
    with pytest.raises(GoliveError) as info:
        _migrate.pg_options(None, lock, statement)
    assert str(info.value).startswith(bad) and "is not a PostgreSQL duration" in str(info.value)
    assert "for example 30s" in str(info.value)


class Module:
    def __init__(self):
        self.no_log_values = set()


def _params(env_file=None, **kwargs):
    params = dict(env_file=env_file, environment={}, lock_timeout="30s", statement_timeout="0")
    params.update(kwargs)
    return params


def test_environment_appends_the_timeouts_to_the_env_files_pgoptions(tmp_path):
    env_file = tmp_path / "app.env"
    env_file.write_text("DATABASE_URL=postgresql://app:pw-1234@db1/app\nPGOPTIONS='-c search_path=shop'\n")
    env = _migrate.environment(Module(), _params(str(env_file), lock_timeout="10s", statement_timeout="15min"))
    assert env["PGOPTIONS"] == "-c search_path=shop -c lock_timeout=10s -c statement_timeout=15min"
    assert env["DATABASE_URL"] == "postgresql://app:pw-1234@db1/app"


def test_environment_option_wins_over_the_env_file_and_keeps_the_timeouts(tmp_path):
    env_file = tmp_path / "app.env"
    env_file.write_text("PGOPTIONS=-c search_path=shop\n")
    env = _migrate.environment(Module(), _params(str(env_file), environment={"PGOPTIONS": "-c search_path=b"}))
    assert env["PGOPTIONS"] == "-c search_path=b -c lock_timeout=30s -c statement_timeout=0"


def test_environment_keeps_the_modules_own_pgoptions(monkeypatch):
    monkeypatch.setenv("PGOPTIONS", "-c application_name=golive")
    env = _migrate.environment(Module(), _params())
    assert env["PGOPTIONS"] == "-c application_name=golive -c lock_timeout=30s -c statement_timeout=0"


def test_env_file_only_root_can_read_is_read_by_the_module(tmp_path):
    # The module reads it (as root); the user the tool runs as never has to.
    env_file = tmp_path / "app.env"
    env_file.write_text("DATABASE_URL=postgresql://app:pw-1234@db1/app\n")
    env_file.chmod(0o600)
    module = Module()
    env = _migrate.environment(module, _params(str(env_file)))
    assert env["DATABASE_URL"].endswith("@db1/app") and "pw-1234" in module.no_log_values


# -------------------------------------------------------------------- run_as


def test_account_from_the_passwd_and_group_databases(passwd):
    user = _run.account("golive-app")
    assert (user.name, user.uid, user.gid, user.groups, user.home) == ("golive-app", 990, 990, [4, 990], APP.pw_dir)
    assert user.switch
    assert user.environ() == {"HOME": "/srv/golive-app", "USER": "golive-app", "LOGNAME": "golive-app"}


def test_an_unknown_user_is_refused_naming_the_option(passwd):
    with pytest.raises(GoliveError) as info:
        _run.account("golive-ap", "run_as")
    assert str(info.value).startswith("run_as golive-ap: no such user on the host;")
    assert "set run_as to an existing user" in str(info.value)


def test_the_modules_own_user_needs_no_switch(passwd, monkeypatch):
    monkeypatch.setattr(_run.os, "geteuid", lambda: 990)
    assert not _run.account("golive-app").switch


def test_another_user_needs_a_module_running_as_root(passwd, monkeypatch):
    passwd["deploy"] = APP._replace(pw_name="deploy", pw_uid=1000, pw_gid=1000)
    monkeypatch.setattr(_run.pwd, "getpwuid", lambda uid: passwd["deploy"])
    monkeypatch.setattr(_run.os, "geteuid", lambda: 1000)
    with pytest.raises(GoliveError) as info:
        _run.account("golive-app", "run_as")
    assert "the module runs as deploy and cannot switch" in str(info.value)
    assert "become: true without become_user" in str(info.value)


@pytest.fixture
def release():
    """A release tree like the deploy's: <root>/releases/v1 root's, group 990, 0750; <root> 0755."""
    root = tempfile.mkdtemp(prefix="golive-release-", dir="/tmp")
    os.chmod(root, 0o755)  # noqa: S103 - a release root as the deploy makes it
    path = os.path.join(root, "releases", "v1")
    os.makedirs(os.path.join(path, "venv", "bin"))
    os.chmod(os.path.join(root, "releases"), 0o755)  # noqa: S103 - as the deploy makes it
    yield path
    shutil.rmtree(root)


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
@pytest.mark.parametrize(
    "group, mode, readable",
    [
        (990, 0o750, True),  # the app's group: it reads and enters
        (4, 0o750, True),  # a supplementary group counts
        (0, 0o750, False),  # root's group, nothing for others
        (0, 0o755, True),
        (990, 0o710, False),  # the group may pass through but not list
    ],
)
def test_the_user_must_be_able_to_enter_the_release(passwd, release, group, mode, readable):
    os.chown(release, 0, group)
    os.chmod(release, mode)
    why = _run.account("golive-app").can_enter(release)
    assert (why is None) == readable
    if not readable:
        assert why.startswith("%s is d" % release) and "owner root" in why


def test_run_as_refuses_a_release_the_user_cannot_read(passwd, release):
    os.chmod(release, 0o700)
    with pytest.raises(GoliveError) as info:
        _migrate.run_as("golive-app", release, os.path.join(release, "venv"))
    assert str(info.value).startswith("run_as golive-app cannot read chdir %s: %s is drwx------" % (release, release))


def test_run_as_refuses_a_virtualenv_the_user_cannot_enter(passwd, release):
    os.chmod(release, 0o755)  # noqa: S103 - readable, not writable, by the user
    os.chmod(os.path.join(release, "venv"), 0o700)
    with pytest.raises(GoliveError, match="run_as golive-app cannot read virtualenv %s/venv/bin" % release):
        _migrate.run_as("golive-app", release, os.path.join(release, "venv"))


def test_run_as_root_or_none_switches_nothing(passwd, release):
    passwd["root"] = APP._replace(pw_name="root", pw_uid=0, pw_gid=0, pw_dir="/root")
    os.chmod(release, 0o700)
    assert _migrate.run_as(None, release) is None
    assert not _migrate.run_as("root", release).switch


# ---------------------------------------------------- the real switch (root only)

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or not os.path.exists("/usr/bin/python3"), reason="switching users needs root"
)


class NoRunCommand:
    """A module whose run_command must not be used: the switch runs the command itself."""

    run_command_environ_update = {"LANG": "C.UTF-8"}

    def run_command(self, *args, **kwargs):
        raise AssertionError("run_command cannot switch users")


def _nobody():
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody on this host")


@needs_root
def test_commands_run_as_the_user_with_its_groups_and_home(release):
    entry = _nobody()
    user = _run.account("nobody")
    done = _run.run(
        NoRunCommand(),
        ["sh", "-c", 'id -u; id -g; id -G; echo "$HOME $USER $LANG $PGOPTIONS"; pwd'],
        cwd=release,
        env={"PGOPTIONS": "-c lock_timeout=30s"},
        user=user,
    )
    uid, gid, groups, env, cwd = done.out.splitlines()
    assert (int(uid), int(gid)) == (entry.pw_uid, entry.pw_gid)
    assert sorted(int(g) for g in groups.split()) == user.groups
    assert env == "%s nobody C.UTF-8 -c lock_timeout=30s" % entry.pw_dir
    assert cwd == release


@needs_root
def test_a_failed_command_as_the_user_fails_like_any_other():
    _nobody()
    with pytest.raises(GoliveError) as info:
        _run.run(
            NoRunCommand(),
            ["sh", "-c", "echo no access >&2; exit 3"],
            what="alembic current",
            user=_run.account("nobody"),
        )
    assert str(info.value) == "alembic current failed (sh exited 3): no access"
    assert info.value.result["rc"] == 3


@needs_root
def test_a_command_that_cannot_start_names_the_user():
    _nobody()
    with pytest.raises(GoliveError, match="alembic current failed: cannot start /nonexistent/python as nobody"):
        _run.run(NoRunCommand(), ["/nonexistent/python"], what="alembic current", user=_run.account("nobody"))


@needs_root
def test_the_user_cannot_write_the_release_and_python_still_runs(release):
    # A release is root's: the migration's Python cannot write __pycache__, and goes on without it.
    _nobody()
    os.chmod(release, 0o755)  # noqa: S103 - readable, not writable, by the user
    with open(os.path.join(release, "migration.py"), "w") as handle:
        handle.write("REVISION = '0003'\n")
    done = _run.run(
        NoRunCommand(),
        ["/usr/bin/python3", "-c", "import migration; print(migration.REVISION)"],
        cwd=release,
        env={"PYTHONPATH": release},
        user=_run.account("nobody"),
    )
    assert done.out == "0003\n" and done.rc == 0
    assert not os.path.exists(os.path.join(release, "__pycache__"))
