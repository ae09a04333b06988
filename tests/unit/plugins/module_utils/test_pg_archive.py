# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compression choices, how a backup is read, and the zstd stream written and read with the real tools."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import shutil
import socket
import subprocess

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _pg_archive
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

ZSTD = shutil.which("zstd")
needs_zstd = pytest.mark.skipif(ZSTD is None, reason="the zstd tool is not installed")


class Module:
    """What the helpers need of an AnsibleModule: the tool lookup and run_command."""

    def __init__(self, zstd=ZSTD):
        self.zstd = zstd

    def get_bin_path(self, name, required=False):
        assert name == "zstd" and not required
        return self.zstd

    @staticmethod
    def run_command(argv, cwd=None, environ_update=None, data=None, binary_data=False, encoding="utf-8"):
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
        return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(
    "value, fmt, label, zstd, pg_dump",
    [
        (None, "custom", "zstd:6", 6, "0"),
        (None, "directory", "gzip:3", None, "3"),
        ("zstd:3", "custom", "zstd:3", 3, "0"),
        ("zstd", "custom", "zstd:6", 6, "0"),
        (" ZSTD:19 ", "custom", "zstd:19", 19, "0"),
        ("gzip:3", "custom", "gzip:3", None, "3"),
        ("3", "directory", "gzip:3", None, "3"),
        ("9", "custom", "gzip:9", None, "9"),
        ("0", "custom", "none", None, "0"),
        ("gzip:0", "custom", "none", None, "0"),
        ("none", "directory", "none", None, "0"),
        ("lz4", "custom", "lz4", None, "lz4"),
        ("lz4:5", "directory", "lz4:5", None, "lz4:5"),
    ],
)
def test_parse(value, fmt, label, zstd, pg_dump):
    assert _pg_archive.parse(value, fmt) == dict(label=label, zstd=zstd, pg_dump=pg_dump)
    # What the manifest records reads back as the same choice.
    assert _pg_archive.parse(label, fmt) == dict(label=label, zstd=zstd, pg_dump=pg_dump)


@pytest.mark.parametrize(
    "value, fmt, match",
    [
        ("zstd:0", "custom", "the zstd level must be 1 to 19, got 0"),
        ("zstd:22", "custom", "the zstd level must be 1 to 19, got 22"),
        ("zstd:3", "directory", "compression zstd:3 needs format=custom.*for format=directory use gzip:N"),
        ("gzip:10", "custom", "is not one of zstd:N"),
        ("brotli", "custom", "compression 'brotli' is not one of zstd:N .* lz4"),
        ("3; rm -rf /", "custom", "is not one of"),
        ("", "custom", "is not one of"),
    ],
)
def test_parse_refuses(value, fmt, match):
    with pytest.raises(GoliveError, match=match):
        _pg_archive.parse(value, fmt)


def test_compressor():
    assert _pg_archive.compressor(_pg_archive.parse("zstd:3", "custom")) == "zstd"
    assert _pg_archive.compressor(_pg_archive.parse("gzip:3", "custom")) == "pg_dump"


@pytest.mark.parametrize(
    "manifest, first_bytes, expected",
    [
        (dict(compression="zstd:6", compressor="zstd"), b"PGDMP", True),  # the manifest decides
        (dict(compression="gzip:3", compressor="pg_dump"), _pg_archive.ZSTD_MAGIC, False),
        (dict(compression="3"), b"PGDMP", False),  # a manifest of an earlier version
        (dict(compression="zstd:3"), b"PGDMP", False),  # pg_dump 16's own zstd, by an earlier version
        (None, _pg_archive.ZSTD_MAGIC + b"rest", True),  # no manifest (force): the first bytes
        (None, b"PGDMP", False),
        (None, b"", False),
    ],
)
def test_is_zstd(tmp_path, manifest, first_bytes, expected):
    (tmp_path / "b").write_bytes(first_bytes)
    assert _pg_archive.is_zstd(str(tmp_path / "b"), manifest) is expected


def test_a_directory_backup_is_never_a_zstd_stream(tmp_path):
    assert _pg_archive.is_zstd(str(tmp_path), None) is False


def test_reader_asks_for_zstd_only_when_needed(tmp_path):
    path = str(tmp_path / "b.dump.zst")
    (tmp_path / "b.dump.zst").write_bytes(_pg_archive.ZSTD_MAGIC)
    assert _pg_archive.reader(Module(zstd=None), path, dict(compression="3")) is None
    assert _pg_archive.reader(Module(zstd="/usr/bin/zstd"), path, dict(compressor="zstd")) == "/usr/bin/zstd"
    with pytest.raises(GoliveError) as info:
        _pg_archive.reader(Module(zstd=None), path, dict(compression="zstd:6", compressor="zstd"))
    assert str(info.value) == (
        "backup %s is compressed with zstd (compression zstd:6 in its manifest) and needs the zstd tool, which is "
        "not installed on %s (not on the PATH); install it (apt-get install zstd) to read it"
        % (path, socket.gethostname())
    )
    with pytest.raises(GoliveError, match=r"compressed with zstd \(its first bytes say so\)"):
        _pg_archive.reader(Module(zstd=None), path, None)


def test_how_read():
    assert _pg_archive.how_read(None, 4) == ""
    assert _pg_archive.how_read("/usr/bin/zstd", 1) == " (read through zstd -dc)"
    assert "temp file" in _pg_archive.how_read("/usr/bin/zstd", 2)


def test_stream_to_file_hashes_what_it_writes(tmp_path):
    target = tmp_path / "out"
    target.write_bytes(b"old content, longer than the new")
    commands = [["printf", "hello"], ["tr", "a-z", "A-Z"]]
    sha, size, done = _pg_archive.stream_to_file(Module(), commands, str(target), "test")
    assert target.read_bytes() == b"HELLO"
    assert (sha, size, done.rc) == (hashlib.sha256(b"HELLO").hexdigest(), 5, 0)


def test_stream_to_file_leaves_the_judgement_of_a_failure_to_the_caller(tmp_path):
    (tmp_path / "out").write_bytes(b"")
    commands = [["sh", "-c", "printf part; echo 'pg_dump: error: connection lost' >&2; exit 1"], ["cat"]]
    sha, size, done = _pg_archive.stream_to_file(Module(), commands, str(tmp_path / "out"), "test")
    assert (size, done.rc, done.err) == (4, 1, "pg_dump: error: connection lost\n")


@needs_zstd
def test_a_zstd_stream_round_trip(tmp_path):
    archive = b"PGDMP" + bytes(range(256)) * 4000
    (tmp_path / "plain").write_bytes(archive)
    path = str(tmp_path / "b.dump.zst")
    open(path, "wb").close()
    commands = [["cat", str(tmp_path / "plain")], _pg_archive.compress_argv(ZSTD, 3)]
    sha, size, done = _pg_archive.stream_to_file(Module(), commands, path, "test")
    assert done.rc == 0 and size == os.path.getsize(path) < len(archive)
    assert _pg_archive.is_zstd(path, None)
    assert _pg_archive.head(Module(), path, ZSTD) == b"PGDMP"
    with _pg_archive.decompressed(Module(), path, ZSTD, "restore of app") as plain:
        assert os.path.dirname(plain) == str(tmp_path) and os.stat(plain).st_mode & 0o777 == 0o600
        with open(plain, "rb") as f:
            assert f.read() == archive
    assert sorted(os.listdir(str(tmp_path))) == ["b.dump.zst", "plain"]


@needs_zstd
def test_a_damaged_zstd_stream_fails_to_decompress_and_leaves_nothing(tmp_path):
    path = tmp_path / "b.dump.zst"
    path.write_bytes(
        subprocess.run([ZSTD, "-q", "-c"], input=b"PGDMP" * 1000, capture_output=True, check=True).stdout[:-1]
    )
    with pytest.raises(GoliveError) as info, _pg_archive.decompressed(Module(), str(path), ZSTD, "restore of app"):
        pass
    assert str(info.value).startswith(
        "restore of app: decompressing backup %s into %s for pg_restore --jobs failed (zstd: " % (path, tmp_path)
    )
    assert str(info.value).endswith("or set jobs: 1, which reads the backup as a stream")
    assert os.listdir(str(tmp_path)) == ["b.dump.zst"]


# What pg_restore 15 --list printed for a scratch database "my db" (trimmed): a header, then the entries.
LISTING = """;
; Archive created at 2026-11-29 11:49:41 UTC
;     dbname: my db
;     TOC Entries: 19
;     Compression: 0
;     Dump Version: 1.14-0
;     Format: CUSTOM
;     Dumped from database version: 15.18 (Debian 15.18-0+deb12u1)
;
; Selected TOC Entries:
;
6; 2615 16385 SCHEMA - Odd "S" x postgres
215; 1259 16386 TABLE Odd "S" x T a b postgres
217; 1259 16392 TABLE public events postgres
218; 1259 16395 TABLE public events_2025 postgres
216; 1259 16389 TABLE public items postgres
220; 1259 16401 MATERIALIZED VIEW public mv postgres
221; 1259 16405 SEQUENCE public s postgres
3218; 0 0 TABLE ATTACH public events_2025 postgres
3362; 0 16386 TABLE DATA Odd "S" x T a b postgres
3364; 0 16395 TABLE DATA public events_2025 postgres
3363; 0 16389 TABLE DATA public items postgres
3370; 0 16500 TABLE DATA public spatial_ref_sys postgres
3374; 0 0 SEQUENCE SET public s postgres
3366; 0 16401 MATERIALIZED VIEW DATA public mv postgres
"""
COUNTS = {'"Odd ""S"" x"."T a b"': 1, "public.events": 0, "public.events_2025": 0, "public.items": 5}


def test_the_toc_digest_leaves_the_header_out():
    other_header = LISTING.replace("2026-11-29 11:49:41", "2027-01-01 00:00:00").replace("Compression: 0", "gzip")
    assert _pg_archive.toc_digest(other_header) == _pg_archive.toc_digest(LISTING)
    assert _pg_archive.toc_digest(LISTING.replace("\n", "  \r\n")) == _pg_archive.toc_digest(LISTING)
    entries = [line for line in LISTING.splitlines() if line and not line.startswith(";")]
    expected = hashlib.sha256("".join(e + "\n" for e in entries).encode("utf-8")).hexdigest()
    assert _pg_archive.toc_digest(LISTING) == expected
    assert _pg_archive.toc_digest(LISTING.replace("16389 TABLE public items", "16390 TABLE public items")) != expected
    assert _pg_archive.toc_digest(LISTING.replace("3363; 0 16389 TABLE DATA public items postgres\n", "")) != expected


@pytest.mark.parametrize(
    "listing, name",
    [(LISTING, "my db"), (";\n;     dbname: golive_app\n;\n1; 0 0 X\n", "golive_app"), ("1; 2 3 TABLE x\n", None)],
)
def test_toc_dbname(listing, name):
    assert _pg_archive.toc_dbname(listing) == name


def test_toc_tables_are_the_table_entries_with_or_without_data():
    # A partitioned table has no TABLE DATA, an extension's table (spatial_ref_sys) no TABLE, TABLE ATTACH is none.
    assert _pg_archive.toc_tables(LISTING) == [
        ('Odd "S" x T a b postgres', True),
        ("public events postgres", False),
        ("public events_2025 postgres", True),
        ("public items postgres", True),
    ]


@pytest.mark.parametrize(
    "counts, missing, extra",
    [
        (COUNTS, [], []),
        (dict(COUNTS, **{"public.fake": 1}), ["public.fake"], []),
        (dict((k, v) for k, v in COUNTS.items() if k != "public.items"), [], ["public items postgres"]),
        (dict((k, v) for k, v in COUNTS.items() if "Odd" not in k), [], ['Odd "S" x T a b postgres']),
        (
            {},
            [],
            sorted(
                [
                    'Odd "S" x T a b postgres',
                    "public events postgres",
                    "public events_2025 postgres",
                    "public items postgres",
                ]
            ),
        ),
    ],
)
def test_compare_tables(counts, missing, extra):
    assert _pg_archive.compare_tables(LISTING, counts) == (missing, extra)


def test_compare_tables_takes_the_longest_name_an_entry_starts_with():
    listing = "1; 1259 10 TABLE public events postgres\n2; 1259 11 TABLE public events 2025 postgres\n"
    assert _pg_archive.compare_tables(listing, {"public.events": 1, 'public."events 2025"': 1}) == ([], [])


class Conn:
    """What list_toc needs of a connection: the tool, the module, the environment and run."""

    def __init__(self, tool):
        self.module = Module()
        self._tool = tool

    def tool(self, name):
        assert name == "pg_restore"
        return self._tool

    def env(self):
        return {"LC_ALL": "C"}

    def run(self, argv, what):
        from ansible_collections.runbook.golive.plugins.module_utils import _run

        return _run.run(self.module, argv, what=what)


def fake_pg_restore(tmp_path, script):
    path = tmp_path / "pg_restore"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return str(path)


@needs_zstd
def test_list_toc_stops_zstd_once_pg_restore_has_read_the_toc(tmp_path):
    # A stream far larger than a pipe's buffer: zstd is still writing when "pg_restore" has read its part.
    data = os.urandom(1 << 20) * 8
    (tmp_path / "b.dump.zst").write_bytes(
        subprocess.run([ZSTD, "-q", "-1", "-c"], input=data, capture_output=True, check=True).stdout
    )
    tool = fake_pg_restore(tmp_path, 'test "$1" = --list || exit 9\nhead -c 10 >/dev/null; printf "1; 0 0 X\\n"\n')
    out = _pg_archive.list_toc(Conn(tool), str(tmp_path / "b.dump.zst"), ZSTD, "listing b")
    assert out == "1; 0 0 X\n"


@needs_zstd
def test_list_toc_failure_names_the_tool_that_failed(tmp_path):
    (tmp_path / "b.dump.zst").write_bytes(b"not zstd at all")
    tool = fake_pg_restore(tmp_path, 'cat >/dev/null; echo "pg_restore: error: input file is too short" >&2; exit 1\n')
    with pytest.raises(GoliveError) as info:
        _pg_archive.list_toc(Conn(tool), str(tmp_path / "b.dump.zst"), ZSTD, "listing b")
    assert str(info.value).startswith("listing b failed (%s exited 1): zstd: " % ZSTD)
    (tmp_path / "plain.dump").write_bytes(b"PGDMP")
    with pytest.raises(GoliveError, match="listing p failed .* input file is too short"):
        _pg_archive.list_toc(Conn(tool), str(tmp_path / "plain.dump"), None, "listing p")
