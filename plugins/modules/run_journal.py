#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: run_journal
short_description: Keep the run state of a go-live in one JSON journal file, so that a killed run can be recovered
version_added: 0.1.0
description:
  - A go-live keeps one journal, a JSON file on one host (the primary app host), written at
    every phase transition and every host switch. After a C(kill -9) of C(ansible-playbook)
    it still says which hosts run what and what the database went through, so the next
    go-live refuses to start and a recovery playbook can return the fleet.
  - Every change is a read-modify-write under an exclusive C(flock) on the sibling lock file
    C(<path>.lock), so tasks of several hosts delegated to the same host at the same moment
    never lose each other's update. The file is replaced atomically (a 0600 temp file in the
    same directory, fsync, rename); a reader sees the old or the new journal, never a mix.
  - O(state=started) begins a run. It refuses while an unfinished journal of another run is
    at O(path), and names that run's release, owner and phase. A finished journal left at
    O(path) is moved to the history first.
  - O(state=updated) deep-merges into the journal of the run O(run_id) (dicts merged
    recursively, lists and scalars replaced), records one host's state with O(host) and
    O(host_data), and a phase with O(mark).
  - O(state=finished) records the end and the O(decision), then moves the journal to the
    history directory C(<dir>/runs/<run_id>.json), keeping the newest O(keep) there.
  - O(state=absent) removes the journal of O(run_id), or any with O(force=true).
  - O(state=query) only reads.
  - The module maintains the keys C(run_id), C(journal_schema) (V(1)), C(started),
    C(updated), C(phase), C(marks), C(hosts), C(decision) and C(finished); every other key
    is the caller's, stored as given (a string V(True) stays a string).
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the journal and returns it as the call would leave it, without writing,
      moving or locking anything.
  diff_mode:
    support: full
    details: The journal file's JSON before and after the call.
  platform:
    platforms: posix
options:
  path:
    description:
      - The journal file, for example V(/var/lib/runbook-golive/golive-app.run.json).
      - Its directory is created with mode V(0700) when missing; the file is written with mode V(0600).
      - The lock file C(<path>.lock) and the history directory C(<dir>/runs/) are kept next to it.
      - An absolute path written plainly. A relative path, a C(.) or C(..) part, an empty part
        (C(//) or a trailing C(/)) or a control character is refused before anything is read or created.
    type: path
    required: true
  state:
    description:
      - V(query) reads the journal, V(started) begins a run, V(updated) records its progress,
        V(finished) ends it and moves the journal to the history, V(absent) removes it.
    type: str
    choices: [query, started, updated, finished, absent]
    default: query
  run_id:
    description:
      - The run's unique id, for example the release id and a random token.
      - "1 to 200 letters, digits and C(. _ + : -)."
      - Required with O(state=started), O(state=updated) and O(state=finished).
      - With O(state=absent), the journal is removed only when it is this run's (unless O(force=true)).
    type: str
  data:
    description:
      - With O(state=started), the initial journal; with O(state=updated) and O(state=finished),
        deep-merged into it (dicts merged recursively, lists and scalars replaced).
      - Values must be JSON values.
    type: dict
  host:
    description:
      - The host whose state O(host_data) is, kept in C(hosts[host]).
    type: str
  host_data:
    description:
      - Deep-merged into C(hosts[host]) of the journal, for example the release a host runs now.
    type: dict
  mark:
    description:
      - A phase reached, for example V(rollout). Sets C(phase) to it and C(marks[mark]) to the
        time (epoch seconds) the first time only, so a rerun of the same task is not a change.
    type: str
  decision:
    description:
      - The outcome, for example V(go) or V(rollback), kept in C(decision). Usually given with O(state=finished).
    type: str
  keep:
    description:
      - How many finished journals the history directory keeps (the newest ones).
    type: int
    default: 20
  force:
    description:
      - With O(state=absent), remove the journal whoever's it is, even one that is not valid JSON.
    type: bool
    default: false
notes:
  - C(updated) is set to the time of the last change; setting it is not by itself a change.
  - O(state=finished) for a run whose journal is already in the history is not a change.
  - O(state=started) for a run that is already in the history fails; a new go-live needs a new O(run_id).
  - Tasks of several hosts that update one journal delegate to the host that keeps it
    (C(delegate_to)); the lock serializes them.
seealso:
  - module: runbook.golive.deploy_lock
"""

EXAMPLES = r"""
- name: Refuse to start while a killed go-live is not recovered
  runbook.golive.run_journal:
    path: /var/lib/runbook-golive/golive-app.run.json
    state: started
    run_id: "{{ golive_release_id }}-{{ golive_run_token }}"
    data:
      release_id: "{{ golive_release_id }}"
      owner: "{{ golive_owner }}"
      version: "{{ golive_version }}"
      previous_version: "{{ golive_previous_version }}"
  run_once: true
  delegate_to: "{{ groups['app'][0] }}"

- name: Record the phase
  runbook.golive.run_journal:
    path: /var/lib/runbook-golive/golive-app.run.json
    state: updated
    run_id: "{{ golive_run_id }}"
    mark: migrate
    data:
      database:
        backup_id: "{{ golive_backup.backup_id }}"
        migration_from: "{{ golive_migration.revision_before }}"
  run_once: true
  delegate_to: "{{ groups['app'][0] }}"

- name: Record that this host now runs the new release (hosts of a batch at the same moment)
  runbook.golive.run_journal:
    path: /var/lib/runbook-golive/golive-app.run.json
    state: updated
    run_id: "{{ golive_run_id }}"
    host: "{{ inventory_hostname }}"
    host_data:
      release: "{{ golive_version }}"
      switched: true
  delegate_to: "{{ groups['app'][0] }}"

- name: End the run
  runbook.golive.run_journal:
    path: /var/lib/runbook-golive/golive-app.run.json
    state: finished
    run_id: "{{ golive_run_id }}"
    decision: go
  run_once: true
  delegate_to: "{{ groups['app'][0] }}"

- name: Is a go-live unfinished?
  runbook.golive.run_journal:
    path: /var/lib/runbook-golive/golive-app.run.json
  register: golive_journal

- name: Remove a journal that is not valid JSON, after inspecting it
  runbook.golive.run_journal:
    path: /var/lib/runbook-golive/golive-app.run.json
    state: absent
    force: true
"""

RETURN = r"""
path:
  description: The journal file.
  returned: always
  type: str
  sample: /var/lib/runbook-golive/golive-app.run.json
exists:
  description: Whether a journal is at O(path) after the call (in check mode, as it would be).
  returned: always
  type: bool
  sample: true
unfinished:
  description: Whether the journal at O(path) is of a run that did not finish (it exists and has no C(finished)).
  returned: always
  type: bool
  sample: true
journal:
  description:
    - The journal after the call (in check mode, as it would be), V({}) when there is none.
    - With O(state=finished), the finished journal now in the history; with O(state=absent),
      the journal removed.
    - On a refusal, the journal found at O(path).
  returned: always
  type: dict
  sample:
    run_id: 20261122T060000Z-v1.4.2-k3x9
    journal_schema: 1
    release_id: 20261122T060000Z-v1.4.2
    owner: alice
    started: "2026-11-22T06:00:00Z"
    updated: "2026-11-22T06:03:10Z"
    phase: rollout
    marks: {preflight: 1795327200.12, migrate: 1795327260.5, rollout: 1795327370.9}
    hosts: {app1: {release: v1.4.2, switched: true}, app2: {release: v1.4.1}}
  contains:
    run_id:
      description: The run's id.
      type: str
    journal_schema:
      description: Version of the journal's layout, V(1).
      type: int
    started:
      description: When the run started, ISO 8601 UTC.
      type: str
    updated:
      description: When the journal last changed, ISO 8601 UTC.
      type: str
    phase:
      description: The last O(mark).
      type: str
    marks:
      description: Each O(mark) and when it was first reached (epoch seconds).
      type: dict
    hosts:
      description: Each O(host) and its O(host_data).
      type: dict
    decision:
      description: The O(decision).
      type: str
    finished:
      description: When the run finished, ISO 8601 UTC; absent while it is unfinished.
      type: str
archived:
  description:
    - The history file the journal was (or in check mode would be) moved to, C(<dir>/runs/<run_id>.json).
    - With O(state=started), the finished journal of the previous run; otherwise null.
  returned: always
  type: str
  sample: /var/lib/runbook-golive/runs/20261122T060000Z-v1.4.2-k3x9.json
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _journal, _paths
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

WRITE_OPTIONS = ("data", "host", "host_data", "mark", "decision")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            state=dict(type="str", default="query", choices=["query", "started", "updated", "finished", "absent"]),
            run_id=dict(type="str"),
            data=dict(type="dict"),
            host=dict(type="str"),
            host_data=dict(type="dict"),
            mark=dict(type="str"),
            decision=dict(type="str"),
            keep=dict(type="int", default=20),
            force=dict(type="bool", default=False),
        ),
        required_if=[
            ("state", "started", ["run_id"]),
            ("state", "updated", ["run_id"]),
            ("state", "finished", ["run_id"]),
        ],
        required_by=dict(host_data=["host"]),
        supports_check_mode=True,
    )
    p = module.params
    if p["keep"] < 1:
        module.fail_json(msg="keep must be at least 1, got %s" % p["keep"])
    if p["state"] in ("query", "absent"):
        unused = [name for name in WRITE_OPTIONS if p[name] is not None]
        if unused:
            module.fail_json(msg="%s not used with state=%s" % (", ".join(unused), p["state"]))
    changes = dict((name, p[name]) for name in WRITE_OPTIONS)
    try:
        _paths.check_absolute("path", p["path"], "/var/lib/runbook-golive/golive-app.run.json")
        jr = _journal.Journal(module, p["path"], keep=p["keep"])
        if p["state"] == "query":
            result = _journal.query(jr)
        elif p["state"] == "absent":
            result = _journal.remove(jr, p["run_id"], p["force"], module.check_mode)
        else:
            act = {"started": _journal.start, "updated": _journal.update, "finished": _journal.finish}[p["state"]]
            result = act(jr, p["run_id"], check_mode=module.check_mode, **changes)
    except GoliveError as err:
        module.fail_json(msg=str(err), **err.result)
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
