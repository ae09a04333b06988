#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_backup
short_description: Back up one PostgreSQL database with a manifest of checksums and exact row counts
version_added: 0.1.0
description:
  - Dumps one database with C(pg_dump) into O(backup_dir), as
    C(<db>-<UTC stamp>.dump.zst) (custom format streamed through C(zstd), the default),
    C(<db>-<UTC stamp>.dump) (custom format compressed by pg_dump itself) or
    C(<db>-<UTC stamp>.dir/) (directory format, dumped by O(jobs) parallel processes).
  - The dump is written under a temporary name in the same directory and renamed when complete,
    so a backup under its final name is always whole. Files are mode 0600, directories 0700.
  - Beside it, C(<db>-<UTC stamp>.manifest.json) records the database, server and pg_dump
    versions, format, compression, size, sha256, start and end time and the B(exact) row count
    of every table, and C(toc_sha256), the digest of the archive's table of contents
    (C(pg_restore --list) without its header; C(toc_sha256_method) in the manifest says exactly what
    is hashed). M(runbook.golive.pg_backup_verify) and M(runbook.golive.pg_restore) check a backup
    against it. RV(manifest_sha256) is the sha256 of the manifest as written; keep it (in the release
    log) and give it to M(runbook.golive.pg_backup_verify) to prove the manifest unchanged.
  - The row counts and the dump see the same data. A psql session opens a REPEATABLE READ
    transaction, exports its snapshot with C(pg_export_snapshot()) and holds it while
    C(pg_dump --snapshot) runs; the counts (C(SELECT count(*)) per table) are taken in that
    same transaction while the dump runs.
  - With O(compression=zstd:N), pg_dump writes the archive uncompressed into a pipe through
    C(zstd -N -T0), and the module hashes the compressed stream as it writes the file, so the file
    is never read a second time. M(runbook.golive.pg_backup_verify) and
    M(runbook.golive.pg_restore) read such a backup through C(zstd -dc), as the manifest's
    C(compressor) says.
  - With pg_dump's own compression (O(compression=gzip:N)), pg_dump writes the file itself and
    the module hashes it right after, from the page cache. A directory-format backup is hashed file
    by file; its checksum is defined in RV(sha256).
  - Before dumping, the module refuses when pg_dump is older than the server, when the backup
    directory is missing or not writable, when the estimated size does not fit in the free space,
    and when O(compression) asks for zstd and the C(zstd) tool is not installed. It never falls back
    to another compression by itself.
  - Every run takes a new backup, so the module always reports a change.
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.golive.postgres
attributes:
  check_mode:
    support: full
    details: Connects and reads the database size and versions, then reports the path and
      estimated size it would write and the backups it would delete; writes and deletes nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  database:
    description:
      - The database to back up.
      - A plain name (letters, digits, V(_) and V(-), starting with a letter or V(_), at most 63 bytes);
        another is refused before connecting.
    type: str
    required: true
    aliases: [db]
  backup_dir:
    description:
      - Existing directory to write the backup and its manifest into.
    type: path
    required: true
  format:
    description:
      - V(custom) is one file (C(pg_dump -Fc)).
      - V(directory) is a directory of files (C(pg_dump -Fd)) written by O(jobs) processes,
        faster on large databases.
    type: str
    choices: [custom, directory]
    default: custom
  jobs:
    description:
      - Parallel pg_dump processes for O(format=directory). Defaults to 2 there.
      - The custom format is written by one process; only 1 is accepted with it.
    type: int
  compression:
    description:
      - How the archive is compressed.
      - V(zstd:N) (level 1 to 19, O(format=custom) only) streams an uncompressed pg_dump archive
        through the C(zstd) tool with one thread per core, into C(<db>-<UTC stamp>.dump.zst). It
        needs C(zstd) on the database host (C(apt-get install zstd)); without it the module fails
        and says so.
      - V(gzip:N) (level 0 to 9; a bare V(N) is the same) is pg_dump's own C(--compress), V(none)
        is no compression, and with pg_dump 16 and newer V(lz4) or V(lz4:N) is pg_dump's lz4.
      - Defaults to V(zstd:6) for O(format=custom) and V(gzip:3) for O(format=directory).
      - On a text-heavy database of 951 MiB and 2 CPUs, V(zstd:6) took 0.67 times the time of a
        plain C(pg_dump -Fc) (gzip level 6) for 1.09 times its size; V(gzip:3), the default of
        earlier versions, took 0.49 times for 1.26 times. zstd uses every CPU, pg_dump's gzip one
        (see docs/postgresql.md).
      - The manifest records it (V(zstd:6), V(gzip:3)...) and how the file must be read.
    type: str
  keep:
    description:
      - Keep the newest O(keep) B(verified) backups of this database in O(backup_dir), and the newest
        O(keep) not verified ones, and delete older ones after the new backup is complete.
      - A backup is verified when M(runbook.golive.pg_backup_verify) passed it and wrote its verified
        mark C(<db>-<UTC stamp>.verified.json), and neither the backup nor its manifest changed since.
      - The new backup, not verified yet, is always kept and counts as one of the not verified ones. So
        new backups never cause a verified one to be deleted, however many of them fail their
        verification, and the newest verified backup is never deleted. Up to twice O(keep) backups
        can be kept.
      - Only backups this module made for this database are considered, recognised by their
        manifests; other files are never touched. A deleted backup's manifest and mark go with it.
      - When not given, no backup is deleted.
    type: int
  size_estimate_ratio:
    description:
      - The backup size is estimated as the database size (C(pg_database_size)) times this ratio and
        compared with the free space of O(backup_dir) before dumping.
      - V(0) turns the check off.
    type: float
    default: 0.5
seealso:
  - module: runbook.golive.pg_backup_verify
  - module: runbook.golive.pg_restore
"""

EXAMPLES = r"""
- name: Back up the app database before the go-live, keep the last 5
  runbook.golive.pg_backup:
    database: golive_app
    backup_dir: /var/backups/golive_app
    host: localhost
    user: golive_app
    password: "{{ golive_db_password }}"
    keep: 5
  register: golive_backup

- name: Back up with pg_dump's own gzip on a host without zstd
  runbook.golive.pg_backup:
    database: golive_app
    backup_dir: /var/backups/golive_app
    compression: gzip:3
  become: true
  become_user: postgres

- name: A large database, dumped by 4 processes, as the postgres OS user over the local socket
  runbook.golive.pg_backup:
    database: warehouse
    backup_dir: /srv/backups
    format: directory
    jobs: 4
  become: true
  become_user: postgres
"""

RETURN = r"""
backup_path:
  description: The backup file (custom format) or directory (directory format).
  returned: always
  type: str
  sample: /var/backups/golive_app/golive_app-20261122T020000Z.dump.zst
manifest_path:
  description: The manifest written beside the backup.
  returned: always
  type: str
  sample: /var/backups/golive_app/golive_app-20261122T020000Z.manifest.json
format:
  description: The format of the backup.
  returned: always
  type: str
  sample: custom
compression:
  description: The compression of the backup, as the manifest records it.
  returned: always
  type: str
  sample: zstd:6
size:
  description: Bytes written (for a directory, the sum of its files).
  returned: success and not check mode
  type: int
  sample: 4194304
estimated_size:
  description: The size estimate the free-space check used.
  returned: always
  type: int
  sample: 8388608
database_size:
  description: C(pg_database_size) of the database.
  returned: always
  type: int
  sample: 16777216
manifest_sha256:
  description:
    - SHA-256 of the manifest file as written. Keep it with the backup's path (the release log), and
      give it to M(runbook.golive.pg_backup_verify) as O(runbook.golive.pg_backup_verify#module:manifest_sha256);
      a manifest edited since then fails verification.
  returned: success and not check mode
  type: str
  sample: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
toc_sha256:
  description:
    - SHA-256 of the archive's table of contents, as the manifest records it (C(toc_sha256_method) there);
      the entry lines C(pg_restore --list) prints, without its C(;) header lines.
  returned: success and not check mode
  type: str
  sample: ec356c3981293fa19f13892d98c7a8fba6cd50836e94cf79fc28a9518953604d
sha256:
  description:
    - SHA-256 of the backup file; for a directory, the SHA-256 over the lines
      C(<sha256 of file>  <file name>\n) of every file sorted by name, which is what
      C(cd DIR && LC_ALL=C sha256sum -- * | sha256sum) prints.
  returned: success and not check mode
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
duration:
  description: Seconds from start to the manifest being written.
  returned: success and not check mode
  type: float
  sample: 12.4
dump_seconds:
  description: Seconds pg_dump ran.
  returned: success and not check mode
  type: float
  sample: 11.9
row_counts:
  description: Exact row count of every table (C(schema.table), quoted where needed), in the dump's snapshot.
  returned: success and not check mode
  type: dict
  sample: {"public.orders": 1200, "public.users": 42}
tables:
  description: Number of tables counted.
  returned: success and not check mode
  type: int
  sample: 2
snapshot:
  description: The exported snapshot pg_dump and the counts used.
  returned: success and not check mode
  type: str
  sample: 00000003-0000001B-1
xid_snapshot:
  description:
    - The transaction ids of that snapshot, as C(pg_current_snapshot()) prints them
      (C(xmin:xmax:in-progress ids), 64-bit), also written to the manifest.
    - M(runbook.golive.pg_changes) tells with it the rows written since the backup from those the
      backup holds.
  returned: success and not check mode
  type: str
  sample: "745:749:746,747"
server_version:
  description: The server's version.
  returned: always
  type: str
  sample: "15.18"
pg_dump_version:
  description: The pg_dump version.
  returned: always
  type: str
  sample: "15.18"
started_at:
  description: UTC start time (ISO 8601).
  returned: success and not check mode
  type: str
  sample: "2026-11-22T02:00:00.123456Z"
deleted_backups:
  description: Older backups deleted by O(keep) (in check mode, those that would be), verified or not.
  returned: always
  type: list
  elements: str
  sample: [/var/backups/golive_app/golive_app-20261120T020000Z.dump.zst]
warnings_from_pg_dump:
  description: Lines pg_dump wrote to stderr although it succeeded.
  returned: success and not check mode
  type: list
  elements: str
  sample: []
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _pg, _pg_backup
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    argument_spec = dict(
        _pg.PG_ARGUMENT_SPEC,
        database=dict(type="str", required=True, aliases=["db"]),
        backup_dir=dict(type="path", required=True),
        format=dict(type="str", choices=["custom", "directory"], default="custom"),
        jobs=dict(type="int"),
        compression=dict(type="str"),
        keep=dict(type="int", no_log=False),
        size_estimate_ratio=dict(type="float", default=0.5),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    try:
        _pg.check_name("database", p["database"])
        _pg_backup.check_params(p)
        with _pg.Connection(module, p) as conn:
            result = _pg_backup.Backup(module, conn, p).run()
    except GoliveError as err:
        module.fail_json(msg=str(err), **err.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
