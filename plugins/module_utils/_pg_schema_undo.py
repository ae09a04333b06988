# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: dropping the schema objects a release added. Not a public API.

The database is fingerprinted (``_pg_fingerprint``) and compared with a
fingerprint taken before the release. When every difference is an object
that is new, those objects are dropped in one transaction, without CASCADE
(which could take objects that existed before with them): dependents first,
and the parts of a new table (its columns, indexes, constraints, triggers)
with the table. Objects of one kind that may depend on each other (tables
with foreign keys between them) are dropped by one statement.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.runbook.golive.plugins.module_utils import _pg, _pg_fingerprint
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

# The kinds of _pg_fingerprint.OBJECTS_SQL, longest first (a key is "<kind> <name>").
KINDS = (
    "materialized view",
    "foreign table",
    "constraint",
    "function",
    "sequence",
    "trigger",
    "schema",
    "column",
    "index",
    "table",
    "view",
)
# Relations that own columns, constraints, triggers and indexes: these go with them.
RELATIONS = ("table", "view", "materialized view", "foreign table")
# One statement drops every object of these kinds (they may depend on each other), in this order,
# after the triggers, views, constraints, indexes and columns.
DROP_MANY = (
    ("table", "DROP TABLE IF EXISTS"),
    ("foreign table", "DROP FOREIGN TABLE IF EXISTS"),
    ("sequence", "DROP SEQUENCE IF EXISTS"),
    ("function", "DROP ROUTINE IF EXISTS"),  # functions and procedures alike
    ("schema", "DROP SCHEMA IF EXISTS"),
)
VIEW_DROP = {"view": "DROP VIEW IF EXISTS", "materialized view": "DROP MATERIALIZED VIEW IF EXISTS"}
_LOCK_TIMEOUT = re.compile(r"^\d+(\.\d+)?\s*(us|ms|s|min|h|d)?\Z")

# What the keys do not say: the table of each index, the foreign keys, and which views and
# materialized views read which others (names as OBJECTS_SQL writes them).
DETAILS_SQL = r"""
SELECT json_build_object(
  'index_tables', (SELECT coalesce(json_object_agg(format('%I.%I', schemaname, indexname),
                                                   format('%I.%I', schemaname, tablename)), '{}')
                     FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')),
  'foreign_keys', (SELECT coalesce(json_agg(format('%I.%I.%I', n.nspname, c.relname, con.conname)), '[]')
                     FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
                     JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE con.contype = 'f'),
  'view_reads', (SELECT coalesce(json_agg(DISTINCT jsonb_build_array(format('%I.%I', vn.nspname, v.relname),
                                                                     format('%I.%I', un.nspname, u.relname))), '[]')
                   FROM pg_rewrite r JOIN pg_class v ON v.oid = r.ev_class
                   JOIN pg_namespace vn ON vn.oid = v.relnamespace
                   JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                                   AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class
                   JOIN pg_class u ON u.oid = d.refobjid AND u.relkind IN ('v', 'm')
                   JOIN pg_namespace un ON un.oid = u.relnamespace
                  WHERE v.relkind IN ('v', 'm'))
)
"""


def kind_of(key):
    """The kind ``key`` begins with (``materialized view`` of ``materialized view public.mv``), or None."""
    return next((kind for kind in KINDS if key.startswith(kind + " ")), None)


def split_key(key):
    """``"materialized view public.mv"`` -> ``("materialized view", "public.mv")``."""
    kind = kind_of(key)
    if kind is None:
        raise GoliveError("%r is not an object of a fingerprint (kind name, e.g. 'table public.items')" % key)
    return kind, key[len(kind) + 1 :]


def objects_of(before):
    """The ``objects`` map of a pg_fingerprint result, or the map itself; refuses anything else."""
    if not isinstance(before, dict):
        raise GoliveError("before must be a pg_fingerprint result (a dict), got %s" % type(before).__name__)
    objects = before["objects"] if isinstance(before.get("objects"), dict) else before
    for key, value in objects.items():
        if not isinstance(value, str) or kind_of(key) is None:
            raise GoliveError(
                "before must be a pg_fingerprint result or its objects ('kind name': md5); %r is neither" % key
            )
    if not objects:
        raise GoliveError(
            "before holds no objects; give the pg_fingerprint result taken before the release "
            "(an empty one would make every object look new)"
        )
    return objects


def _unquoted(name):
    return [_pg.unquote_ident(p) for p in _pg.split_name(name)]


def excluded(key, exclude):
    """Is the object ``key`` left out by one of the names in ``exclude``?

    An entry names an object as the fingerprint does, with or without its kind
    (``table public.golive_releases`` or ``public.golive_releases``). It leaves
    out the object of that name, every object inside it (names that go on after
    a ``.``: a table's columns, constraints and triggers, a schema's objects)
    and, for a relation in a schema, the objects in that schema whose name goes
    on after a ``_`` (the indexes and sequences PostgreSQL names after a table:
    ``public.golive_releases_pkey``, ``public.golive_releases_id_seq``).
    Names are compared without their quotes.
    """
    name = _unquoted(split_key(key)[1])
    for entry in exclude:
        want = _unquoted(split_key(entry)[1] if kind_of(entry) else entry)
        if name[: len(want)] == want:
            return True
        head, last = want[:-1], want[-1]
        if head and name[: len(head)] == head and len(name) > len(head) and name[len(head)].startswith(last + "_"):
            return True
    return False


def kept(objects, exclude):
    """``objects`` without those ``exclude`` leaves out."""
    return dict((k, v) for k, v in objects.items() if not excluded(k, exclude))


def relation_and_part(name):
    """``public."a.b".col`` -> ``('public."a.b"', 'col')``: the relation of a column, constraint or
    trigger and its own name, quoted as in the key (so usable in SQL as they are)."""
    parts = _pg.split_name(name)
    if len(parts) != 3:
        raise GoliveError("%r is not schema.relation.name" % name)
    return "%s.%s" % (parts[0], parts[1]), parts[2]


def _views_in_order(views, reads):
    """``views`` (names) ordered so that a view comes before every view it reads."""
    pending = set(views)
    reads = [(a, b) for a, b in reads if a in pending and b in pending and a != b]
    ordered = []
    while pending:
        ready = sorted(v for v in pending if not any(b == v and a in pending for a, b in reads))
        if not ready:  # a cycle cannot be among views; drop the rest in name order, one statement may still fail
            ready = sorted(pending)
        ordered.extend(ready)
        pending.difference_update(ready)
    return ordered


def drop_statements(new, index_tables=None, foreign_keys=(), view_reads=()):
    """The statements that drop the objects ``new`` (keys), without CASCADE, in an order that works.

    Triggers, views and materialized views (a view before those it reads),
    constraints (foreign keys first), indexes, columns, then one statement each
    for the tables, foreign tables, sequences, functions and schemas. Columns,
    constraints, triggers and indexes of a relation that is itself dropped go
    with it. IF EXISTS everywhere: an index of a dropped constraint, a sequence
    owned by a dropped column are gone already. ``index_tables`` maps an index
    to its table, ``foreign_keys`` are the foreign-key constraints and
    ``view_reads`` the ``[view, view or materialized view it reads]`` pairs.
    """
    index_tables = index_tables or {}
    by_kind = {}
    for key in new:
        kind, name = split_key(key)
        by_kind.setdefault(kind, []).append(name)
    for names in by_kind.values():
        names.sort()
    dropped = set(name for kind in RELATIONS for name in by_kind.get(kind, []))

    statements = []
    for name in by_kind.get("trigger", []):
        table, trigger = relation_and_part(name)
        if table not in dropped:
            statements.append("DROP TRIGGER IF EXISTS %s ON %s" % (trigger, table))
    kind_of = dict((name, kind) for kind in VIEW_DROP for name in by_kind.get(kind, []))
    for name in _views_in_order(list(kind_of), view_reads):
        statements.append("%s %s" % (VIEW_DROP[kind_of[name]], name))
    fks = set(foreign_keys)
    for name in sorted(by_kind.get("constraint", []), key=lambda n: (n not in fks, n)):
        table, constraint = relation_and_part(name)
        if table not in dropped:
            statements.append("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s" % (table, constraint))
    indexes = [n for n in by_kind.get("index", []) if index_tables.get(n) not in dropped]
    if indexes:
        statements.append("DROP INDEX IF EXISTS %s" % ", ".join(indexes))
    for name in by_kind.get("column", []):
        table, column = relation_and_part(name)
        if table not in dropped:
            statements.append("ALTER TABLE %s DROP COLUMN IF EXISTS %s" % (table, column))
    for kind, drop in DROP_MANY:
        if by_kind.get(kind):
            statements.append("%s %s" % (drop, ", ".join(by_kind[kind])))
    return statements


def script(statements, lock_timeout):
    """The one-transaction script (psql --single-transaction) running ``statements``."""
    head = [
        "SET LOCAL lock_timeout = %s" % _pg.quote_literal(lock_timeout),
        "SET LOCAL client_min_messages = warning",
    ]
    return "".join("%s;\n" % s for s in head + statements)


def check_params(p):
    if not _LOCK_TIMEOUT.match(p["lock_timeout"].strip()):
        raise GoliveError(
            "lock_timeout %r is not a PostgreSQL duration (for example 10s, 500ms, 2min)" % p["lock_timeout"]
        )


def failure(err, database):
    """The message of a failed undo transaction: nothing was dropped, the server's error, what to do."""
    stderr = err.result.get("stderr") or ""
    said = [line.split("ERROR:", 1)[1].strip() for line in stderr.splitlines() if "ERROR:" in line]
    said += [line.strip() for line in stderr.splitlines() if line.startswith("DETAIL:")]
    cause = " ".join(said) or str(err)
    if "lock timeout" in stderr:
        hint = "a session holds a lock on a table it had to change: run again when it is gone, or raise lock_timeout"
    elif "depend" in stderr:
        hint = (
            "an object depends on one it had to drop (a type or another object the fingerprint does not hold, "
            "or an order it could not know): drop that by hand first, or restore the backup"
        )
    else:
        hint = "fix the cause and run again, or restore the backup"
    return "undo of the release's schema objects in database %s was rolled back, nothing was dropped: %s; %s" % (
        database,
        cause,
        hint,
    )


def undo(module, conn, p):
    """Decide, then drop unless in check mode; the module's result."""
    database, exclude = p["database"], p["exclude"]
    before = kept(objects_of(p["before"]), exclude)
    what = "schema undo in database %s" % database

    def now():
        return kept(_pg_fingerprint.fingerprint(conn, database, rows=False)["objects"], exclude)

    objects = now()
    new = _pg_fingerprint.compare_objects(before, objects)[0]
    differences = _pg_fingerprint.object_differences(before, objects)
    # Only a new object can be undone by dropping it; a changed or missing one stops the undo.
    blocking = [d for d in differences if not d.endswith(" is new")]
    result = dict(
        changed=False,
        differences=differences,
        additive=new,
        blocking=blocking,
        undoable=not blocking,
        statements=[],
        remaining=differences,
    )
    if blocking or not new:
        return result
    details = conn.psql_json(database, DETAILS_SQL, what)
    statements = drop_statements(new, details["index_tables"], details["foreign_keys"], details["view_reads"])
    result.update(changed=True, statements=statements)
    if module.check_mode:
        return result
    try:
        conn.psql(database, script(statements, p["lock_timeout"]), what, single_transaction=True)
    except GoliveError as err:
        raise GoliveError(failure(err, database), **dict(err.result, statements=statements, differences=differences))
    result["remaining"] = _pg_fingerprint.object_differences(before, now())
    return result
