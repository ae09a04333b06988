# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile and malformed inputs, as a table: each is refused with a message naming the input and
the fix, before anything changes (every host serves what it served, no lock, no journal, no
maintenance, no release log record, no file written on the controller's behalf, no template run).

The playbook's inputs go through golive.yml and rollback.yml; the modules' options through
``ansible -m`` on the lab hosts, as a role or a playbook of one's own would call them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess

import pytest

from .conftest import ROOT, assert_settled, dexec, playbook, release_log, versions

PWNED = "/tmp/golive-e2e-input-ran-on-the-controller"
OK = ["-e", "golive_version=v1.1.0"]


def j(**extra):
    """Extra vars as JSON: values with newlines, quotes or lists pass through unchanged."""
    return ["-e", json.dumps(extra)]


# (playbook, extra arguments, what the refusal says)
PLAYBOOK_INPUTS = [
    # Versions: length, characters, option injection, path traversal, newline, emptiness.
    ("golive.yml", ["-e", "golive_version=" + "v1." * 80], "golive_version is 240 characters long"),
    ("golive.yml", j(golive_version="v" * 300), "golive_version is 300 characters long"),
    ("golive.yml", j(golive_version="v1.1.0\n"), "is not a release tag"),
    ("golive.yml", ["-e", "golive_version=--upload-pack=touch"], "is not a release tag"),
    ("golive.yml", j(golive_version="v1.1.0;touch /tmp/x"), "is not a release tag"),
    ("golive.yml", j(golive_version="v1/../../etc"), "is not a release tag"),
    ("golive.yml", j(golive_version="v1..1"), "is not a release tag"),
    ("golive.yml", j(golive_version=""), "golive_version is empty"),
    ("golive.yml", j(golive_version="v9.9.9"), "Tag v9.9.9 does not exist"),
    # Templates never run on the controller, wherever they are given.
    (
        "golive.yml",
        ["-e", "golive_version={{ lookup('pipe', 'touch %s') }}" % PWNED],
        "golive_version holds a template",
    ),
    ("golive.yml", OK + j(golive_owner="{%% if true %%}%s{%% endif %%}" % PWNED), "golive_owner holds a template"),
    # Owners and approvers: control characters, length.
    ("golive.yml", OK + j(golive_owner="alice\nmallory"), "golive_owner"),
    ("golive.yml", OK + j(golive_owner="alice\x1b[31m"), "golive_owner"),
    ("golive.yml", OK + j(golive_owner="a" * 300), "golive_owner"),
    ("golive.yml", OK + j(golive_approved_by="carol\rmallory"), "needs the name of who approved"),
    ("golive.yml", OK + ["-e", "golive_approval_required=true"], "needs the name of who approved"),
    # URLs: other schemes, spaces.
    ("golive.yml", OK + ["-e", "verify_lb_url=file:///etc/passwd"], "verify_lb_url must be an http"),
    ("golive.yml", OK + j(verify_smoke_base_url="gopher://127.0.0.1"), "verify_smoke_base_url must be an http"),
    ("golive.yml", OK + j(finish_notify_url="http://hooks.example/a b"), "finish_notify_url must be an http"),
    # Paths outside the app root or relative.
    ("golive.yml", OK + j(golive_app_root="srv/app"), "golive_app_root 'srv/app' must be an absolute path"),
    ("golive.yml", OK + j(golive_state_dir="/var/lib/../../etc"), "golive_state_dir"),
    ("golive.yml", OK + j(deploy_shared_paths=["../../etc"]), "deploy_shared_paths holds '../../etc'"),
    ("golive.yml", OK + j(deploy_shared_files=["/etc/shadow"]), "deploy_shared_files holds '/etc/shadow'"),
    # Numbers.
    ("golive.yml", OK + ["-e", "deploy_health_timeout=soon"], "deploy_health_timeout must be a whole"),
    ("golive.yml", OK + ["-e", "deploy_keep_releases=1"], "deploy_keep_releases must be at least 2"),
    # Names where a shell, SQL, PromQL or systemd fragment does not belong.
    ("golive.yml", OK + j(golive_app_units=["golive app.service"]), "golive_app_units holds 'golive app.service'"),
    ("golive.yml", OK + j(golive_environment="lab; rm -rf /"), "golive_environment holds"),
    ("golive.yml", OK + j(golive_db_name="golive_app; DROP TABLE items"), "golive_db_name holds"),
    (
        "golive.yml",
        OK + j(golive_release_log_table='sum(rate(http_requests_total{code="500"}[5m]))'),
        "golive_release_log_table holds",
    ),
    ("golive.yml", OK + j(deploy_migrate_user="root user"), "deploy_migrate_user holds"),
    # An inventory without the app group (a forgotten -i) would match no host and exit 0.
    ("golive.yml", OK + ["-e", "golive_app_group_name=web"], "has no hosts in the group 'web'"),
    # Tags: the phases stand on each other; only the whole run and --skip-tags notify are safe.
    ("golive.yml", OK + ["--skip-tags", "finish"], "finish"),
    ("golive.yml", OK + ["--tags", "rollout"], "rollout"),
    ("golive.yml", OK + ["--skip-tags", "always,prepare"], "Nothing was changed."),
    # The manual rollback takes the same rules.
    ("rollback.yml", j(golive_rollback_to="v1.0.0;id"), "is not a release tag"),
    ("rollback.yml", j(golive_rollback_to="v1.0.0", golive_owner="bob\n"), "golive_owner"),
]

# (module, its arguments, what the refusal says): each on app1, where nothing may change.
MODULE_OPTIONS = [
    (
        "deploy_lock",
        {"path": "relative/lock", "owner": "x", "release_id": "r"},
        "path 'relative/lock' is a relative path",
    ),
    ("run_journal", {"state": "updated", "path": "/tmp/../etc/j.json", "run_id": "r"}, "has a '..' part"),
    ("health_wait", {"url": "file:///etc/passwd", "timeout": 1}, "is not an http:// or https:// URL"),
    (
        "smoke_check",
        {"base_url": "ftp://127.0.0.1", "checks": [{"name": "x", "url": "/"}]},
        "is not an http:// or https://",
    ),
    ("notify", {"kind": "slack", "url": "http://hooks.example/a b", "text": "x"}, "holds a space"),
    (
        "pg_backup",
        {"database": "app; DROP TABLE items", "backup_dir": "/tmp/golive-e2e-hostile"},
        "is not a plain PostgreSQL name",
    ),
    (
        "release_log",
        {
            "state": "present",
            "path": "/tmp/golive-e2e-hostile.jsonl",
            "release_id": "r",
            "environment": "lab",
            "version": "v1.0.0",
            "decision": "go",
            "database": "x' OR '1'='1",
        },
        "is not a plain PostgreSQL name",
    ),
]


def before():
    return {
        "versions": versions(),
        "records": len(release_log(1000)),
        "releases": {h: sorted(dexec(h, "ls", "/srv/golive-app/releases").stdout.split()) for h in ("app1", "app2")},
    }


@pytest.mark.parametrize(
    "name, extra, says", PLAYBOOK_INPUTS, ids=["%s-%d" % (p[0], i) for i, p in enumerate(PLAYBOOK_INPUTS)]
)
def test_hostile_playbook_input_is_refused_before_anything_changes(name, extra, says):
    state = before()
    run = playbook(name, *extra)
    assert run.returncode != 0
    assert says in run.flat, run.output[-3000:]
    assert "Nothing was changed." in run.flat, run.output[-3000:]
    assert not os.path.exists(PWNED)
    assert before() == state
    assert_settled()


@pytest.mark.parametrize("module, args, says", MODULE_OPTIONS, ids=[m[0] for m in MODULE_OPTIONS])
def test_hostile_module_option_is_refused_before_anything_changes(module, args, says):
    state = before()
    run = subprocess.run(
        [
            "ansible",
            "-i",
            str(ROOT / "inventories/lab"),
            "app1",
            "-m",
            "runbook.golive.%s" % module,
            "-a",
            json.dumps(args),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    out = " ".join((run.stdout + run.stderr).split())
    assert run.returncode != 0, out[-2000:]
    assert "FAILED" in out and says in out, out[-2000:]
    assert before() == state
    # The module created nothing where it was pointed.
    assert dexec("app1", "sh", "-c", "ls -d /tmp/golive-e2e-hostile* 2>/dev/null", check=False).stdout == ""
    assert_settled()
