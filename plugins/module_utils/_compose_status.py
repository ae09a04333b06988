# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: the state and logs of compose services (Docker SDK). Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time
import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.runbook.golive.plugins.module_utils._compose import (
    LABEL_ONEOFF,
    LABEL_PROJECT,
    LABEL_SERVICE,
    split_image,
)
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

try:
    import docker

    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError:
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = traceback.format_exc()


def compile_patterns(patterns):
    compiled = []
    for pattern in patterns or []:
        try:
            compiled.append(re.compile(pattern))
        except re.error as err:
            raise GoliveError(
                "error pattern %r is not a valid regular expression (%s); fix error_patterns" % (pattern, err)
            )
    return compiled


def error_lines(lines, patterns):
    """The lines that match any of the compiled ``patterns``."""
    return [line for line in lines if any(p.search(line) for p in patterns)]


def judge(service, containers, expected_tag=None, require_healthy=True):
    """The problems of one service, as sentences; [] when it is fine.

    ``containers``: dicts with name, tag, status, health (None without a
    healthcheck), exit_code, restart_count and error_lines.
    """
    problems = []
    if not containers:
        return ["no container of service %s exists; is it in the compose file and was it brought up?" % service]
    for c in containers:
        if c["status"] != "running":
            problems.append(
                "container %s is %s (exit code %s)" % (c["name"], c["status"], c.get("exit_code"))
                if c["status"] in ("exited", "dead")
                else "container %s is %s, not running" % (c["name"], c["status"])
            )
        elif require_healthy and c.get("health") not in (None, "healthy"):
            problems.append("container %s is %s by its healthcheck" % (c["name"], c["health"]))
        if expected_tag and c.get("tag") != expected_tag:
            problems.append("container %s runs tag %s, expected %s" % (c["name"], c.get("tag"), expected_tag))
        if c.get("error_lines"):
            problems.append(
                "container %s logged %d error lines, e.g. %s"
                % (c["name"], len(c["error_lines"]), "; ".join(line.strip()[:200] for line in c["error_lines"][:3]))
            )
    return problems


def _container_info(container, log_lines, since, patterns):
    attrs = container.attrs
    state = attrs.get("State") or {}
    image = (attrs.get("Config") or {}).get("Image")
    kwargs = {"tail": log_lines, "stdout": True, "stderr": True}
    if since:
        kwargs["since"] = int(since)
    raw = container.logs(**kwargs)
    lines = raw.decode("utf-8", "replace").splitlines() if isinstance(raw, bytes) else (raw or "").splitlines()
    return {
        "name": container.name,
        "id": container.id[:12],
        "image": image,
        "tag": split_image(image)[1],
        "status": state.get("Status"),
        "health": (state.get("Health") or {}).get("Status"),
        "exit_code": state.get("ExitCode"),
        "restart_count": attrs.get("RestartCount", 0),
        "started_at": state.get("StartedAt"),
        "log_lines": len(lines),
        "error_lines": error_lines(lines, patterns),
    }


def status(module, p):
    """Each listed service's containers, judged; waits up to ``timeout`` for them to settle."""
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib("docker"), exception=DOCKER_IMPORT_ERROR)
    patterns = compile_patterns(p["error_patterns"])
    tags = dict((s, (p["tags"] or {}).get(s) or p["tag"]) for s in p["services"])
    try:
        client = docker.DockerClient(base_url=p["docker_host"], timeout=30)
        client.ping()
    except Exception as err:  # the SDK raises many kinds
        raise GoliveError(
            "cannot reach the Docker engine at %s: %s; start dockerd or set docker_host" % (p["docker_host"], err)
        )
    deadline = time.monotonic() + p["timeout"]
    while True:
        report = {}
        for service in p["services"]:
            found = client.containers.list(
                all=True,
                filters={"label": ["%s=%s" % (LABEL_PROJECT, p["project_name"]), "%s=%s" % (LABEL_SERVICE, service)]},
            )
            found = [c for c in found if (c.labels or {}).get(LABEL_ONEOFF, "False") != "True"]
            infos = [
                _container_info(c, p["log_lines"], p["since"], patterns) for c in sorted(found, key=lambda c: c.name)
            ]
            problems = judge(service, infos, tags.get(service), p["require_healthy"])
            report[service] = {"ok": not problems, "problems": problems, "containers": infos}
        bad = [s for s in p["services"] if not report[s]["ok"]]
        # Only a health status of "starting" may still change on its own; anything else is final.
        settling = [
            s
            for s in bad
            if all(
                c["status"] == "running" and c["health"] == "starting" and not c["error_lines"]
                for c in report[s]["containers"]
            )
            and report[s]["containers"]
        ]
        if not settling or time.monotonic() >= deadline:
            break
        time.sleep(p["interval"])
    result = {"changed": False, "services": report, "failed_services": bad, "project_name": p["project_name"]}
    if bad:
        raise GoliveError(
            "compose project %s: %s; look at `docker logs <container>` and fix or roll back"
            % (p["project_name"], "; ".join("%s: %s" % (s, ", ".join(report[s]["problems"])) for s in bad)),
            **result,
        )
    return result
