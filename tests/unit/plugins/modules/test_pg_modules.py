# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PostgreSQL modules refuse bad input with a message naming the fix, before running any tool."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _run
from ansible_collections.runbook.golive.plugins.modules import pg_backup, pg_backup_verify, pg_restore

SECRET = "pw-that-must-not-leak"


@pytest.fixture(autouse=True)
def no_tools(monkeypatch):
    """Any attempt to run a tool fails the test: these cases must stop before."""

    def boom(*args, **kwargs):
        raise AssertionError("a tool was run: %r" % (args,))

    monkeypatch.setattr(_run, "run", boom)
    monkeypatch.setattr(_run, "spawn", boom)


def test_backup_dir_missing(run_module, tmp_path):
    result, failed = run_module(
        pg_backup.main, dict(database="app", backup_dir=str(tmp_path / "nope"), password=SECRET)
    )
    assert failed
    assert result["msg"].startswith("backup directory %s does not exist; create it first" % (tmp_path / "nope"))
    assert SECRET not in json.dumps(result)


def test_backup_jobs_need_directory_format(run_module, tmp_path):
    result, failed = run_module(pg_backup.main, dict(database="app", backup_dir=str(tmp_path), jobs=3))
    assert failed and "jobs=3 needs format=directory" in result["msg"]


def test_backup_format_choices(run_module, tmp_path):
    result, failed = run_module(pg_backup.main, dict(database="app", backup_dir=str(tmp_path), format="tar"))
    assert failed and "format" in result["msg"]


def test_verify_missing_backup(run_module, tmp_path):
    result, failed = run_module(pg_backup_verify.main, dict(path=str(tmp_path / "x.dump")))
    assert failed and result["msg"] == "backup %s does not exist; check the path" % (tmp_path / "x.dump")


def test_verify_without_manifest(run_module, tmp_path):
    (tmp_path / "x.dump").write_bytes(b"PGDMP")
    result, failed = run_module(pg_backup_verify.main, dict(path=str(tmp_path / "x.dump")))
    assert failed and "has no manifest" in result["msg"]


def test_restore_refuses_maintenance_db_equal_to_database(run_module, tmp_path):
    result, failed = run_module(
        pg_restore.main, dict(path=str(tmp_path / "x.dump"), database="postgres", password=SECRET)
    )
    assert failed and result["msg"].startswith("maintenance_db must differ from database (postgres)")


def test_restore_refuses_backup_without_manifest(run_module, tmp_path):
    (tmp_path / "x.dump").write_bytes(b"PGDMP")
    result, failed = run_module(pg_restore.main, dict(path=str(tmp_path / "x.dump"), database="app"))
    assert failed and "force: true" in result["msg"]


def test_restore_refuses_checksum_mismatch(run_module, tmp_path):
    (tmp_path / "app-S.dump").write_bytes(b"PGDMP corrupted")
    manifest = dict(
        tool="runbook.golive.pg_backup",
        format_version=1,
        database="app",
        file="app-S.dump",
        format="custom",
        sha256="0" * 64,
        size=5,
        started_at="S",
        row_counts={},
    )
    (tmp_path / "app-S.manifest.json").write_text(json.dumps(manifest))
    result, failed = run_module(pg_restore.main, dict(path=str(tmp_path / "app-S.dump"), database="app", force=True))
    assert failed
    assert "sha256 mismatch (expected %s, got " % ("0" * 64) in result["msg"]
    assert result["msg"].endswith("do not restore from it; refusing to restore app")
