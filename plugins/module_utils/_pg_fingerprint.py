# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: a database's schema fingerprint and row counts. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

from ansible_collections.runbook.golive.plugins.module_utils import _pg

# Every schema object a migration can add, drop or change, as "kind name" -> md5
# of its definition. Sequence values and statistics are deliberately left out.
OBJECTS_SQL = r"""
WITH ns AS (
  SELECT oid, nspname, nspowner FROM pg_namespace
   WHERE nspname NOT IN ('pg_catalog', 'information_schema')
     AND nspname NOT LIKE 'pg\_toast%' AND nspname NOT LIKE 'pg\_temp%'
)
SELECT coalesce(json_object_agg(k, md5(v) ORDER BY k), '{}') FROM (
  SELECT 'schema ' || quote_ident(n.nspname) AS k, pg_get_userbyid(n.nspowner) AS v
    FROM ns n
  UNION ALL
  SELECT CASE c.relkind WHEN 'r' THEN 'table ' WHEN 'p' THEN 'table ' WHEN 'v' THEN 'view '
                        WHEN 'm' THEN 'materialized view ' WHEN 'S' THEN 'sequence '
                        WHEN 'f' THEN 'foreign table ' END || format('%I.%I', n.nspname, c.relname),
         c.relkind::text || coalesce(' ' || pg_get_viewdef(c.oid), '')
    FROM pg_class c JOIN ns n ON n.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  UNION ALL
  SELECT 'column ' || format('%I.%I.%I', n.nspname, c.relname, a.attname),
         format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
         || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN ns n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  UNION ALL
  SELECT 'index ' || format('%I.%I', schemaname, indexname), indexdef
    FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT 'constraint ' || format('%I.%I.%I', n.nspname, c.relname, con.conname), pg_get_constraintdef(con.oid)
    FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN ns n ON n.oid = c.relnamespace
  UNION ALL
  SELECT 'trigger ' || format('%I.%I.%I', n.nspname, c.relname, t.tgname), pg_get_triggerdef(t.oid)
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN ns n ON n.oid = c.relnamespace
   WHERE NOT t.tgisinternal
  UNION ALL
  SELECT 'function ' || p.oid::regprocedure::text, pg_get_functiondef(p.oid)
    FROM pg_proc p JOIN ns n ON n.oid = p.pronamespace
   WHERE p.prokind IN ('f', 'p')
     AND NOT EXISTS (SELECT 1 FROM pg_depend d
                     WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
) o
"""


def schema_sha256(objects):
    """One checksum over every object's name and definition checksum."""
    return hashlib.sha256(json.dumps(objects, sort_keys=True).encode("utf-8")).hexdigest()


def compare_objects(before, after):
    """``(new, changed, missing)``: sorted names of the objects only in ``after``, in both with
    another checksum, and only in ``before`` (two ``objects`` maps of fingerprints)."""
    new = sorted(k for k in after if k not in before)
    changed = sorted(k for k in after if k in before and before[k] != after[k])
    missing = sorted(k for k in before if k not in after)
    return new, changed, missing


def object_differences(before, after):
    """One sentence per object that differs, in name order: ``X is new``, ``X is missing``, ``X has changed``."""
    new, changed, missing = compare_objects(before, after)
    said = dict((k, "is new") for k in new)
    said.update((k, "has changed") for k in changed)
    said.update((k, "is missing") for k in missing)
    return ["%s %s" % (k, said[k]) for k in sorted(said)]


def fingerprint(conn, database, rows=True):
    """``{objects, schema_sha256, row_counts}`` of ``database``."""
    what = "fingerprint of database %s" % database

    def query_json(sql):
        return conn.psql_json(database, sql, what)

    objects = query_json(OBJECTS_SQL) or {}
    result = dict(objects=objects, schema_sha256=schema_sha256(objects), object_count=len(objects))
    result["row_counts"] = _pg.row_counts(query_json) if rows else {}
    return result
