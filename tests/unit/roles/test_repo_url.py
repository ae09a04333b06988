# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""golive_app_repo as a URL, as an operator checks it: the prepare role's plan.yml run by
ansible-playbook on localhost against real git repositories (a bare origin in tmp_path,
read as file://, as https:// with a token through a TLS server that demands it, and as a
local path). The controller's HOME is the test's, so the default caches land there.

Needs git; the https case also needs openssl. About a minute: each run is ansible-playbook."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "s3cr3t-token"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

PLAYBOOK = """\
---
- name: Plan a go-live as the prepare role does
  hosts: app
  gather_facts: false
  tasks:
    - name: Plan on the controller
      ansible.builtin.import_role:
        name: runbook.golive.prepare
        tasks_from: plan.yml

    - name: Keep the plan
      ansible.builtin.copy:
        content: "{{ {'sha': __golive_sha, 'artifact': __golive_artifact, 'dir': __golive_repo.dir} | to_json }}"
        dest: "{{ plan_out }}"
        mode: "0600"
      delegate_to: localhost
      run_once: true
"""


def git(*args, cwd=None):
    env = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


class Origin(object):
    """A working repository and the bare origin it pushes to."""

    def __init__(self, base):
        self.work = base / "work"
        self.bare = base / "origin.git"
        git("init", "-q", "-b", "main", str(self.work))
        git("config", "user.email", "dev@example.com", cwd=self.work)
        git("config", "user.name", "dev", cwd=self.work)
        git("init", "-q", "--bare", str(self.bare))
        git("remote", "add", "origin", str(self.bare), cwd=self.work)

    def release(self, tag, content, force=False):
        """Commit ``content`` as app.py on main, tag it and push; the tag's commit."""
        (self.work / "app.py").write_text(content)
        git("add", "app.py", cwd=self.work)
        git("commit", "-q", "-m", "release " + tag, cwd=self.work)
        git("tag", "-f" if force else "-a", tag, *(() if force else ("-m", tag)), cwd=self.work)
        git("push", "-q", "--force", "origin", "main", "refs/tags/" + tag, cwd=self.work)
        # For the dumb HTTP server.
        git("update-server-info", cwd=self.bare)
        return git("rev-parse", tag + "^{commit}", cwd=self.work)


@pytest.fixture
def origin(tmp_path):
    return Origin(tmp_path)


@pytest.fixture
def play(tmp_path):
    """``play(repo, version, *args, env=None)`` -> (completed process, plan or None)."""
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "inventory.ini").write_text(
        "[app]\nlocalhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable
    )
    (tmp_path / "plan.yml").write_text(PLAYBOOK)

    def run(repo, version, *args, env=None):
        out = tmp_path / "plan.json"
        if out.exists():
            out.unlink()
        full_env = dict(os.environ, HOME=str(home), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
        full_env.update(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1", **(env or {}))
        full_env.pop("XDG_CACHE_HOME", None)
        proc = subprocess.run(
            [
                os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                "-i",
                str(tmp_path / "inventory.ini"),
                str(tmp_path / "plan.yml"),
                "-e",
                json.dumps(
                    dict(
                        golive_app_repo=repo,
                        golive_version=version,
                        golive_owner="tester",
                        golive_environment="prod",
                        golive_confirm=version,
                        plan_out=str(out),
                    )
                ),
                *args,
            ],
            check=False,
            env=full_env,
            cwd=str(tmp_path),
            capture_output=True,
            text=True,
        )
        plan = json.loads(out.read_text()) if out.exists() else None
        return proc, plan

    run.home = home
    run.cache = home / ".cache" / "runbook-golive"
    return run


def app_py(artifact):
    with tarfile.open(artifact) as tar:
        return tar.extractfile("app.py").read().decode()


def mode(path):
    return oct(path.stat().st_mode & 0o777)


def test_a_file_url_is_mirrored_fetched_on_every_run_and_the_artifact_built_from_it(origin, play):
    first = origin.release("v1.0.0", "one\n")
    url = "file://%s" % origin.bare

    proc, plan = play(url, "v1.0.0")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert plan["sha"] == first
    # The mirror in the default cache, this user's alone, a bare repository that knows the URL.
    mirror = Path(plan["dir"])
    assert mirror.parent == play.cache / "repos"
    assert mode(play.cache / "repos") == "0o700"
    assert git("rev-parse", "--is-bare-repository", cwd=mirror) == "true"
    assert git("config", "remote.origin.url", cwd=mirror) == url
    assert git("rev-parse", "v1.0.0^{commit}", cwd=mirror) == first
    # The artifact in the default cache, 0700, holding the tag's tree.
    artifact = Path(plan["artifact"])
    assert artifact.parent == play.cache / "artifacts"
    assert mode(artifact.parent) == "0o700"
    assert artifact.name == "golive-app-v1.0.0-%s.tar.gz" % first[:12]
    assert app_py(artifact) == "one\n"

    # The tag moved in the origin: the next run fetches it (changed) and builds the new commit.
    moved = origin.release("v1.0.0", "one, fixed\n", force=True)
    proc, plan = play(url, "v1.0.0")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert moved != first
    assert plan["sha"] == moved
    assert plan["dir"] == str(mirror)
    assert "changed: [localhost]" in proc.stdout.split("Fetch the repository's branches and tags")[1].split("TASK")[0]
    assert app_py(plan["artifact"]) == "one, fixed\n"

    # The tag deleted in the origin: pruned from the mirror, refused.
    git("push", "-q", "origin", ":refs/tags/v1.0.0", cwd=origin.work)
    proc, plan = play(url, "v1.0.0")

    assert proc.returncode != 0 and plan is None
    assert "Tag v1.0.0 does not exist in %s" % url in proc.stdout


def test_a_local_path_is_read_where_it_is(origin, play):
    sha = origin.release("v1.0.0", "one\n")

    proc, plan = play(str(origin.bare), "v1.0.0")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert plan["sha"] == sha
    assert plan["dir"] == str(origin.bare)
    assert not (play.cache / "repos").exists()
    assert app_py(plan["artifact"]) == "one\n"


def test_check_mode_fetches_into_the_cache_and_builds_nothing(origin, play):
    sha = origin.release("v1.0.0", "one\n")

    proc, plan = play("file://%s" % origin.bare, "v1.0.0", "--check")

    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The controller's cache is filled: the guards judged the real tag.
    assert plan is None or plan["sha"] == sha
    mirrors = list((play.cache / "repos").iterdir())
    assert [git("rev-parse", "v1.0.0^{commit}", cwd=m) for m in mirrors] == [sha]
    assert not (play.cache / "artifacts").exists()


def test_a_url_git_is_not_used_with_is_refused_before_anything(play):
    # The other refusals: tests/unit/plugins/filter/test_repo.py.
    proc, plan = play("http://ci:%s@git.example.com/app.git" % TOKEN, "v1.0.0")

    assert proc.returncode != 0 and plan is None
    assert "golive_app_repo 'http://ci:********@git.example.com/app.git' sends its credentials in clear" in proc.stdout
    assert "Nothing was changed." in proc.stdout
    assert TOKEN not in proc.stdout + proc.stderr
    assert not play.cache.exists()


def test_credentials_never_appear_when_the_fetch_fails(play):
    repo = "https://user:%s@127.0.0.1:1/x.git" % TOKEN

    proc, plan = play(repo, "v1.0.0", "-vvv")

    assert proc.returncode != 0 and plan is None
    output = proc.stdout + proc.stderr
    assert TOKEN not in output
    assert "Cannot clone https://user:********@127.0.0.1:1/x.git into " in output
    assert "Failed to connect to 127.0.0.1 port 1" in output
    assert "Nothing was changed." in output
    # No half clone left to pass for a mirror.
    assert [p.name for p in (play.cache / "repos").iterdir()] == []


class DumbGit(http.server.SimpleHTTPRequestHandler):
    """A bare repository over git's dumb HTTP protocol, for one user and token."""

    seen = []
    expected = ""

    def do_GET(self):
        DumbGit.seen.append(self.headers.get("Authorization", ""))
        if self.headers.get("Authorization", "") != DumbGit.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def https_origin(origin, tmp_path):
    """``(url with the token, CA file)`` of ``origin`` served over https with Basic auth."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))

    def handler(*args, **kwargs):
        return DumbGit(*args, directory=str(origin.bare.parent), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    DumbGit.seen = []
    DumbGit.expected = "Basic " + base64.b64encode(("ci:" + TOKEN).encode()).decode()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "https://ci:%s@127.0.0.1:%d/origin.git" % (TOKEN, server.server_address[1]), str(cert)
    server.shutdown()
    server.server_close()


def test_an_https_url_with_a_token_is_fetched_and_the_token_kept_nowhere(origin, play, https_origin):
    url, ca = https_origin
    first = origin.release("v1.0.0", "one\n")

    proc, plan = play(url, "v1.0.0", "-vvv", env=dict(GIT_SSL_CAINFO=ca))

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert plan["sha"] == first
    assert app_py(plan["artifact"]) == "one\n"
    # The server was asked with the token, and nothing shows it.
    assert DumbGit.expected in DumbGit.seen
    assert TOKEN not in proc.stdout + proc.stderr
    # The mirror keeps the URL without the user and the token, in no file.
    mirror = Path(plan["dir"])
    assert git("config", "remote.origin.url", cwd=mirror) == url.replace("ci:%s@" % TOKEN, "")
    for path in mirror.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path

    moved = origin.release("v1.0.0", "one, fixed\n", force=True)
    proc, plan = play(url, "v1.0.0", "-vvv", env=dict(GIT_SSL_CAINFO=ca))

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert plan["sha"] == moved
    assert app_py(plan["artifact"]) == "one, fixed\n"
    assert TOKEN not in proc.stdout + proc.stderr


def test_a_wrong_token_fails_the_fetch_with_the_url_masked(origin, play, https_origin):
    url, ca = https_origin
    origin.release("v1.0.0", "one\n")
    wrong = url.replace(TOKEN, "wr0ng-token")

    proc, plan = play(wrong, "v1.0.0", "-vvv", env=dict(GIT_SSL_CAINFO=ca))

    assert proc.returncode != 0 and plan is None
    output = proc.stdout + proc.stderr
    assert "wr0ng-token" not in output
    assert "Cannot clone https://ci:********@127.0.0.1:" in output
    assert "The server refused the credentials or asked for some" in output
    assert "Nothing was changed." in output
