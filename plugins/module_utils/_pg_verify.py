# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: checking a backup against its manifest. Not a public API.

Checks, in order of cost: ``sha256`` (the bytes are those the backup wrote),
``full_read`` (pg_restore reads and decompresses the whole archive to
/dev/null, from ``zstd -dc`` for a zstd stream; run at the same time as the
hash, so it costs no extra wall time)
and ``test_restore`` (a restore into a scratch database whose exact row counts
must equal the manifest's; the scratch database is always dropped).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time
import uuid

from ansible_collections.runbook.golive.plugins.module_utils import _pg, _pg_archive, _pg_backup, _run
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def scratch_name():
    return "golive_verify_%s" % uuid.uuid4().hex[:12]


def full_read_problem(path, err):
    """The message for a failed full read (the GoliveError of its command), naming the likely cause."""
    text = _run.said(err)
    if "unsupported version" in text:
        return (
            "backup %s: pg_restore cannot read it (%s); pg_restore is older than the pg_dump that wrote it, "
            "install newer client tools or set bin_dir" % (path, text)
        )
    return "backup %s: full read failed (%s); the archive is damaged or truncated, do not restore from it" % (
        path,
        text,
    )


def create_database_sql(name, encoding, owner=None, template="template0", locale="C"):
    sql = "CREATE DATABASE %s TEMPLATE %s ENCODING %s" % (
        _pg.quote_ident(name),
        _pg.quote_ident(template),
        _pg.quote_literal(encoding),
    )
    if locale:
        sql += " LC_COLLATE %s LC_CTYPE %s" % (_pg.quote_literal(locale), _pg.quote_literal(locale))
    if owner:
        sql += " OWNER %s" % _pg.quote_ident(owner)
    return sql


def drop_database_sql(name, server_num):
    force = " WITH (FORCE)" if int(server_num) >= 130000 else ""
    return "DROP DATABASE IF EXISTS %s%s" % (_pg.quote_ident(name), force)


class Verify:
    def __init__(self, module, conn, params):
        self.module = module
        self.conn = conn
        self.p = params
        self.checks = []
        self.seconds = {}
        self.skipped = []

    def run(self):
        p = self.p
        manifest, manifest_path = _pg_backup.load(p["path"], p["manifest"])
        path = p["path"].rstrip("/") or p["path"]
        self.zstd = _pg_archive.reader(self.module, path, manifest)
        result = dict(
            changed=False,
            backup_path=path,
            manifest_path=manifest_path,
            database=manifest["database"],
            compression=manifest.get("compression"),
            backup_started_at=manifest["started_at"],
            sha256=manifest["sha256"],
            size=manifest["size"],
            checks=self.checks,
            seconds=self.seconds,
            skipped=self.skipped,
            row_count_differences=[],
            scratch_database=None,
        )
        try:
            self._sha_and_full_read(path, manifest)
            if p["test_restore"]:
                if self.module.check_mode:
                    self.skipped.append(
                        dict(check="test_restore", reason="check mode: a test restore creates a scratch database")
                    )
                else:
                    self._test_restore(path, manifest, result)
        except GoliveError as err:
            err.result.update(result, failed_check=err.result.get("failed_check"))
            raise
        result["msg"] = "backup %s: %s passed" % (path, ", ".join(self.checks))
        return result

    def _sha_and_full_read(self, path, manifest):
        argv = [self.conn.tool("pg_restore"), "--file=/dev/null"]
        t0 = time.monotonic()
        proc = _pg_archive.spawn_restore(self.conn, argv, path, self.zstd, "full read of backup %s" % path)
        try:
            sha, files, size = _pg_backup.checksum_of(path)
            self.seconds["sha256"] = round(time.monotonic() - t0, 3)
            problem = _pg_backup.checksum_problem(path, manifest, sha, files)
            if problem:
                raise GoliveError(problem, failed_check="sha256", got_sha256=sha, got_size=size)
            self.checks.append("sha256")
        except BaseException:
            proc.kill()
            raise
        try:
            proc.wait()
        except GoliveError as err:
            raise GoliveError(full_read_problem(path, err), failed_check="full_read", stderr=err.result["stderr"])
        self.seconds["full_read"] = round(time.monotonic() - t0, 3)
        self.checks.append("full_read")

    def _test_restore(self, path, manifest, result):
        p = self.p
        conn = self.conn
        maint = p["maintenance_db"]
        scratch = scratch_name()
        what = "test restore of backup %s" % path
        t0 = time.monotonic()
        server_num = conn.psql(maint, "SELECT current_setting('server_version_num')", what).strip()
        conn.psql(maint, create_database_sql(scratch, manifest.get("encoding") or "UTF8"), what)
        result["scratch_database"] = scratch
        failure = None
        try:
            self._restore_and_count(path, manifest, scratch, what, result)
        except GoliveError as err:
            failure = err
        finally:
            dropped = self._drop(maint, scratch, server_num, what)
        if failure is not None:
            if dropped is not True:
                failure.msg = "%s; also %s" % (failure.msg, dropped)
            raise failure
        if dropped is not True:
            raise GoliveError(dropped, failed_check="test_restore")
        self.seconds["test_restore"] = round(time.monotonic() - t0, 3)
        self.checks.append("test_restore")

    def _restore_and_count(self, path, manifest, scratch, what, result):
        conn = self.conn
        argv = [conn.tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--no-password"]
        argv.append("--dbname=%s" % conn.conninfo(scratch))
        try:
            _pg_archive.restore(conn, argv, path, self.zstd, self.p["jobs"], what)
        except GoliveError as err:
            raise GoliveError(
                "backup %s: test restore into scratch database %s failed: %s" % (path, scratch, _run.said(err)),
                failed_check="test_restore",
            )
        counts = _pg.row_counts(lambda sql: conn.psql_json(scratch, sql, what))
        diffs = _pg.compare_counts(manifest["row_counts"], counts)
        result["row_count_differences"] = diffs
        if diffs:
            shown = "; ".join("%s: expected %s, got %s" % (d["table"], d["expected"], d["got"]) for d in diffs[:10])
            raise GoliveError(
                "backup %s: the test restore holds other row counts than the manifest (%d tables differ: %s); "
                "the backup does not hold the data it claims, do not restore from it" % (path, len(diffs), shown),
                failed_check="test_restore",
            )

    def _drop(self, maint, scratch, server_num, what):
        """Drop the scratch database: True, or the message saying it is left over."""
        try:
            self.conn.psql(maint, drop_database_sql(scratch, server_num), what)
        except GoliveError as err:
            return "could not drop the scratch database %s: %s; drop it by hand (DROP DATABASE %s)" % (
                scratch,
                err,
                _pg.quote_ident(scratch),
            )
        return True
