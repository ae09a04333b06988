# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The maintenance bypass as an operator checks it: the setup role's bypass.yml and site
template on a real nginx (run from a temporary prefix, reloaded by the role's own handler),
the verify role's bypass.yml reading the token back, and requests through that nginx.

Needs nginx on the PATH (or /usr/sbin) and root (the role writes the file owned by root);
skipped otherwise."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import http.client
import http.server
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)

pytestmark = [
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed"),
    pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="the role writes files owned by root"),
]

WRITE_TASK = "runbook.golive.setup : Write the app's maintenance bypass (root only)"
TOKEN_LINE = re.compile(r'"~\^([A-Za-z0-9_-]+)\$" 1;')

PLAYBOOK = """\
---
- name: Setup | the app's maintenance bypass and site on a load balancer
  hosts: lb
  gather_facts: false
  tags: setup
  module_defaults:
    runbook.golive.nginx_reload:
      binary: {nginx}
      config: {tmp}/nginx.conf
      method: signal
      pid_file: {tmp}/nginx.pid
      error_log: {tmp}/error.log
  tasks:
    - name: Set up the maintenance bypass
      ansible.builtin.include_role:
        name: runbook.golive.setup
        tasks_from: bypass.yml
        # The role's defaults for the site below.
        public: true

    - name: Write the app's site as the setup role does
      ansible.builtin.template:
        src: {root}/roles/setup/templates/nginx-site.conf.j2
        dest: {tmp}/sites/golive-app.conf
        mode: "0644"

    - name: Serve the maintenance page from the test's directory
      ansible.builtin.replace:
        path: {tmp}/sites/golive-app.conf
        regexp: "alias /usr/share/nginx/golive/"
        replace: "alias {tmp}/"

- name: Verify | the checks through the load balancer during maintenance
  hosts: lb
  gather_facts: false
  tags: verify
  tasks:
    - name: Read the bypass token as the verify role does
      ansible.builtin.include_role:
        name: runbook.golive.verify
        tasks_from: bypass.yml

    - name: Check health through the load balancer during maintenance
      runbook.golive.health_wait:
        url: http://127.0.0.1:{port}/health
        secret_headers: "{{{{ __golive_bypass_headers }}}}"
        successes: 2
        interval: 0.1
        timeout: 5
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App(http.server.BaseHTTPRequestHandler):
    """The app behind nginx: answers 200 and records the headers it was sent."""

    seen = []

    def do_GET(self):
        App.seen.append(dict((k.lower(), v) for k, v in self.headers.items()))
        body = json.dumps({"status": "ok", "version": "v1.0.0"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def lb(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lb")
    app = http.server.ThreadingHTTPServer(("127.0.0.1", 0), App)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    port = free_port()
    (tmp / "sites").mkdir()
    (tmp / "pool.conf").write_text("server 127.0.0.1:%d;\n" % app.server_address[1])
    (tmp / "golive-app-maintenance.html").write_text("<p>maintenance</p>\n")
    temp = "".join(
        "    %s_temp_path %s/%s;\n" % (kind, tmp, kind) for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp / "nginx.conf").write_text(
        "user root;\npid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp {\n%s    include %s/sites/*.conf;\n}\n"
        % (tmp, tmp, temp, tmp)
    )
    (tmp / "hosts.yml").write_text(
        textwrap.dedent(
            """\
            lb:
              hosts:
                lb1:
                  ansible_connection: local
                  ansible_python_interpreter: %s
            """
            % sys.executable
        )
    )
    (tmp / "play.yml").write_text(PLAYBOOK.format(nginx=NGINX, tmp=tmp, root=ROOT, port=port))
    nginx = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-g", "daemon off;"])
    try:
        yield from _serve(tmp, app, port)
    finally:
        # Also when the first play fails: no nginx is left running after the tests.
        nginx.terminate()
        nginx.wait(10)
        app.shutdown()


def _serve(tmp, app, port):
    for _attempt in range(50):
        if (tmp / "nginx.pid").exists():
            break
        time.sleep(0.1)

    def play(*extra, tags="setup"):
        variables = {
            "golive_app_name": "golive-app",
            "golive_maintenance_flag": str(tmp / "maintenance.on"),
            "golive_lb_pool_file": str(tmp / "pool.conf"),
            "setup_lb_listen": "127.0.0.1:%d" % port,
            "setup_lb_access_log": str(tmp / "access.log"),
            "setup_lb_bypass_file": str(tmp / "golive" / "golive-app-bypass.conf"),
            "verify_lb_bypass_file": str(tmp / "golive" / "golive-app-bypass.conf"),
        }
        proc = subprocess.run(
            ["ansible-playbook", "-vvv", "-i", str(tmp / "hosts.yml"), str(tmp / "play.yml"), "--tags", tags]
            + ["-e", json.dumps(variables)]
            + list(extra),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        proc.output = proc.stdout + proc.stderr
        return proc

    def get(path="/health", headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", path, headers=headers or {})
            resp = conn.getresponse()
            resp.read()
            return resp.status, resp.getheader("X-Golive-Maintenance")
        finally:
            conn.close()

    def token():
        return TOKEN_LINE.findall((tmp / "golive" / "golive-app-bypass.conf").read_text())

    def access_log():
        return [json.loads(line) for line in (tmp / "access.log").read_text().splitlines()]

    first = play()
    yield dict(tmp=tmp, play=play, get=get, token=token, access_log=access_log, first=first)


def task_status(proc, name):
    """``ok``, ``changed``, ``skipping`` or ``failed``: how the task ``name`` ended on lb1."""
    after = proc.stdout.split("TASK [%s]" % name, 1)[1]
    return re.search(r"^(ok|changed|skipping|failed|fatal): \[lb1\]", after, re.MULTILINE).group(1)


def test_setup_makes_a_root_only_random_token_and_never_prints_it(lb):
    assert lb["first"].returncode == 0, lb["first"].output
    (token,) = lb["token"]()
    assert re.match(r"\A[A-Za-z0-9]{43}\Z", token)
    info = os.stat(lb["tmp"] / "golive" / "golive-app-bypass.conf")
    assert stat.S_IMODE(info.st_mode) == 0o600 and info.st_uid == 0
    assert token not in lb["first"].output
    assert task_status(lb["first"], WRITE_TASK) == "changed"
    # The role's handler tested the new configuration and reloaded nginx with it.
    assert "RUNNING HANDLER [runbook.golive.setup : Test and reload nginx]" in lb["first"].stdout


def test_rerun_keeps_the_token_and_changes_nothing(lb):
    (token,) = lb["token"]()
    again = lb["play"]()
    assert again.returncode == 0, again.output
    assert task_status(again, WRITE_TASK) == "ok"
    assert "RUNNING HANDLER" not in again.stdout
    assert lb["token"]() == [token]


def test_maintenance_lets_through_only_the_exact_token(lb):
    (token,) = lb["token"]()
    get = lb["get"]
    assert get() == (200, None)
    (lb["tmp"] / "maintenance.on").write_text("on\n")
    try:
        assert get() == (503, "1")
        for wrong in ("", "1", token[:-1], token + "x", token.swapcase(), token[1:], "x" * 43):
            assert get(headers={"X-Golive-Bypass": wrong}) == (503, "1"), wrong
        App.seen.clear()
        assert get(headers={"X-Golive-Bypass": token}) == (200, None)
    finally:
        (lb["tmp"] / "maintenance.on").unlink()
    # The token stays at the load balancer: the app never gets the header.
    assert App.seen and all("x-golive-bypass" not in headers for headers in App.seen)
    # The access log says whether a request passed, never what it sent.
    # nginx logs a request after answering it: wait for the last one's line (10 requests so far).
    for _attempt in range(50):
        lines = lb["access_log"]()
        if len(lines) >= 10:
            break
        time.sleep(0.1)
    assert token not in (lb["tmp"] / "access.log").read_text()
    assert [line["bypass"] for line in lines if line["status"] == 200][-1] == "1"
    assert {line["bypass"] for line in lines if line["status"] == 503} == {"0"}


def test_verify_reads_the_token_and_passes_maintenance_without_printing_it(lb):
    (token,) = lb["token"]()
    (lb["tmp"] / "maintenance.on").write_text("on\n")
    try:
        proc = lb["play"](tags="verify")
    finally:
        (lb["tmp"] / "maintenance.on").unlink()
    assert proc.returncode == 0, proc.output
    assert token not in proc.output


def test_verify_without_a_token_says_how_to_fix_it(lb):
    proc = lb["play"]("-e", "verify_lb_bypass_file=%s" % (lb["tmp"] / "missing.conf"), tags="verify")
    assert proc.returncode != 0
    flat = " ".join(proc.output.split())
    assert "missing.conf on lb1 holds no maintenance bypass token" in flat
    assert "golive_maintenance_bypass_token" in flat


def test_a_bad_token_given_is_refused_and_nothing_changes(lb):
    before = (lb["tmp"] / "golive" / "golive-app-bypass.conf").read_text()
    proc = lb["play"]("-e", "golive_maintenance_bypass_token=too-short")
    assert proc.returncode != 0
    assert "must be 32 or more letters, digits" in " ".join(proc.output.split())
    assert "too-short" not in proc.output.replace("golive_maintenance_bypass_token=too-short", "")
    assert (lb["tmp"] / "golive" / "golive-app-bypass.conf").read_text() == before


def test_a_token_given_replaces_the_made_one(lb):
    (made,) = lb["token"]()
    given = "g1ven-Token_" + "7" * 30
    proc = lb["play"]("-e", "golive_maintenance_bypass_token=%s" % given)
    assert proc.returncode == 0, proc.output
    assert lb["token"]() == [given]
    (lb["tmp"] / "maintenance.on").write_text("on\n")
    try:
        assert lb["get"](headers={"X-Golive-Bypass": given}) == (200, None)
        assert lb["get"](headers={"X-Golive-Bypass": made}) == (503, "1")
    finally:
        (lb["tmp"] / "maintenance.on").unlink()
