# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: checking a backup against its manifest. Not a public API.

Checks, in order of cost: ``manifest`` (with a manifest_sha256 given, the
manifest file hashes to it), ``sha256`` (the bytes are those the backup wrote),
``full_read`` (pg_restore reads and decompresses the whole archive to
/dev/null, from ``zstd -dc`` for a zstd stream; run at the same time as the
hash, so it costs no extra wall time), ``toc`` (pg_restore --list: the
archive's own database name, the digest of its table of contents and the
tables it defines are the manifest's) and ``test_restore`` (a restore into a
scratch database whose exact row counts must equal the manifest's; the
scratch database is always dropped).

When every check passed, a verified mark ``<db>-<stamp>.verified.json`` is
written beside the manifest (pg_backup's retention counts verified backups
apart); when a check finds the backup damaged, a mark left by an earlier run is
removed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time
import uuid

from ansible_collections.runbook.golive.plugins.module_utils import _io, _pg, _pg_archive, _pg_backup, _run
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


DONT = "do not restore from it"
# Checks whose failure proves the backup is not what its manifest says (not a missing tool or right).
DAMAGE_CHECKS = ("manifest", "sha256", "toc")


def manifest_problem(manifest_path, got, expected):
    """None if the manifest file hashes to ``expected`` (the manifest_sha256 given), else the message."""
    if expected is None or got == expected.strip().lower():
        return None
    return (
        "manifest %s: sha256 mismatch (expected %s as given in manifest_sha256, got %s); the manifest was changed "
        "after pg_backup wrote it, %s" % (manifest_path, expected, got, DONT)
    )


def toc_problems(path, manifest, listing):
    """What in the archive's table of contents (``listing``, pg_restore --list) differs from the
    manifest: its database name, its TOC digest (manifests of earlier versions have none) and the
    tables it defines against those the manifest counts rows of. A list of messages."""
    problems = []
    dbname = _pg_archive.toc_dbname(listing)
    expected = manifest["database"].replace("\n", " ").replace("\r", " ")
    if dbname != expected:
        problems.append(
            "the archive is a dump of database %s, the manifest says %s" % (dbname or "(none named)", expected)
        )
    digest = _pg_archive.toc_digest(listing)
    if manifest.get("toc_sha256") and digest != manifest["toc_sha256"]:
        problems.append("table of contents sha256 %s, the manifest says %s" % (digest, manifest["toc_sha256"]))
    missing, extra = _pg_archive.compare_tables(listing, manifest["row_counts"])
    if missing:
        problems.append("the manifest counts rows of tables the archive does not hold: %s" % ", ".join(missing[:10]))
    if extra:
        problems.append(
            "the archive holds tables the manifest counts no rows of (schema, name, owner): %s" % ", ".join(extra[:10])
        )
    return problems


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
        self.manifest_sha256 = None

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
            toc_sha256=manifest.get("toc_sha256"),
            verified_mark=None,
        )
        # The mark beside the manifest speaks of the backup the manifest names; a copy checked
        # against that manifest (another path) neither earns nor loses it.
        own = os.path.abspath(path) == os.path.abspath(os.path.join(os.path.dirname(manifest_path), manifest["file"]))
        mark_path = _pg_backup.verified_path_for(manifest_path) if own else None
        try:
            self._manifest(manifest_path, result)
            self._sha_and_full_read(path, manifest)
            self._toc(path, manifest)
            if p["test_restore"]:
                if self.module.check_mode:
                    self.skipped.append(
                        dict(check="test_restore", reason="check mode: a test restore creates a scratch database")
                    )
                else:
                    self._test_restore(path, manifest, result)
        except GoliveError as err:
            damaged = err.result.pop("damaged", False)
            err.result.update(result, failed_check=err.result.get("failed_check"))
            if mark_path and (err.result["failed_check"] in DAMAGE_CHECKS or damaged):
                err.msg += self._unmark(mark_path)
            raise
        if p["mark_verified"] and mark_path:
            result["changed"] = self._mark(mark_path, manifest)
            result["verified_mark"] = mark_path
        result["msg"] = "backup %s: %s passed" % (path, ", ".join(self.checks))
        return result

    def _manifest(self, manifest_path, result):
        self.manifest_sha256 = _pg_backup.sha256_file(manifest_path)
        result["manifest_sha256"] = self.manifest_sha256
        if self.p["manifest_sha256"] is None:
            return
        problem = manifest_problem(manifest_path, self.manifest_sha256, self.p["manifest_sha256"])
        if problem:
            raise GoliveError(problem, failed_check="manifest")
        self.checks.append("manifest")

    def _toc(self, path, manifest):
        t0 = time.monotonic()
        what = "listing the table of contents of backup %s" % path
        listing = _pg_archive.list_toc(self.conn, path, self.zstd, what)
        problems = toc_problems(path, manifest, listing)
        if problems:
            raise GoliveError(
                "backup %s does not hold what its manifest describes: %s; it is another backup or was changed, %s"
                % (path, "; ".join(problems), DONT),
                failed_check="toc",
                toc_problems=problems,
            )
        self.seconds["toc"] = round(time.monotonic() - t0, 3)
        self.checks.append("toc")

    def _mark(self, mark_path, manifest):
        """Write the verified mark (not in check mode); whether it is new or says more than before."""
        old = _pg_backup.read_mark(mark_path)
        if _pg_backup.is_verified(manifest, self.manifest_sha256, old) and set(self.checks) <= set(old["checks"]):
            return False
        if not self.module.check_mode:
            at = _pg_backup.iso(_pg_backup.utc_now())
            mark = _pg_backup.build_mark(manifest, self.manifest_sha256, self.checks, at)
            _io.write_file(self.module, mark_path, json.dumps(mark, indent=2, sort_keys=True) + "\n", mode=0o600)
        return True

    def _unmark(self, mark_path):
        """Remove the verified mark of a backup found damaged; the words to add to the message."""
        if not os.path.lexists(mark_path):
            return ""
        if self.module.check_mode:
            return "; its verified mark %s would be removed" % mark_path
        try:
            os.unlink(mark_path)
        except OSError as err:
            return "; its verified mark %s could not be removed (%s), delete it by hand" % (
                mark_path,
                err.strerror or err,
            )
        return "; its verified mark %s was removed" % mark_path

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
            message = full_read_problem(path, err)
            raise GoliveError(message, failed_check="full_read", stderr=err.result["stderr"], damaged=DONT in message)
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
                damaged=True,
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
