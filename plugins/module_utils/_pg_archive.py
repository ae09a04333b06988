# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: how a backup's pg_dump archive is compressed, written and read. Not a public API.

A custom-format archive is compressed one of two ways:

- ``zstd:N``: pg_dump writes the archive uncompressed (``--compress=0``)
  into a pipe through ``zstd -N -T0``, whose output the module hashes while
  it writes it to the file (``<db>-<stamp>.dump.zst``); the manifest says
  ``compressor: zstd``. pg_restore reads it from ``zstd -dc``. Written to a
  pipe, the archive holds no data offsets, and ``pg_restore --jobs`` reads
  only a seekable file: for it the archive is first decompressed into a temp
  file beside the backup.
- ``gzip:N`` (a bare ``N`` in manifests of older versions), ``none`` and,
  with pg_dump 16 or newer, ``lz4[:N]``: pg_dump's own ``--compress``
  (``compressor: pg_dump``); pg_restore reads the file as it is.

PostgreSQL 15's pg_dump knows only gzip. On the lab's 2 CPUs, a backup with
zstd level 6 took 0.67 times the time of a plain ``pg_dump -Fc`` for 1.09
times its size, one with pg_dump's gzip level 3 0.49 times for 1.26 times;
zstd spreads its work over the CPUs, pg_dump's gzip does not
(tests/bench/pg_backup.sh, docs/postgresql.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import hashlib
import os
import re
import signal
import socket
import tempfile

from ansible_collections.runbook.golive.plugins.module_utils import _io, _pg, _run
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

ZSTD_LEVEL = 6
DEFAULT = {"custom": "zstd:%d" % ZSTD_LEVEL, "directory": "gzip:3"}
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # the first bytes of a zstd frame
ARCHIVE_MAGIC = b"PGDMP"  # the first bytes of a custom-format archive
CHUNK = 1 << 20
CHOICES = "zstd:N (1 to 19, custom format), gzip:N (0 to 9), N, none, or with pg_dump 16 and newer lz4[:N]"


def parse(value, fmt):
    """The compression ``value`` (None: the default of ``fmt``) of a backup in format ``fmt``.

    A dict: ``label`` as the manifest records it, ``zstd`` the zstd level or
    None, ``pg_dump`` the value of pg_dump's ``--compress``.
    """
    text = (DEFAULT[fmt] if value is None else value).strip().lower()
    m = re.match(r"^zstd(?::(\d+))?\Z", text)
    if m:
        level = int(m.group(1) or ZSTD_LEVEL)
        if not 1 <= level <= 19:
            raise GoliveError("compression %s: the zstd level must be 1 to 19, got %d" % (value, level))
        if fmt != "custom":
            raise GoliveError(
                "compression %s needs format=custom: zstd compresses the whole archive as pg_dump streams it; "
                "for format=%s use gzip:N (the pg_dump of PostgreSQL 15 has no zstd of its own)" % (value, fmt)
            )
        return dict(label="zstd:%d" % level, zstd=level, pg_dump="0")
    m = re.match(r"^(?:gzip:)?(\d+)\Z", text)
    if m and int(m.group(1)) <= 9:
        level = int(m.group(1))
        return dict(label="gzip:%d" % level if level else "none", zstd=None, pg_dump="%d" % level)
    if text == "none":
        return dict(label="none", zstd=None, pg_dump="0")
    if re.match(r"^lz4(?::\d+)?\Z", text):
        return dict(label=text, zstd=None, pg_dump=text)
    raise GoliveError("compression %r is not one of %s" % (value, CHOICES))


def compressor(compression):
    """What the manifest records as the ``compressor`` of a backup with the parsed ``compression``."""
    return "zstd" if compression["zstd"] else "pg_dump"


def zstd_tool(module, why, fix):
    """The path of the zstd tool on the host, or the error naming ``why`` it is needed and ``fix``."""
    path = module.get_bin_path("zstd", required=False)
    if not path:
        raise GoliveError(
            "%s needs the zstd tool, which is not installed on %s (not on the PATH); install it "
            "(apt-get install zstd)%s" % (why, socket.gethostname(), fix)
        )
    return path


def is_zstd(path, manifest):
    """Whether the backup at ``path`` is a zstd stream: as its manifest says (manifests of older
    versions say nothing: pg_dump compressed those), or without a manifest by its first bytes."""
    if manifest is not None:
        return manifest.get("compressor") == "zstd"
    if os.path.isdir(path):
        return False
    with open(path, "rb") as f:
        return f.read(len(ZSTD_MAGIC)) == ZSTD_MAGIC


def reader(module, path, manifest):
    """The zstd tool to read the backup at ``path`` through, or None if pg_restore reads it as it is."""
    if not is_zstd(path, manifest):
        return None
    how = "compression %s in its manifest" % manifest.get("compression") if manifest else "its first bytes say so"
    return zstd_tool(module, "backup %s is compressed with zstd (%s) and" % (path, how), " to read it")


def compress_argv(zstd, level):
    """zstd compressing its input to its output with one thread per core."""
    return [zstd, "-q", "-T0", "-%d" % level, "-c", "-"]


def decompress_argv(zstd, path):
    return [zstd, "-q", "-d", "-c", "--", path]


def stream_to_file(module, commands, path, what, env=None):
    """Run ``commands`` as a pipeline into the file ``path``, hashing the bytes as they are written.

    ``(sha256, size, Completed)``: the file is complete and synced to disk;
    whether the commands succeeded is the caller's to judge from ``Completed``.
    """
    digest, size = hashlib.sha256(), 0
    pipe = _run.pipeline(module, commands, what=what, env=env)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        try:
            while True:
                chunk = pipe.stdout.read(CHUNK)
                if not chunk:
                    break
                digest.update(chunk)
                _io.write_all(fd, chunk, path)
                size += len(chunk)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as err:
        pipe.kill()
        raise GoliveError("%s: cannot write %s: %s" % (what, path, err.strerror or err))
    except BaseException:
        pipe.kill()
        raise
    return digest.hexdigest(), size, pipe.wait(check=False)


def head(module, path, zstd=None):
    """The first bytes of the archive at ``path`` (through ``zstd -dc`` for a zstd stream), to tell an archive."""
    if zstd is None:
        with open(path, "rb") as f:
            return f.read(len(ARCHIVE_MAGIC))
    proc = _run.spawn(module, decompress_argv(zstd, path), what="reading the start of %s" % path)
    try:
        return proc.stdout.read(len(ARCHIVE_MAGIC))
    finally:
        proc.kill()


def how_read(zstd, jobs):
    """How pg_restore reads a backup, as the plan of a restore says it (empty: the file as it is)."""
    if zstd is None:
        return ""
    if jobs > 1:
        return " (decompressed first into a temp file beside it: pg_restore --jobs reads only a file)"
    return " (read through zstd -dc)"


def spawn_restore(conn, argv, path, zstd, what):
    """Start pg_restore ``argv`` (without its input) on the backup at ``path``, through ``zstd -dc``
    when ``zstd`` (the tool) is given; a Process or Pipeline, which ``wait`` and ``kill`` end alike."""
    if zstd is None:
        return _run.spawn(conn.module, argv + [path], what=what, env=conn.env(), stdout=False)
    return _run.pipeline(conn.module, [decompress_argv(zstd, path), argv], what=what, env=conn.env(), stdout=False)


def restore(conn, argv, path, zstd, jobs, what):
    """Run pg_restore ``argv`` (without ``--jobs`` and its input) on the backup at ``path`` with
    ``jobs`` processes; a failure is raised with its cause as ``conn.run`` raises it."""
    if jobs > 1:
        argv = argv + ["--jobs=%d" % jobs]
    if zstd is None:
        return conn.run(argv + [path], what)
    if jobs > 1:
        with decompressed(conn.module, path, zstd, what) as plain:
            return conn.run(argv + [plain], what)
    proc = spawn_restore(conn, argv, path, zstd, what)
    try:
        return proc.wait()
    except GoliveError as err:
        conn.fail(err, what)


@contextlib.contextmanager
def decompressed(module, path, zstd, what):
    """The zstd stream at ``path`` decompressed into a 0600 temp file beside it, removed on leaving:
    ``pg_restore --jobs`` reads only a seekable file."""
    directory = os.path.dirname(os.path.abspath(path))
    fix = "; or set jobs: 1, which reads the backup as a stream"
    try:
        fd, tmp = tempfile.mkstemp(prefix=".golive-", suffix=".dump.part", dir=directory)
    except OSError as err:
        raise GoliveError(
            "%s: cannot create a file in %s to decompress backup %s for pg_restore --jobs (%s)%s"
            % (what, directory, path, err.strerror or err, fix)
        )
    try:
        try:
            # zstd writes into the 0600 file made here: with -o it would create one with the backup's mode.
            _run.spawn(module, decompress_argv(zstd, path), what="zstd -d", stdout=fd).wait()
        except GoliveError as err:
            raise GoliveError(
                "%s: decompressing backup %s into %s for pg_restore --jobs failed (%s); that needs room there for "
                "the whole uncompressed archive%s" % (what, path, directory, _run.said(err, 3), fix)
            )
        finally:
            os.close(fd)
        yield tmp
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# The table of contents of an archive, as ``pg_restore --list`` prints it: a header of comment
# lines (``;``) with the archive's time, database, versions and compression, then one line per
# entry, ``<dump id>; <catalog table oid> <object oid> <type> <schema> <name> <owner>``.
TOC_METHOD = (
    "sha256 of the entry lines of pg_restore --list (run with LC_ALL=C): every line that does not start "
    "with ';' (the header, which holds the archive's time, database name, versions and compression, "
    "is left out), trailing white space removed, empty lines left out, each line ended by \\n, "
    "in the order pg_restore lists them"
)
PG_CLASS_OID = "1259"  # the catalog table oid of a TABLE entry
_ENTRY = re.compile(r"^(\d+); (\d+) (\d+) (.*)$")


def toc_lines(listing):
    """The entry lines of a ``pg_restore --list`` output, normalised as TOC_METHOD says."""
    lines = []
    for raw in listing.splitlines():
        line = raw.rstrip()
        if line and not line.startswith(";"):
            lines.append(line)
    return lines


def toc_digest(listing):
    """The sha256 of the archive's table of contents (TOC_METHOD): it depends on what the archive
    holds, not on when or where it was written or how it is compressed."""
    data = "".join(line + "\n" for line in toc_lines(listing))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def toc_dbname(listing):
    """The database name the archive's header gives (``;     dbname: <name>``), or None."""
    for line in listing.splitlines():
        if not line.startswith(";"):
            break
        m = re.match(r"^;\s+dbname: (.*)$", line)
        if m:
            return m.group(1)
    return None


def toc_tables(listing):
    """The tables the archive defines: ``[(text, has_data)]`` where ``text`` is ``<schema> <name>
    <owner>`` of each TABLE entry as pg_restore prints it (unquoted) and ``has_data`` whether a TABLE
    DATA entry holds its rows (a partitioned table has none: its partitions hold them)."""
    tables, data = [], set()
    for line in toc_lines(listing):
        m = _ENTRY.match(line)
        if not m:
            continue
        _id, catalog, oid, rest = m.groups()
        if rest.startswith("TABLE DATA "):
            data.add(oid)
        elif catalog == PG_CLASS_OID and rest.startswith("TABLE ") and not rest.startswith("TABLE ATTACH "):
            tables.append((oid, rest[len("TABLE ") :]))
    return [(text, oid in data) for oid, text in tables]


def toc_label(key):
    """A ``row_counts`` key (``schema.table``, quoted where needed) as pg_restore --list prints the
    table: ``<schema> <name>`` unquoted, line breaks as spaces."""
    parts = [_pg.unquote_ident(p) for p in _pg.split_name(key)]
    return " ".join(parts).replace("\n", " ").replace("\r", " ")


def compare_tables(listing, row_counts):
    """``(missing, extra)``: tables named in ``row_counts`` the archive does not define, and TABLE
    entries of the archive (``<schema> <name> <owner>``) ``row_counts`` does not name. pg_restore
    prints names unquoted, so each entry is matched to the longest name it starts with."""
    labels = dict((key, toc_label(key)) for key in row_counts)
    left = set(labels)
    extra = []
    for text, _has_data in toc_tables(listing):
        found = [k for k in left if text == labels[k] or text.startswith(labels[k] + " ")]
        if found:
            left.discard(max(found, key=lambda k: len(labels[k])))
        else:
            extra.append(text)
    return sorted(left), sorted(extra)


def list_toc(conn, path, zstd, what):
    """What ``pg_restore --list`` prints for the backup at ``path`` (through ``zstd -dc`` when ``zstd``
    is given). pg_restore stops after the table of contents; zstd, no longer read, is then stopped."""
    argv = [conn.tool("pg_restore"), "--list"]
    if zstd is None:
        return conn.run(argv + [path], what).out
    pipe = _run.pipeline(conn.module, [decompress_argv(zstd, path), argv], what=what, env=conn.env())
    try:
        out = pipe.stdout.read()
    except BaseException:
        pipe.kill()
        raise
    unzstd, restore = pipe.procs
    done = restore.wait(check=False)
    if done.rc == 0:
        unzstd.kill()
        return out.decode("utf-8", "replace")
    first = unzstd.wait(check=False)
    raise _run.failure(what, first if first.rc not in (0, -signal.SIGPIPE) else done)
