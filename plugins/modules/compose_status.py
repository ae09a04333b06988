#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: compose_status
short_description: Check that Docker Compose services run, are healthy and log no errors
version_added: 0.1.0
description:
  - For every listed service of a compose project, through the Docker SDK for Python, checks
    that each of its containers runs (and is C(healthy) where the image or the compose file has
    a healthcheck), runs the expected tag when one is given, and that its last O(log_lines) log
    lines (since O(since), when given) match none of O(error_patterns).
  - Containers whose healthcheck still says C(starting) are waited for, up to O(timeout)
    seconds; an exited container or an error line fails at once.
  - Reports each service and container, and fails naming every problem.
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Only reads; it checks in check mode as well.
  diff_mode:
    support: none
  platform:
    platforms: posix
requirements:
  - docker (the Docker SDK for Python) on the target
options:
  project_name:
    description:
      - The compose project name (the C(com.docker.compose.project) label).
      - One of O(project_name) and O(project_src) is required.
    type: str
  project_src:
    description:
      - The compose project directory; its name, normalised as compose does, is the project name.
    type: path
  services:
    description:
      - The services to check.
    type: list
    elements: str
    required: true
  tag:
    description:
      - The image tag every service must run.
    type: str
  tags:
    description:
      - The image tag per service, over O(tag).
    type: dict
    default: {}
  error_patterns:
    description:
      - Regular expressions (Python C(re), searched anywhere in a line); a log line matching any fails the service.
    type: list
    elements: str
    default: []
  log_lines:
    description:
      - How many of the last log lines of each container are read.
    type: int
    default: 200
  since:
    description:
      - Only log lines after this time (epoch seconds), for example the go-live's start.
    type: int
  require_healthy:
    description:
      - Whether a container with a healthcheck must be C(healthy).
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for healthchecks still C(starting).
    type: int
    default: 60
  interval:
    description:
      - Seconds between two looks while waiting.
    type: float
    default: 1.0
  docker_host:
    description:
      - The Docker engine's address.
    type: str
    default: unix:///var/run/docker.sock
seealso:
  - module: runbook.golive.compose_release
"""

EXAMPLES = r"""
- name: Every service up, healthy, on the new tag, and no tracebacks since the go-live began
  runbook.golive.compose_status:
    project_src: /srv/shop
    services: [web, worker]
    tag: v1.4.2
    error_patterns: [Traceback, " ERROR ", CRITICAL]
    since: "{{ golive_started_epoch }}"
"""

RETURN = r"""
project_name:
  description: The project checked.
  returned: always
  type: str
  sample: shop
failed_services:
  description: The services with a problem.
  returned: always
  type: list
  elements: str
services:
  description: Per service, whether it is fine, its problems and its containers.
  returned: always
  type: dict
  sample:
    web:
      ok: false
      problems: ["container shop-web-1 is exited (exit code 3)"]
      containers:
        - name: shop-web-1
          id: 3f2a9c1b7d4e
          image: registry.example.com/shop/web:v1.4.2
          tag: v1.4.2
          status: exited
          health: null
          exit_code: 3
          restart_count: 0
          started_at: "2026-11-22T02:15:03.1Z"
          log_lines: 12
          error_lines: ["Traceback (most recent call last):"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _compose, _compose_status
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            project_name=dict(type="str"),
            project_src=dict(type="path"),
            services=dict(type="list", elements="str", required=True),
            tag=dict(type="str"),
            tags=dict(type="dict", default={}),
            error_patterns=dict(type="list", elements="str", default=[]),
            log_lines=dict(type="int", default=200),
            since=dict(type="int"),
            require_healthy=dict(type="bool", default=True),
            timeout=dict(type="int", default=60),
            interval=dict(type="float", default=1.0),
            docker_host=dict(type="str", default="unix:///var/run/docker.sock"),
        ),
        required_one_of=[("project_name", "project_src")],
        supports_check_mode=True,
    )
    p = dict(module.params)
    try:
        if not p["services"]:
            raise GoliveError("services is empty; list the compose services to check")
        if p["log_lines"] < 0 or p["timeout"] < 0 or p["interval"] <= 0:
            raise GoliveError("log_lines and timeout must be 0 or more and interval more than 0")
        p["project_name"] = _compose.project_name(p["project_src"] or "", p["project_name"])
        result = _compose_status.status(module, p)
    except GoliveError as err:
        module.fail_json(msg=str(err), **err.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
