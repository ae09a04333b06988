#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: deploy_lock
short_description: Take, release or inspect a deploy lock on a host, so that two go-lives never overlap
version_added: 0.1.0
description:
  - The lock is a directory created with C(mkdir), which is atomic. Of two callers at the
    same moment exactly one creates it. The winner writes C(owner.json) inside with the
    owner, the release id, the host, the pid and the time.
  - A second O(state=acquired) by anyone else fails and says who holds the lock, since when,
    and for which release. The same owner with the same release id (and the same O(token))
    acquiring again is not a change, so a rerun of a task keeps its lock.
  - The lock directory's parent is created owned by the running user with mode 0700. The parent,
    the lock directory and C(owner.json) are refused when another user owns them or may write
    to them (the message says how to fix it), and so is a symbolic link in their place.
  - A lock older than O(ttl) seconds is stale. It is broken only with O(break_stale=true),
    and the result says whose it was.
  - Releasing someone else's lock is refused unless O(force=true). Releasing a lock that
    does not exist is not a change.
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the lock and reports what it would do, without creating or removing it.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  state:
    description:
      - V(acquired) takes the lock, V(released) gives it up, V(inspected) only reports it.
    type: str
    choices: [acquired, released, inspected]
    default: acquired
  name:
    description:
      - Name of the lock; the directory is C(/var/lock/runbook-golive/<name>).
      - A plain name, without C(/) or control characters.
    type: str
    default: golive
  path:
    description:
      - The lock directory, instead of the one derived from O(name). Its parent is created if missing
        (mode 0700). Prefer a directory that survives a reboot and that only root may write to,
        such as V(/var/lib/runbook-golive/locks/golive).
      - An absolute path written plainly. A relative path, a C(.) or C(..) part, an empty part
        (C(//) or a trailing C(/)) or a control character is refused before anything is created.
    type: path
  owner:
    description:
      - Who takes or releases the lock, for example the operator or the CI job.
    type: str
  release_id:
    description:
      - The release the lock is taken for. With O(state=released), when given it must match too.
    type: str
  token:
    description:
      - A random string the caller generates once per run and keeps in a fact (see the examples,
        an C(ansible.builtin.password) lookup of V(/dev/null) made once with C(set_fact)), stored
        in C(owner.json) and never returned.
      - With O(state=acquired), a lock already held by the same owner and release is kept only
        when its token is this one. Without tokens, two runs of the same go-live started
        together (a job launched twice) would both believe they hold the lock; a token makes
        the lock safe against that.
      - With O(state=released), a lock that holds a token is released only with that token
        (or with O(force=true)).
      - Without a token the lock works as before tokens existed, but a lock taken with a token
        is not kept for a caller without one.
    type: str
  ttl:
    description:
      - Seconds after which a lock counts as stale.
    type: int
    default: 7200
  break_stale:
    description:
      - With O(state=acquired), break a stale lock held by someone else and take it.
    type: bool
    default: false
  force:
    description:
      - With O(state=released), release the lock even when someone else holds it.
    type: bool
    default: false
notes:
  - The lock protects one host's view. For a fleet, take it on one chosen host
    (for example with C(run_once) and C(delegate_to)).
"""

EXAMPLES = r"""
- name: Make this run's lock token, once
  ansible.builtin.set_fact:
    golive_lock_token: >-
      {{ lookup('ansible.builtin.password', '/dev/null',
                chars=['ascii_letters', 'digits'], length=24) }}
  run_once: true
  no_log: true

- name: Take the deploy lock for this go-live
  runbook.golive.deploy_lock:
    owner: "{{ lookup('ansible.builtin.env', 'USER') }}"
    release_id: "{{ golive_release_id }}"
    token: "{{ golive_lock_token }}"
  run_once: true
  delegate_to: "{{ groups['lb'][0] }}"

- name: Release it at the end
  runbook.golive.deploy_lock:
    state: released
    owner: "{{ lookup('ansible.builtin.env', 'USER') }}"
    release_id: "{{ golive_release_id }}"
    token: "{{ golive_lock_token }}"
  run_once: true
  delegate_to: "{{ groups['lb'][0] }}"

- name: Break a lock left behind by a crashed run more than an hour ago
  runbook.golive.deploy_lock:
    owner: oncall
    release_id: "{{ golive_release_id }}"
    ttl: 3600
    break_stale: true

- name: Who holds it?
  runbook.golive.deploy_lock:
    state: inspected
  register: golive_lock
"""

RETURN = r"""
path:
  description: The lock directory.
  returned: always
  type: str
  sample: /var/lock/runbook-golive/golive
held:
  description: Whether the lock is held after the task (in check mode, whether it is held now).
  returned: always
  type: bool
  sample: true
lock:
  description:
    - The holder's record after the task (with O(state=released), null), as in C(owner.json),
      without its token.
    - Without an C(owner.json), for a lock whose creator crashed, only C(acquired_at) and
      C(acquired_epoch) (from the directory) and C(incomplete=true) are set.
  returned: always
  type: dict
  contains:
    version:
      description: Schema version of the record, V(1).
      type: int
    owner:
      description: Who holds the lock.
      type: str
      sample: alice
    release_id:
      description: The release it was taken for.
      type: str
      sample: 20261122T060000Z-v1.1.0
    host:
      description: Host name where it was taken.
      type: str
      sample: lb1
    pid:
      description: PID of the module process that took it.
      type: int
    acquired_at:
      description: When it was taken, ISO 8601 UTC.
      type: str
      sample: "2026-11-22T06:00:00Z"
    acquired_epoch:
      description: The same as epoch seconds.
      type: float
    ttl:
      description: The O(ttl) the holder gave.
      type: int
decision:
  description:
    - What the module decided. V(create), V(keep) (already ours), V(break) (a stale lock
      was broken), V(remove), V(force) or V(absent).
  returned: when O(state) is V(acquired) or V(released)
  type: str
  sample: create
broken:
  description: The record of the stale lock that was broken, or null.
  returned: when O(state=acquired)
  type: dict
released:
  description: The record of the lock that was released, or null.
  returned: when O(state=released)
  type: dict
forced:
  description: Whether someone else's lock was released with O(force).
  returned: when O(state=released) and a lock was released
  type: bool
age:
  description: Seconds since the lock was taken, or null when there is none.
  returned: when O(state=inspected)
  type: float
  sample: 93.5
stale:
  description: Whether the lock is older than O(ttl).
  returned: when O(state=inspected)
  type: bool
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _lock, _paths
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", default="acquired", choices=["acquired", "released", "inspected"]),
            name=dict(type="str", default="golive"),
            path=dict(type="path"),
            owner=dict(type="str"),
            release_id=dict(type="str"),
            token=dict(type="str", no_log=True),
            ttl=dict(type="int", default=7200),
            break_stale=dict(type="bool", default=False),
            force=dict(type="bool", default=False),
        ),
        required_if=[("state", "acquired", ["owner"]), ("state", "released", ["owner"])],
        supports_check_mode=True,
    )
    p = module.params
    if p["ttl"] <= 0:
        module.fail_json(msg="ttl must be greater than 0, got %s" % p["ttl"])
    token = p["token"]
    if _lock.token_problem(token):
        module.fail_json(msg=_lock.token_problem(token))
    if p["path"] is None and ("/" in p["name"] or p["name"] in ("", ".", "..") or _paths.control_char(p["name"])):
        module.fail_json(
            msg="name %r is not a plain name (no /, no control character, not . or ..); give one such as golive, "
            "or path for a lock elsewhere. Nothing was changed." % p["name"]
        )
    try:
        if p["path"] is not None:
            _paths.check_absolute("path", p["path"], "/var/lib/runbook-golive/locks/golive")
        lock = _lock.Lock(module, p["path"] or os.path.join("/var/lock/runbook-golive", p["name"]))
        if p["state"] == "acquired":
            result = _lock.acquire(
                lock, p["owner"], p["release_id"], p["ttl"], p["break_stale"], module.check_mode, token=token
            )
        elif p["state"] == "released":
            result = _lock.release(lock, p["owner"], p["release_id"], p["force"], module.check_mode, token=token)
        else:
            result = _lock.inspect(lock, p["ttl"])
    except GoliveError as err:
        module.fail_json(msg=str(err), **err.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
