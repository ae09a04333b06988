#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: health_wait
short_description: Wait until a service is healthy and runs the expected release
version_added: 0.1.0
description:
  - Polls a health URL until it answers with an expected status B(and) a JSON field
    (by default C(version)) equal to the expected value, for a number of consecutive
    answers in a row, within a timeout.
  - A failure says which of these it was, in RV(outcome) and in the message. The
    service never answered, answered with the wrong status, answered with the
    wrong version (the previous release is still serving), or was flapping (good
    answers followed by bad ones).
  - The module only reads, so it runs the same way in check mode.
  - O(url) must be C(http://) or C(https://) with a host, or the unix-socket form; another scheme
    (C(file://), C(ftp://)), no host, a space or a control character is refused before any request,
    instead of being tried for the whole O(timeout).
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.golive.http_options
  - runbook.golive.http_options.auth
attributes:
  check_mode:
    support: full
    details: The module never changes anything; in check mode it still polls.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  status_code:
    description:
      - The HTTP statuses that count as healthy.
    type: list
    elements: int
    default: [200]
  json_path:
    description:
      - Dotted path of the field in the JSON answer to compare with O(expected_value),
        for example V(version) or V(build.tag). List items are addressed by index (V(items.0.id)).
    type: str
    default: version
  expected_value:
    description:
      - The value the field at O(json_path) must have, usually the release tag.
      - When not given, only the status is checked.
    type: str
  successes:
    description:
      - How many good answers in a row prove health.
    type: int
    default: 3
  timeout:
    description:
      - Seconds to keep trying in all.
    type: float
    default: 120
  fail_after:
    description:
      - Fail at once after this many definitive wrong answers in a row - another value at
        O(json_path) than O(expected_value) (the wrong release serves), or an HTTP 5xx status
        other than 503 (which a starting app answers while it warms up) - instead of waiting
        for the rest of O(timeout), which stays the bound for a URL that never answers or
        is still starting.
      - V(0) waits for the whole O(timeout).
    type: int
    default: 0
  interval:
    description:
      - Seconds between attempts.
    type: float
    default: 2
  body_limit:
    description:
      - At most this many characters of the last body are returned.
    type: int
    default: 2048
notes:
  - >-
    Secrets are masked (V(********)) in the result, the message and the module arguments Ansible
    echoes at C(-vvv): the password of credentials in O(url) (V(https://user:********@host/)),
    the values of query parameters whose names look secret (V(token), V(access_token),
    V(api_key), V(key), V(password), V(secret), V(signature), V(sig), V(auth)...), webhook
    tokens in the path, and the values of O(headers) whose names look secret (C(Authorization),
    C(Cookie), C(X-Api-Key)...).
seealso:
  - module: runbook.golive.smoke_check
"""

EXAMPLES = r"""
- name: Wait until the app on this host runs the new release
  runbook.golive.health_wait:
    url: http://127.0.0.1:8000/health
    expected_value: "{{ golive_version }}"
    timeout: 90

- name: Check through the load balancer by virtual host
  runbook.golive.health_wait:
    url: http://10.0.0.5/health
    host_header: app.example.com
    expected_value: "{{ golive_version }}"

- name: An app behind nginx on a unix socket, version under build.tag
  runbook.golive.health_wait:
    url: unix:/var/run/mastermobile/mw.sock:/health
    json_path: build.tag
    expected_value: v1.4.2
    successes: 5
"""

RETURN = r"""
outcome:
  description:
    - V(ok), V(never_answered), V(wrong_status), V(wrong_version) (the field differs
      from O(expected_value)), V(bad_body) (not JSON, or the field is missing) or V(flapping).
  returned: always
  type: str
  sample: ok
attempts:
  description: How many requests were sent.
  returned: always
  type: int
  sample: 4
elapsed:
  description: Seconds spent waiting in all.
  returned: always
  type: float
  sample: 6.03
time_to_first_success:
  description: Seconds from the start to the first good answer, or null if none came.
  returned: always
  type: float
  sample: 2.01
consecutive_successes:
  description: Length of the run of good answers at the end.
  returned: always
  type: int
  sample: 3
failed_fast:
  description: Whether the wait ended early on O(fail_after) definitive wrong answers in a row.
  returned: always
  type: bool
  sample: false
last_status:
  description: HTTP status of the last answer, or null if it did not answer.
  returned: always
  type: int
  sample: 200
last_value:
  description: The last value seen at O(json_path) (the version the service reported).
  returned: always
  type: str
  sample: v1.4.2
last_body:
  description:
    - The start of the last answer's body, cut at O(body_limit) characters, with the
      values of secret-named JSON fields (V(token), V(password)...) masked.
  returned: always
  type: str
  sample: '{"status": "ok", "version": "v1.4.2"}'
last_error:
  description: Why the last request got no answer (connection refused, timeout), or null.
  returned: always
  type: str
  sample: "[Errno 111] Connection refused"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _health, _http, _mask
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    argument_spec = dict(
        _http.HTTP_ARGUMENT_SPEC,
        status_code=dict(type="list", elements="int", default=[200]),
        json_path=dict(type="str", default="version"),
        expected_value=dict(type="str"),
        successes=dict(type="int", default=3),
        timeout=dict(type="float", default=120),
        fail_after=dict(type="int", default=0),
        interval=dict(type="float", default=2),
        body_limit=dict(type="int", default=2048),
    )
    argument_spec.update(_http.HTTP_AUTH_ARGUMENT_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_by={"url_password": "url_username"},
        supports_check_mode=True,
    )
    p = module.params
    _mask.protect(module, urls=[p["url"]], headers=[p["headers"]])
    try:
        _http.check_url("url", p["url"])
    except GoliveError as err:
        module.fail_json(msg=str(err))
    for name in ("successes", "timeout", "body_limit"):
        if p[name] <= 0:
            module.fail_json(msg="%s must be greater than 0, got %s" % (name, p[name]))
    if p["interval"] < 0 or p["fail_after"] < 0:
        module.fail_json(
            msg="interval and fail_after must not be negative, got %s and %s" % (p["interval"], p["fail_after"])
        )

    headers = dict(p["headers"])
    headers.update(p["secret_headers"])

    def fetch():
        return _http.request(
            p["url"],
            headers=headers,
            unix_socket=p["unix_socket"],
            host_header=p["host_header"],
            validate_certs=p["validate_certs"],
            ca_path=p["ca_path"],
            timeout=p["request_timeout"],
            url_username=p["url_username"],
            url_password=p["url_password"],
        )

    def judge(resp):
        return _health.classify(resp, p["status_code"], p["json_path"], p["expected_value"])

    try:
        gate, elapsed = _health.wait(
            fetch, judge, p["successes"], p["timeout"], p["interval"], fail_after=p["fail_after"]
        )
    except ValueError as err:
        module.fail_json(msg="%s" % err)
    resp = gate.last_response
    result = dict(
        changed=False,
        outcome=gate.verdict(),
        attempts=gate.attempts,
        elapsed=round(elapsed, 3),
        time_to_first_success=None if gate.first_ok_at is None else round(gate.first_ok_at, 3),
        consecutive_successes=gate.streak,
        failed_fast=gate.failed_fast,
        last_status=resp.status,
        last_value=None if gate.last_value is None else "%s" % gate.last_value,
        last_body=resp.text(p["body_limit"], masked=True),
        last_error=resp.error,
    )
    msg = _health.explain(
        gate, _mask.mask_url(p["url"]), p["status_code"], p["json_path"], p["expected_value"], elapsed
    )
    if gate.passed:
        module.exit_json(msg=msg, **result)
    module.fail_json(msg=msg, **result)


if __name__ == "__main__":
    main()
