#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: notify
short_description: Post a go-live message to a chat webhook or a Telegram bot
version_added: 0.1.0
description:
  - >-
    Posts a message to a Slack-style incoming webhook (Slack, Mattermost, Rocket.Chat,
    Microsoft Teams workflows, any endpoint that takes C({"text": ...}) or a custom
    JSON body) or sends it through the Telegram Bot API.
  - Retries when the receiver did not answer, answered V(408), V(425), V(429) or a
    V(5xx) status, waiting O(backoff) seconds and twice as long each time (at least
    what a C(Retry-After) asks for, at most 60 seconds). Other statuses (a wrong
    token, an unknown chat) are not retried.
  - A message that could not be delivered is reported in RV(delivered), RV(attempts)
    and RV(last_error), and fails the task unless O(fail_on_error=false).
  - The webhook O(url), the bot O(token) and the O(headers) are never logged, since
    they hold the secret that lets anyone post.
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode nothing is sent; the module reports the body it would send.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  kind:
    description:
      - V(slack) posts JSON to the webhook O(url).
      - V(telegram) calls C(sendMessage) of the Bot API with O(token) and O(chat_id).
    type: str
    choices: [slack, telegram]
    default: slack
  url:
    description:
      - The incoming webhook URL, required with O(kind=slack). It embeds the secret
        that lets anyone post to the channel, so it is never logged.
    type: str
  token:
    description:
      - The Telegram bot token, required with O(kind=telegram).
    type: str
  chat_id:
    description:
      - The Telegram chat to send to (a number, or V(@channelname)), required with
        O(kind=telegram).
    type: str
  api_url:
    description:
      - Base URL of the Telegram Bot API, to use a local Bot API server or a test receiver.
    type: str
    default: https://api.telegram.org
  text:
    description:
      - The message. Required with O(kind=telegram), where it is cut at 4096 characters.
      - >-
        With O(kind=slack), sent as C({"text": ...}), or added to O(payload) as C(text)
        unless O(payload) has one.
    type: str
  payload:
    description:
      - With O(kind=slack), the whole JSON body (blocks, attachments, a Teams card).
      - With O(kind=telegram), more C(sendMessage) fields, for example
        C(parse_mode) or C(disable_notification).
    type: dict
  headers:
    description:
      - Extra request headers, for example an C(Authorization) header of a generic
        webhook. Never logged.
    type: dict
    default: {}
  retries:
    description:
      - How many times to try again after a failure that may pass.
    type: int
    default: 3
  backoff:
    description:
      - Seconds to wait before the first retry; each further wait doubles.
    type: float
    default: 2
  request_timeout:
    description:
      - Seconds one attempt may take.
    type: float
    default: 10
  validate_certs:
    description:
      - Whether to verify the receiver's TLS certificate.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates to verify the receiver against.
    type: path
  fail_on_error:
    description:
      - Whether a message that could not be delivered fails the task. With V(false) the
        task succeeds with RV(delivered=false) and a warning, so a chat outage never
        stops a rollback.
      - An O(url) or O(api_url) that is not an C(http://) or C(https://) URL with a host, or that
        holds a space or a control character, fails the task whatever this says, and nothing is sent.
    type: bool
    default: true
notes:
  - O(url), O(token) and O(headers) have C(no_log). Ansible then also hides any other text
    equal to their values in the output. The webhook's key alone (the last segment of a Slack
    URL, the token of a Discord, Teams or C(/hooks/) URL, a Telegram bot token, secret-named
    query parameters) is hidden as well, where an error quotes only that part of the URL.
  - >-
    With O(kind=slack), O(text) is shown literally: C(&), C(<) and C(>) are escaped, so a
    value put into it (an owner, a version, an error) cannot mention C(<!channel>) or forge a
    link C(<http://...|...>). Markup belongs in O(payload), which is sent as given.
  - >-
    With O(kind=telegram), O(text) is sent without C(parse_mode), as plain text that the Bot
    API never reads as markup. A C(parse_mode) in O(payload) makes O(text) markup: escape
    the values put into it yourself (C(<), C(>), C(&) for V(HTML)).
seealso:
  - module: runbook.golive.release_log
"""

EXAMPLES = r"""
- name: Tell the team the release is out
  runbook.golive.notify:
    url: "{{ golive_slack_webhook }}"
    text: "{{ golive_environment }}: {{ golive_version }} is live ({{ golive_release_id }})"
  delegate_to: localhost
  run_once: true

- name: A Telegram message that must not stop a rollback
  runbook.golive.notify:
    kind: telegram
    token: "{{ golive_telegram_token }}"
    chat_id: "-1001234567890"
    text: "ROLLBACK {{ golive_environment }} to {{ golive_previous_version }}: {{ golive_reason }}"
    payload:
      disable_notification: false
    fail_on_error: false
  delegate_to: localhost
  run_once: true

- name: A Teams workflow webhook with a custom body
  runbook.golive.notify:
    url: "{{ golive_teams_webhook }}"
    payload:
      title: Go-live
      text: "{{ golive_version }} deployed to {{ groups['app'] | length }} hosts"
    retries: 5
    backoff: 1
"""

RETURN = r"""
delivered:
  description: Whether the receiver accepted the message.
  returned: always
  type: bool
  sample: true
attempts:
  description: How many requests were sent (0 in check mode).
  returned: always
  type: int
  sample: 1
status:
  description: HTTP status of the last answer, or null if none came.
  returned: always
  type: int
  sample: 200
last_error:
  description: Why the last attempt failed, or null when delivered.
  returned: always
  type: str
  sample: "status 503: upstream unavailable"
waited:
  description: Seconds spent waiting between retries.
  returned: always
  type: float
  sample: 2.0
message_id:
  description: The id Telegram gave the message, with O(kind=telegram).
  returned: when delivered through Telegram
  type: int
  sample: 4711
payload:
  description: The JSON body that was (or in check mode would be) sent.
  returned: always
  type: dict
  sample: {"text": "production: v1.4.2 is live"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _http, _mask, _notify
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            kind=dict(type="str", choices=["slack", "telegram"], default="slack"),
            url=dict(type="str", no_log=True),
            token=dict(type="str", no_log=True),
            chat_id=dict(type="str"),
            api_url=dict(type="str", default=_notify.TELEGRAM_API),
            text=dict(type="str"),
            payload=dict(type="dict"),
            headers=dict(type="dict", default={}, no_log=True),
            retries=dict(type="int", default=3),
            backoff=dict(type="float", default=2),
            request_timeout=dict(type="float", default=10),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            fail_on_error=dict(type="bool", default=True),
        ),
        required_if=[("kind", "slack", ("url",)), ("kind", "telegram", ("token", "chat_id", "text"))],
        required_one_of=[("text", "payload")],
        supports_check_mode=True,
    )
    p = module.params
    # The webhook's key alone (a Slack URL's last segment, a Telegram token) is hidden too,
    # where an error quotes a part of the URL.
    secrets = _mask.protect(module, urls=[p["url"], p["api_url"]], secrets=[p["url"], p["token"]])
    if p["retries"] < 0 or p["backoff"] < 0 or p["request_timeout"] <= 0:
        module.fail_json(msg="retries and backoff must not be negative and request_timeout must be positive")
    try:
        if p["url"] is not None:
            _http.check_url("url", p["url"], unix=False, example="https://hooks.slack.com/services/...")
        _http.check_url("api_url", p["api_url"], unix=False, example=_notify.TELEGRAM_API)
        url, body = _notify.build(p["kind"], p["text"], p["payload"], p["url"], p["token"], p["chat_id"], p["api_url"])
    except GoliveError as err:
        module.fail_json(msg="%s" % err)
    result = dict(changed=True, delivered=False, attempts=0, status=None, last_error=None, waited=0.0, payload=body)
    if module.check_mode:
        module.exit_json(msg="would send a %s notification" % p["kind"], **result)

    def send():
        return _http.request(
            url,
            method="POST",
            headers=p["headers"],
            body=body,
            validate_certs=p["validate_certs"],
            ca_path=p["ca_path"],
            timeout=p["request_timeout"],
        )

    done = _notify.deliver(p["kind"], send, p["retries"], p["backoff"])
    error = _mask.scrub(done.error, secrets)
    result.update(
        changed=done.delivered,
        delivered=done.delivered,
        attempts=done.attempts,
        status=done.status,
        last_error=error,
        waited=round(done.waited, 3),
    )
    if p["kind"] == "telegram":
        result["message_id"] = _notify.message_id(p["kind"], done.response)
    if done.delivered:
        module.exit_json(msg="%s notification delivered" % p["kind"], **result)
    msg = "%s notification not delivered after %d attempt%s: %s" % (
        p["kind"],
        done.attempts,
        "" if done.attempts == 1 else "s",
        error,
    )
    if p["fail_on_error"]:
        module.fail_json(msg=msg + "; check the webhook URL or token and that the receiver is up", **result)
    module.warn(msg)
    module.exit_json(msg=msg, **result)


if __name__ == "__main__":
    main()
