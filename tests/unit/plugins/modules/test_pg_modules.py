# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PostgreSQL modules refuse bad input with a message naming the fix, before running any tool."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _run
from ansible_collections.runbook.golive.plugins.modules import (
    pg_backup,
    pg_backup_verify,
    pg_changes,
    pg_restore,
    pg_schema_undo,
)

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


def test_verify_refuses_an_edited_manifest_before_reading_the_backup(run_module, tmp_path, pg_backup_files):
    path = pg_backup_files()
    args = dict(path=path, manifest_sha256="ab" * 32, password=SECRET)
    result, failed = run_module(pg_backup_verify.main, args, check_mode=True)
    assert failed and result["failed_check"] == "manifest" and result["checks"] == []
    assert result["msg"].startswith(
        "manifest %s: sha256 mismatch (expected %s" % (tmp_path / "app-S.manifest.json", "ab" * 32)
    )
    assert SECRET not in json.dumps(result)


def test_restore_refuses_negative_keep_previous_days(run_module, tmp_path):
    args = dict(path=str(tmp_path / "x.dump"), database="app", keep_previous_days=-1)
    result, failed = run_module(pg_restore.main, args)
    assert failed and result["msg"].startswith("keep_previous_days must not be negative, got -1.0")


def test_restore_refuses_maintenance_db_equal_to_database(run_module, tmp_path):
    result, failed = run_module(
        pg_restore.main, dict(path=str(tmp_path / "x.dump"), database="postgres", password=SECRET)
    )
    assert failed and result["msg"].startswith("maintenance_db must differ from database (postgres)")


def test_restore_refuses_backup_without_manifest(run_module, tmp_path):
    (tmp_path / "x.dump").write_bytes(b"PGDMP")
    result, failed = run_module(pg_restore.main, dict(path=str(tmp_path / "x.dump"), database="app"))
    assert failed and "force: true" in result["msg"]


def test_restore_refuses_checksum_mismatch(run_module, pg_backup_files):
    path = pg_backup_files()
    result, failed = run_module(pg_restore.main, dict(path=path, database="app", force=True))
    assert failed
    assert "sha256 mismatch (expected %s, got " % ("0" * 64) in result["msg"]
    assert result["msg"].endswith("do not restore from it; refusing to restore app")


def test_changes_refuses_a_backup_without_xid_snapshot(run_module, tmp_path, pg_backup_files):
    path = pg_backup_files(xid_snapshot=None)
    result, failed = run_module(pg_changes.main, dict(backup=path, database="app", password=SECRET), check_mode=True)
    assert failed
    assert result["msg"] == (
        "backup %s was taken by an older pg_backup that did not record its snapshot (xid_snapshot in %s); the rows "
        "written since cannot be told from those in it; take a new backup"
        % (tmp_path / "app-S.dump", tmp_path / "app-S.manifest.json")
    )
    assert SECRET not in json.dumps(result)


@pytest.mark.parametrize(
    "args, match",
    [
        (
            dict(before={"table public.items": "x"}, lock_timeout="soon"),
            "lock_timeout 'soon' is not a PostgreSQL duration",
        ),
        (dict(before={}), "before holds no objects"),
        (dict(before=dict(changed=False, skipped=True)), "before must be a pg_fingerprint result or its objects"),
    ],
)
def test_schema_undo_refuses_bad_input(run_module, args, match):
    result, failed = run_module(pg_schema_undo.main, dict(args, database="app", password=SECRET))
    assert failed and match in result["msg"]
    assert SECRET not in json.dumps(result)
