#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_fingerprint
short_description: Fingerprint a PostgreSQL database's schema and count its rows
version_added: 0.1.0
description:
  - Returns a checksum of every schema object a migration can add, drop or change (schemas,
    tables, views, sequences, columns with their types and defaults, indexes, constraints,
    triggers, functions), each object's own checksum, and the exact row count of every table.
  - Taken before a go-live and again after a rollback, two fingerprints prove the database is
    back as it was, or name what differs (filter P(runbook.golive.fingerprint_diff#filter)).
    A migration that failed half way can leave its tool's revision unmoved while the schema
    changed; the fingerprint sees it.
  - Sequence values, statistics and storage are not part of the fingerprint.
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.golive.postgres
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  database:
    description:
      - The database to fingerprint.
      - A plain name (letters, digits, V(_) and V(-), starting with a letter or V(_), at most 63 bytes);
        another is refused before connecting.
    type: str
    required: true
    aliases: [db]
  row_counts:
    description: Also count the rows of every table (exact C(count(*)), one scan per table).
    type: bool
    default: true
seealso:
  - module: runbook.golive.pg_backup
  - module: runbook.golive.pg_restore
"""

EXAMPLES = r"""
- name: Fingerprint before the go-live
  runbook.golive.pg_fingerprint:
    database: app
  become: true
  become_user: postgres
  register: before

- name: Fingerprint after the rollback
  runbook.golive.pg_fingerprint:
    database: app
  become: true
  become_user: postgres
  register: after

- name: The rollback returned the database
  ansible.builtin.assert:
    that: before | runbook.golive.fingerprint_diff(after) | length == 0
    fail_msg: "{{ before | runbook.golive.fingerprint_diff(after) }}"
"""

RETURN = r"""
schema_sha256:
  description: Checksum over every object's name and definition.
  returned: always
  type: str
  sample: 0f343b0931126a20f133d67c2b018a3b1f8b2c0d6c4fa3a5d7c9e0b1a2c3d4e5
objects:
  description: Each object, as V(kind schema.name), with the md5 of its definition.
  returned: always
  type: dict
  sample: {"table public.items": "2b1c...", "index public.items_pkey": "9f0e..."}
object_count:
  description: How many objects the fingerprint covers.
  returned: always
  type: int
  sample: 12
row_counts:
  description: Exact row count of every table, by V(schema.table); empty when O(row_counts=false).
  returned: always
  type: dict
  sample: {"public.items": 5000, "public.alembic_version": 1}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _pg, _pg_fingerprint
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    argument_spec = dict(
        _pg.PG_ARGUMENT_SPEC,
        database=dict(type="str", required=True, aliases=["db"]),
        row_counts=dict(type="bool", default=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    try:
        _pg.check_name("database", p["database"])
        with _pg.Connection(module, p) as conn:
            result = _pg_fingerprint.fingerprint(conn, p["database"], rows=p["row_counts"])
    except GoliveError as err:
        module.fail_json(msg=str(err), **err.result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
