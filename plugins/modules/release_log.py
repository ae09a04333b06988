#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: release_log
short_description: Keep an append-only audit log of rollouts and rollbacks
version_added: 0.1.0
description:
  - With O(state=present), appends one record of a rollout or rollback (release id,
    environment, version, commit, owner, times, phase durations, backup, migration,
    health and smoke results, the decision) to a JSON Lines file, one JSON object a line.
  - Appending is idempotent. A record with the same O(release_id), O(decision) and
    O(phase) as one already in the log is not appended again.
  - With O(state=query), returns the last records and the version that serves in each
    environment according to the log.
  - An option given as an empty string is left out of the record.
  - With both O(path) and O(database), the record is written to the file first, before
    anything touches PostgreSQL, so it is never lost. The copy in the table is then best
    effort. When a PostgreSQL step fails (the host does not resolve or answer, the login is
    refused...), the task warns, returns RV(table_error) and V(false) for V(table) in RV(written),
    and still succeeds, unless O(table_required) is set. Running the same task again
    copies the record into the table and does not append it to the file twice.
  - A release log never holds secrets. A key anywhere in the record whose name looks
    secret (password, token, key, secret, credential, authorization, cookie...) or a
    value that looks like one (a password in a URL, C(password=...), C(token=...))
    fails the task before anything is written. Ansible's own C(invocation) key of a
    registered result is dropped.
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.golive.postgres
attributes:
  check_mode:
    support: full
    details: In check mode the module reports the record it would append and appends nothing.
  diff_mode:
    support: full
    details: The diff shows the line appended to the file.
  platform:
    platforms: posix
options:
  state:
    description:
      - V(present) appends a record, V(query) reads the log.
    type: str
    choices: [present, query]
    default: present
  path:
    description:
      - The JSON Lines file, for example V(/var/log/golive/releases.jsonl).
      - Its directory is created with mode V(0750) when missing.
      - With O(state=query), the log is read from this file when it is given, else from O(table).
      - At least one of O(path) and O(database) is required.
    type: path
  database:
    description:
      - Also keep the log in O(table) of this PostgreSQL database, reached with the
        connection options (O(host), O(user), O(password)...) through C(psql) on the target.
      - The table is created when missing, with a unique key on release id, decision and
        phase, and the record in a C(jsonb) column.
      - A table created by an earlier version of this module, whose C(CHECK) on C(decision)
        does not allow every O(decision) of today, gets that constraint replaced (in the
        transaction of the insert, once). The role connecting must own the table for that;
        else the old constraint stays and refuses a record of a new decision.
    type: str
  table_required:
    description:
      - With O(path) and O(database), whether a failure to write the record to O(table)
        fails the task. The file has the record either way, it is written first.
      - With V(false), such a failure is a warning and RV(table_error) says what happened.
      - Without O(path), a failure to write to the table always fails the task.
    type: bool
    default: false
  table:
    description:
      - The table of O(database), V(name) or V(schema.name).
    type: str
    default: golive_releases
  mode:
    description:
      - The file's mode. It holds who released what and when, so it is never world-readable.
    type: str
    choices: ['0600', '0640']
    default: '0640'
  release_id:
    description:
      - The release's id, for example V(2026-11-22T02-00-v1.4.2). Required with O(state=present).
    type: str
  environment:
    description:
      - The environment, for example V(production). Required with O(state=present).
      - With O(state=query), only records of this environment are returned.
    type: str
  version:
    description:
      - The version that was rolled out (for a rollback, the one that was rolled back).
        Required with O(state=present).
    type: str
  decision:
    description:
      - V(go) (the version serves), V(rollback) (the fleet went back to O(previous_version)),
        V(partial) (only part of the fleet runs the version), V(refused) (the go-live stopped
        at prepare and changed nothing) or V(interrupted) (the run was killed; the recovery
        writes its record afterwards). Required with O(state=present).
    type: str
    choices: [go, rollback, partial, refused, interrupted]
  phase:
    description:
      - The step of the release the record closes, for example V(canary), V(fleet) or V(final).
    type: str
    default: final
  previous_version:
    description:
      - The version that served before. With O(decision=rollback) it is the version the
        fleet was rolled back to, and RV(current) of a later query says it serves; without
        it, the version serving after the rollback is unknown (null).
    type: str
  commit:
    description:
      - The git commit SHA of the version (7 to 64 hex digits).
    type: str
  owner:
    description:
      - Who ran the release.
    type: str
  started:
    description:
      - When the release started, ISO 8601 (V(2026-11-22T02:00:00Z)). Written in UTC; a time
        without a zone is taken as UTC.
    type: str
  finished:
    description:
      - When the release finished, ISO 8601. With O(started), the record gets C(duration) in seconds.
    type: str
  phases:
    description:
      - Seconds each phase took by phase name, for example C(backup) 42.1, C(migrate) 3.2,
        C(deploy) 95.
    type: dict
  backup_id:
    description:
      - The id or path of the backup taken before the release.
    type: str
  backup_checksum:
    description:
      - The backup's checksum, for example V(sha256:9f2c...).
    type: str
  migration_from:
    description:
      - The schema revision before the release.
    type: str
  migration_to:
    description:
      - The schema revision after the release.
    type: str
  health:
    description:
      - The health result, for example the registered result of M(runbook.golive.health_wait).
    type: raw
  smoke:
    description:
      - The smoke result, for example the registered result of M(runbook.golive.smoke_check).
    type: raw
  hosts:
    description:
      - The hosts the release touched.
    type: list
    elements: str
  notes:
    description:
      - Free text, for example why a rollback happened.
    type: str
  extra:
    description:
      - More fields a team wants to keep, as a dict.
    type: dict
  limit:
    description:
      - With O(state=query), how many records to return, newest first.
    type: int
    default: 20
seealso:
  - module: runbook.golive.smoke_check
  - module: runbook.golive.health_wait
"""

EXAMPLES = r"""
- name: Record the go-live
  runbook.golive.release_log:
    path: /var/log/golive/releases.jsonl
    release_id: "{{ golive_release_id }}"
    environment: production
    version: v1.4.2
    previous_version: v1.4.1
    commit: 3f9c2a1d5e7b
    owner: "{{ golive_owner }}"
    started: "{{ golive_started }}"
    finished: "{{ now(utc=true).isoformat() }}"
    phases:
      backup: 42.1
      migrate: 3.2
      deploy: 95.0
    backup_id: /var/backups/golive/2026-11-22T02-00.dump
    backup_checksum: "sha256:{{ golive_backup.sha256 }}"
    migration_from: 20261101_add_items
    migration_to: 20261120_add_tags
    health: "{{ golive_health }}"
    smoke: "{{ golive_smoke }}"
    decision: go
    hosts: "{{ groups['app'] }}"
  delegate_to: "{{ groups['db'][0] }}"
  run_once: true

- name: Record a rollback
  runbook.golive.release_log:
    path: /var/log/golive/releases.jsonl
    release_id: "{{ golive_release_id }}"
    environment: production
    version: v1.4.2
    previous_version: v1.4.1
    decision: rollback
    notes: "smoke failed: {{ golive_smoke.msg }}"

- name: Record it in the app's database too (the file first; the table is best effort)
  runbook.golive.release_log:
    path: /var/log/golive/releases.jsonl
    database: golive_app
    table: golive_releases
    host: 127.0.0.1
    user: golive_app
    password: "{{ golive_db_password }}"
    release_id: "{{ golive_release_id }}"
    environment: production
    version: v1.4.2
    decision: go

- name: Which version serves in production?
  runbook.golive.release_log:
    state: query
    path: /var/log/golive/releases.jsonl
    environment: production
    limit: 5
  register: golive_log

- name: Show it
  ansible.builtin.debug:
    msg: "{{ golive_log.current.production.version }}"
"""

RETURN = r"""
record:
  description:
    - With O(state=present), the record appended, or in check mode the one that would be,
      or the record already in the log with the same release id, decision and phase.
  returned: when state is present
  type: dict
  sample:
    schema: 1
    release_id: 2026-11-22T02-00-v1.4.2
    environment: production
    phase: final
    decision: go
    version: v1.4.2
    previous_version: v1.4.1
    started: "2026-11-22T02:00:00Z"
    finished: "2026-11-22T02:04:10Z"
    duration: 250.0
    recorded_at: "2026-11-22T02:04:11Z"
appended:
  description: Whether the record was (or in check mode would be) appended anywhere, false when already logged.
  returned: when state is present
  type: bool
  sample: true
written:
  description:
    - Per destination (V(file), V(table)), whether the record was (or would be) added there.
    - V(table) is V(false) too when writing to the table failed; RV(table_error) then says why.
  returned: when state is present
  type: dict
  sample: {"file": true, "table": true}
table_error:
  description:
    - Why the record could not be read from or written to O(table), when O(path) holds it
      and O(table_required) is V(false); null when the table step worked or there is no O(database).
    - The message names the cause (the host does not resolve, nothing answers, the password
      is wrong...), never a password.
  returned: when state is present
  type: str
  sample: >-
    release log table golive_releases: look it up: the host name db.example does not resolve on
    the target; check the host option
source:
  description: Where the query read the log, V(file) or V(table).
  returned: when state is query
  type: str
  sample: file
records:
  description: With O(state=query), the last O(limit) records, newest first.
  returned: when state is query
  type: list
  elements: dict
current:
  description:
    - With O(state=query), per environment, the version that serves according to the log.
      A V(go) record sets it to its version, a V(rollback) record to its previous version,
      a V(partial), V(refused) or V(interrupted) record leaves it as it was.
  returned: when state is query
  type: dict
  sample:
    production:
      version: v1.4.1
      release_id: 2026-11-22T02-00-v1.4.2
      decision: rollback
      recorded_at: "2026-11-22T02:04:11Z"
bad_lines:
  description: Line numbers of the file that are not JSON records (a torn last line), skipped with a warning.
  returned: always
  type: list
  elements: int
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _pg, _release_log
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            _pg.PG_ARGUMENT_SPEC,
            state=dict(type="str", choices=["present", "query"], default="present"),
            path=dict(type="path"),
            database=dict(type="str"),
            table=dict(type="str", default="golive_releases"),
            table_required=dict(type="bool", default=False),
            mode=dict(type="str", choices=["0600", "0640"], default="0640"),
            release_id=dict(type="str"),
            environment=dict(type="str"),
            version=dict(type="str"),
            decision=dict(type="str", choices=list(_release_log.DECISIONS)),
            phase=dict(type="str", default="final"),
            previous_version=dict(type="str"),
            commit=dict(type="str"),
            owner=dict(type="str"),
            started=dict(type="str"),
            finished=dict(type="str"),
            phases=dict(type="dict"),
            backup_id=dict(type="str"),
            backup_checksum=dict(type="str"),
            migration_from=dict(type="str"),
            migration_to=dict(type="str"),
            health=dict(type="raw"),
            smoke=dict(type="raw"),
            hosts=dict(type="list", elements="str"),
            notes=dict(type="str"),
            extra=dict(type="dict"),
            limit=dict(type="int", default=20),
        ),
        required_if=[("state", "present", ("release_id", "environment", "version", "decision"))],
        required_one_of=[("path", "database")],
        supports_check_mode=True,
    )
    try:
        result = _release_log.run(module, lambda: _pg.Connection(module, module.params))
    except GoliveError as err:
        module.fail_json(msg="%s" % err, **err.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
