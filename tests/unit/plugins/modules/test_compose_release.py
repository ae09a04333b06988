# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os

import pytest
from ansible.module_utils import basic

from ansible_collections.runbook.golive.plugins.module_utils import _compose, _run
from ansible_collections.runbook.golive.plugins.modules import compose_release


class FakeCompose:
    """docker + compose on a project whose containers run ``self.running``; one seam: _compose.run.

    ``up`` starts what the env file says at that moment (as compose does), unless
    ``broken`` names a service that then keeps its old tag.
    """

    def __init__(self, directory, running, v2=True, broken=()):
        self.directory = directory
        self.running = dict(running)
        self.v2 = v2
        self.broken = broken
        self.calls = []
        # The host's images: tags (reference -> image ID; one not set names image_id(ref)) and
        # each image's repo digests; the registry's digests; what each container was created from.
        self.tags = {}
        self.repo_digests = {}
        self.registry = {}
        self.untagged = set()
        # A compose file with pull_policy: always pulls on up; the registry's tag names this.
        self.up_pulls = None
        self.ids = dict((s, self.resolve("reg/app:%s" % t)) for s, t in self.running.items())

    def resolve(self, ref):
        if ref in self.tags:
            return self.tags[ref]
        if ref.startswith("sha256:"):
            known = set(self.ids.values()) | set(self.tags.values()) | self.untagged
            return ref if ref in known else None
        if "@" in ref:
            return next((i for i, ds in self.repo_digests.items() if ref in ds), None)
        return image_id(ref)

    def env(self):
        path = os.path.join(self.directory, ".env")
        return _compose.parse_env(open(path).read()) if os.path.exists(path) else {}

    def __call__(self, module, argv, what=None, check=True, cwd=None, env=None, **kwargs):
        self.calls.append((list(argv), dict(env or {})))
        out, rc = "", 0
        if argv[1:3] == ["compose", "version"]:
            rc = 0 if self.v2 else 1
        elif argv[1] == "ps":
            out = "\n".join("id-%s" % s for s in sorted(self.running))
        elif argv[1] == "inspect":
            out = json.dumps(
                [
                    {
                        "Name": "/p-%s-1" % s,
                        "Config": {
                            "Image": "reg/app:%s" % t,
                            "Labels": {_compose.LABEL_PROJECT: "proj", _compose.LABEL_SERVICE: s},
                        },
                        "State": {"Status": "running"},
                        "Image": self.ids[s],
                    }
                    for s, t in sorted(self.running.items())
                ]
            )
        elif argv[1:3] == ["image", "inspect"]:
            found = self.resolve(argv[-1])
            if found:
                out = json.dumps([{"Id": found, "RepoDigests": self.repo_digests.get(found, [])}])
            else:
                rc = 1
        elif argv[1] == "pull":
            digest = argv[-1]
            self.repo_digests.setdefault(self.registry[digest], []).append(digest)
        elif argv[1] == "tag":
            self.tags[argv[-1]] = self.resolve(argv[-2])
        elif "up" in argv:
            services = argv[argv.index("up") + 2 :]
            for s in services:
                if s not in self.broken:
                    self.running[s] = self.env()["%s_TAG" % s.upper()]
                    self.ids[s] = self.up_pulls or self.resolve("reg/app:%s" % self.running[s])
        elif "run" in argv:
            out = "ran %s with %s\n" % (argv[-1], env)
        done = _run.Completed(argv, rc, out, "", 0.01)
        if check and rc:
            raise AssertionError("unexpected failure of %s" % argv)
        return done


def image_id(ref):
    return "sha256:" + hashlib.sha256(ref.encode()).hexdigest()


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    (tmp_path / ".env").write_text("SECRET_KEY=keep-me\nWEB_TAG=v1.0.0\nADMIN_TAG=v1.0.0\n")
    os.chmod(str(tmp_path / ".env"), 0o640)
    monkeypatch.setattr(
        basic.AnsibleModule, "get_bin_path", lambda self, name, required=False, opt_dirs=None: "/usr/bin/" + name
    )

    def install(running, **kwargs):
        fake = FakeCompose(str(tmp_path), running, **kwargs)
        monkeypatch.setattr(_compose, "run", fake)
        return fake

    install.dir = tmp_path
    install.args = dict(project_src=str(tmp_path), project_name="proj", services=["web", "admin"])
    return install


def test_check_mode_reports_and_changes_nothing(project, run_module):
    fake = project({"web": "v1.0.0", "admin": "v1.0.0"})
    before = (project.dir / ".env").read_text()
    result, failed = run_module(compose_release.main, dict(project.args, tag="v1.1.0"), check_mode=True)
    assert not failed and result["changed"]
    assert result["previous_tags"] == {"web": "v1.0.0", "admin": "v1.0.0"}
    assert result["restarted"] == ["admin", "web"] and result["tag_file_changed"]
    assert (project.dir / ".env").read_text() == before
    assert not [c for c in fake.calls if "pull" in c[0] or "up" in c[0]]


def test_diff_shows_the_tags_and_never_the_other_lines(project, run_module):
    project({"web": "v1.0.0", "admin": "v1.0.0"})
    args = dict(project.args, tag="v1.1.0", _ansible_diff=True)
    result, failed = run_module(compose_release.main, args, check_mode=True)
    assert not failed
    assert result["diff"]["before"] == "ADMIN_TAG=v1.0.0\nWEB_TAG=v1.0.0\n"
    assert result["diff"]["after"] == "ADMIN_TAG=v1.1.0\nWEB_TAG=v1.1.0\n"
    assert "keep-me" not in json.dumps(result)


def test_release_then_rollback_to_previous_tags(project, run_module):
    fake = project({"web": "v1.0.0", "admin": "v1.0.0"})
    result, failed = run_module(compose_release.main, dict(project.args, tag="v1.1.0"))
    assert not failed and result["changed"]
    assert result["running_tags"] == {"web": "v1.1.0", "admin": "v1.1.0"}
    text = (project.dir / ".env").read_text()
    assert "SECRET_KEY=keep-me" in text and "WEB_TAG=v1.1.0" in text
    assert oct(os.stat(str(project.dir / ".env")).st_mode & 0o777) == "0o640"
    argvs = [c[0] for c in fake.calls]
    assert argvs[0][:2] == ["/usr/bin/docker", "compose"]
    assert any("pull" in a for a in argvs) and any("up" in a for a in argvs)

    # The same again: nothing to do.
    again, _failed = run_module(compose_release.main, dict(project.args, tag="v1.1.0"))
    assert not again["changed"] and again["restarted"] == []

    back, failed = run_module(compose_release.main, dict(project.args, tags=result["previous_tags"]))
    assert not failed and back["running_tags"] == {"web": "v1.0.0", "admin": "v1.0.0"}
    assert fake.running == {"web": "v1.0.0", "admin": "v1.0.0"}


def test_v1_is_used_when_v2_is_missing(project, run_module):
    fake = project({"web": "v1.0.0", "admin": "v1.0.0"}, v2=False)
    result, failed = run_module(compose_release.main, dict(project.args, tag="v1.1.0"))
    assert not failed and result["compose_version"] == "v1"
    assert any(c[0][0] == "/usr/bin/docker-compose" and "up" in c[0] for c in fake.calls)


def test_service_that_does_not_switch_fails_and_names_the_rollback(project, run_module):
    project({"web": "v1.0.0", "admin": "v1.0.0"}, broken=("admin",))
    result, failed = run_module(compose_release.main, dict(project.args, tag="v1.1.0"))
    assert failed
    assert "admin of proj run admin=v1.0.0 instead of admin=v1.1.0" in result["msg"]
    assert "roll back to admin=v1.0.0" in result["msg"]


@pytest.mark.parametrize(
    "args, message",
    [
        (dict(tag="v1.1.0; rm -rf /"), "is not a valid image tag"),
        (dict(tag="v1.1.0", project_src="/nonexistent/dir"), "does not exist"),
        (dict(tag="v1.1.0", variables={"web": "WEB TAG"}), "is not a valid variable name"),
        (dict(services=[]), "services is empty"),
    ],
)
def test_bad_input_changes_nothing(project, run_module, args, message):
    fake = project({"web": "v1.0.0", "admin": "v1.0.0"})
    before = (project.dir / ".env").read_text()
    result, failed = run_module(compose_release.main, dict(project.args, **args))
    assert failed and message in result["msg"]
    assert (project.dir / ".env").read_text() == before
    assert not [c for c in fake.calls if "up" in c[0] or "pull" in c[0]]


def test_run_uses_the_new_tag_without_writing(project, run_module):
    fake = project({"web": "v1.0.0", "admin": "v1.0.0"})
    before = (project.dir / ".env").read_text()
    args = dict(project.args, services=["web"], state="run", tag="v1.1.0", command=["alembic", "upgrade", "head"])
    result, failed = run_module(compose_release.main, args)
    assert not failed and result["rc"] == 0
    argv, env = fake.calls[-1]
    assert argv[-5:] == ["-T", "web", "alembic", "upgrade", "head"] and "--rm" in argv
    assert env == {"WEB_TAG": "v1.1.0"}
    assert (project.dir / ".env").read_text() == before
    # Check mode runs nothing.
    count = len(fake.calls)
    result, _failed = run_module(compose_release.main, args, check_mode=True)
    assert result["changed"] and not [c for c in fake.calls[count:] if "run" in c[0]]


OLD = "sha256:" + "1" * 64
NEW = "sha256:" + "2" * 64
DIGEST = "reg/app@sha256:" + "d" * 64


def go_live_then_move_the_tag(project, run_module, digest):
    """v1.0.0 runs image OLD; the go-live of v1.1.0 records it; then v1.0.0 is pushed again as NEW."""
    fake = project({"web": "v1.0.0", "admin": "v1.0.0"})
    fake.tags["reg/app:v1.0.0"] = OLD
    fake.ids.update(web=OLD, admin=OLD)
    if digest:
        fake.repo_digests[OLD] = ["other/mirror@sha256:" + "e" * 64, DIGEST]
        fake.registry[DIGEST] = OLD
    result, failed = run_module(compose_release.main, dict(project.args, tag="v1.1.0"))
    assert not failed
    fake.tags["reg/app:v1.0.0"] = NEW
    return fake, result


def test_the_exact_images_are_recorded(project, run_module):
    _fake, result = go_live_then_move_the_tag(project, run_module, digest=True)
    assert result["previous_images"]["web"] == {"image": "reg/app:v1.0.0", "id": OLD, "digest": DIGEST}
    _fake, result = go_live_then_move_the_tag(project, run_module, digest=False)
    assert result["previous_images"]["admin"] == {"image": "reg/app:v1.0.0", "id": OLD, "digest": None}


def test_rollback_runs_the_recorded_image_by_its_digest_not_what_the_tag_names_now(project, run_module):
    fake, result = go_live_then_move_the_tag(project, run_module, digest=True)
    args = dict(project.args, tags=result["previous_tags"], images=result["previous_images"])

    check, failed = run_module(compose_release.main, args, check_mode=True)
    assert not failed and check["retagged"] == ["admin", "web"] and fake.tags["reg/app:v1.0.0"] == NEW

    count = len(fake.calls)
    back, failed = run_module(compose_release.main, args)
    assert not failed, back["msg"]
    assert fake.ids == {"web": OLD, "admin": OLD}
    assert back["retagged"] == ["admin", "web"] and back["running_tags"] == {"web": "v1.0.0", "admin": "v1.0.0"}
    argvs = [c[0] for c in fake.calls[count:]]
    assert ["/usr/bin/docker", "pull", "--quiet", "--", DIGEST] in argvs
    assert ["/usr/bin/docker", "tag", "--", DIGEST, "reg/app:v1.0.0"] in argvs
    # compose pulls nothing: it would fetch what the tag names in the registry now.
    assert not [a for a in argvs if "compose" in a and "pull" in a]

    again, failed = run_module(compose_release.main, args)
    assert not failed and not again["changed"] and again["retagged"] == []


def test_rollback_without_a_digest_refuses_a_tag_that_names_another_image(project, run_module):
    fake, result = go_live_then_move_the_tag(project, run_module, digest=False)
    args = dict(project.args, tags=result["previous_tags"], images=result["previous_images"])
    before = (project.dir / ".env").read_text()
    count = len(fake.calls)
    back, failed = run_module(compose_release.main, args)
    assert failed
    assert "reg/app:v1.0.0 now names image %s" % NEW in back["msg"] and "no repo digest" in back["msg"]
    assert "It is gone from this host: build or load it again as reg/app:v1.0.0" in back["msg"]
    assert (project.dir / ".env").read_text() == before
    assert not [c for c in fake.calls[count:] if "up" in c[0] or "pull" in c[0] or "tag" in c[0][1:2]]

    fake.untagged.add(OLD)
    back, failed = run_module(compose_release.main, args)
    assert failed and "run `docker tag %s reg/app:v1.0.0`, then the rollback again" % OLD in back["msg"]


def test_rollback_without_a_digest_runs_the_tag_that_still_names_the_image(project, run_module):
    fake, result = go_live_then_move_the_tag(project, run_module, digest=False)
    fake.tags["reg/app:v1.0.0"] = OLD
    args = dict(project.args, tags=result["previous_tags"], images=result["previous_images"])
    back, failed = run_module(compose_release.main, args)
    assert not failed and back["retagged"] == [] and fake.ids == {"web": OLD, "admin": OLD}


def test_a_digest_that_is_another_image_is_refused_before_the_switch(project, run_module):
    fake, result = go_live_then_move_the_tag(project, run_module, digest=True)
    fake.registry[DIGEST] = NEW
    fake.repo_digests[OLD] = []
    args = dict(project.args, tags=result["previous_tags"], images=result["previous_images"])
    before = (project.dir / ".env").read_text()
    count = len(fake.calls)
    back, failed = run_module(compose_release.main, args)
    assert failed and "%s is image %s, not %s" % (DIGEST, NEW, OLD) in back["msg"]
    assert (project.dir / ".env").read_text() == before and fake.tags["reg/app:v1.0.0"] == NEW
    assert not [c for c in fake.calls[count:] if "up" in c[0] or "tag" in c[0][1:2]]
    assert fake.running == {"web": "v1.1.0", "admin": "v1.1.0"}


@pytest.mark.parametrize(
    "images, message",
    [
        ({"gone": {"image": "reg/app:v1.0.0", "id": OLD}}, "images names gone"),
        ({"web": {"image": "reg/app:v1.0.0", "id": "abc"}}, "images.web has no image ID"),
        ({"web": "reg/app:v1.0.0"}, "images.web has no image ID"),
        ({"web": {"image": "reg/app:v1.0.0", "id": OLD, "digest": "latest"}}, "is not a repo digest"),
        ({"web": {"image": "reg/app:v0.9.0", "id": OLD}}, "the tag released for web is v1.0.0"),
    ],
)
def test_bad_images_change_nothing(project, run_module, images, message):
    fake = project({"web": "v1.1.0", "admin": "v1.1.0"})
    result, failed = run_module(compose_release.main, dict(project.args, tag="v1.0.0", images=images))
    assert failed and message in result["msg"]
    assert not [c for c in fake.calls if "up" in c[0] or "pull" in c[0]]


def test_a_service_up_started_from_another_image_fails_the_rollback(project, run_module):
    fake, result = go_live_then_move_the_tag(project, run_module, digest=True)
    fake.up_pulls = NEW
    args = dict(project.args, tags=result["previous_tags"], images=result["previous_images"])
    back, failed = run_module(compose_release.main, args)
    assert failed and "admin, web of proj run another image than before the go-live" in back["msg"]
    assert "web wants %s (reg/app:v1.0.0)" % OLD in back["msg"]
