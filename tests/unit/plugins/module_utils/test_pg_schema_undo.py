# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _pg_schema_undo
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

BEFORE = {
    "schema public": "s",
    "table public.items": "t",
    "column public.items.id": "c1",
    "column public.items.name": "c2",
    "index public.items_pkey": "i",
    "constraint public.items.items_pkey": "k",
    "sequence public.items_id_seq": "q",
}


@pytest.mark.parametrize(
    "key, kind, name",
    [
        ("table public.items", "table", "public.items"),
        ("materialized view public.mv", "materialized view", "public.mv"),
        ("foreign table public.ft", "foreign table", "public.ft"),
        ('column public."a b"."c d"', "column", 'public."a b"."c d"'),
        ("function f(integer)", "function", "f(integer)"),
    ],
)
def test_split_key(key, kind, name):
    assert _pg_schema_undo.split_key(key) == (kind, name)


def test_split_key_refuses_unknown_kinds():
    with pytest.raises(GoliveError, match="'type public.mood' is not an object of a fingerprint"):
        _pg_schema_undo.split_key("type public.mood")


@pytest.mark.parametrize(
    "name, relation, part",
    [
        ("public.items.name", "public.items", "name"),
        ('public."a.b"."c.d"', 'public."a.b"', '"c.d"'),
        ('"s.x"."t ""y"".z".trg', '"s.x"."t ""y"".z"', "trg"),
    ],
)
def test_relation_and_part(name, relation, part):
    assert _pg_schema_undo.relation_and_part(name) == (relation, part)


def test_objects_of_takes_a_result_or_its_objects():
    assert _pg_schema_undo.objects_of(dict(objects=BEFORE, row_counts={"public.items": 3}, changed=False)) == BEFORE
    assert _pg_schema_undo.objects_of(BEFORE) == BEFORE


@pytest.mark.parametrize(
    "before, match",
    [
        ({}, "before holds no objects"),
        (dict(objects={}), "before holds no objects"),
        (dict(changed=False, failed=True, msg="x"), "is neither"),
        ({"table public.items": 3}, "is neither"),
        ("table public.items", "before must be a pg_fingerprint result"),
    ],
)
def test_objects_of_refuses(before, match):
    with pytest.raises(GoliveError, match=match):
        _pg_schema_undo.objects_of(before)


EXCLUDE = ["table public.golive_releases"]


@pytest.mark.parametrize(
    "key, exclude, out",
    [
        ("table public.golive_releases", EXCLUDE, True),
        ("column public.golive_releases.id", EXCLUDE, True),
        ("constraint public.golive_releases.golive_releases_pkey", EXCLUDE, True),
        ("trigger public.golive_releases.trg", EXCLUDE, True),
        ("index public.golive_releases_pkey", EXCLUDE, True),
        ("sequence public.golive_releases_id_seq", EXCLUDE, True),
        ("table public.golive_releases_old", EXCLUDE, True),
        ("table public.golive_releasesx", EXCLUDE, False),
        ("table public.golive", EXCLUDE, False),
        ("table app.golive_releases", EXCLUDE, False),
        ("function public.golive_releases(integer)", EXCLUDE, False),
        ("table public.golive_releases", ["public.golive_releases"], True),  # the kind may be left out
        ('column public."Log"."at"', ['table public."Log"'], True),
        ('index public."Log_pkey"', ['table public."Log"'], True),  # compared without quotes
        ("table app.t", ["schema app"], True),
        ("schema app", ["schema app"], True),
        ("schema app_audit", ["schema app"], False),  # no "_" rule for a schema
        ("table public.items", [], False),
    ],
)
def test_excluded(key, exclude, out):
    assert _pg_schema_undo.excluded(key, exclude) is out


def test_kept():
    objects = dict(BEFORE, **{"table public.golive_releases": "r", "index public.golive_releases_pkey": "p"})
    assert _pg_schema_undo.kept(objects, EXCLUDE) == BEFORE


def test_drop_statements_in_an_order_that_needs_no_cascade():
    new = [
        "schema app",
        "table app.invoices",
        "column app.invoices.id",
        "column app.invoices.item_id",
        "constraint app.invoices.invoices_pkey",
        "constraint app.invoices.invoices_item_id_fkey",
        "index app.invoices_pkey",
        "sequence app.invoices_id_seq",
        "trigger app.invoices.audit",
        "column public.items.note",
        "column public.items.num",
        "sequence public.items_num_seq",
        "index public.ix_items_note",
        "constraint public.items.items_note_key",
        "index public.items_note_key",
        "constraint public.items.items_invoice_fkey",
        "trigger public.items.touch",
        "function app.touch()",
        "function public.total(integer)",
        "view public.v_items",
        "materialized view public.mv_items",
        "view public.v_mv",
    ]
    statements = _pg_schema_undo.drop_statements(
        new,
        index_tables={
            "app.invoices_pkey": "app.invoices",
            "public.ix_items_note": "public.items",
            "public.items_note_key": "public.items",
        },
        foreign_keys=["app.invoices.invoices_item_id_fkey", "public.items.items_invoice_fkey"],
        view_reads=[["public.mv_items", "public.v_items"], ["public.v_mv", "public.mv_items"]],
    )
    assert statements == [
        "DROP TRIGGER IF EXISTS touch ON public.items",
        "DROP VIEW IF EXISTS public.v_mv",
        "DROP MATERIALIZED VIEW IF EXISTS public.mv_items",
        "DROP VIEW IF EXISTS public.v_items",
        "ALTER TABLE public.items DROP CONSTRAINT IF EXISTS items_invoice_fkey",
        "ALTER TABLE public.items DROP CONSTRAINT IF EXISTS items_note_key",
        "DROP INDEX IF EXISTS public.items_note_key, public.ix_items_note",
        "ALTER TABLE public.items DROP COLUMN IF EXISTS note",
        "ALTER TABLE public.items DROP COLUMN IF EXISTS num",
        "DROP TABLE IF EXISTS app.invoices",
        "DROP SEQUENCE IF EXISTS app.invoices_id_seq, public.items_num_seq",
        "DROP ROUTINE IF EXISTS app.touch(), public.total(integer)",
        "DROP SCHEMA IF EXISTS app",
    ]
    assert not any("CASCADE" in s for s in statements)


def test_drop_statements_reuse_quoted_names_verbatim():
    new = [
        'table public."a.b"',
        'column public."a.b"."x.y"',
        'column public."Items"."New col"',
        'trigger public."Items"."on.change"',
        'constraint public."Items"."fk.ab"',
        'function "my.schema"."f.g"(text)',
    ]
    assert _pg_schema_undo.drop_statements(new, foreign_keys=['public."Items"."fk.ab"']) == [
        'DROP TRIGGER IF EXISTS "on.change" ON public."Items"',
        'ALTER TABLE public."Items" DROP CONSTRAINT IF EXISTS "fk.ab"',
        'ALTER TABLE public."Items" DROP COLUMN IF EXISTS "New col"',
        'DROP TABLE IF EXISTS public."a.b"',
        'DROP ROUTINE IF EXISTS "my.schema"."f.g"(text)',
    ]


def test_drop_statements_of_nothing():
    assert _pg_schema_undo.drop_statements([]) == []


def test_script_is_one_transaction_with_a_lock_timeout():
    text = _pg_schema_undo.script(["DROP TABLE IF EXISTS public.t"], "5s")
    assert text == (
        "SET LOCAL lock_timeout = '5s';\nSET LOCAL client_min_messages = warning;\nDROP TABLE IF EXISTS public.t;\n"
    )


@pytest.mark.parametrize("value", ["10s", "500ms", "2 min", "0"])
def test_check_params_lock_timeout(value):
    _pg_schema_undo.check_params(dict(lock_timeout=value))


@pytest.mark.parametrize("value", ["10 seconds", "", "1s; DROP TABLE x", "-1s"])
def test_check_params_refuses_lock_timeout(value):
    with pytest.raises(GoliveError, match="is not a PostgreSQL duration"):
        _pg_schema_undo.check_params(dict(lock_timeout=value))


@pytest.mark.parametrize(
    "stderr, says",
    [
        (
            "psql:<stdin>:4: ERROR:  canceling statement due to lock timeout\n",
            "nothing was dropped: canceling statement due to lock timeout; a session holds a lock",
        ),
        (
            "psql:<stdin>:9: ERROR:  cannot drop schema app because other objects depend on it\n"
            "DETAIL:  type app.mood depends on schema app\nHINT:  Use DROP ... CASCADE\n",
            "depend on it DETAIL:  type app.mood depends on schema app; an object depends on one it had to drop",
        ),
        ("psql:<stdin>:3: ERROR:  must be owner of table items\n", "must be owner of table items; fix the cause"),
    ],
)
def test_failure_message(stderr, says):
    err = GoliveError("undo failed (psql exited 3): ...", rc=3, stderr=stderr)
    msg = _pg_schema_undo.failure(err, "app")
    assert msg.startswith("undo of the release's schema objects in database app was rolled back, nothing was dropped")
    assert says in msg


class FakeModule:
    def __init__(self, check_mode=False):
        self.check_mode = check_mode


class FakeConn:
    """Answers fingerprints and the details query from lists, records every script."""

    def __init__(self, fingerprints, details=None):
        self.fingerprints = list(fingerprints)
        self.details = details or dict(index_tables={}, foreign_keys=[], view_reads=[])
        self.scripts = []

    def psql_json(self, database, sql, what):
        if "index_tables" in sql:
            return self.details
        return self.fingerprints.pop(0)

    def psql(self, database, sql, what, single_transaction=False):
        assert single_transaction
        self.scripts.append(sql)
        return ""


def params(**kw):
    p = dict(database="app", before=dict(objects=BEFORE), exclude=EXCLUDE, lock_timeout="10s")
    p.update(kw)
    return p


ADDED = dict(BEFORE, **{"column public.items.note": "n", "index public.ix_items_note": "x"})
LOGGED = dict(ADDED, **{"table public.golive_releases": "r", "column public.golive_releases.id": "c"})


def test_undo_drops_what_was_added_and_checks_again():
    conn = FakeConn([LOGGED, dict(BEFORE, **{"table public.golive_releases": "r"})])
    result = _pg_schema_undo.undo(FakeModule(), conn, params())
    assert result == dict(
        changed=True,
        differences=["column public.items.note is new", "index public.ix_items_note is new"],
        additive=["column public.items.note", "index public.ix_items_note"],
        blocking=[],
        undoable=True,
        statements=[
            "DROP INDEX IF EXISTS public.ix_items_note",
            "ALTER TABLE public.items DROP COLUMN IF EXISTS note",
        ],
        remaining=[],
    )
    assert len(conn.scripts) == 1 and "DROP COLUMN IF EXISTS note;" in conn.scripts[0]


def test_undo_in_check_mode_runs_nothing():
    conn = FakeConn([ADDED])
    result = _pg_schema_undo.undo(FakeModule(check_mode=True), conn, params())
    assert result["changed"] and len(result["statements"]) == 2 and conn.scripts == []
    assert result["remaining"] == result["differences"]


def test_undo_refuses_when_anything_changed_or_is_missing():
    now = dict(ADDED, **{"column public.items.name": "other"})
    del now["sequence public.items_id_seq"]
    conn = FakeConn([now])
    result = _pg_schema_undo.undo(FakeModule(), conn, params())
    assert not result["changed"] and not result["undoable"] and result["statements"] == []
    assert result["blocking"] == [
        "column public.items.name has changed",
        "sequence public.items_id_seq is missing",
    ]
    assert result["additive"] == ["column public.items.note", "index public.ix_items_note"]
    assert conn.scripts == []


def test_undo_of_nothing():
    conn = FakeConn([dict(BEFORE)])
    result = _pg_schema_undo.undo(FakeModule(), conn, params())
    assert result == dict(
        changed=False, differences=[], additive=[], blocking=[], undoable=True, statements=[], remaining=[]
    )


def test_undo_failure_rolls_back_and_says_so():
    class Failing(FakeConn):
        def psql(self, database, sql, what, single_transaction=False):
            stderr = "psql:<stdin>:3: ERROR:  canceling statement due to lock timeout"
            raise GoliveError("psql failed", rc=3, stderr=stderr)

    with pytest.raises(GoliveError) as info:
        _pg_schema_undo.undo(FakeModule(), Failing([ADDED]), params())
    assert "was rolled back, nothing was dropped: canceling statement due to lock timeout" in str(info.value)
    assert len(info.value.result["statements"]) == 2
