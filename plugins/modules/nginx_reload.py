#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: nginx_reload
short_description: Test and gracefully reload nginx, prove a new worker generation, count errors in the access log
version_added: 0.1.0
description:
  - Runs C(nginx -t) first. An invalid configuration fails the task with nginx's own message
    and nothing is reloaded, so nginx keeps serving with the previous configuration.
  - Then reloads gracefully (C(systemctl reload) or C(nginx -s reload)) and checks that the
    master is still alive and started a new generation of workers. Old workers finishing their
    requests are reported, not waited for.
  - Optionally counts the answers per status class in an access log from a byte offset or a
    time, and returns the offset to continue from. With O(reload=false) it only counts, for
    example to check that there were no 5xx answers after a rollout.
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Runs C(nginx -t) and counts the access log (both read-only) and reports that it would reload.
  diff_mode:
    support: none
  platform:
    platforms: posix
    details: Linux; worker processes are read from C(/proc).
options:
  reload:
    description:
      - Test and reload nginx. With V(false), only count the access log.
    type: bool
    default: true
  method:
    description:
      - How to reload. V(systemd) runs C(systemctl reload O(service)); V(signal) runs
        C(nginx -s reload). V(auto) uses V(systemd) when the unit is active, else V(signal).
    type: str
    choices: [auto, systemd, signal]
    default: auto
  service:
    description: The systemd unit of nginx.
    type: str
    default: nginx
  binary:
    description: Path of the nginx binary; by default C(nginx) from the PATH.
    type: path
  config:
    description:
      - Main configuration file to test and reload with (C(nginx -c)); by default nginx's own.
    type: path
  pid_file:
    description:
      - nginx's pid file, to find the master when several run; by default the only master running.
    type: path
    default: /run/nginx.pid
  reload_timeout:
    description: Seconds to wait for the new generation of workers.
    type: float
    default: 10
  error_log:
    description: nginx's error log, whose last lines are shown when the reload did not take.
    type: path
    default: /var/log/nginx/error.log
  access_log:
    description: An access log to count answers in.
    type: path
  since_offset:
    description:
      - Count from this byte offset, typically RV(access.end_offset) of an earlier call. A file
        shorter than the offset was rotated and is counted from its start.
      - V(-1) starts at the end of the file, so nothing is counted and RV(access.end_offset) marks
        where the next count starts (take it before a rollout).
      - Without O(since_offset) the whole file is read (and filtered by O(since_time) if given).
    type: int
  since_time:
    description:
      - Count only lines logged at or after this time, ISO 8601 (V(2026-11-22T06:00:00Z); without
        a zone, UTC) or epoch seconds. The format must have C($time_local), C($time_iso8601) or C($msec).
    type: str
  log_format:
    description:
      - The access log's format, V(combined) (also matches formats that append fields to it,
        such as C(main)), V(common), V(json) (one JSON object per line, nginx C(escape=json),
        with a C(status) key and a C(time), C(time_iso8601), C(time_local) or C(msec) key),
        or the nginx C(log_format) string itself, which must contain C($status).
    type: str
    default: combined
  samples:
    description: At most this many 5xx lines are returned in RV(access.samples_5xx).
    type: int
    default: 5
  max_5xx:
    description: Fail when more than this many 5xx answers were counted (V(0) for none at all).
    type: int
  exclude:
    description:
      - A regular expression (Python syntax); lines it matches anywhere are not counted, and
        RV(access.excluded) says how many were left out.
      - For answers that are not the application's errors, such as the 503 of a maintenance page
        switched on for the go-live (V("maintenance":"1") with a JSON format that logs it).
    type: str
seealso:
  - module: runbook.golive.health_wait
"""

EXAMPLES = r"""
- name: Remember where the access log ends before the rollout
  runbook.golive.nginx_reload:
    reload: false
    access_log: /var/log/nginx/golive-access.log
    since_offset: -1
  register: golive_log_start

- name: Reload nginx with the new upstreams
  runbook.golive.nginx_reload:
  register: golive_reload

- name: No 5xx since the reload
  runbook.golive.nginx_reload:
    reload: false
    access_log: /var/log/nginx/golive-access.log
    since_offset: "{{ golive_log_start.access.end_offset }}"
    max_5xx: 0

- name: Count a custom format from a time
  runbook.golive.nginx_reload:
    reload: false
    access_log: /var/log/nginx/api.log
    log_format: '$time_iso8601 $remote_addr "$request" $status $request_time'
    since_time: "2026-11-22T06:00:00Z"
"""

RETURN = r"""
config_test:
  description: What C(nginx -t) said.
  returned: when O(reload=true)
  type: str
  sample: "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok ..."
reloaded:
  description: Whether nginx was reloaded (false in check mode).
  returned: always
  type: bool
method:
  description: How nginx was (or would be) reloaded, V(systemd) or V(signal).
  returned: when O(reload=true)
  type: str
  sample: systemd
master_pid:
  description: PID of the nginx master; a graceful reload keeps it.
  returned: when O(reload=true)
  type: int
  sample: 131
workers_before:
  description: PIDs of the active workers before the reload.
  returned: when O(reload=true)
  type: list
  elements: int
  sample: [132, 133]
workers_after:
  description: PIDs of the active workers after the reload (the new generation).
  returned: when O(reload=true)
  type: list
  elements: int
  sample: [301, 302]
workers_new:
  description: Workers started by the reload; never empty after a reload that took.
  returned: when O(reload=true)
  type: list
  elements: int
  sample: [301, 302]
workers_exiting:
  description: Old workers still finishing their requests (C(worker process is shutting down)).
  returned: when O(reload=true)
  type: list
  elements: int
  sample: [132]
access:
  description: The access log count.
  returned: when O(access_log) is given
  type: dict
  contains:
    path:
      description: The access log.
      type: str
      sample: /var/log/nginx/golive-access.log
    start_offset:
      description: Byte offset counting started at (0 after a rotation).
      type: int
      sample: 10240
    end_offset:
      description: Byte offset after the last complete line; give it as O(since_offset) next time.
      type: int
      sample: 18733
    size:
      description: Size of the file when read.
      type: int
      sample: 18790
    rotated:
      description: The file was shorter than O(since_offset) and was counted from its start.
      type: bool
      sample: false
    lines:
      description: Lines counted.
      type: int
      sample: 57
    counts:
      description: Answers per status class, keys V(1xx) to V(5xx).
      type: dict
      sample: {"1xx": 0, "2xx": 50, "3xx": 2, "4xx": 5, "5xx": 0}
    statuses:
      description: Answers per status code.
      type: dict
      sample: {"200": 50, "302": 2, "404": 5}
    unparsed:
      description: Lines without a recognizable status (or time, with O(since_time)).
      type: int
      sample: 0
    before_since_time:
      description: Lines skipped as older than O(since_time).
      type: int
      sample: 0
    excluded:
      description: Lines left out because O(exclude) matched them.
      type: int
      sample: 0
    samples_5xx:
      description: The first 5xx lines, at most O(samples).
      type: list
      elements: str
      sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _nginx
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            reload=dict(type="bool", default=True),
            method=dict(type="str", default="auto", choices=["auto", "systemd", "signal"]),
            service=dict(type="str", default="nginx"),
            binary=dict(type="path"),
            config=dict(type="path"),
            pid_file=dict(type="path", default="/run/nginx.pid"),
            reload_timeout=dict(type="float", default=10),
            error_log=dict(type="path", default="/var/log/nginx/error.log"),
            access_log=dict(type="path"),
            since_offset=dict(type="int"),
            since_time=dict(type="str"),
            log_format=dict(type="str", default="combined"),
            samples=dict(type="int", default=5),
            max_5xx=dict(type="int"),
            exclude=dict(type="str"),
        ),
        required_if=[("reload", False, ["access_log"])],
        required_by=dict(
            since_offset="access_log", since_time="access_log", max_5xx="access_log", exclude="access_log"
        ),
        supports_check_mode=True,
    )
    try:
        result = _nginx.run(module, module.params, module.check_mode)
    except GoliveError as err:
        module.fail_json(msg=str(err), **err.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
