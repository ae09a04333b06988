#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_changes
short_description: Count the rows of a PostgreSQL database that a restore of a backup would discard
version_added: 0.1.0
description:
  - Compares the live database with a backup taken by M(runbook.golive.pg_backup) and counts, table
    by table, the rows written since the backup, which a restore of it would throw away.
  - The backup's manifest holds the exact row count of every table and the transaction ids of the
    dump's snapshot (RV(xid_snapshot)). A live row version is B(new) when the transaction that
    wrote it had not committed when the snapshot was taken (its C(xmin) is not older than the
    snapshot's C(xmax), or was in progress then); it was inserted or updated since the backup.
    Rows of the backup that are not live any more were deleted or updated since (B(gone)).
    The counts are exact, from one scan of each table, all in one snapshot.
  - Compared are the tables that are both in the backup and in the database. A partitioned table
    is compared through its partitions (it holds no rows of its own). Tables created or dropped
    since are only named (RV(new_tables), RV(dropped_tables)).
  - Only reads.
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
      - The database a restore of O(backup) would replace.
      - A plain name (letters, digits, V(_) and V(-), starting with a letter or V(_), at most 63 bytes);
        another is refused before connecting.
    type: str
    required: true
    aliases: [db]
  backup:
    description:
      - Path of a backup taken by M(runbook.golive.pg_backup) of O(database) (its C(.dump) file or
        C(.dir) directory); its manifest is read from beside it.
      - The backup must have been taken by a pg_backup that records RV(runbook.golive.pg_backup#module:xid_snapshot)
        (version 0.2.0 and later).
    type: path
    required: true
  exclude_tables:
    description:
      - Tables left out of the comparison, as V(schema.table) or V(table) (meaning V(public.table)),
        for example a migration tool's bookkeeping table (V(alembic_version)) and the release log,
        which a rollback returns or keeps on purpose.
      - Names are compared without their quotes and without folding case.
    type: list
    elements: str
    default: []
notes:
  - A row rewritten since the backup counts as new and its old version as gone, also when the
    release's own migration did it (an C(UPDATE) filling a new column, a column type change that
    rewrites the table). After a restore or a reload of the database since the backup, every row
    counts as new.
  - A row inserted by a subtransaction (a savepoint) of a transaction that was already running when
    the backup started, and that committed afterwards, counts as in the backup (the snapshot lists
    only top-level transactions).
  - The backup must come from this server (PostgreSQL cluster) and be younger than 2^31
    transactions; one whose snapshot lies in the server's future is refused.
seealso:
  - module: runbook.golive.pg_backup
  - module: runbook.golive.pg_restore
  - module: runbook.golive.pg_schema_undo
"""

EXAMPLES = r"""
- name: Count what a restore of the go-live's backup would discard
  runbook.golive.pg_changes:
    database: golive_app
    backup: "{{ golive_backup.backup_path }}"
    exclude_tables: [alembic_version, public.golive_releases]
  become: true
  become_user: postgres
  register: golive_changes

- name: Restore only when no row users wrote would be lost
  ansible.builtin.assert:
    that: golive_changes.rows_differing == 0
    fail_msg: "a restore would discard: {{ golive_changes.tables_differing | join('; ') }}"
"""

RETURN = r"""
tables:
  description:
    - Every compared table, by V(schema.table) (quoted where needed, as in the manifest).
    - C(live) rows now, C(in_backup) rows in the backup, C(new_versions) live rows inserted or updated
      since the backup, C(gone_versions) rows of the backup deleted or updated since
      (C(in_backup - (live - new_versions)), at least 0).
  returned: always
  type: dict
  sample: {"public.items": {"live": 5117, "in_backup": 5000, "new_versions": 120, "gone_versions": 3}}
rows_differing:
  description: The sum of C(new_versions) and C(gone_versions) over the compared tables.
  returned: always
  type: int
  sample: 123
tables_differing:
  description: One sentence per table with new or gone rows, in table name order.
  returned: always
  type: list
  elements: str
  sample: ["public.items: 120 rows new or changed since the backup, 3 gone"]
new_tables:
  description: Tables in the database that the backup does not hold (created since); not compared.
  returned: always
  type: list
  elements: str
  sample: [public.invoices]
dropped_tables:
  description: Tables in the backup that the database does not hold any more; not compared.
  returned: always
  type: list
  elements: str
  sample: []
xid_snapshot:
  description: The backup's snapshot the rows were compared with, from its manifest.
  returned: always
  type: str
  sample: "745:749:746,747"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _pg, _pg_changes
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    argument_spec = dict(
        _pg.PG_ARGUMENT_SPEC,
        database=dict(type="str", required=True, aliases=["db"]),
        backup=dict(type="path", required=True),
        exclude_tables=dict(type="list", elements="str", default=[]),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    try:
        _pg.check_name("database", p["database"])
        with _pg.Connection(module, p) as conn:
            result = _pg_changes.changes(conn, p)
    except GoliveError as err:
        module.fail_json(msg=str(err), **err.result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
