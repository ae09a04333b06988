# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _compose, _compose_status
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


@pytest.mark.parametrize(
    "ref, repo, tag",
    [
        ("127.0.0.1:15000/golive-compose/app:v1.1.0", "127.0.0.1:15000/golive-compose/app", "v1.1.0"),
        ("127.0.0.1:15000/golive-compose/app", "127.0.0.1:15000/golive-compose/app", "latest"),
        ("nginx", "nginx", "latest"),
        ("nginx:1.25-alpine", "nginx", "1.25-alpine"),
        ("registry.example.com/shop/web@sha256:abcd", "registry.example.com/shop/web", None),
        (None, None, None),
    ],
)
def test_split_image(ref, repo, tag):
    assert _compose.split_image(ref) == (repo, tag)


@pytest.mark.parametrize(
    "directory, name, expected",
    [
        ("/srv/Shop.Backend", None, "shopbackend"),
        ("/srv/golive-compose/", None, "golive-compose"),
        ("/srv/x", "my_app-2", "my_app-2"),
    ],
)
def test_project_name(directory, name, expected):
    assert _compose.project_name(directory, name) == expected


@pytest.mark.parametrize("directory, name", [("/srv/...", None), ("/srv/x", "My App")])
def test_project_name_refused(directory, name):
    with pytest.raises(GoliveError, match="project_name|project name"):
        _compose.project_name(directory, name)


@pytest.mark.parametrize("service, var", [("web", "WEB_TAG"), ("admin-bot", "ADMIN_BOT_TAG"), ("api.v2", "API_V2_TAG")])
def test_default_variable(service, var):
    assert _compose.default_variable(service) == var


@pytest.mark.parametrize("tag", ["", "-v1", ".v1", "v1 2", "v1:2", "x" * 129, None])
def test_bad_tags(tag):
    with pytest.raises(GoliveError, match="is not a valid image tag"):
        _compose.validate_tags({"web": tag})


def test_parse_env():
    text = "# tags\nWEB_TAG=v1.0.0\nexport ADMIN_TAG='v1.0.1'\n\nOTHER = \"x=y\"\nnot a line\n"
    assert _compose.parse_env(text) == {"WEB_TAG": "v1.0.0", "ADMIN_TAG": "v1.0.1", "OTHER": "x=y"}


def test_update_env_keeps_other_lines_and_drops_duplicates():
    text = "# comment\nSECRET=abc\nWEB_TAG=v1.0.0\nWEB_TAG=v0.9\n"
    out = _compose.update_env(text, {"WEB_TAG": "v1.1.0", "ADMIN_TAG": "v1.1.0"})
    assert out == "# comment\nSECRET=abc\nWEB_TAG=v1.1.0\nADMIN_TAG=v1.1.0\n"
    assert _compose.parse_env(out)["WEB_TAG"] == "v1.1.0"
    # Setting what is already there changes nothing.
    assert _compose.update_env(out, {"WEB_TAG": "v1.1.0"}) == out


def test_override_round_trip():
    text = _compose.render_override({"web": "reg/app:v2", "worker": "reg/worker:v2"})
    assert _compose.parse_override(text, "o.yml") == {"web": "reg/app:v2", "worker": "reg/worker:v2"}
    assert _compose.parse_override("", "o.yml") == {}


def test_override_not_ours():
    with pytest.raises(GoliveError, match="not written by runbook.golive.compose_release"):
        _compose.parse_override("services:\n  web:\n    image: x\n", "/srv/o.yml")


def inspected(service, image, status="running", project="p", oneoff="False", health=None):
    state = {"Status": status}
    if health:
        state["Health"] = {"Status": health}
    return {
        "Name": "/%s-%s-1" % (project, service),
        "Config": {
            "Image": image,
            "Labels": {_compose.LABEL_PROJECT: project, _compose.LABEL_SERVICE: service, _compose.LABEL_ONEOFF: oneoff},
        },
        "State": state,
    }


def test_containers_and_running_tags():
    data = [
        inspected("web", "r/app:v1"),
        inspected("web", "r/app:v2", oneoff="True"),  # a migration's one-off: not the service
        inspected("admin", "r/app:v1", status="exited"),
        inspected("web", "r/app:v9", project="other"),
        inspected("mixed", "r/app:v1"),
        inspected("mixed", "r/app:v2"),
    ]
    by = _compose.containers_by_service(data, "p")
    assert sorted(by) == ["admin", "mixed", "web"]
    assert [c["tag"] for c in by["web"]] == ["v1"]
    assert _compose.running_tags(by, ["web", "admin", "mixed", "gone"]) == {
        "web": "v1",
        "admin": None,
        "mixed": None,
        "gone": None,
    }


def test_plan():
    by = _compose.containers_by_service([inspected("web", "r:v1"), inspected("admin", "r:v2", status="exited")], "p")
    running = _compose.running_tags(by, ["web", "admin"])
    todo = _compose.plan(["web", "admin"], {"web": "v2", "admin": "v2"}, running, {"web": "v1", "admin": "v2"}, by)
    assert todo == {"restart": ["admin", "web"], "rewrite": ["web"]}
    todo = _compose.plan(["web"], {"web": "v1"}, running, {"web": "v1"}, by)
    assert todo == {"restart": [], "rewrite": []}


def test_desired_tags():
    p = {"services": ["web", "admin"], "tag": "v2", "tags": {"admin": "v1"}}
    assert _compose.desired_tags(p) == {"web": "v2", "admin": "v1"}
    with pytest.raises(GoliveError, match="no tag for service web"):
        _compose.desired_tags({"services": ["web"], "tag": None, "tags": {}})
    with pytest.raises(GoliveError, match="tags names worker"):
        _compose.desired_tags({"services": ["web"], "tag": "v1", "tags": {"worker": "v1"}})


def container(status="running", health=None, tag="v1", errors=(), exit_code=0):
    return {
        "name": "p-web-1",
        "status": status,
        "health": health,
        "tag": tag,
        "error_lines": list(errors),
        "exit_code": exit_code,
    }


@pytest.mark.parametrize(
    "containers, expected, problem",
    [
        ([container()], "v1", None),
        ([container(health="healthy")], "v1", None),
        ([], "v1", "no container of service web exists"),
        ([container(status="exited", exit_code=3)], None, "p-web-1 is exited (exit code 3)"),
        ([container(status="restarting")], None, "p-web-1 is restarting, not running"),
        ([container(health="unhealthy")], None, "p-web-1 is unhealthy by its healthcheck"),
        ([container(tag="v2")], "v1", "runs tag v2, expected v1"),
        ([container(errors=["Traceback (most recent call last):"])], None, "logged 1 error lines, e.g. Traceback"),
    ],
)
def test_judge(containers, expected, problem):
    problems = _compose_status.judge("web", containers, expected)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]


def test_error_lines():
    patterns = _compose_status.compile_patterns(["Traceback", r" ERROR "])
    lines = ["GET /health 200", "2026 ERROR db down", "Traceback (most recent call last):", "ERRORS: none"]
    assert _compose_status.error_lines(lines, patterns) == ["2026 ERROR db down", "Traceback (most recent call last):"]
    with pytest.raises(GoliveError, match="not a valid regular expression"):
        _compose_status.compile_patterns(["("])


def test_inspect_output_is_json_of_docker():
    # containers_by_service reads `docker inspect` output as docker prints it.
    text = json.dumps([inspected("web", "r/app:v3", health="starting")])
    by = _compose.containers_by_service(json.loads(text), "p")
    assert by["web"][0]["health"] == "starting" and by["web"][0]["name"] == "p-web-1"


ID1 = "sha256:" + "1" * 64
ID2 = "sha256:" + "2" * 64


@pytest.mark.parametrize(
    "ref, digests, digest",
    [
        ("reg:5000/shop/web:v1", ["reg:5000/shop/web@sha256:" + "a" * 64], "reg:5000/shop/web@sha256:" + "a" * 64),
        # Pushed to two repositories: the one the service names.
        ("reg/web:v1", ["mirror/web@sha256:" + "b" * 64, "reg/web@sha256:" + "c" * 64], "reg/web@sha256:" + "c" * 64),
        ("docker.io/library/postgres:16", ["postgres@sha256:" + "d" * 64], "postgres@sha256:" + "d" * 64),
        # Built on the host: no digest, only the ID says which image.
        ("golive-compose/app:v1", [], None),
        ("reg/web:v1", ["mirror/web@sha256:" + "b" * 64], None),
    ],
)
def test_identity_takes_the_digest_of_the_services_repository(ref, digests, digest):
    assert _compose.identity(ref, ID1, digests) == {"image": ref, "id": ID1, "digest": digest}


def test_running_images_and_a_restart_for_another_image_behind_the_same_tag():
    data = [inspected("web", "r/app:v1"), inspected("admin", "r/app:v1"), inspected("admin", "r/app:v1")]
    data[0]["Image"] = ID1
    data[1]["Image"] = ID1
    data[2]["Image"] = ID2
    by = _compose.containers_by_service(data, "p")
    assert _compose.running_images(by, ["web", "admin", "gone"]) == {
        "web": ("r/app:v1", ID1),
        "admin": None,
        "gone": None,
    }
    desired = {"web": "v1", "admin": "v1"}
    running = {"web": "v1", "admin": "v1"}
    assert _compose.plan(["web", "admin"], desired, running, desired, by)["restart"] == []
    assert _compose.plan(["web", "admin"], desired, running, desired, by, {"web": ID1})["restart"] == []
    assert _compose.plan(["web", "admin"], desired, running, desired, by, {"web": ID2, "admin": ID1})["restart"] == [
        "admin",
        "web",
    ]
