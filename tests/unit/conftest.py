# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers for the unit tests: run a module's main() with given args."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    """Raised instead of sys.exit so a test can read the module's result."""

    def __init__(self, result, failed):
        super(ModuleExit, self).__init__(result.get("msg"))
        self.result = result
        self.failed = failed


def _exit_json(self, **kwargs):
    kwargs.setdefault("changed", False)
    raise ModuleExit(json.loads(json.dumps(kwargs, default=str)), False)


def _fail_json(self, msg, **kwargs):
    kwargs["msg"] = msg
    kwargs["failed"] = True
    raise ModuleExit(json.loads(json.dumps(kwargs, default=str)), True)


@pytest.fixture
def run_module(monkeypatch):
    """``run_module(main, args, check_mode=False)`` -> (result, failed)."""
    from ansible.module_utils import basic

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail_json)

    def run(main, args, check_mode=False):
        args = dict(args)
        if check_mode:
            args["_ansible_check_mode"] = True
        with patch_module_args(args), pytest.raises(ModuleExit) as info:
            main()
        return info.value.result, info.value.failed

    return run


@pytest.fixture
def pg_backup_files(tmp_path):
    """``pg_backup_files(**manifest_fields)`` -> path of a custom-format backup ``app-S.dump`` in
    ``tmp_path`` with its manifest beside it; a field given as None is left out of the manifest."""
    from ansible_collections.runbook.golive.plugins.module_utils import _pg_backup

    def write(**fields):
        values = dict(database="app", file="app-S.dump", format="custom", sha256="0" * 64, size=5, started_at="S")
        values.update(row_counts={"public.items": 100}, xid_snapshot="745:749:746")
        values.update(fields)
        manifest = dict((k, v) for k, v in _pg_backup.build_manifest(**values).items() if v is not None)
        (tmp_path / "app-S.dump").write_bytes(b"PGDMP corrupted")
        (tmp_path / "app-S.manifest.json").write_text(json.dumps(manifest))
        return str(tmp_path / "app-S.dump")

    return write
