#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: smoke_check
short_description: Run declarative HTTP smoke checks and report every one
version_added: 0.1.0
description:
  - Sends each check of O(checks) once and compares the answer with what the check
    expects, the status (one or a list), values in the JSON body, a text in the
    body, where a redirect points, the latency, or a WebSocket handshake.
  - Every check runs, also after one has failed, and RV(checks) reports each. The
    task fails when any check failed, and the message lists each failed check with
    what it expected and what came.
  - Redirects are never followed, so a check can assert where one points.
  - The list is validated before anything is sent. An unknown key, a missing V(url)
    or a bad status fails the task and names the check by index and name.
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.golive.http_options.auth
attributes:
  check_mode:
    support: partial
    details:
      - In check mode only checks whose method only reads (V(GET), V(HEAD), V(OPTIONS))
        are sent. The others (V(POST), V(PUT), V(PATCH), V(DELETE)) could change data
        and are reported as skipped.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  checks:
    description:
      - The checks, each a dict with the keys below. Only V(url) is required.
      - V(name) (text), how the check is reported. Defaults to the method and the url.
        Names must be unique.
      - V(url) (text), a full URL, or a path relative to O(base_url). A full URL is C(http://) or
        C(https://) with a host (C(ws://) or C(wss://) too for a WebSocket check), or the unix-socket
        form; another, or one with a space or a control character, is refused before any request.
      - V(method) (text), V(GET) (default), V(HEAD), V(OPTIONS), V(POST), V(PUT),
        V(PATCH) or V(DELETE).
      - V(headers) (dict), request headers added to O(headers).
      - V(body) (text) or V(json) (dict or list, sent as JSON), the request body.
      - V(status) (int or list of ints), the statuses that pass. The default is V(200),
        or any redirect status (301, 302, 303, 307, 308) when V(location) is set,
        or V(101) for a WebSocket check.
      - V(json_values) (dict), dotted paths in the JSON answer (V(mode), V(build.tag),
        V(items.0.id)) mapped to the value they must have. A value given as text
        matches the field's text, so V("3") matches V(3) and V("true") matches V(true).
      - V(body_contains) (text or list of texts), text the body must contain.
      - V(location) (text), the prefix the C(Location) header must start with.
      - V(max_latency_ms) (number), the longest the answer may take, in milliseconds.
      - V(websocket) (bool), send a WebSocket handshake (C(Upgrade), a random
        C(Sec-WebSocket-Key)) and expect V(101) with the matching C(Sec-WebSocket-Accept).
    type: list
    elements: dict
    required: true
  base_url:
    description:
      - Prefix of every relative check V(url), for example V(http://127.0.0.1:8000).
      - A service behind a unix socket can be written V(unix:/run/app/app.sock:).
      - Another scheme than C(http://) or C(https://), no host, a space or a control character is
        refused before any request. An empty O(base_url) is the same as none.
    type: str
  unix_socket:
    description:
      - Path of a unix socket to connect to instead of the URL's host and port.
    type: path
  headers:
    description:
      - Headers sent with every check; a check's own V(headers) win.
    type: dict
    default: {}
  host_header:
    description:
      - Value of the C(Host) header, to check a virtual host through a load balancer
        by its address.
    type: str
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates to verify the server against.
    type: path
  request_timeout:
    description:
      - Seconds one request may take before the check counts as not answered.
    type: float
    default: 5.0
  body_limit:
    description:
      - At most this many characters of each body are returned.
    type: int
    default: 512
notes:
  - >-
    Secrets are masked (V(********)) in RV(checks), the message and the module arguments Ansible
    echoes at C(-vvv): the password of credentials in a URL (V(https://user:********@host/)), the
    values of query parameters whose names look secret (V(token), V(access_token), V(api_key),
    V(key), V(password), V(secret), V(signature), V(sig), V(auth)...), webhook tokens in the path,
    the values of headers whose names look secret (C(Authorization), C(Cookie), C(X-Api-Key)...),
    of secret-named fields of a check's V(json) or V(body) (V(password), V(token)...), and of
    secret-named fields of the JSON answers in RV(checks[].body).
  - The module fails when a check fails. To look at the report and decide later
    (for example to roll back), register the result and set C(failed_when) to V(false),
    or put the task in a C(block) with C(rescue).
seealso:
  - module: runbook.golive.health_wait
  - module: runbook.golive.release_log
"""

EXAMPLES = r"""
- name: SSO smoke checks of the auth API on this host
  runbook.golive.smoke_check:
    base_url: http://127.0.0.1:8000
    checks:
      - name: auth mode is sso
        url: /v1/auth/mode
        json_values:
          mode: sso
      - name: password login is gone
        method: POST
        url: /v1/auth/login
        json:
          username: smoke
          password: smoke
        status: 410
      - name: SSO start redirects to the auth host
        url: /v1/auth/sso/start?provider=google&returnUrl=https://test.example.com/
        location: https://test.auth.example.com/
  register: golive_smoke

- name: Through the load balancer by virtual host, with a latency budget
  runbook.golive.smoke_check:
    base_url: http://10.0.0.5
    host_header: app.example.com
    checks:
      - url: /health
        json_values:
          status: ok
          version: "{{ golive_version }}"
        max_latency_ms: 300
      - name: create an item
        method: POST
        url: /items
        json:
          name: smoke
        status: [200, 201]
      - name: the landing page renders
        url: /
        body_contains: <title>
      - name: realtime endpoint accepts WebSocket handshakes
        url: /ws
        websocket: true

- name: Keep going on failure and decide later
  runbook.golive.smoke_check:
    base_url: http://127.0.0.1:8000
    checks: "{{ golive_smoke_checks }}"
  register: golive_smoke
  failed_when: false
"""

RETURN = r"""
checks:
  description: One entry per check, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The check's name.
      type: str
      sample: auth mode is sso
    method:
      description: The request method.
      type: str
      sample: GET
    url:
      description: The full URL requested, its secrets masked (V(https://user:********@host/)).
      type: str
      sample: http://127.0.0.1:8000/v1/auth/mode
    passed:
      description: Whether every expectation held; null when skipped.
      type: bool
      sample: true
    skipped:
      description: Whether the check was not sent (check mode, unsafe method).
      type: bool
      sample: false
    status:
      description: The answer's HTTP status, null when none came.
      type: int
      sample: 200
    latency_ms:
      description: Milliseconds until the answer came.
      type: float
      sample: 12.4
    location:
      description: The C(Location) header of the answer, its secrets masked, or null.
      type: str
      sample: http://auth.lab.invalid/authorize?provider=google
    body:
      description:
        - The start of the body, cut at O(body_limit) characters, with the values of
          secret-named JSON fields (V(token), V(password)...) masked.
      type: str
      sample: '{"mode": "sso"}'
    error:
      description: Why no answer came (connection refused, timeout), or null.
      type: str
      sample: null
    failures:
      description: Each expectation that did not hold, as "what - expected ..., got ...".
      type: list
      elements: str
      sample: ["status: expected 410, got 200"]
passed_count:
  description: How many checks passed.
  returned: always
  type: int
  sample: 4
failed_count:
  description:
    - How many checks failed. (Not C(failed), which is Ansible's own flag of a failed task.)
  returned: always
  type: int
  sample: 0
skipped_count:
  description: How many checks were skipped (check mode).
  returned: always
  type: int
  sample: 0
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _http, _mask, _smoke
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    argument_spec = dict(
        dict((k, v) for k, v in _http.HTTP_ARGUMENT_SPEC.items() if k != "url"),
        checks=dict(type="list", elements="dict", required=True),
        base_url=dict(type="str"),
        body_limit=dict(type="int", default=512),
    )
    argument_spec.update(_http.HTTP_AUTH_ARGUMENT_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_by={"url_password": "url_username"},
        supports_check_mode=True,
    )
    p = module.params
    _mask.protect(module, secrets=_smoke.secrets(p["checks"], p["base_url"], p["headers"]))
    if p["body_limit"] < 0:
        module.fail_json(msg="body_limit must not be negative, got %s" % p["body_limit"])
    try:
        checks = _smoke.validate(p["checks"], p["base_url"])
    except GoliveError as err:
        module.fail_json(msg="%s" % err)
    connection = dict(
        unix_socket=p["unix_socket"],
        host_header=p["host_header"],
        validate_certs=p["validate_certs"],
        ca_path=p["ca_path"],
        timeout=p["request_timeout"],
        url_username=p["url_username"],
        url_password=p["url_password"],
    )

    def send(check):
        headers = dict(p["headers"])
        headers.update(p["secret_headers"])
        headers.update(check["headers"])
        if check["websocket"]:
            key = _smoke.new_websocket_key()
            headers.update(_smoke.websocket_headers(key))
            return _http.upgrade(check["url"], headers, **connection), key
        body = check["json"] if check["json"] is not None else check["body"]
        return _http.request(check["url"], method=check["method"], headers=headers, body=body, **connection), None

    results = _smoke.run(checks, send, module.check_mode, p["body_limit"])
    passed, failed, skipped, msg = _smoke.summary(results)
    result = dict(changed=False, checks=results, passed_count=passed, failed_count=failed, skipped_count=skipped)
    if failed:
        module.fail_json(msg=msg, **result)
    module.exit_json(msg=msg, **result)


if __name__ == "__main__":
    main()
