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
  - With O(state=verify), reads the file and, with O(database), the table, recomputes the hash
    chain of each environment and returns RV(chain_ok) and RV(problems), each naming the copy,
    the line or row id, the release and what happened (edited, deleted, reordered, missing from
    one copy, different in the two copies). It changes nothing.
  - B(Hash chain.) Each record appended carries C(prev_sha256), the sha256 of the record before
    it of the same O(environment), and C(seq), its number in that environment (1 for the first).
    The first record of an environment carries C(prev_sha256) of 64 zeros.
  - The sha256 of a record is that of its canonical JSON, which is also its line in the file
    without the newline, in UTF-8 - keys sorted, no spaces (separators C(,) and C(:)), every
    non-ASCII character as a C(\uXXXX) escape (Python's C(json.dumps(record, sort_keys=True,
    separators=(",", ":")))). In the file, the line's bytes as stored are hashed; in the table,
    the C(record) column serialised the same way. A record goes to the table exactly as it is in
    the file, so both copies chain alike.
  - Records written before chaining (without C(prev_sha256)) stay valid; the first chained record
    of an environment chains to the last of them, and O(state=verify) reports them as not chained
    (written before chaining), not as tampering.
  - Appending holds an exclusive C(flock) on the file while it reads the log, appends and copies
    the record into the table, so two writers never chain to the same record. Without O(path),
    the insert into the table takes an advisory lock and inserts only while the record it chains
    to is still the environment's last, else it reads the table again.
  - What the chain cannot do. Whoever can rewrite the file (or drop the table's trigger) can
    recompute every hash after a change. Keep the two copies apart (the table is append-only,
    see O(database)), compare them with O(state=verify), and keep RV(heads) somewhere else (a
    notification, a ticket) to notice a rewritten tail. A deleted last record leaves no trace in
    its own copy; only the other copy, or a kept head, shows it.
  - A release log never holds secrets. The value of a key anywhere in the record whose name
    looks secret (password, token, key, secret, credential, authorization, cookie...) is
    replaced by C(********) (a phase of O(phases) with such a name is left out), and so is
    the secret part of a text that looks like one (C(https://user:********@host/),
    C(password=********), C(token=********), and a JSON C("token") value). The record is written
    all the same, RV(redacted) lists the paths replaced and the task warns. Ansible's own
    C(invocation) key of a registered result is dropped.
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
      - V(present) appends a record, V(query) reads the log, V(verify) checks its hash chain.
    type: str
    choices: [present, query, verify]
    default: present
  path:
    description:
      - The JSON Lines file, for example V(/var/log/golive/releases.jsonl).
      - Its directory is created with mode V(0750) when missing.
      - With O(state=query), the log is read from this file when it is given, else from O(table).
      - With O(state=verify), this file is verified, and O(table) too with O(database).
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
      - B(The table is append-only.) When the module creates the table, or finds one without them
        (a table of an earlier version), it adds, in the insert's transaction, a function
        C(<table>_append_only) in the table's schema and two triggers that call it and refuse
        with an error, C(golive_append_only) (C(BEFORE UPDATE OR DELETE), for each row) and
        C(golive_no_truncate) (C(BEFORE TRUNCATE)). This holds for the table's owner too, until
        the owner drops or disables the triggers. Adding them takes the table's owner; another
        role leaves the table as it is (a PostgreSQL warning says so) and
        O(state=verify) warns that it is not append-only.
      - B(Retention is archiving), never editing - a DBA, with a role allowed to disable the triggers
        (the owner), copies the old rows to an archive table or file and only then removes them
        with C(ALTER TABLE ... DISABLE TRIGGER golive_append_only), C(DELETE), C(ENABLE TRIGGER),
        in one transaction. The remaining rows still chain; O(state=verify) then reports the
        first remaining record of each environment as chaining to a record that is missing.
      - B(Grants.) The role that writes needs, once the table exists, no more than C(INSERT) and
        C(SELECT) on the table and C(USAGE) on its sequence (C(GRANT INSERT, SELECT ON
        golive_releases TO app; GRANT USAGE ON SEQUENCE golive_releases_id_seq TO app)); it should
        not own the table, so that it cannot drop the triggers. The first run, which creates the
        table, its function and triggers, needs C(CREATE) on the schema; create the table with an
        owner role once (run the module as that role), then grant the writer.
    type: str
  table_required:
    description:
      - With O(path) and O(database), whether a failure to write the record to O(table)
        fails the task. The file has the record either way, it is written first.
      - With O(state=verify), whether a failure to read O(table) fails the task; else the file
        alone is verified, with a warning.
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
      - With O(state=verify), only the chain of this environment is verified.
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

- name: Verify the release log, the file and the table
  runbook.golive.release_log:
    state: verify
    path: /var/log/golive/releases.jsonl
    database: golive_app
    host: 127.0.0.1
    user: golive_app
    password: "{{ golive_db_password }}"
  register: golive_chain

- name: Fail on a broken chain
  ansible.builtin.assert:
    that: golive_chain.chain_ok
    fail_msg: "{{ golive_chain.problems | map(attribute='msg') | list }}"
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
    seq: 12
    prev_sha256: 9b1f0c5e2f3d4a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d
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
    - With O(state=verify), why the table could not be read (then only the file was verified).
    - The message names the cause (the host does not resolve, nothing answers, the password
      is wrong...), never a password.
  returned: when state is present or verify
  type: str
  sample: >-
    release log table golive_releases: look it up: the host name db.example does not resolve on
    the target; check the host option
redacted:
  description:
    - Paths in the record (V(notes), V(extra.db.password), V(smoke.checks.0.url)...) whose value
      looked like a secret and was replaced, wholly or in part, by C(********).
  returned: when state is present
  type: list
  elements: str
  sample: [smoke.checks.0.url]
chain_ok:
  description:
    - With O(state=verify), whether every copy read chains without a problem and, with both,
      the two copies agree. Records written before chaining do not make it false.
  returned: when state is verify
  type: bool
  sample: true
problems:
  description:
    - With O(state=verify), each problem found, in the order of the copies (file, then table)
      and of the records.
  returned: when state is verify
  type: list
  elements: dict
  contains:
    copy:
      description: The copy with the problem, V(file) or V(table).
      type: str
    location:
      description: The copy and the place, C(file <path> line <n>) or C(table <table> id <n>).
      type: str
    line:
      description: The line of the file, or null.
      type: int
    id:
      description: The row id in the table, or null.
      type: int
    release_id:
      description: The release of the record concerned.
      type: str
    environment:
      description: Its environment.
      type: str
    kind:
      description:
        - V(edited) (a record hashes other than what the next record chained), V(deleted) (a
          record chains to one that is gone), V(reordered) (a record chains to one that is not
          the one before it), V(broken) (a break that is either of the first two), V(unchained)
          (a record without C(prev_sha256) after chained ones), V(missing) (a record in one copy
          only), V(differs) (a record different in the two copies), V(unreadable) (a line of
          the file that is not JSON).
      type: str
    msg:
      description: What happened, for a person.
      type: str
  sample:
    - copy: file
      location: file /var/lib/runbook-golive/releases.jsonl line 7
      line: 7
      id: null
      release_id: lab-2026-11-23-v1.2.0
      environment: lab
      kind: edited
      msg: >-
        file /var/lib/runbook-golive/releases.jsonl line 7 (release lab-2026-11-23-v1.2.0 (go, final)):
        edited after it was written: the next record (line 8) chained sha256 5c1e..., this record now hashes 0d7a...
unchained:
  description: With O(state=verify), per copy and environment, the records written before chaining.
  returned: when state is verify
  type: list
  elements: str
  sample:
    - >-
      file /var/lib/runbook-golive/releases.jsonl: 4 records of environment lab (line 1 to line 4)
      not chained (written before chaining)
record_count:
  description: With O(state=verify), how many records the file holds (the table without O(path)).
  returned: when state is verify
  type: int
  sample: 12
environments:
  description: With O(state=verify), the environments of those records.
  returned: when state is verify
  type: list
  elements: str
  sample: [production, staging]
heads:
  description:
    - With O(state=verify), per environment, the sha256 of its last record, its release id and
      the number of records. Kept elsewhere, it shows a later rewrite of the log.
  returned: when state is verify
  type: dict
  sample: {"production": {"sha256": "5c1e...", "release_id": "2026-11-22T02-00-v1.4.2", "records": 12}}
checked:
  description: With O(state=verify), the copies verified, V(file) and/or V(table).
  returned: when state is verify
  type: list
  elements: str
  sample: [file, table]
table_protected:
  description:
    - With O(state=verify) and O(database), whether the table's append-only triggers are there
      and enabled; null without a table (or when it could not be read).
  returned: when state is verify
  type: bool
  sample: true
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
            state=dict(type="str", choices=["present", "query", "verify"], default="present"),
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
        if module.params["database"]:
            _pg.check_name("database", module.params["database"])
        result = _release_log.run(module, lambda: _pg.Connection(module, module.params))
    except GoliveError as err:
        module.fail_json(msg="%s" % err, **err.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
