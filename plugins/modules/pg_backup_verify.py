#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_backup_verify
short_description: Prove that a PostgreSQL backup can be restored, against its manifest
version_added: 0.1.0
description:
  - Checks a backup made by M(runbook.golive.pg_backup) against the manifest beside it.
  - V(sha256) - the bytes on disk are the bytes the backup wrote (for a directory-format
    backup, every file; a mismatch names the files that differ).
  - V(full_read) - C(pg_restore) reads and decompresses the B(whole) archive to C(/dev/null),
    from C(zstd -dc) when the manifest's C(compressor) is C(zstd) (which also checks zstd's own
    checksum of the stream). This catches a truncated or damaged archive that
    C(pg_restore --list), which reads only the table of contents, lets through. It runs at the same
    time as the hash.
  - V(test_restore) (with O(test_restore=true)) - a restore into a scratch database with a unique
    name (C(golive_verify_<random>)), whose exact row count of every table must equal the
    manifest's. The scratch database is always dropped, also when a check fails.
  - A failure says which check failed and why, and that the backup must not be restored from.
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.golive.postgres
  - runbook.golive.postgres.maintenance_db
attributes:
  check_mode:
    support: full
    details: The read-only checks (V(sha256), V(full_read)) run as usual. The test restore, which
      creates a scratch database, is skipped and listed in RV(skipped).
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
  test_restore:
    description:
      - Also restore the backup into a scratch database and compare every table's row count with
        the manifest. Needs a role that may create databases (C(CREATEDB)); the restore is made
        with C(--no-owner --no-privileges), so the role need not own the backed-up objects.
      - The scratch database is created with the backup's encoding and the C locale.
    type: bool
    default: false
  jobs:
    description:
      - Parallel pg_restore processes for the test restore.
      - C(pg_restore --jobs) reads only a seekable file, so a backup compressed with zstd is first
        decompressed into a temp file beside it (removed afterwards); that needs the free space of
        the uncompressed archive there.
    type: int
    default: 1
notes:
  - The connection options are used only by the test restore; the other checks need only the
    C(pg_restore) tool, and C(zstd) for a backup compressed with it.
  - Backups of earlier versions, whose manifests record pg_dump's own compression (V(3)), are read
    as they are.
seealso:
  - module: runbook.golive.pg_backup
  - module: runbook.golive.pg_restore
"""

EXAMPLES = r"""
- name: Back up, then prove the backup restores before going on
  runbook.golive.pg_backup:
    database: golive_app
    backup_dir: /var/backups/golive_app
  register: golive_backup
  become: true
  become_user: postgres

- name: Verify it, including a test restore
  runbook.golive.pg_backup_verify:
    path: "{{ golive_backup.backup_path }}"
    test_restore: true
  become: true
  become_user: postgres
"""

RETURN = r"""
checks:
  description: The checks that passed, in order (V(sha256), V(full_read), V(test_restore)).
  returned: always
  type: list
  elements: str
  sample: [sha256, full_read, test_restore]
failed_check:
  description: The check that failed.
  returned: failure
  type: str
  sample: sha256
seconds:
  description: Seconds each check took (sha256 and full_read run at the same time).
  returned: always
  type: dict
  sample: {"sha256": 0.41, "full_read": 1.93, "test_restore": 6.2}
skipped:
  description: Checks not run, with the reason.
  returned: always
  type: list
  elements: dict
  sample: [{"check": "test_restore", "reason": "check mode: a test restore creates a scratch database"}]
row_count_differences:
  description: Tables whose row count after the test restore differs from the manifest (null = table missing).
  returned: always
  type: list
  elements: dict
  sample: [{"table": "public.orders", "expected": 1200, "got": 1100}]
scratch_database:
  description: Name of the scratch database of the test restore (already dropped), or null.
  returned: always
  type: str
  sample: golive_verify_3f2a9c1b7d4e
backup_path:
  description: The backup checked.
  returned: always
  type: str
  sample: /var/backups/golive_app/golive_app-20261122T020000Z.dump.zst
manifest_path:
  description: The manifest it was checked against.
  returned: always
  type: str
  sample: /var/backups/golive_app/golive_app-20261122T020000Z.manifest.json
database:
  description: The database the backup is of, from the manifest.
  returned: always
  type: str
  sample: golive_app
compression:
  description:
    - The compression of the backup, from the manifest (V(3) in manifests of earlier versions, which
      meant gzip level 3).
  returned: always
  type: str
  sample: zstd:6
  version_added: 0.2.0
backup_started_at:
  description: When the backup was started (UTC), from the manifest.
  returned: always
  type: str
  sample: "2026-11-22T02:00:00.123456Z"
sha256:
  description: The checksum from the manifest.
  returned: always
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
size:
  description: The size from the manifest.
  returned: always
  type: int
  sample: 4194304
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _pg, _pg_verify
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    argument_spec = dict(
        _pg.PG_ARGUMENT_SPEC,
        **_pg.MAINTENANCE_DB_SPEC,
        path=dict(type="path", required=True),
        manifest=dict(type="path"),
        test_restore=dict(type="bool", default=False),
        jobs=dict(type="int", default=1),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if module.params["jobs"] < 1:
        module.fail_json(msg="jobs must be at least 1, got %d" % module.params["jobs"])
    try:
        with _pg.Connection(module, module.params) as conn:
            result = _pg_verify.Verify(module, conn, module.params).run()
    except GoliveError as err:
        module.fail_json(msg=str(err), **err.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
