# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _http
from ansible_collections.runbook.golive.plugins.modules import health_wait


@pytest.fixture
def serve(monkeypatch):
    """Replace the one network seam with a list of canned responses."""
    calls = []

    def install(*responses):
        feed = list(responses)

        def fake_request(url, **kwargs):
            calls.append(dict(kwargs, url=url))
            return feed.pop(0) if len(feed) > 1 else feed[0]

        monkeypatch.setattr(_http, "request", fake_request)
        return calls

    return install


def ok(version):
    return _http.Response(200, {}, json.dumps({"status": "ok", "version": version}).encode())


def test_healthy_release(run_module, serve):
    calls = serve(ok("v1.1.0"))
    result, failed = run_module(
        health_wait.main,
        dict(url="http://127.0.0.1:8000/health", expected_value="v1.1.0", interval=0, host_header="app.example"),
    )
    assert not failed
    assert result["outcome"] == "ok"
    assert result["attempts"] == 3
    assert result["changed"] is False
    assert calls[0]["host_header"] == "app.example"


def test_wrong_version_fails_with_both_versions(run_module, serve):
    serve(ok("v1.3.0"))
    result, failed = run_module(
        health_wait.main,
        dict(url="http://h/health", expected_value="v1.4.0", interval=0.01, timeout=0.05),
    )
    assert failed
    assert result["outcome"] == "wrong_version"
    assert result["last_value"] == "v1.3.0"
    assert "version v1.3.0, expected v1.4.0" in result["msg"]


def test_body_is_cut(run_module, serve):
    serve(_http.Response(500, {}, b"x" * 5000))
    result, failed = run_module(health_wait.main, dict(url="http://h/health", interval=0, timeout=0.01, body_limit=100))
    assert failed and result["outcome"] == "wrong_status"
    assert len(result["last_body"]) < 200 and "5000 bytes" in result["last_body"]


def test_check_mode_polls_too(run_module, serve):
    serve(ok("v2"))
    result, failed = run_module(
        health_wait.main, dict(url="http://h/health", expected_value="v2", interval=0), check_mode=True
    )
    assert not failed and result["outcome"] == "ok" and result["changed"] is False


@pytest.mark.parametrize("name", ["successes", "timeout", "body_limit"])
def test_non_positive_numbers_are_refused(run_module, serve, name):
    serve(ok("v2"))
    result, failed = run_module(health_wait.main, {"url": "http://h/health", name: 0})
    assert failed and result["msg"].startswith(name + " must be greater than 0")
