# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import socket
import subprocess

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _pg_backup
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def manifest(**kw):
    fields = dict(
        database="app",
        file="app-20261122T020000Z.dump",
        format="custom",
        sha256="ab" * 32,
        size=10,
        started_at="2026-11-22T02:00:00.000000Z",
        row_counts={"public.t": 3},
    )
    fields.update(kw)
    return _pg_backup.build_manifest(**fields)


def test_manifest_round_trip():
    m = manifest()
    assert m["tool"] == "runbook.golive.pg_backup" and m["format_version"] == 1
    assert m["sha256_method"] == "sha256 of the file"
    assert _pg_backup.parse_manifest(json.dumps(m), "/b/m.json") == m


def test_directory_manifest_says_how_its_checksum_is_made():
    assert "sha256sum" in manifest(format="directory")["sha256_method"]


@pytest.mark.parametrize(
    "text, match",
    [
        ("{not json", "is not valid JSON"),
        (json.dumps({"tool": "other"}), "is not a manifest written by runbook.golive.pg_backup"),
        (json.dumps(dict(manifest(), format_version=7)), "has format_version 7"),
        (json.dumps(dict((k, v) for k, v in manifest().items() if k != "sha256")), "lacks sha256"),
        (json.dumps(dict(manifest(), file="../etc/passwd")), "not a plain file name"),
        (json.dumps(dict(manifest(), format="tar")), "unknown format 'tar'"),
    ],
)
def test_parse_manifest_refuses(text, match):
    with pytest.raises(GoliveError, match=match):
        _pg_backup.parse_manifest(text, "/b/m.json")


@pytest.mark.parametrize(
    "db, out",
    [("app", "app"), ("my db/../x", "my_db_.._x"), (".hidden", "hidden"), ("Ünï", "_n_"), ("...", "db")],
)
def test_safe_name(db, out):
    assert _pg_backup.safe_name(db) == out


def test_base_name_avoids_taken_names():
    taken = _pg_backup.taken_names(["app-S.dump", "app-S.manifest.json", "app-S-2.dir", "app-S-3.dump.zst", "x.txt"])
    assert taken == {"app-S", "app-S-2", "app-S-3"}
    assert _pg_backup.base_name("app", "S", taken) == "app-S-4"
    assert _pg_backup.base_name("app", "T", taken) == "app-T"


@pytest.mark.parametrize(
    "path, out",
    [
        ("/b/a-S.dump", "/b/a-S.manifest.json"),
        ("/b/a-S.dump.zst", "/b/a-S.manifest.json"),
        ("/b/a-S.dir/", "/b/a-S.manifest.json"),
        ("/b/x.bin", "/b/x.bin.manifest.json"),
    ],
)
def test_manifest_path_for(path, out):
    assert _pg_backup.manifest_path_for(path) == out


def b(started, name):
    return dict(started_at=started, file=name, path="/b/" + name, manifest="/b/%s.m" % name)


@pytest.mark.parametrize(
    "keep, current, expected",
    [
        (None, "n", []),
        (3, "n", ["c"]),
        (1, "n", ["a", "b", "c"]),
        (2, "n", ["b", "c"]),
        (5, "n", []),
        (2, None, ["b", "c"]),
    ],
)
def test_choose_deletions(keep, current, expected):
    backups = [b("2026-01-03", "a"), b("2026-01-01", "c"), b("2026-01-02", "b"), b("2026-01-04", "n")]
    assert [x["file"] for x in _pg_backup.choose_deletions(backups, keep, current)] == expected


def test_choose_deletions_never_deletes_current_even_if_oldest():
    backups = [b("2026-01-01", "n"), b("2026-01-03", "a"), b("2026-01-02", "b")]
    assert [x["file"] for x in _pg_backup.choose_deletions(backups, 1, "n")] == ["a", "b"]


def write_backup(tmp_path, db, stamp, fmt="custom"):
    name = "%s-%s%s" % (db, stamp, _pg_backup.SUFFIX[fmt])
    if fmt == "custom":
        (tmp_path / name).write_bytes(b"PGDMP...")
    else:
        (tmp_path / name).mkdir()
        (tmp_path / name / "toc.dat").write_bytes(b"x")
    m = manifest(database=db, file=name, format=fmt, started_at=stamp)
    (tmp_path / ("%s-%s.manifest.json" % (db, stamp))).write_text(json.dumps(m))
    return name


def test_backups_of_and_remove(tmp_path):
    a = write_backup(tmp_path, "app", "20260101T000000Z")
    d = write_backup(tmp_path, "app", "20260102T000000Z", fmt="directory")
    write_backup(tmp_path, "other", "20260101T000000Z")
    (tmp_path / "junk.manifest.json").write_text("{broken")
    (tmp_path / "app-foreign.dump").write_bytes(b"not ours")
    found = _pg_backup.backups_of(str(tmp_path), "app")
    assert sorted(x["file"] for x in found) == [a, d]
    for x in found:
        _pg_backup.remove_backup(x)
    assert sorted(os.listdir(tmp_path)) == [
        "app-foreign.dump",
        "junk.manifest.json",
        "other-20260101T000000Z.dump",
        "other-20260101T000000Z.manifest.json",
    ]


def test_dir_checksum_matches_sha256sum(tmp_path):
    files = {"toc.dat": b"toc", "3001.dat.gz": b"one", "3002.dat.gz": b"two" * 1000, "B.dat": b"upper"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    sha, per_file, size = _pg_backup.hash_directory(str(tmp_path))
    assert per_file == dict((n, hashlib.sha256(d).hexdigest()) for n, d in files.items())
    assert size == sum(len(d) for d in files.values())
    names = sorted(files)
    out = subprocess.run(
        ["sha256sum", "--"] + names, cwd=str(tmp_path), capture_output=True, check=True, env={"LC_ALL": "C"}
    ).stdout
    assert sha == hashlib.sha256(out).hexdigest()


def test_dir_checksum_is_order_independent():
    assert _pg_backup.dir_checksum({"a": "1", "b": "2"}) == _pg_backup.dir_checksum({"b": "2", "a": "1"})
    assert _pg_backup.dir_checksum({"a": "1", "b": "2"}) != _pg_backup.dir_checksum({"a": "2", "b": "1"})


def test_hash_directory_refuses_subdirectories(tmp_path):
    (tmp_path / "sub").mkdir()
    with pytest.raises(GoliveError, match="sub is not a regular file"):
        _pg_backup.hash_directory(str(tmp_path))


def test_checksum_problem():
    m = manifest()
    assert _pg_backup.checksum_problem("/b/x.dump", m, m["sha256"], None) is None
    msg = _pg_backup.checksum_problem("/b/x.dump", m, "cd" * 32, None)
    assert msg == (
        "backup /b/x.dump: sha256 mismatch (expected %s, got %s); the backup is corrupt or incomplete, "
        "do not restore from it" % ("ab" * 32, "cd" * 32)
    )


def test_checksum_problem_names_the_files():
    m = manifest(format="directory", files={"toc.dat": "1", "3001.dat.gz": "2", "3002.dat.gz": "3"})
    msg = _pg_backup.checksum_problem("/b/x.dir", m, "ff", {"toc.dat": "1", "3001.dat.gz": "9", "9.dat": "4"})
    assert "(3001.dat.gz differs, 3002.dat.gz missing, 9.dat not in the manifest)" in msg


def test_check_directory(tmp_path):
    _pg_backup.check_directory(str(tmp_path))
    with pytest.raises(GoliveError, match="backup directory .*/nope does not exist; create it first"):
        _pg_backup.check_directory(str(tmp_path / "nope"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_check_directory_not_writable(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    with pytest.raises(GoliveError, match="is not writable by the user the module runs as"):
        _pg_backup.check_directory(str(ro))


def test_check_space():
    assert _pg_backup.check_space("/b", "app", 1000, 0.5, 501) == 500
    assert _pg_backup.check_space("/b", "app", 1000, 0, 0) == 0
    with pytest.raises(GoliveError) as info:
        _pg_backup.check_space("/b", "app", 1000, 0.5, 499)
    assert str(info.value).startswith(
        "not enough free space in /b for a backup of database app: estimated 500 bytes "
        "(database size 1000 x size_estimate_ratio 0.5), 499 bytes free; free some space"
    )


def test_load(tmp_path):
    name = write_backup(tmp_path, "app", "20260101T000000Z")
    m, mp = _pg_backup.load(str(tmp_path / name))
    assert m["file"] == name and mp.endswith("app-20260101T000000Z.manifest.json")
    with pytest.raises(GoliveError, match="does not exist; check the path"):
        _pg_backup.load(str(tmp_path / "gone.dump"))
    (tmp_path / "lone.dump").write_bytes(b"x")
    with pytest.raises(GoliveError, match="has no manifest .* force: true"):
        _pg_backup.load(str(tmp_path / "lone.dump"))
    assert _pg_backup.load(str(tmp_path / "lone.dump"), required=False)[0] is None
    (tmp_path / "d.dir").mkdir()
    with pytest.raises(GoliveError, match="is a directory but manifest .* describes a custom-format backup"):
        _pg_backup.load(str(tmp_path / "d.dir"), str(tmp_path / "app-20260101T000000Z.manifest.json"))


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(format="custom", jobs=4), "jobs=4 needs format=directory"),
        (dict(jobs=0), "jobs must be at least 1"),
        (dict(keep=0), "keep must be at least 1"),
        (dict(size_estimate_ratio=-1.0), "size_estimate_ratio must not be negative"),
        (dict(compression="1; rm -rf /"), "compression '1; rm -rf /' is not one of zstd:N"),
        (dict(format="directory", compression="zstd:3"), "compression zstd:3 needs format=custom"),
    ],
)
def test_check_params_refuses(params, match):
    p = dict(format="custom", jobs=None, keep=None, size_estimate_ratio=0.5, compression="1")
    p.update(params)
    with pytest.raises(GoliveError, match=match):
        _pg_backup.check_params(p)


@pytest.mark.parametrize("fmt, jobs, compression", [("custom", 1, "zstd:6"), ("directory", 2, "gzip:3")])
def test_check_params_defaults(fmt, jobs, compression):
    p = dict(format=fmt, jobs=None, keep=None, size_estimate_ratio=0.5, compression=None)
    _pg_backup.check_params(p)
    assert p["jobs"] == jobs and p["compression"] == compression


@pytest.mark.parametrize("given, label", [("3", "gzip:3"), ("gzip:1", "gzip:1"), ("ZSTD:3", "zstd:3"), ("0", "none")])
def test_check_params_records_the_compression_by_its_name(given, label):
    p = dict(format="custom", jobs=None, keep=None, size_estimate_ratio=0.5, compression=given)
    _pg_backup.check_params(p)
    assert p["compression"] == label


@pytest.mark.parametrize(
    "server_num, sql",
    [
        (150020, "SELECT pg_current_snapshot()::text"),
        ("130000", "SELECT pg_current_snapshot()::text"),
        (120022, "SELECT txid_current_snapshot()::text"),
    ],
)
def test_xid_snapshot_sql(server_num, sql):
    assert _pg_backup.xid_snapshot_sql(server_num) == sql


def test_manifest_keeps_the_xid_snapshot_and_reads_those_without():
    m = manifest(xid_snapshot="745:749:746,747")
    assert _pg_backup.parse_manifest(json.dumps(m), "/b/m.json")["xid_snapshot"] == "745:749:746,747"
    older = manifest()
    assert "xid_snapshot" not in _pg_backup.parse_manifest(json.dumps(older), "/b/m.json")


class FakeSession:
    """The dump's psql session: answers the facts, the xid snapshot and the counts, and records them."""

    sent = []

    def __init__(self, conn, dbname, what):
        self.answers = {"BEGIN": "", "SELECT json_build_array": [150020, 1000, "00000003-0000001B-1", "UTF8"]}
        self.answers["SELECT pg_current_snapshot()::text"] = "745:749:746,747\n"
        self.answers["\nSELECT coalesce"] = [["public", "t", "public.t"]]
        self.answers["SELECT json_object_agg"] = {"public.t": "3"}
        FakeSession.sent = []

    def _answer(self, sql):
        FakeSession.sent.append(sql)
        return next(v for k, v in self.answers.items() if sql.startswith(k))

    query = query_json = send = _answer

    def receive_json(self):
        return self._answer(FakeSession.sent[-1])

    def close(self, commit=True):
        FakeSession.sent.append("ROLLBACK")


class FakeBackupModule:
    def __init__(self, check_mode, zstd="/usr/bin/zstd"):
        self.check_mode = check_mode
        self.zstd = zstd

    def atomic_move(self, src, dst):
        os.rename(src, dst)

    def get_bin_path(self, name, required=False):
        assert name == "zstd" and not required
        return self.zstd


class FakeBackupConn:
    where = "the local socket (port 5432)"

    def tool_version(self, name):
        return (15, 20)


def fake_dump(self, snapshot, path, session, compression):
    """Backup._dump_custom without pg_dump: the archive's first bytes, named as the real one would be."""
    assert snapshot == "00000003-0000001B-1"
    self._counts = session.receive_json()
    with open(path, "wb") as f:
        f.write(b"PGDMP")
    return "ab" * 32, None, 5, []


TOC = ";\n;     dbname: app\n;\n215; 1259 16386 TABLE public t app\n3362; 0 16386 TABLE DATA public t app\n"


@pytest.fixture(autouse=True)
def fake_list_toc(monkeypatch):
    """pg_restore --list of the new archive, without pg_restore: the TOC of a database with one table."""
    listed = []

    def list_toc(conn, path, zstd, what):
        listed.append(path)
        return TOC

    monkeypatch.setattr(_pg_backup._pg_archive, "list_toc", list_toc)
    return listed


def backup_params(tmp_path, compression):
    return dict(
        database="app",
        backup_dir=str(tmp_path),
        format="custom",
        jobs=1,
        compression=compression,
        keep=None,
        size_estimate_ratio=0,
    )


@pytest.mark.parametrize("check_mode", [False, True])
def test_backup_records_the_xid_snapshot_in_the_dump_transaction(monkeypatch, tmp_path, check_mode):
    monkeypatch.setattr(_pg_backup._pg, "Session", FakeSession)
    monkeypatch.setattr(_pg_backup.Backup, "_dump_custom", fake_dump)
    result = _pg_backup.Backup(FakeBackupModule(check_mode), FakeBackupConn(), backup_params(tmp_path, "3")).run()
    begin = FakeSession.sent.index("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    if check_mode:
        assert "xid_snapshot" not in result
        assert "SELECT pg_current_snapshot()::text" not in FakeSession.sent
        return
    assert FakeSession.sent[begin + 2] == "SELECT pg_current_snapshot()::text"
    assert FakeSession.sent.index("ROLLBACK") > begin + 2  # read before the transaction ends
    assert result["xid_snapshot"] == "745:749:746,747" and result["row_counts"] == {"public.t": 3}
    saved = _pg_backup.read_manifest(result["manifest_path"])
    assert saved["xid_snapshot"] == "745:749:746,747" and saved["snapshot"] == "00000003-0000001B-1"


@pytest.mark.parametrize(
    "compression, suffix, label, compressor",
    [
        (None, ".dump.zst", "zstd:6", "zstd"),
        ("zstd:3", ".dump.zst", "zstd:3", "zstd"),
        ("3", ".dump", "gzip:3", "pg_dump"),
    ],
)
def test_backup_names_and_records_its_compression(monkeypatch, tmp_path, compression, suffix, label, compressor):
    monkeypatch.setattr(_pg_backup._pg, "Session", FakeSession)
    monkeypatch.setattr(_pg_backup.Backup, "_dump_custom", fake_dump)
    result = _pg_backup.Backup(FakeBackupModule(False), FakeBackupConn(), backup_params(tmp_path, compression)).run()
    assert result["backup_path"].endswith(suffix) and os.path.exists(result["backup_path"])
    assert result["compression"] == label
    saved = _pg_backup.read_manifest(result["manifest_path"])
    name = os.path.basename(result["backup_path"])
    assert (saved["compression"], saved["compressor"], saved["file"]) == (label, compressor, name)
    assert _pg_backup.manifest_path_for(result["backup_path"]) == result["manifest_path"]


@pytest.mark.parametrize("check_mode", [False, True])
def test_backup_without_zstd_fails_and_names_the_fix(monkeypatch, tmp_path, check_mode):
    monkeypatch.setattr(_pg_backup._pg, "Session", FakeSession)
    with pytest.raises(GoliveError) as info:
        _pg_backup.Backup(
            FakeBackupModule(check_mode, zstd=None), FakeBackupConn(), backup_params(tmp_path, None)
        ).run()
    assert str(info.value) == (
        "compression zstd:6 needs the zstd tool, which is not installed on %s (not on the PATH); install it "
        "(apt-get install zstd), or set compression: gzip:3 (pg_dump's own gzip: larger backups)" % socket.gethostname()
    )
    assert os.listdir(str(tmp_path)) == []


def test_backup_records_the_toc_digest_and_returns_the_manifests_sha256(monkeypatch, tmp_path, fake_list_toc):
    monkeypatch.setattr(_pg_backup._pg, "Session", FakeSession)
    monkeypatch.setattr(_pg_backup.Backup, "_dump_custom", fake_dump)
    result = _pg_backup.Backup(FakeBackupModule(False), FakeBackupConn(), backup_params(tmp_path, "3")).run()
    assert fake_list_toc == [result["backup_path"]]
    with open(result["manifest_path"], "rb") as f:
        assert result["manifest_sha256"] == hashlib.sha256(f.read()).hexdigest()
    saved = _pg_backup.read_manifest(result["manifest_path"])
    entries = "215; 1259 16386 TABLE public t app\n3362; 0 16386 TABLE DATA public t app\n"
    assert saved["toc_sha256"] == result["toc_sha256"] == hashlib.sha256(entries.encode()).hexdigest()
    assert saved["toc_entries"] == 2 and "pg_restore --list" in saved["toc_sha256_method"]
    assert saved["database"] == "app" and saved["row_counts"] == {"public.t": 3}


def test_an_archive_pg_restore_cannot_list_is_deleted_and_fails(monkeypatch, tmp_path):
    def unreadable(conn, path, zstd, what):
        raise GoliveError("%s failed" % what, stderr="pg_restore: error: input file is too short", cmd=["pg_restore"])

    monkeypatch.setattr(_pg_backup._pg, "Session", FakeSession)
    monkeypatch.setattr(_pg_backup.Backup, "_dump_custom", fake_dump)
    monkeypatch.setattr(_pg_backup._pg_archive, "list_toc", unreadable)
    with pytest.raises(GoliveError) as info:
        _pg_backup.Backup(FakeBackupModule(False), FakeBackupConn(), backup_params(tmp_path, "3")).run()
    assert "pg_restore cannot read the archive it wrote (pg_restore: error: input file is too short)" in str(info.value)
    assert "no backup was made" in str(info.value)
    assert os.listdir(str(tmp_path)) == []


def v(started, name, verified):
    return dict(b(started, name), verified=verified)


def test_retention_never_deletes_a_verified_backup_for_new_unverified_ones():
    # keep 2: two good (verified) backups, then new backups that all fail their verification.
    backups = [v("2026-01-01", "good1", True), v("2026-01-02", "good2", True)]
    for day, name in [("2026-01-03", "bad3"), ("2026-01-04", "bad4"), ("2026-01-05", "bad5")]:
        doomed = _pg_backup.choose_deletions(backups + [v(day, name, False)], 2, current=name)
        assert not [x for x in doomed if x["verified"]]
        backups = [x for x in backups if x not in doomed] + [v(day, name, False)]
    assert sorted(x["file"] for x in backups) == ["bad4", "bad5", "good1", "good2"]


@pytest.mark.parametrize(
    "verified, keep, expected",
    [
        # newest first: n (current), d, c, b, a
        ({"a": True, "b": True, "c": True}, 2, ["a"]),
        ({"a": True, "b": True, "c": True, "d": True}, 1, ["c", "b", "a"]),
        ({"a": True}, 1, ["d", "c", "b"]),  # a, the only verified one, stays even though it is the oldest
        ({}, 2, ["c", "b", "a"]),  # nothing verified: as before, the newest keep, the new one counted
        ({"d": True}, 3, ["a"]),
    ],
)
def test_choose_deletions_counts_verified_backups_apart(verified, keep, expected):
    days = dict(a="2026-01-01", b="2026-01-02", c="2026-01-03", d="2026-01-04", n="2026-01-05")
    backups = [v(day, name, verified.get(name, False)) for name, day in days.items()]
    assert [x["file"] for x in _pg_backup.choose_deletions(backups, keep, current="n")] == expected


def mark(tmp_path, stamp, **changes):
    manifest_path = str(tmp_path / ("app-%s.manifest.json" % stamp))
    m = _pg_backup.read_manifest(manifest_path)
    fields = dict(_pg_backup.build_mark(m, _pg_backup.sha256_file(manifest_path), ["sha256"], "T"), **changes)
    (tmp_path / ("app-%s.verified.json" % stamp)).write_text(json.dumps(fields))


def test_backups_of_knows_which_are_verified_and_removes_marks_with_them(tmp_path):
    for stamp in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z", "20260104T000000Z"):
        write_backup(tmp_path, "app", stamp)
    mark(tmp_path, "20260101T000000Z")
    mark(tmp_path, "20260102T000000Z", manifest_sha256="0" * 64)  # the manifest was edited after verification
    mark(tmp_path, "20260103T000000Z", sha256="1" * 64)  # a mark of another backup
    (tmp_path / "app-20260104T000000Z.verified.json").write_text("{broken")
    found = dict((x["file"], x) for x in _pg_backup.backups_of(str(tmp_path), "app"))
    assert [f for f in sorted(found) if found[f]["verified"]] == ["app-20260101T000000Z.dump"]
    _pg_backup.remove_backup(found["app-20260101T000000Z.dump"])
    assert not [n for n in os.listdir(str(tmp_path)) if n.startswith("app-20260101T000000Z")]
    assert _pg_backup.base_name(
        "app", "20260101T000000Z", _pg_backup.taken_names(["app-20260101T000000Z.verified.json"])
    ) == ("app-20260101T000000Z-2")


def test_pg_dump_waits_for_its_table_locks_at_most_lock_timeout(tmp_path):
    class Module:
        def get_bin_path(self, name, required=False):
            return "/usr/bin/" + name

    conn = _pg_backup._pg.Connection(Module(), dict(lock_timeout="45s"))
    backup = _pg_backup.Backup(Module(), conn, backup_params(tmp_path, "3"))
    argv = backup._dump_argv("00000003-0000001B-1", "custom", str(tmp_path / "app.dump"), dict(pg_dump="3"))
    assert "--lock-wait-timeout=45s" in argv and "lock_timeout=45s" in argv[-1]
