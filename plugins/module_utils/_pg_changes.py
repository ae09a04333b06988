# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: the rows a restore of a backup would discard. Not a public API.

A pg_backup manifest holds the exact row count of every table and the
transaction ids of the dump's snapshot (``xid_snapshot``,
``xmin:xmax:in-progress``). A row version is in the backup if the transaction
that wrote it (its ``xmin``) had committed when the snapshot was taken: older
than the snapshot's ``xmax`` and not in its list of transactions then in
progress. Every live row version that is not is new: inserted, or updated,
since the backup. The live rows that are not new were in the backup; those of
the backup that are not live any more were deleted or updated since.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.runbook.golive.plugins.module_utils import _pg, _pg_backup
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

XID_MODULUS = 1 << 32  # a row's xmin holds the low 32 bits of a transaction id
FIRST_NORMAL_XID = 3  # 0, 1 and 2 are the invalid, bootstrap and frozen ids

_SNAPSHOT = re.compile(r"^(\d+):(\d+):(\d+(?:,\d+)*)?\Z")

# The partitioned tables: they hold no rows of their own, their partitions do.
PARTITIONED_SQL = (
    "SELECT coalesce(json_agg(format('%I.%I', n.nspname, c.relname)), '[]') "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'p'"
)


def parse_snapshot(text, where):
    """``"745:749:746,747"`` -> ``(745, 749, [746, 747])``; a GoliveError naming ``where`` if it is not one."""
    m = _SNAPSHOT.match(("%s" % text).strip())
    if m:
        xmin, xmax = int(m.group(1)), int(m.group(2))
        xip = [int(x) for x in m.group(3).split(",")] if m.group(3) else []
        if xmin <= xmax and all(xmin <= x < xmax for x in xip) and xid32(xmax) >= FIRST_NORMAL_XID:
            return xmin, xmax, xip
    raise GoliveError(
        "%s: xid_snapshot %r is not a snapshot (xmin:xmax:xip,...); the manifest is damaged" % (where, text)
    )


def xid32(xid):
    """The 32-bit transaction id a row's ``xmin`` holds, of a 64-bit one."""
    return xid % XID_MODULUS


def new_versions_condition(snapshot):
    """SQL true for a row version the snapshot does not see: inserted or updated since.

    ``age()`` is the distance back from the next transaction id, in 32-bit
    arithmetic: a row written at or after the snapshot's ``xmax`` is no older
    than ``xmax`` itself. A frozen row counts as old: ``age()`` of the frozen
    id is 2^31 - 1, and a row frozen with its original ``xmin`` more than 2^31
    transactions back has a negative age.
    """
    _xmin, xmax, xip = snapshot
    condition = "age(xmin) BETWEEN 0 AND age('%d'::xid)" % xid32(xmax)
    if xip:
        ids = ", ".join("'%d'" % x for x in sorted(set(xid32(x) for x in xip)))
        condition = "(%s OR xmin::text IN (%s))" % (condition, ids)
    return condition


def count_sql(tables, snapshot):
    """One query (one snapshot) giving ``{"xmax_age": n, "tables": {key: [live rows, new versions]}}``.

    ``tables`` are ``[schema, table, key]`` rows as ``_pg.TABLES_SQL`` gives
    them; names are quoted here, in Python. ``xmax_age`` is negative when the
    snapshot is not in this server's past.
    """
    condition = new_versions_condition(snapshot)
    counts = "\n  UNION ALL\n  ".join(
        "SELECT %s AS k, count(*) AS live, count(*) FILTER (WHERE %s) AS new FROM %s.%s"  # noqa: S608 - quoted here
        % (_pg.quote_literal(key), condition, _pg.quote_ident(schema), _pg.quote_ident(table))
        for schema, table, key in tables
    )
    by_table = (
        "(SELECT json_object_agg(k, json_build_array(live, new)) FROM (\n  %s\n) AS c)" % counts  # noqa: S608 - quoted above
        if tables
        else "'{}'::json"
    )
    return "SELECT json_build_object('xmax_age', age('%d'::xid), 'tables', %s)" % (xid32(snapshot[1]), by_table)


def table_parts(name):
    """``schema.table`` (or ``table``: in ``public``) -> ``(schema, table)`` without quotes, for comparing."""
    parts = [_pg.unquote_ident(p) for p in _pg.split_name(name)]
    if len(parts) == 1:
        parts.insert(0, "public")
    if len(parts) != 2 or not all(parts):
        raise GoliveError("exclude_tables: %r is not a table name (schema.table, or table for public.table)" % name)
    return tuple(parts)


def gone_versions(in_backup, live, new):
    """Rows of the backup deleted or updated since: those not among the live rows it already held."""
    return max(0, in_backup - (live - new))


def sentence(table, new, gone):
    """``public.items: 120 rows new or changed since the backup, 3 gone``."""
    return "%s: %d row%s new or changed since the backup, %d gone" % (table, new, "" if new == 1 else "s", gone)


def compare(in_backup, live_tables, partitioned, exclude):
    """``(compared, new_tables, dropped_tables)``: sorted table keys.

    ``in_backup`` maps the manifest's tables to their rows, ``live_tables``
    are the keys of the live database; partitioned tables are compared
    through their partitions, and tables named in ``exclude`` not at all.
    """
    left_out = set(table_parts(e) for e in exclude)

    def kept(key):
        return table_parts(key) not in left_out

    backup = set(k for k in in_backup if kept(k))
    live = set(k for k in live_tables if kept(k))
    compared = sorted((backup & live) - set(partitioned))
    return compared, sorted(live - backup), sorted(backup - live)


def summarize(in_backup, counts, compared):
    """The module's result from the manifest's counts and the live ``{key: [live, new]}`` of ``compared``."""
    tables, differing, total = {}, [], 0
    for key in compared:
        live, new = (int(x) for x in counts[key])
        gone = gone_versions(int(in_backup[key]), live, new)
        tables[key] = dict(live=live, in_backup=int(in_backup[key]), new_versions=new, gone_versions=gone)
        total += new + gone
        if new or gone:
            differing.append(sentence(key, new, gone))
    return dict(tables=tables, rows_differing=total, tables_differing=differing)


def backup_manifest(path, database):
    """The manifest of backup ``path``, checked to be usable for counting changes in ``database``."""
    manifest, manifest_path = _pg_backup.load(path, required=False)
    if manifest is None:
        raise GoliveError(
            "backup %s has no manifest (looked for %s); its row counts and snapshot are needed to count the rows "
            "written since; give a backup taken by runbook.golive.pg_backup" % (path, manifest_path)
        )
    if manifest["database"] != database:
        raise GoliveError(
            "backup %s is of database %s, not %s; a restore of it would not replace %s"
            % (path, manifest["database"], database, database)
        )
    if not manifest.get("xid_snapshot"):
        raise GoliveError(
            "backup %s was taken by an older pg_backup that did not record its snapshot (xid_snapshot in %s); "
            "the rows written since cannot be told from those in it; take a new backup" % (path, manifest_path)
        )
    return manifest


def changes(conn, params):
    """What a restore of ``params["backup"]`` into ``params["database"]`` would discard."""
    path, database = params["backup"], params["database"]
    manifest = backup_manifest(path, database)
    snapshot = parse_snapshot(manifest["xid_snapshot"], "backup %s" % path)
    in_backup = manifest["row_counts"]
    what = "count of the rows written to database %s since backup %s" % (database, path)
    live_tables, partitioned = conn.psql_json(
        database, "SELECT json_build_array((%s), (%s))" % (_pg.TABLES_SQL, PARTITIONED_SQL), what
    )
    compared, new_tables, dropped_tables = compare(
        in_backup, [key for _s, _t, key in live_tables], partitioned, params["exclude_tables"]
    )
    wanted = set(compared)
    found = conn.psql_json(database, count_sql([t for t in live_tables if t[2] in wanted], snapshot), what)
    if int(found["xmax_age"]) < 0:
        raise GoliveError(
            "backup %s: its snapshot (%s) is not in the past of the server at %s: the backup was taken on another "
            "server, or more than 2^31 transactions ago; the rows written since cannot be counted"
            % (path, manifest["xid_snapshot"], conn.where)
        )
    result = summarize(in_backup, found["tables"] or {}, compared)
    result.update(new_tables=new_tables, dropped_tables=dropped_tables, xid_snapshot=manifest["xid_snapshot"])
    return result
