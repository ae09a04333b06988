# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _migrate
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

HISTORY = """\
c3d4e5f6a7b8 -> d4e5f6a7b8c9 (head), add orders.note
b2c3d4e5f6a7 -> c3d4e5f6a7b8, add items.sku
a1b2c3d4e5f6 -> b2c3d4e5f6a7, add orders
<base> -> a1b2c3d4e5f6, create items
"""

BRANCHED = """\
(b2, c2) -> m3 (head) (mergepoint), merge
b1 -> b2, branch b
a1 -> c2, branch c
a1 -> b1 (branchpoint), nothing
<base> -> a1 (branchpoint), first
"""

TWO_HEADS = """\
a1 -> c2 (head), branch c
a1 -> b2 (head), branch b
<base> -> a1 (branchpoint), first
"""


@pytest.mark.parametrize(
    "text, revs",
    [
        ("", []),
        ("INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\n", []),
        ("INFO  [alembic.runtime.migration] Will assume transactional DDL.\nb2c3d4e5f6a7\n", ["b2c3d4e5f6a7"]),
        ("d4e5f6a7b8c9 (head)\n", ["d4e5f6a7b8c9"]),
        ("m3 (effective head) (mergepoint)\n", ["m3"]),
        ("b2 (head)\nc2 (head)\n", ["b2", "c2"]),
        ("0001_initial (head)\n", ["0001_initial"]),
    ],
)
def test_alembic_current(text, revs):
    assert _migrate.parse_alembic_current(text) == revs


def test_history_parses_parents_flags_and_docs():
    revs = _migrate.parse_alembic_history(BRANCHED)
    assert [r.rev for r in revs] == ["m3", "b2", "c2", "b1", "a1"]
    assert revs[0].parents == ["b2", "c2"] and revs[0].is_head and revs[0].doc == "merge"
    assert revs[-1].parents == [] and revs[-1].flags == ["branchpoint"]


@pytest.mark.parametrize(
    "history, heads",
    [(HISTORY, ["d4e5f6a7b8c9"]), (BRANCHED, ["m3"]), (TWO_HEADS, ["c2", "b2"])],
)
def test_heads(history, heads):
    assert _migrate.Graph(_migrate.parse_alembic_history(history)).heads() == heads


def graph(text=HISTORY):
    return _migrate.Graph(_migrate.parse_alembic_history(text))


@pytest.mark.parametrize(
    "state, revision, current, direction, pending, target",
    [
        ("upgraded", None, [], "upgrade", ["a1b2c3d4e5f6", "b2c3d4e5f6a7", "c3d4e5f6a7b8", "d4e5f6a7b8c9"], "head"),
        ("upgraded", "head", ["b2c3d4e5f6a7"], "upgrade", ["c3d4e5f6a7b8", "d4e5f6a7b8c9"], "head"),
        ("upgraded", "head", ["d4e5f6a7b8c9"], None, [], "head"),
        ("upgraded", "c3d4", ["a1b2c3d4e5f6"], "upgrade", ["b2c3d4e5f6a7", "c3d4e5f6a7b8"], "c3d4e5f6a7b8"),
        # Already past the target: nothing to do, never a silent downgrade.
        ("upgraded", "b2c3d4e5f6a7", ["d4e5f6a7b8c9"], None, [], "b2c3d4e5f6a7"),
        ("downgraded", "b2c3d4e5f6a7", ["d4e5f6a7b8c9"], "downgrade", ["d4e5f6a7b8c9", "c3d4e5f6a7b8"], "b2c3d4e5f6a7"),
        ("downgraded", "b2c3d4e5f6a7", ["b2c3d4e5f6a7"], None, [], "b2c3d4e5f6a7"),
        ("downgraded", "base", ["b2c3d4e5f6a7"], "downgrade", ["b2c3d4e5f6a7", "a1b2c3d4e5f6"], "base"),
        ("downgraded", "base", [], None, [], "base"),
    ],
)
def test_alembic_decisions(state, revision, current, direction, pending, target):
    decision = _migrate.alembic_decide(state, revision, current, graph())
    assert (decision.direction, decision.pending, decision.target) == (direction, pending, target)
    assert decision.changed is bool(pending)


def test_merge_graph_upgrade_from_one_branch():
    decision = _migrate.alembic_decide("upgraded", "head", ["b2"], graph(BRANCHED))
    assert decision.pending == ["c2", "m3"]


def test_two_heads_need_merge_or_heads():
    with pytest.raises(GoliveError, match=r"several heads \(c2, b2\).*revision: heads"):
        _migrate.alembic_decide("upgraded", "head", ["a1"], graph(TWO_HEADS))
    decision = _migrate.alembic_decide("upgraded", "heads", ["a1"], graph(TWO_HEADS))
    assert sorted(decision.pending) == ["b2", "c2"] and decision.target == "heads"


@pytest.mark.parametrize(
    "state, revision, current, message",
    [
        ("downgraded", "d4e5f6a7b8c9", ["b2c3d4e5f6a7"], "cannot downgrade to d4e5f6a7b8c9: it is not applied"),
        ("upgraded", "ffff", [], "revision ffff is not in this release's migration history"),
    ],
)
def test_alembic_refusals(state, revision, current, message):
    with pytest.raises(GoliveError, match=message):
        _migrate.alembic_decide(state, revision, current, graph())


def test_ambiguous_prefix():
    with pytest.raises(GoliveError, match="ambiguous"):
        graph(TWO_HEADS).resolve("")


SHOWMIGRATIONS = """\
admin
 [X] 0001_initial
 [ ] 0002_logentry_remove_auto_add
notes
 [X] 0001_initial
 [X] 0002_note_done
 [ ] 0003_note_tags
sessions
 (no migrations)
shop
 [-] 0001_squashed_0004 (4 squashed migrations) Run 'manage.py migrate' to finish recording.
fresh
 [ ] 0001_initial
"""


def test_showmigrations_list_and_state():
    apps = _migrate.parse_showmigrations_list(SHOWMIGRATIONS)
    assert list(apps) == ["admin", "notes", "sessions", "shop", "fresh"]
    assert apps["notes"] == [("0001_initial", True), ("0002_note_done", True), ("0003_note_tags", False)]
    assert apps["shop"] == [("0001_squashed_0004", False)]
    assert dict(_migrate.django_state(apps)) == {
        "admin": "0001_initial",
        "notes": "0002_note_done",
        "shop": "zero",
        "fresh": "zero",
    }
    assert _migrate.django_heads(apps)["notes"] == "0003_note_tags"


NOTES = _migrate.parse_showmigrations_list(
    "notes\n [X] 0001_initial\n [X] 0002_note_done\n [ ] 0003_note_tags\nother\n [X] 0001_initial\n"
)


@pytest.mark.parametrize(
    "state, target, direction, pending",
    [
        ("upgraded", "head", "upgrade", ["notes.0003_note_tags"]),
        ("upgraded", {"notes": "0002_note_done"}, None, []),
        ("upgraded", {"notes": "0003"}, "upgrade", ["notes.0003_note_tags"]),
        ("downgraded", {"notes": "0001_initial"}, "downgrade", ["notes.0002_note_done"]),
        ("downgraded", {"notes": "zero", "other": "zero"}, "downgrade",
         ["notes.0002_note_done", "notes.0001_initial", "other.0001_initial"]),
        ("downgraded", {"notes": "0002_note_done"}, None, []),
    ],
)  # fmt: skip
def test_django_decisions(state, target, direction, pending):
    decision = _migrate.django_decide(state, target, NOTES)
    assert (decision.direction, decision.pending) == (direction, pending)


@pytest.mark.parametrize(
    "state, target, message",
    [
        ("upgraded", {"notes": "0001_initial"}, "applied beyond the target; use state: downgraded"),
        ("downgraded", {"notes": "0003_note_tags"}, "not applied yet; use state: upgraded"),
        ("downgraded", "head", "needs a revision"),
        ("upgraded", {"nope": "0001"}, "app nope has no migrations here"),
        ("upgraded", {"notes": "0009"}, r"notes.0009 does not exist \(known: 0001_initial"),
    ],
)
def test_django_refusals(state, target, message):
    with pytest.raises(GoliveError, match=message):
        _migrate.django_decide(state, target, NOTES)


@pytest.mark.parametrize(
    "revision, app_label, expected",
    [
        (None, None, "head"),
        ("head", None, "head"),
        ({"notes": "0001_initial", "other": None}, None, {"notes": "0001_initial", "other": "zero"}),
        ("0001_initial", "notes", {"notes": "0001_initial"}),
        ("notes.0001_initial", None, {"notes": "0001_initial"}),
    ],
)
def test_django_targets(revision, app_label, expected):
    assert _migrate.normalize_django_target(revision, app_label) == expected


def test_django_target_without_app_is_refused():
    with pytest.raises(GoliveError, match="give a dict app -> migration"):
        _migrate.normalize_django_target("0001_initial")


ENV_FILE = """\
# written by bootstrap
DATABASE_URL=postgresql://golive_app:s3cr%t@db1:5432/golive_app
export APP_ENV="production"
QUOTED='a b # c'
ESCAPED="say \\"hi\\""
EMPTY=
"""


def test_env_file_and_secrets():
    env = _migrate.parse_env_file(ENV_FILE)
    assert env == {
        "DATABASE_URL": "postgresql://golive_app:s3cr%t@db1:5432/golive_app",
        "APP_ENV": "production",
        "QUOTED": "a b # c",
        "ESCAPED": 'say "hi"',
        "EMPTY": "",
    }
    assert _migrate.secret_values(env) == {"postgresql://golive_app:s3cr%t@db1:5432/golive_app", "s3cr%t"}


def test_env_file_bad_line_names_the_line_not_the_content():
    with pytest.raises(GoliveError) as info:
        _migrate.parse_env_file("A=1\nhunter2 is the password\n", "/etc/app.env")
    assert "/etc/app.env line 2" in str(info.value) and "hunter2" not in str(info.value)


def test_load_env_masks_secrets(tmp_path):
    class Module:
        no_log_values = set()

    env_file = tmp_path / "app.env"
    env_file.write_text("DATABASE_URL=postgresql://app:pw-1234@db1/app\nAPP_ENV=prod\n")
    env = _migrate.load_env(Module, str(env_file), {"APP_ENV": "stage", "PORT": 8000})
    assert env == {"DATABASE_URL": "postgresql://app:pw-1234@db1/app", "APP_ENV": "stage", "PORT": "8000"}
    assert "pw-1234" in Module.no_log_values and "stage" not in Module.no_log_values


def test_load_env_unreadable(tmp_path):
    with pytest.raises(
        GoliveError,
        match=r"cannot read env_file .*run the task as root \(become: true without become_user\), with run_as",
    ):
        _migrate.load_env(None, str(tmp_path / "missing.env"), {})


ALEMBIC_FAILURE = """\
INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.
INFO  [alembic.runtime.migration] Running upgrade 0002 -> 0003, Index items.created_at and add items.score.
Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/sqlalchemy/engine/default.py", line 736, in do_execute
    cursor.execute(statement, parameters)
           ^^^^^^^^^^^^^^^^^^^^^^^^
sqlalchemy.exc.DataError: (psycopg2.errors.DivisionByZero) division by zero

[SQL: ALTER TABLE items ADD COLUMN score INTEGER DEFAULT 100 / 0 NOT NULL]
"""


def test_error_text_keeps_the_step_and_the_error():
    text = _migrate.error_text(ALEMBIC_FAILURE)
    assert text.splitlines() == [
        "INFO  [alembic.runtime.migration] Running upgrade 0002 -> 0003, Index items.created_at and add items.score.",
        "sqlalchemy.exc.DataError: (psycopg2.errors.DivisionByZero) division by zero",
        "[SQL: ALTER TABLE items ADD COLUMN score INTEGER DEFAULT 100 / 0 NOT NULL]",
    ]


def test_error_text_without_traceback():
    assert _migrate.error_text("CommandError: Cannot find a migration matching 'x'") == (
        "CommandError: Cannot find a migration matching 'x'"
    )
