#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_restore
short_description: Restore a verified PostgreSQL backup over a database, keeping the previous data
version_added: 0.1.0
description:
  - Restores a backup made by M(runbook.golive.pg_backup) over O(database) without a moment in
    which O(database) is empty or half restored.
  - First the backup's checksum is compared with its manifest; a backup that does not match is
    refused, and so is one without a manifest unless O(force=true).
  - A backup compressed with zstd (the manifest's C(compressor), or without a manifest the file's
    first bytes) is read through C(zstd -dc), which must be installed; other backups are read by
    C(pg_restore) as they are.
  - The backup is restored into a new database C(<database>_restore_<UTC stamp>) with the owner,
    encoding, locale, connection limit, settings, privileges and comment of O(database). If that
    fails, the new database is dropped and O(database) was never touched.
  - Then the restore's own verification (O(verify_row_counts)). The exact row count of every table
    of the new database must equal the manifest's. If one differs, the new database is dropped and
    O(database) was never touched.
  - Then the cut-over. Connections to O(database) are disallowed, its other sessions are
    terminated, and in one transaction O(database) is renamed C(<database>_pre_restore_<UTC stamp>)
    and the new database O(database). Clients are refused only during this short cut-over
    (RV(cutover_seconds), usually well under a second) and must reconnect, as after a server restart.
  - The previous data stays in C(<database>_pre_restore_<UTC stamp>) (RV(previous_database)) until
    a later restore drops it by O(keep_previous) or O(keep_previous_days). Earlier copies are dropped
    only after the restore was verified and the cut-over succeeded, never the copy this run makes,
    and only databases named exactly C(<database>_pre_restore_<UTC stamp>) that carry this module's
    marker comment. Names longer than PostgreSQL's 63 bytes are shortened in the O(database) part.
  - Every run restores, so the module always reports a change.
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.golive.postgres
  - runbook.golive.postgres.maintenance_db
attributes:
  check_mode:
    support: full
    details: Checks the checksum and the database, and returns the plan (RV(plan)) with the earlier
      copies it would drop (RV(dropped_previous)); creates, renames and drops nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  path:
    description:
      - The backup file (custom format) or directory (directory format).
    type: path
    required: true
  manifest:
    description:
      - The manifest of the backup. Defaults to the C(.manifest.json) file beside it.
    type: path
  database:
    description:
      - The database to restore over. It must exist.
      - A plain name (letters, digits, V(_) and V(-), starting with a letter or V(_), at most 63 bytes);
        another is refused before connecting.
    type: str
    required: true
    aliases: [db]
  force:
    description:
      - Restore a backup that has no manifest (so its checksum cannot be checked).
      - A backup whose checksum differs from its manifest is refused even so.
    type: bool
    default: false
  jobs:
    description:
      - Parallel pg_restore processes.
      - C(pg_restore --jobs) reads only a seekable file, so a backup compressed with zstd is first
        decompressed into a temp file beside it (removed afterwards); that needs the free space of
        the uncompressed archive there. Such an archive, written through a pipe, has no data
        offsets; see docs/postgresql.md for what parallel restore gains then.
    type: int
    default: 1
  no_owner:
    description:
      - Restore with C(--no-owner), making the connecting role the owner of all restored
        objects. Needed when a role that is not a superuser restores objects owned by other roles.
    type: bool
    default: false
  keep_previous:
    description:
      - Keep the newest O(keep_previous) C(<database>_pre_restore_<UTC stamp>) databases made by this
        module and drop older ones. The one this run makes is always kept and counts as one.
      - Only databases with this module's marker comment are considered.
      - Nothing is dropped unless the restore was verified (O(verify_row_counts) with a manifest).
      - When neither this nor O(keep_previous_days) is given, none is dropped.
    type: int
  keep_previous_days:
    description:
      - Drop earlier C(<database>_pre_restore_<UTC stamp>) databases made by this module whose stamp
        is more than O(keep_previous_days) days older than this restore's. The one this run makes is
        never dropped.
      - With O(keep_previous) too, a copy is dropped when either says so.
      - Nothing is dropped unless the restore was verified (O(verify_row_counts) with a manifest).
    type: float
  verify_row_counts:
    description:
      - Before the cut-over, count the rows of every table of the restored database (C(SELECT count(*))
        each, as pg_backup did) and compare them with the manifest's. A difference fails the restore
        and leaves O(database) untouched.
      - This is the restore's own verification; without it, or without a manifest (O(force)), no
        earlier copy is dropped and the module warns so.
      - It reads every table once, which takes about as long as the counts took during the backup.
    type: bool
    default: true
  cutover_timeout:
    description:
      - Seconds to wait in the cut-over for the other sessions of O(database) to end.
    type: float
    default: 30
requirements:
  - The connecting role must own O(database) (or be a superuser), be a member of its owner and
    have C(CREATEDB); terminating sessions of other roles needs a superuser or C(pg_signal_backend).
seealso:
  - module: runbook.golive.pg_backup
  - module: runbook.golive.pg_backup_verify
"""

EXAMPLES = r"""
- name: Roll the database back to the backup taken before the go-live
  runbook.golive.pg_restore:
    path: "{{ golive_backup.backup_path }}"
    database: golive_app
    keep_previous: 2
    keep_previous_days: 14
  become: true
  become_user: postgres
  register: golive_restore

- name: Say where the data from before the rollback is
  ansible.builtin.debug:
    msg: "Data before the rollback: database {{ golive_restore.previous_database }}"
"""

RETURN = r"""
database:
  description: The database now holding the restored data.
  returned: always
  type: str
  sample: golive_app
previous_database:
  description: The database now holding the data O(database) had before (in check mode, the name it would get).
  returned: always
  type: str
  sample: golive_app_pre_restore_20261122T021500Z
restore_database:
  description: The temporary name the restore was made under before the swap.
  returned: always
  type: str
  sample: golive_app_restore_20261122T021500Z
backup_path:
  description: The backup restored.
  returned: always
  type: str
  sample: /var/backups/golive_app/golive_app-20261122T020000Z.dump.zst
manifest_path:
  description: The manifest the checksum was checked against, or null with O(force) and no manifest.
  returned: always
  type: str
  sample: /var/backups/golive_app/golive_app-20261122T020000Z.manifest.json
sha256:
  description: The checksum of the backup, checked against the manifest (null without a manifest).
  returned: always
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
dropped_previous:
  description:
    - Older C(_pre_restore_) databases dropped by O(keep_previous) and O(keep_previous_days) (in check
      mode, those that would be).
    - Empty when the restore was not verified (O(verify_row_counts), a manifest).
  returned: always
  type: list
  elements: str
  sample: [golive_app_pre_restore_20261120T021500Z]
verified_row_counts:
  description:
    - Number of tables whose row counts in the restored database were found equal to the manifest's,
      or null if the restore was not verified.
  returned: always
  type: int
  sample: 6
row_count_differences:
  description: Tables whose row count in the restored database differs from the manifest (null = table missing).
  returned: failure of the verification
  type: list
  elements: dict
  sample: [{"table": "public.orders", "expected": 1200, "got": 1100}]
restore_seconds:
  description: Seconds to create the new database, restore into it and verify it.
  returned: success and not check mode
  type: float
  sample: 14.2
cutover_seconds:
  description: Seconds during which O(database) refused connections.
  returned: success and not check mode
  type: float
  sample: 0.21
terminated_sessions:
  description: Sessions of O(database) terminated in the cut-over.
  returned: success and not check mode
  type: int
  sample: 4
plan:
  description: What the restore does, step by step, with the names involved.
  returned: always
  type: dict
  sample: {"restore_database": "golive_app_restore_20261122T021500Z", "steps": ["..."]}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _pg, _pg_restore
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    argument_spec = dict(
        _pg.PG_ARGUMENT_SPEC,
        **_pg.MAINTENANCE_DB_SPEC,
        path=dict(type="path", required=True),
        manifest=dict(type="path"),
        database=dict(type="str", required=True, aliases=["db"]),
        force=dict(type="bool", default=False),
        jobs=dict(type="int", default=1),
        no_owner=dict(type="bool", default=False),
        keep_previous=dict(type="int", no_log=False),
        keep_previous_days=dict(type="float", no_log=False),
        verify_row_counts=dict(type="bool", default=True),
        cutover_timeout=dict(type="float", default=30),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        _pg.check_name("database", module.params["database"])
        _pg.check_name("maintenance_db", module.params["maintenance_db"])
        _pg_restore.check_params(module.params)
        with _pg.Connection(module, module.params) as conn:
            result = _pg_restore.Restore(module, conn, module.params).run()
    except GoliveError as err:
        module.fail_json(msg=str(err), **err.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
