#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_schema_undo
short_description: Remove the schema objects a release added to a PostgreSQL database, in one transaction,
  when that is all that differs
version_added: 0.1.0
description:
  - Fingerprints the database as M(runbook.golive.pg_fingerprint) does and compares its schema
    objects with O(before), the fingerprint taken before the release.
  - When every object that differs is new (tables, columns, indexes, constraints, triggers, views,
    sequences, functions, schemas the release added), drops them in one transaction and leaves
    every row of the tables that existed before where it is. A rollback that only has to take
    away what a release added then needs no restore of a backup, and loses nothing users wrote.
  - When an object changed or is missing, nothing is dropped; RV(undoable) is false and
    RV(blocking) names those objects. Dropping cannot return them; restore the backup instead.
  - The objects are dropped without C(CASCADE), which could take objects that existed before
    with them. Triggers go first, then views and materialized views (a view before those it
    reads), constraints (foreign keys first), indexes, columns, and one statement each for the
    tables, foreign tables, sequences, functions and procedures, and schemas, so that objects of
    one kind may depend on each other. The columns, constraints, triggers and indexes of a new
    table go with it. Every statement has C(IF EXISTS), since an index of a dropped constraint or a
    sequence owned by a dropped column is gone already.
  - All statements run in one transaction (C(psql --single-transaction)). When one fails (a lock
    not granted within O(lock_timeout), an object that something outside the fingerprint depends
    on), the transaction is rolled back, nothing is dropped, and the module fails naming the
    server's error.
  - After dropping, the database is fingerprinted again; RV(remaining) says what still differs.
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.golive.postgres
attributes:
  check_mode:
    support: full
    details: Fingerprints and decides, returns the statements it would run, and drops nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  database:
    description: The database to return to O(before).
    type: str
    required: true
    aliases: [db]
  before:
    description:
      - The result of M(runbook.golive.pg_fingerprint) taken before the release, or just its
        C(objects) (V(kind name) to checksum). Row counts in it are ignored.
    type: dict
    required: true
  exclude:
    description:
      - Objects left out of the comparison, neither dropped nor compared, named as the fingerprint
        names them, with or without their kind (V(table public.golive_releases) or
        V(public.golive_releases)), for example the release log's table, which the go-live may
        create and which keeps its rows.
      - An entry leaves out the object of that name and every object inside it, whose name goes on
        after a C(.) (a table's columns, constraints and triggers; a schema's objects).
      - For a relation in a schema, it also leaves out the objects of that schema whose name goes on
        after a C(_), the indexes and sequences PostgreSQL names after a table
        (V(public.golive_releases_pkey), V(public.golive_releases_id_seq)), and so also a table
        V(public.golive_releases_old) and its parts.
      - Names are compared without their quotes.
    type: list
    elements: str
    default: []
  lock_timeout:
    description:
      - How long each statement waits for a lock on a table it changes (C(SET LOCAL lock_timeout)),
        for example V(10s), V(500ms), V(1min). A table in use by a long transaction makes the undo
        fail and roll back, instead of queueing every other session behind it.
    type: str
    default: 10s
notes:
  - Objects the fingerprint does not cover (types, domains, extensions, aggregates, operators) are
    neither compared nor dropped; a new schema holding one cannot be dropped, and the undo fails
    and rolls back.
  - The database is compared, then changed, in two steps; run it while the release's migrations
    are not running.
seealso:
  - module: runbook.golive.pg_fingerprint
  - module: runbook.golive.pg_changes
  - module: runbook.golive.pg_restore
"""

EXAMPLES = r"""
# fingerprint_before: registered from runbook.golive.pg_fingerprint before the release's
# migration added a table, a column and an index.
- name: Remove what the release added, keeping every row users wrote
  runbook.golive.pg_schema_undo:
    database: golive_app
    before: "{{ fingerprint_before }}"
    exclude: [table public.golive_releases]
  become: true
  become_user: postgres
  register: undo

- name: The schema is as it was, or say why not
  ansible.builtin.assert:
    that: undo.undoable and undo.remaining == []
    fail_msg: "not undone: {{ undo.blocking + undo.remaining }}"
"""

RETURN = r"""
differences:
  description:
    - What differed from O(before) before anything was dropped, one sentence per object in name
      order, as the filter P(runbook.golive.fingerprint_diff#filter) words them.
  returned: always
  type: list
  elements: str
  sample: ["column public.items.note is new", "table public.invoices is new"]
additive:
  description: The objects that are new, which dropping undoes.
  returned: always
  type: list
  elements: str
  sample: ["column public.items.note", "table public.invoices"]
blocking:
  description: The objects that changed or are missing; any of them stops the undo.
  returned: always
  type: list
  elements: str
  sample: ["column public.items.name has changed"]
undoable:
  description: Whether dropping the new objects returns the schema, that is, nothing blocks.
  returned: always
  type: bool
  sample: true
statements:
  description:
    - The statements run in the transaction (in check mode, those that would run); empty when
      nothing was to be dropped or something blocks.
  returned: always
  type: list
  elements: str
  sample:
    - ALTER TABLE public.items DROP COLUMN IF EXISTS note
    - DROP TABLE IF EXISTS public.invoices
remaining:
  description:
    - What differs from O(before) after the undo, worded as RV(differences); empty when the
      schema is as it was.
    - When nothing was dropped (check mode, something blocks), the same as RV(differences).
  returned: always
  type: list
  elements: str
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _pg, _pg_schema_undo
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    argument_spec = dict(
        _pg.PG_ARGUMENT_SPEC,
        database=dict(type="str", required=True, aliases=["db"]),
        before=dict(type="dict", required=True),
        exclude=dict(type="list", elements="str", default=[]),
        lock_timeout=dict(type="str", default="10s"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    try:
        _pg.check_name("database", p["database"])
        _pg_schema_undo.check_params(p)
        with _pg.Connection(module, p) as conn:
            result = _pg_schema_undo.undo(module, conn, p)
    except GoliveError as err:
        module.fail_json(msg=str(err), **err.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
