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
  - V(manifest) (with O(manifest_sha256)) - the manifest file hashes to the sha256 pg_backup returned
    when it wrote it (RV(runbook.golive.pg_backup#module:manifest_sha256)), so a manifest edited since,
    its row counts for example, fails.
  - V(sha256) - the bytes on disk are the bytes the backup wrote (for a directory-format
    backup, every file; a mismatch names the files that differ).
  - V(full_read) - C(pg_restore) reads and decompresses the B(whole) archive to C(/dev/null),
    from C(zstd -dc) when the manifest's C(compressor) is C(zstd) (which also checks zstd's own
    checksum of the stream). This catches a truncated or damaged archive that
    C(pg_restore --list), which reads only the table of contents, lets through. It runs at the same
    time as the hash.
  - V(toc) - C(pg_restore --list) reads the archive's table of contents. The database name in its header
    must be the manifest's C(database), the sha256 of its entries (the manifest's C(toc_sha256_method)
    says exactly what is hashed) the manifest's C(toc_sha256), and the tables it defines (its C(TABLE)
    entries, whose rows its C(TABLE DATA) entries hold; a partitioned table's rows are in its
    partitions') exactly the tables the manifest counts rows of. A dump of another database put in
    place of the backup, its sha256 and size written into the manifest, fails here, as does a
    table added to or removed from the manifest's row counts. Manifests of earlier versions have no
    C(toc_sha256); for them the database name and the tables are checked.
  - V(test_restore) (with O(test_restore=true)) - a restore into a scratch database with a unique
    name (C(golive_verify_<random>)), whose exact row count of every table must equal the
    manifest's. The scratch database is always dropped, also when a check fails.
  - A failure says which check failed and why, and that the backup must not be restored from.
  - When every check passed, the module writes a verified mark C(<db>-<UTC stamp>.verified.json) beside
    the manifest (O(mark_verified)), holding the backup's and the manifest's sha256 and the checks that
    passed. The O(runbook.golive.pg_backup#module:keep) retention of M(runbook.golive.pg_backup) counts
    backups with a valid mark apart from the others. When a check finds the backup damaged
    (V(manifest), V(sha256), V(toc), a damaged archive in V(full_read), other row counts in
    V(test_restore)), a mark left by an earlier run is removed.
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.golive.postgres
  - runbook.golive.postgres.maintenance_db
attributes:
  check_mode:
    support: full
    details: The read-only checks (V(manifest), V(sha256), V(full_read), V(toc)) run as usual. The test
      restore, which creates a scratch database, is skipped and listed in RV(skipped). The verified mark is
      neither written nor removed; the module reports a change when it would write it.
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
  manifest_sha256:
    description:
      - The sha256 of the manifest file as pg_backup wrote it (its return value
        RV(runbook.golive.pg_backup#module:manifest_sha256), kept for example in the release log).
      - When given, a manifest that does not hash to it fails the V(manifest) check.
    type: str
  mark_verified:
    description:
      - When every check passed, write the verified mark C(<db>-<UTC stamp>.verified.json) beside the
        manifest (0600), which O(runbook.golive.pg_backup#module:keep) counts. This needs the directory
        of the manifest to be writable.
      - The module reports a change when it writes a mark that was not there or that records fewer
        checks.
      - Only a backup checked under the name its manifest gives (beside it) gets a mark; a copy checked
        against another backup's manifest neither gets one nor removes that backup's.
    type: bool
    default: true
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
  description:
    - The checks that passed, in order (V(manifest) with O(manifest_sha256), V(sha256), V(full_read),
      V(toc), V(test_restore)).
  returned: always
  type: list
  elements: str
  sample: [manifest, sha256, full_read, toc, test_restore]
failed_check:
  description: The check that failed.
  returned: failure
  type: str
  sample: sha256
seconds:
  description: Seconds each check took (sha256 and full_read run at the same time).
  returned: always
  type: dict
  sample: {"sha256": 0.41, "full_read": 1.93, "toc": 0.05, "test_restore": 6.2}
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
manifest_sha256:
  description: The sha256 of the manifest file as it is now.
  returned: always
  type: str
  sample: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
toc_sha256:
  description: The digest of the archive's table of contents from the manifest (null in manifests of earlier versions).
  returned: always
  type: str
  sample: ec356c3981293fa19f13892d98c7a8fba6cd50836e94cf79fc28a9518953604d
verified_mark:
  description:
    - The verified mark written (or, in check mode, that would be), or null with O(mark_verified=false) or
      when the backup checked is not the file its manifest names.
  returned: success
  type: str
  sample: /var/backups/golive_app/golive_app-20261122T020000Z.verified.json
toc_problems:
  description: What in the archive's table of contents differs from the manifest.
  returned: failure of the toc check
  type: list
  elements: str
  sample: ["the archive is a dump of database golive_shop, the manifest says golive_app"]
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
        manifest_sha256=dict(type="str", no_log=False),
        mark_verified=dict(type="bool", default=True),
        test_restore=dict(type="bool", default=False),
        jobs=dict(type="int", default=1),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if module.params["jobs"] < 1:
        module.fail_json(msg="jobs must be at least 1, got %d" % module.params["jobs"])
    try:
        _pg.check_name("maintenance_db", module.params["maintenance_db"])
        with _pg.Connection(module, module.params) as conn:
            result = _pg_verify.Verify(module, conn, module.params).run()
    except GoliveError as err:
        module.fail_json(msg=str(err), **err.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
