# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pg_backup_verify's checks of a backup against its manifest and its archive's table of contents,
and the verified mark pg_backup's retention counts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _pg_backup, _pg_verify
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

ARCHIVE = b"PGDMP the archive"
TOC = """;
; Archive created at 2026-11-22 02:00:00 UTC
;     dbname: app
;
215; 1259 16386 TABLE public items app
216; 1259 16390 TABLE public events app
217; 1259 16394 TABLE public events_2026 app
3362; 0 16386 TABLE DATA public items app
3363; 0 16394 TABLE DATA public events_2026 app
"""
COUNTS = {"public.items": 5, "public.events": 2, "public.events_2026": 2}
# A dump of another database: other name, other tables.
OTHER_TOC = (
    ";\n;     dbname: shop\n;\n215; 1259 17000 TABLE public orders shop\n3362; 0 17000 TABLE DATA public orders shop\n"
)


def write_backup(tmp_path, **fields):
    (tmp_path / "app-S.dump").write_bytes(ARCHIVE)
    values = dict(database="app", file="app-S.dump", format="custom", sha256=hashlib.sha256(ARCHIVE).hexdigest())
    values.update(size=len(ARCHIVE), started_at="S", row_counts=COUNTS, compressor="pg_dump")
    values.update(toc_sha256=_pg_verify._pg_archive.toc_digest(TOC))
    values.update(fields)
    manifest = dict((k, v) for k, v in _pg_backup.build_manifest(**values).items() if v is not None)
    (tmp_path / "app-S.manifest.json").write_text(json.dumps(manifest))
    return str(tmp_path / "app-S.dump")


class Module:
    def __init__(self, check_mode=False):
        self.check_mode = check_mode

    def atomic_move(self, src, dst):
        os.rename(src, dst)


class Conn:
    def tool(self, name):
        return "/usr/bin/" + name


class Reading:
    """A full read that succeeds."""

    def wait(self):
        return None

    def kill(self):
        return None


@pytest.fixture
def archive(monkeypatch):
    """The archive's table of contents as pg_restore --list would print it; set ``listing`` to change it."""
    state = dict(listing=TOC)
    monkeypatch.setattr(_pg_verify._pg_archive, "spawn_restore", lambda *a: Reading())
    monkeypatch.setattr(_pg_verify._pg_archive, "list_toc", lambda conn, path, zstd, what: state["listing"])
    return state


def verify(path, check_mode=False, **params):
    p = dict(path=path, manifest=None, manifest_sha256=None, mark_verified=True, test_restore=False, jobs=1)
    p.update(params)
    return _pg_verify.Verify(Module(check_mode), Conn(), p).run()


def test_a_good_backup_passes_and_is_marked_verified_once(tmp_path, archive):
    path = write_backup(tmp_path)
    sha = _pg_backup.sha256_file(str(tmp_path / "app-S.manifest.json"))
    result = verify(path, manifest_sha256=sha.upper())
    assert result["checks"] == ["manifest", "sha256", "full_read", "toc"]
    assert result["changed"] and result["verified_mark"] == str(tmp_path / "app-S.verified.json")
    assert result["manifest_sha256"] == sha
    assert os.stat(result["verified_mark"]).st_mode & 0o777 == 0o600
    manifest = _pg_backup.read_manifest(str(tmp_path / "app-S.manifest.json"))
    assert _pg_backup.is_verified(manifest, sha, _pg_backup.read_mark(result["verified_mark"]))
    assert [b["verified"] for b in _pg_backup.backups_of(str(tmp_path), "app")] == [True]
    again = verify(path)
    assert not again["changed"] and again["checks"] == ["sha256", "full_read", "toc"]


def test_check_mode_checks_and_writes_no_mark(tmp_path, archive):
    result = verify(write_backup(tmp_path), check_mode=True)
    assert result["checks"] == ["sha256", "full_read", "toc"] and result["changed"]
    assert not os.path.exists(str(tmp_path / "app-S.verified.json"))


def test_no_mark_when_not_asked(tmp_path, archive):
    result = verify(write_backup(tmp_path), mark_verified=False)
    assert not result["changed"] and result["verified_mark"] is None
    assert sorted(os.listdir(str(tmp_path))) == ["app-S.dump", "app-S.manifest.json"]


def test_an_edited_manifest_fails_against_its_sha256_and_loses_its_mark(tmp_path, archive):
    path = write_backup(tmp_path)
    verify(path)
    sha = _pg_backup.sha256_file(str(tmp_path / "app-S.manifest.json"))
    write_backup(tmp_path, row_counts=dict(COUNTS, **{"public.items": 4}))
    with pytest.raises(GoliveError) as info:
        verify(path, manifest_sha256=sha)
    assert info.value.result["failed_check"] == "manifest"
    assert str(info.value).startswith(
        "manifest %s: sha256 mismatch (expected %s as given in manifest_sha256, got "
        % (tmp_path / "app-S.manifest.json", sha)
    )
    assert "the manifest was changed after pg_backup wrote it, do not restore from it" in str(info.value)
    assert str(info.value).endswith("; its verified mark %s was removed" % (tmp_path / "app-S.verified.json"))
    assert not os.path.exists(str(tmp_path / "app-S.verified.json"))


def test_a_swapped_dump_with_a_patched_checksum_fails_the_toc_check(tmp_path, archive):
    archive["listing"] = OTHER_TOC
    with pytest.raises(GoliveError) as info:
        verify(write_backup(tmp_path))
    err = info.value
    assert err.result["failed_check"] == "toc" and err.result["checks"] == ["sha256", "full_read"]
    msg = str(err)
    assert msg.startswith("backup %s does not hold what its manifest describes: " % (tmp_path / "app-S.dump"))
    assert "the archive is a dump of database shop, the manifest says app" in msg
    assert "table of contents sha256 %s, the manifest says" % _pg_verify._pg_archive.toc_digest(OTHER_TOC) in msg
    assert "the manifest counts rows of tables the archive does not hold: public.events, public.events_2026" in msg
    assert "the archive holds tables the manifest counts no rows of (schema, name, owner): public orders shop" in msg
    assert msg.endswith("it is another backup or was changed, do not restore from it")


@pytest.mark.parametrize(
    "counts, problem",
    [
        (
            dict(COUNTS, **{"public.ghost": 1}),
            "the manifest counts rows of tables the archive does not hold: public.ghost",
        ),
        (
            dict((k, v) for k, v in COUNTS.items() if k != "public.items"),
            "the archive holds tables the manifest counts no rows of (schema, name, owner): public items app",
        ),
    ],
)
def test_a_table_added_to_or_removed_from_the_row_counts_fails(tmp_path, archive, counts, problem):
    # A manifest of an earlier version (no toc_sha256): the database name and the tables are still checked.
    with pytest.raises(GoliveError) as info:
        verify(write_backup(tmp_path, row_counts=counts, toc_sha256=None))
    assert info.value.result["toc_problems"] == [problem]


def test_a_changed_row_count_passes_without_a_test_restore_unless_the_manifest_sha256_is_given(tmp_path, archive):
    path = write_backup(tmp_path)
    sha = _pg_backup.sha256_file(str(tmp_path / "app-S.manifest.json"))
    write_backup(tmp_path, row_counts=dict(COUNTS, **{"public.items": 4}))
    assert verify(path)["checks"] == ["sha256", "full_read", "toc"]
    with pytest.raises(GoliveError, match="sha256 mismatch"):
        verify(path, manifest_sha256=sha)


@pytest.mark.parametrize(
    "listing, problems",
    [
        (TOC, []),
        (TOC.replace("dbname: app", "dbname: app2"), ["the archive is a dump of database app2, the manifest says app"]),
        (
            TOC.replace(";     dbname: app\n", ""),
            ["the archive is a dump of database (none named), the manifest says app"],
        ),
    ],
)
def test_toc_problems_compare_the_database_name(listing, problems):
    manifest = dict(database="app", row_counts=COUNTS)
    assert _pg_verify.toc_problems("/b/x", manifest, listing) == problems


def test_manifest_problem():
    assert _pg_verify.manifest_problem("/b/m", "ab" * 32, None) is None
    assert _pg_verify.manifest_problem("/b/m", "ab" * 32, " " + "AB" * 32 + "\n") is None
    assert "sha256 mismatch" in _pg_verify.manifest_problem("/b/m", "ab" * 32, "cd" * 32)


def test_a_copy_checked_against_a_manifest_neither_earns_nor_removes_its_mark(tmp_path, archive):
    path = write_backup(tmp_path)
    verify(path)
    (tmp_path / "copy.dump").write_bytes(ARCHIVE + b"x")
    manifest = str(tmp_path / "app-S.manifest.json")
    with pytest.raises(GoliveError, match="sha256 mismatch") as info:
        verify(str(tmp_path / "copy.dump"), manifest=manifest)
    assert "verified mark" not in str(info.value)
    assert os.path.exists(str(tmp_path / "app-S.verified.json"))
    (tmp_path / "copy.dump").write_bytes(ARCHIVE)
    result = verify(str(tmp_path / "copy.dump"), manifest=manifest)
    assert result["verified_mark"] is None and not result["changed"]
