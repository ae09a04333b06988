# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: restoring a backup over a database by a name swap. Not a public API.

The backup is restored into a new database ``<db>_restore_<stamp>`` (same
owner, encoding, locale, settings, privileges and comment as ``<db>``). Only
when that restore is complete, the cut-over: connections to ``<db>`` are
disallowed, its sessions terminated, and in one transaction ``<db>`` is
renamed ``<db>_pre_restore_<stamp>`` and the new database ``<db>``. There is
no moment in which ``<db>`` is empty or half restored; clients are refused
only during the cut-over (usually well under a second).

Before the cut-over the restored database's exact row counts are compared
with the manifest's (the restore's own verification). Older
``<db>_pre_restore_<stamp>`` copies are pruned (keep_previous,
keep_previous_days) only after that verification and the cut-over succeeded.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import re
import time

from ansible_collections.runbook.golive.plugins.module_utils import _pg, _pg_archive, _pg_backup, _run
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError
from ansible_collections.runbook.golive.plugins.module_utils._pg import quote_ident, quote_literal

MARKER = "runbook.golive pg_restore:"
STAMP_RE = r"\d{8}T\d{6}Z"


def restore_name(db, stamp):
    return _pg.fit_name(db, "_restore_%s" % stamp)


def previous_name(db, stamp):
    return _pg.fit_name(db, "_pre_restore_%s" % stamp)


def is_previous_of(db, name):
    """Whether ``name`` is a ``<db>_pre_restore_<stamp>`` database of ``db`` (names cut as fit_name cuts)."""
    m = re.match(r"^(.*)_pre_restore_(%s)\Z" % STAMP_RE, name)
    return bool(m) and previous_name(db, m.group(2)) == name


def stamp_time(name):
    """The UTC time in the ``_<stamp>`` ending of a ``<db>_pre_restore_<stamp>`` name."""
    return datetime.datetime.strptime(name.rsplit("_", 1)[-1], _pg_backup.STAMP_FORMAT).replace(
        tzinfo=datetime.timezone.utc
    )


def choose_previous_to_drop(db, databases, keep, current, days=None, now=None):
    """Which earlier ``<db>_pre_restore_*`` databases to drop: those beyond the newest ``keep``, and
    those older than ``days`` days at ``now`` (a UTC datetime); None leaves a rule out.

    ``databases`` are dicts with ``name`` and ``comment``; only exactly
    ``<db>_pre_restore_<stamp>`` names with our marker comment count (a
    database someone named alike is never dropped). ``current`` (the one this
    run made, the newest) is never dropped and counts as one of ``keep``.
    """
    if keep is None and days is None:
        return []
    ours = [
        d["name"]
        for d in databases
        if is_previous_of(db, d["name"]) and (d.get("comment") or "").startswith(MARKER) and d["name"] != current
    ]
    ours.sort(key=lambda n: n.rsplit("_", 1)[-1], reverse=True)
    drop, kept = [], 1
    for name in ours:
        too_many = keep is not None and kept >= keep
        too_old = days is not None and now - stamp_time(name) > datetime.timedelta(days=days)
        if too_many or too_old:
            drop.append(name)
        else:
            kept += 1
    return drop


def plan(db, stamp, info, existing, keep, path, sha, reading="", days=None, verify=True):
    """What a restore will do, as data (check mode returns it); ``reading`` says how pg_restore reads
    the backup, ``verify`` whether the restored copy's row counts are compared with the manifest's
    (without, no older copy is dropped)."""
    new = restore_name(db, stamp)
    prev = previous_name(db, stamp)
    for name in (new, prev):
        if name in existing:
            raise GoliveError(
                "database %s already exists; wait a second and retry, or drop it if it is left over" % name
            )
    dbs = [dict(name=n, comment=c) for n, c in existing.items()]
    drop = choose_previous_to_drop(db, dbs, keep, prev, days, stamp_time(prev)) if verify else []
    return dict(
        database=db,
        backup=path,
        sha256=sha,
        owner=info["owner"],
        restore_database=new,
        previous_database=prev,
        drop_previous=drop,
        steps=[
            "create database %s owned by %s like %s" % (new, info["owner"], db),
            "pg_restore %s%s into %s" % (path, reading, new),
            "copy settings, privileges and comment of %s to %s" % (db, new),
        ]
        + (["compare the row counts of %s with the manifest's" % new] if verify else [])
        + [
            "disallow connections to %s and terminate its sessions" % db,
            "rename %s to %s and %s to %s in one transaction" % (db, prev, new, db),
        ]
        + ["drop database %s" % d for d in drop],
    )


def create_like_sql(new, info):
    """CREATE DATABASE ``new`` with the owner, encoding and locale of ``info`` (from DATABASE_INFO_SQL)."""
    row = info["row"]
    sql = "CREATE DATABASE %s OWNER %s TEMPLATE template0 ENCODING %s LC_COLLATE %s LC_CTYPE %s" % (
        quote_ident(new),
        quote_ident(info["owner"]),
        quote_literal(info["encoding"]),
        quote_literal(row["datcollate"]),
        quote_literal(row["datctype"]),
    )
    provider = row.get("datlocprovider")
    icu = row.get("daticulocale") or row.get("datlocale")
    if provider == "i" and icu:
        sql += " LOCALE_PROVIDER icu ICU_LOCALE %s" % quote_literal(icu)
    return sql


def copy_properties_sql(new, info):
    """Statements giving ``new`` the connection limit, settings, privileges and comment of ``info``."""
    row = info["row"]
    target = quote_ident(new)
    stmts = []
    limit = row.get("datconnlimit", -1)
    if limit is not None and int(limit) != -1:
        stmts.append("ALTER DATABASE %s CONNECTION LIMIT %d" % (target, int(limit)))
    for setting in info.get("settings") or []:
        for item in setting.get("config") or []:
            key, value = item.split("=", 1) if "=" in item else (item, "")
            # set_config parses the value as the server stored it (lists included); FROM CURRENT copies it.
            stmts.append("SELECT set_config(%s, %s, false)" % (quote_literal(key), quote_literal(value)))
            if setting.get("role"):
                stmts.append(
                    "ALTER ROLE %s IN DATABASE %s SET %s FROM CURRENT"
                    % (quote_ident(setting["role"]), target, quote_ident(key))
                )
            else:
                stmts.append("ALTER DATABASE %s SET %s FROM CURRENT" % (target, quote_ident(key)))
    acl = info.get("acl")
    if acl is not None:
        stmts.append("REVOKE ALL ON DATABASE %s FROM PUBLIC" % target)
        stmts.append("REVOKE ALL ON DATABASE %s FROM %s" % (target, quote_ident(info["owner"])))
        for item in acl:
            grantee = "PUBLIC" if item["grantee"] == "PUBLIC" else quote_ident(item["grantee"])
            stmts.append(
                "GRANT %s ON DATABASE %s TO %s%s"
                % (item["privilege"], target, grantee, " WITH GRANT OPTION" if item.get("grantable") else "")
            )
    if info.get("comment") is not None:
        stmts.append("COMMENT ON DATABASE %s IS %s" % (target, quote_literal(info["comment"])))
    return stmts


def swap_sql(db, new, prev):
    return "BEGIN;\nALTER DATABASE %s RENAME TO %s;\nALTER DATABASE %s RENAME TO %s;\nCOMMIT;\n" % (
        quote_ident(db),
        quote_ident(prev),
        quote_ident(new),
        quote_ident(db),
    )


def allow_connections_sql(db, allow):
    return "ALTER DATABASE %s WITH ALLOW_CONNECTIONS %s" % (quote_ident(db), "true" if allow else "false")


TERMINATE_SQL = (
    "SELECT coalesce(json_agg(json_build_array(pid, usename, pg_terminate_backend(pid))), '[]') "
    "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
)


def terminate_sql(db):
    """Terminate the other sessions of ``db``; a JSON list of [pid, role, terminated]."""
    return TERMINATE_SQL % quote_literal(db)


DATABASES_SQL = (
    "SELECT coalesce(json_object_agg(datname, shobj_description(oid, 'pg_database')), '{}') FROM pg_database"
)


class Restore:
    def __init__(self, module, conn, params):
        self.module = module
        self.conn = conn
        self.p = params
        self.db = params["database"]
        self.maint = params["maintenance_db"]

    def q(self, sql, what):
        return self.conn.psql(self.maint, sql, what)

    def run(self):
        p = self.p
        db = self.db
        what = "restore of database %s" % db
        manifest, manifest_path = _pg_backup.load(p["path"], p["manifest"], required=not p["force"])
        path = p["path"].rstrip("/") or p["path"]
        self.zstd = _pg_archive.reader(self.module, path, manifest)
        sha = None
        if manifest is not None:
            sha, files, _size = _pg_backup.checksum_of(path)
            problem = _pg_backup.checksum_problem(path, manifest, sha, files)
            if problem:
                raise GoliveError(problem + "; refusing to restore " + db)
        info = self.conn.psql_json(self.maint, _pg.database_info_sql(db), what)
        if not info:
            raise GoliveError(
                "database %s does not exist at %s, so there is nothing to restore over; check the database option "
                "(to restore a backup as a new database, create an empty one first)" % (db, self.conn.where)
            )
        existing = self.conn.psql_json(self.maint, DATABASES_SQL, what)
        stamp = _pg_backup.utc_now().strftime(_pg_backup.STAMP_FORMAT)
        reading = _pg_archive.how_read(self.zstd, p["jobs"])
        verify = manifest is not None and p["verify_row_counts"]
        steps = plan(db, stamp, info, existing, p["keep_previous"], path, sha, reading, p["keep_previous_days"], verify)
        if not verify and (p["keep_previous"] is not None or p["keep_previous_days"] is not None):
            self.module.warn(
                "no earlier %s_pre_restore_* database is dropped: copies are pruned only after the restore was "
                "verified against the manifest's row counts, and %s"
                % (db, "this backup has no manifest" if manifest is None else "verify_row_counts is false")
            )
        result = dict(
            changed=True,
            database=db,
            backup_path=path,
            manifest_path=manifest_path if manifest is not None else None,
            sha256=sha,
            previous_database=steps["previous_database"],
            restore_database=steps["restore_database"],
            dropped_previous=steps["drop_previous"],
            verified_row_counts=None,
            plan=steps,
        )
        if self.module.check_mode:
            result["msg"] = "would restore %s over %s; the previous data would be kept as %s" % (
                path,
                db,
                steps["previous_database"],
            )
            return result
        new, prev = steps["restore_database"], steps["previous_database"]
        t0 = time.monotonic()
        self.q(create_like_sql(new, info), what)
        swapped = False
        try:
            self._pg_restore(path, new, what)
            stmts = copy_properties_sql(new, info)
            if stmts:
                self.q(";\n".join(stmts) + ";\n", "copying settings and privileges of %s to %s" % (db, new))
            if verify:
                result["verified_row_counts"] = self._verify(path, new, manifest)
            result["restore_seconds"] = round(time.monotonic() - t0, 3)
            result.update(self._cut_over(db, new, prev))
            swapped = True
        finally:
            if not swapped:
                self._drop_quietly(new)
        marker = "%s data of %s before restoring %s (sha256 %s) at %s" % (MARKER, db, path, sha, stamp)
        self.q(
            "%s;\nCOMMENT ON DATABASE %s IS %s;\n"
            % (allow_connections_sql(prev, True), quote_ident(prev), quote_literal(marker)),
            "marking the previous database %s (the restore itself is complete)" % prev,
        )
        dropped = []
        for name in steps["drop_previous"]:
            self.q("DROP DATABASE IF EXISTS %s" % quote_ident(name), "dropping old previous database %s" % name)
            dropped.append(name)
        result["dropped_previous"] = dropped
        result["msg"] = "restored %s over %s; the previous data is in database %s" % (path, db, prev)
        return result

    def _verify(self, path, new, manifest):
        """Compare the exact row counts of the restored copy ``new`` with the manifest's; the number
        of tables compared. A difference fails the restore before the cut-over."""
        what = "counting the rows restored into %s" % new
        counts = _pg.row_counts(lambda sql: self.conn.psql_json(new, sql, what))
        diffs = _pg.compare_counts(manifest["row_counts"], counts)
        if diffs:
            shown = "; ".join("%s: expected %s, got %s" % (d["table"], d["expected"], d["got"]) for d in diffs[:10])
            raise GoliveError(
                "restore of database %s: the data restored from %s holds other row counts than its manifest (%d "
                "tables differ: %s); %s was not touched and the restored copy %s is dropped; the backup does not "
                "hold the data it claims, do not restore from it" % (self.db, path, len(diffs), shown, self.db, new),
                row_count_differences=diffs,
            )
        return len(counts)

    def _pg_restore(self, path, new, what):
        argv = [self.conn.tool("pg_restore"), "--exit-on-error", "--no-password"]
        if self.p["no_owner"]:
            argv += ["--no-owner"]
        argv.append("--dbname=%s" % self.conn.conninfo(new))
        try:
            _pg_archive.restore(
                self.conn, argv, path, self.zstd, self.p["jobs"], "pg_restore of %s into %s" % (path, new)
            )
        except GoliveError as err:
            hint = ""
            if "must be owner" in (err.result.get("stderr") or "") or "permission denied" in str(err):
                hint = " (objects owned by other roles need a superuser, or set no_owner: true)"
            raise GoliveError(
                "%s: pg_restore into the new database %s failed, %s was not touched%s: %s"
                % (what, new, self.db, hint, _run.said(err)),
                **err.result,
            )

    def _cut_over(self, db, new, prev):
        """Disallow connections, terminate sessions, swap names; on failure allow connections again."""
        timeout = self.p["cutover_timeout"]
        what = "cut-over of database %s" % db
        t0 = time.monotonic()
        terminated = []
        self.q(allow_connections_sql(db, False), what)
        try:
            while True:
                sessions = self.conn.psql_json(self.maint, terminate_sql(db), what) or []
                terminated.extend(s for s in sessions if s not in terminated)
                if not sessions:
                    try:
                        self.q(swap_sql(db, new, prev), what)
                        break
                    except GoliveError as err:
                        if "being accessed by other users" not in str(err):
                            raise
                if time.monotonic() - t0 > timeout:
                    left = ", ".join("pid %s (%s)" % (s[0], s[1]) for s in sessions) or "sessions"
                    raise GoliveError(
                        "%s: %s still connected after %ss and could not be terminated; %s was left as it "
                        "was and the restored copy %s is dropped. Stop those clients, or connect as a role allowed "
                        "to terminate them (superuser or pg_signal_backend), and retry" % (what, left, timeout, db, new)
                    )
                time.sleep(0.1)
        except BaseException:
            with contextlib.suppress(GoliveError):
                self.q(allow_connections_sql(db, True), what)
            raise
        return dict(cutover_seconds=round(time.monotonic() - t0, 3), terminated_sessions=len(terminated))

    def _drop_quietly(self, name):
        with contextlib.suppress(GoliveError):
            self.q("DROP DATABASE IF EXISTS %s" % quote_ident(name), "dropping %s" % name)


def check_params(p):
    if p["maintenance_db"] == p["database"]:
        raise GoliveError(
            "maintenance_db must differ from database (%s): a database cannot be renamed while connected to it"
            % p["database"]
        )
    if p["jobs"] < 1:
        raise GoliveError("jobs must be at least 1, got %d" % p["jobs"])
    if p["keep_previous"] is not None and p["keep_previous"] < 1:
        raise GoliveError("keep_previous must be at least 1 (the previous data just kept), got %d" % p["keep_previous"])
    if p["keep_previous_days"] is not None and p["keep_previous_days"] < 0:
        raise GoliveError(
            "keep_previous_days must not be negative, got %s (0 drops every earlier copy, never the one this "
            "restore makes)" % p["keep_previous_days"]
        )
    if p["cutover_timeout"] <= 0:
        raise GoliveError("cutover_timeout must be greater than 0, got %s" % p["cutover_timeout"])
