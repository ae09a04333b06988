# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: PostgreSQL backups, their manifests and retention. Not a public API.

A backup is a pg_dump archive plus a manifest beside it,
``<db>-<UTC stamp>.dump.zst`` (custom format streamed through zstd),
``<db>-<UTC stamp>.dump`` (custom format compressed by pg_dump) or
``<db>-<UTC stamp>.dir/`` (directory format) and
``<db>-<UTC stamp>.manifest.json``. How the archive is compressed, written
and read is ``_pg_archive``'s.

Consistency: one psql session opens a REPEATABLE READ transaction, exports
its snapshot (``pg_export_snapshot()``) and keeps it open while pg_dump runs
with ``--snapshot``; the exact row counts are taken in that same transaction,
while pg_dump runs. Dump and counts therefore see the same data. The same
transaction records the snapshot's transaction ids (``xid_snapshot``), with
which pg_changes tells the rows written since the backup from those in it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import time

from ansible_collections.runbook.golive.plugins.module_utils import _io, _pg, _pg_archive, _run
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

TOOL = "runbook.golive.pg_backup"
MANIFEST_VERSION = 1
MANIFEST_SUFFIX = ".manifest.json"
VERIFIED_SUFFIX = ".verified.json"  # written by pg_backup_verify when every check passed
VERIFY_TOOL = "runbook.golive.pg_backup_verify"
SUFFIX = {"custom": ".dump", "directory": ".dir"}
ZSTD_SUFFIX = ".dump.zst"  # a custom-format archive streamed through zstd
SUFFIXES = (ZSTD_SUFFIX,) + tuple(SUFFIX.values())
DIR_CHECKSUM = (
    "sha256 over the lines '<sha256 of file>  <file name>\\n' of every file in the directory, "
    "sorted by name (bytewise), as printed by: cd DIR && LC_ALL=C sha256sum -- * | sha256sum"
)
CHUNK = 1 << 20
FACTS_SQL = (
    "SELECT json_build_array(current_setting('server_version_num'), "
    "pg_database_size(current_database()), %s, pg_encoding_to_char(encoding)) "
    "FROM pg_database WHERE datname = current_database()"
)
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"


def xid_snapshot_sql(server_num):
    """The query giving the transaction's snapshot as ``xmin:xmax:xip,...`` (64-bit transaction ids):
    ``pg_current_snapshot()`` from PostgreSQL 13 on, ``txid_current_snapshot()`` (the same text) before."""
    return "SELECT %s()::text" % ("pg_current_snapshot" if int(server_num) >= 130000 else "txid_current_snapshot")


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(ts):
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def safe_name(dbname):
    """``dbname`` as a file name part: letters, digits, ``_ . -``; anything else becomes ``_``."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", dbname).lstrip(".")
    return name or "db"


def base_name(dbname, stamp, taken=()):
    """``<db>-<stamp>``, with ``-2``, ``-3``... if that name is in ``taken``."""
    base = "%s-%s" % (safe_name(dbname), stamp)
    name, n = base, 1
    while name in taken:
        n += 1
        name = "%s-%d" % (base, n)
    return name


def taken_names(entries):
    """Base names in use among directory entries (any backup or manifest name)."""
    names = set()
    for entry in entries:
        for suffix in (MANIFEST_SUFFIX, VERIFIED_SUFFIX) + SUFFIXES:
            if entry.endswith(suffix):
                names.add(entry[: -len(suffix)])
    return names


def dir_checksum(file_hashes):
    """The checksum of a directory-format backup from ``{file name: sha256}`` (see DIR_CHECKSUM)."""
    h = hashlib.sha256()
    for name in sorted(file_hashes, key=lambda n: n.encode("utf-8")):
        h.update(("%s  %s\n" % (file_hashes[name], name)).encode("utf-8"))
    return h.hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(CHUNK)
            if not chunk:
                break
            h.update(chunk)
    return h.hexdigest()


def hash_directory(path):
    """``(checksum, {file: sha256}, size)`` of a directory-format backup (flat, regular files only)."""
    files, size = {}, 0
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if not os.path.isfile(full) or os.path.islink(full):
            raise GoliveError("backup %s: %s is not a regular file; pg_dump directories hold only files" % (path, name))
        files[name] = sha256_file(full)
        size += os.path.getsize(full)
    return dir_checksum(files), files, size


def checksum_of(path):
    """``(sha256, files or None, size)`` of a backup file or directory."""
    if os.path.isdir(path):
        return hash_directory(path)
    return sha256_file(path), None, os.path.getsize(path)


def build_manifest(**fields):
    """The manifest dict written beside a backup (field list in docs/postgresql.md)."""
    manifest = dict(format_version=MANIFEST_VERSION, tool=TOOL)
    manifest.update(fields)
    if manifest.get("format") == "directory":
        manifest["sha256_method"] = DIR_CHECKSUM
    else:
        manifest["sha256_method"] = "sha256 of the file"
    return manifest


REQUIRED = ("database", "file", "format", "sha256", "size", "started_at", "row_counts")


def parse_manifest(text, path):
    """The manifest in ``text`` (read from ``path``), checked; GoliveError saying what is wrong."""
    try:
        data = json.loads(text)
    except ValueError as err:
        raise GoliveError("manifest %s is not valid JSON (%s); it is damaged, do not trust its backup" % (path, err))
    if not isinstance(data, dict) or data.get("tool") != TOOL:
        raise GoliveError("%s is not a manifest written by %s" % (path, TOOL))
    if data.get("format_version") != MANIFEST_VERSION:
        raise GoliveError(
            "manifest %s has format_version %r; this collection reads version %d"
            % (path, data.get("format_version"), MANIFEST_VERSION)
        )
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise GoliveError("manifest %s lacks %s; it is damaged, do not trust its backup" % (path, ", ".join(missing)))
    name = data["file"]
    if not isinstance(name, str) or "/" in name or name in ("", ".", ".."):
        raise GoliveError("manifest %s names the backup file %r, which is not a plain file name" % (path, name))
    if data["format"] not in SUFFIX:
        raise GoliveError("manifest %s has unknown format %r" % (path, data["format"]))
    return data


def read_manifest(path):
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except (OSError, IOError) as err:
        raise GoliveError("cannot read manifest %s: %s" % (path, err.strerror or err))
    return parse_manifest(text, path)


def manifest_path_for(backup_path):
    """The manifest beside a backup file or directory."""
    path = backup_path.rstrip("/")
    for suffix in SUFFIXES:
        if path.endswith(suffix):
            return path[: -len(suffix)] + MANIFEST_SUFFIX
    return path + MANIFEST_SUFFIX


def verified_path_for(manifest_path):
    """The verified mark beside a manifest: ``<db>-<stamp>.verified.json``."""
    if manifest_path.endswith(MANIFEST_SUFFIX):
        return manifest_path[: -len(MANIFEST_SUFFIX)] + VERIFIED_SUFFIX
    return manifest_path + VERIFIED_SUFFIX


def build_mark(manifest, manifest_sha256, checks, at):
    """The verified mark pg_backup_verify writes when every check of a backup passed."""
    return dict(
        tool=VERIFY_TOOL,
        file=manifest["file"],
        sha256=manifest["sha256"],
        manifest_sha256=manifest_sha256,
        checks=list(checks),
        verified_at=at,
    )


def read_mark(path):
    """The verified mark at ``path`` as a dict, or None if there is none or it is not one."""
    try:
        with open(path, "rb") as f:
            mark = json.loads(f.read().decode("utf-8"))
    except (OSError, IOError, ValueError):
        return None
    return mark if isinstance(mark, dict) and mark.get("tool") == VERIFY_TOOL else None


def is_verified(manifest, manifest_sha256, mark):
    """Whether ``mark`` proves the backup of ``manifest`` (whose file hashes to ``manifest_sha256``)
    verified: it names the same backup file, checksum and manifest, as they are now."""
    return (
        mark is not None
        and mark.get("file") == manifest["file"]
        and mark.get("sha256") == manifest["sha256"]
        and mark.get("manifest_sha256") == manifest_sha256
    )


def backups_of(directory, dbname):
    """The backups of ``dbname`` this module made in ``directory``: manifests naming that database,
    each with ``verified``: whether pg_backup_verify marked it so and neither it nor its manifest
    changed since (the mark's checksums match)."""
    found = []
    for entry in sorted(os.listdir(directory)):
        if not entry.endswith(MANIFEST_SUFFIX):
            continue
        path = os.path.join(directory, entry)
        try:
            manifest = read_manifest(path)
        except GoliveError:
            continue  # not ours or damaged: never touched by retention
        if manifest["database"] == dbname:
            mark_path = verified_path_for(path)
            mark = read_mark(mark_path)
            found.append(
                dict(
                    manifest=path,
                    mark=mark_path,
                    path=os.path.join(directory, manifest["file"]),
                    started_at=manifest["started_at"],
                    file=manifest["file"],
                    verified=mark is not None and is_verified(manifest, sha256_file(path), mark),
                )
            )
    return found


def choose_deletions(backups, keep, current=None):
    """Which ``backups`` (dicts with ``started_at``, ``file``, ``verified``) to delete under ``keep``.

    Verified and unverified backups are counted apart: the newest ``keep``
    verified ones are kept, and the newest ``keep`` unverified ones. The
    backup named ``current`` (just taken, not verified yet) is always kept and
    counts as one of the unverified. So a new backup never causes a verified
    one to be deleted, however many new ones fail their verification, and the
    newest verified backup is never deleted.
    """
    if keep is None:
        return []
    ordered = sorted(backups, key=lambda b: (b["started_at"], b["file"]), reverse=True)
    kept = {True: 0, False: 1 if current is not None else 0}
    delete = []
    for b in ordered:
        if b["file"] == current:
            continue
        verified = bool(b.get("verified"))
        if kept[verified] < keep:
            kept[verified] += 1
        else:
            delete.append(b)
    return delete


def remove_backup(backup):
    """Delete one backup (file or directory), then its verified mark and its manifest."""
    path = backup["path"]
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.unlink(path)
        for extra in (backup.get("mark"), backup["manifest"]):
            if extra and os.path.lexists(extra):
                os.unlink(extra)
    except OSError as err:
        raise GoliveError("cannot delete old backup %s: %s" % (path, err.strerror or err))


def check_directory(path):
    if not os.path.isdir(path):
        raise GoliveError(
            "backup directory %s does not exist; create it first (mode 0700, owned by the user the "
            "module runs as), e.g. with ansible.builtin.file state=directory mode=0700" % path
        )
    if not os.access(path, os.W_OK | os.X_OK):
        raise GoliveError(
            "backup directory %s is not writable by the user the module runs as (uid %d); "
            "fix its owner or mode, or use become" % (path, os.geteuid())
        )


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def check_space(directory, dbname, db_size, ratio, free):
    """Refuse a backup that would not fit: estimate ``db_size * ratio`` against ``free`` bytes."""
    need = int(db_size * ratio)
    if ratio > 0 and need > free:
        raise GoliveError(
            "not enough free space in %s for a backup of database %s: estimated %d bytes "
            "(database size %d x size_estimate_ratio %s), %d bytes free; free some space or choose another "
            "backup_dir (lower size_estimate_ratio only if your dumps are known to be smaller)"
            % (directory, dbname, need, db_size, ratio, free)
        )
    return need


class Backup:
    """One run of pg_backup: decide, then dump unless in check mode."""

    def __init__(self, module, conn, params):
        self.module = module
        self.conn = conn
        self.p = params
        self.db = params["database"]
        self.dir = os.path.abspath(params["backup_dir"])

    def run(self):
        p = self.p
        check_directory(self.dir)
        fmt = p["format"]
        compression = _pg_archive.parse(p["compression"], fmt)
        self.zstd = None
        if compression["zstd"]:
            self.zstd = _pg_archive.zstd_tool(
                self.module,
                "compression %s" % compression["label"],
                ", or set compression: %s (pg_dump's own gzip: larger backups)" % _pg_archive.DEFAULT["directory"],
            )
        start = utc_now()
        base = base_name(self.db, start.strftime(STAMP_FORMAT), taken_names(os.listdir(self.dir)))
        filename = base + (ZSTD_SUFFIX if self.zstd else SUFFIX[fmt])
        path = os.path.join(self.dir, filename)
        manifest_path = os.path.join(self.dir, base + MANIFEST_SUFFIX)
        what = "backup of database %s" % self.db

        dump_version = self.conn.tool_version("pg_dump")
        session = _pg.Session(self.conn, self.db, what)
        try:
            # Check mode exports no snapshot: it only reads facts.
            session.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            info = session.query_json(FACTS_SQL % ("NULL" if self.module.check_mode else "pg_export_snapshot()"))
            server_num, db_size, snapshot, encoding = info
            # REPEATABLE READ: every statement of the transaction sees the snapshot of its first,
            # the one exported, so these are the transaction ids of the dump's snapshot.
            xid_snapshot = None if self.module.check_mode else session.query(xid_snapshot_sql(server_num)).strip()
            server = _pg.server_version(server_num)
            _pg.check_dump_version(dump_version, server)
            estimate = check_space(self.dir, self.db, int(db_size), p["size_estimate_ratio"], free_bytes(self.dir))
            existing = backups_of(self.dir, self.db)
            doomed = choose_deletions(existing, p["keep"], current=filename)
            result = dict(
                changed=True,
                backup_path=path,
                manifest_path=manifest_path,
                format=fmt,
                compression=compression["label"],
                estimated_size=estimate,
                database_size=int(db_size),
                server_version=_pg.version_text(server),
                pg_dump_version=_pg.version_text(dump_version),
                deleted_backups=[b["path"] for b in doomed],
            )
            if self.module.check_mode:
                session.close(commit=False)
                return result

            tables = session.query_json(_pg.TABLES_SQL) or []
            counts_sql = _pg.count_sql(tables)
            t0 = time.monotonic()
            # The counts are asked for first and read after the dump: the session counts
            # (in the exported snapshot) while pg_dump dumps.
            session.send(counts_sql)
            if fmt == "custom":
                sha, files, size, warnings = self._dump_custom(snapshot, path, session, compression)
            else:
                sha, files, size, warnings = self._dump_directory(snapshot, path, session, compression)
            counts = self._counts
            dump_seconds = time.monotonic() - t0
            session.close(commit=False)
        except BaseException:
            session.kill()
            raise
        listing = self._list_toc(path)
        finished = utc_now()
        counts = dict((k, int(v)) for k, v in (counts or {}).items())
        manifest = build_manifest(
            database=self.db,
            file=filename,
            format=fmt,
            compression=compression["label"],
            compressor=_pg_archive.compressor(compression),
            jobs=p["jobs"] if fmt == "directory" else 1,
            size=size,
            sha256=sha,
            files=files,
            server_version=_pg.version_text(server),
            server_version_num=int(server_num),
            pg_dump_version=_pg.version_text(dump_version),
            encoding=encoding,
            snapshot=snapshot,
            xid_snapshot=xid_snapshot,
            started_at=iso(start),
            finished_at=iso(finished),
            duration=round((finished - start).total_seconds(), 3),
            row_counts=counts,
            toc_sha256=_pg_archive.toc_digest(listing),
            toc_sha256_method=_pg_archive.TOC_METHOD,
            toc_entries=len(_pg_archive.toc_lines(listing)),
            host=socket.gethostname(),
            server=self.conn.where,
        )
        text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        _io.write_file(self.module, manifest_path, text, mode=0o600)
        for b in doomed:
            remove_backup(b)
        result.update(
            size=size,
            sha256=sha,
            duration=manifest["duration"],
            dump_seconds=round(dump_seconds, 3),
            row_counts=counts,
            tables=len(counts),
            snapshot=snapshot,
            xid_snapshot=xid_snapshot,
            warnings_from_pg_dump=warnings,
            started_at=manifest["started_at"],
            toc_sha256=manifest["toc_sha256"],
            manifest_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        )
        return result

    def _list_toc(self, path):
        """``pg_restore --list`` of the new archive, for the manifest's TOC digest. An archive
        pg_restore cannot list is no backup: it is deleted and the run fails."""
        what = "listing the table of contents of backup %s" % path
        try:
            return _pg_archive.list_toc(self.conn, path, self.zstd, what)
        except GoliveError as err:
            remove_backup(dict(path=path, manifest=None))
            raise GoliveError(
                "%s: pg_dump exited 0 but pg_restore cannot read the archive it wrote (%s); the archive was "
                "deleted, no backup was made; check pg_restore's version and the disk" % (what, _run.said(err)),
                **err.result,
            )

    def _dump_argv(self, snapshot, fmt, target, compression):
        argv = [
            self.conn.tool("pg_dump"),
            "--format=%s" % fmt,
            "--compress=%s" % compression["pg_dump"],
            "--snapshot=%s" % snapshot,
            "--no-password",
        ] + self.conn.lock_wait_args()
        if fmt == "directory":
            argv.append("--jobs=%d" % self.p["jobs"])
        if target is not None:
            argv.append("--file=%s" % target)
        return argv + ["--dbname=%s" % self.conn.conninfo(self.db)]

    def _dump_custom(self, snapshot, path, session, compression):
        """pg_dump -Fc into a 0600 temp file in the backup directory, hashed, then renamed.

        With zstd, pg_dump writes the archive uncompressed into a pipe through
        zstd, and the module hashes zstd's output as it writes the file: no
        second read. Otherwise pg_dump writes the file itself, which is hashed
        right after from the page cache (0.3 s per 100 MB). An archive written
        to a pipe has no data offsets in its table of contents, which slows a
        parallel pg_restore (docs/postgresql.md has both measured).
        """
        fd, tmp = tempfile.mkstemp(prefix=".golive-", suffix=".dump.part", dir=self.dir)
        os.close(fd)
        what = "pg_dump of database %s" % self.db
        try:
            if self.zstd:
                dump = self._dump_argv(snapshot, "custom", None, compression)
                commands = [dump, _pg_archive.compress_argv(self.zstd, compression["zstd"])]
                sha, size, done = _pg_archive.stream_to_file(self.module, commands, tmp, what, env=self.conn.env())
                if done.rc != 0:
                    self.conn.fail(_run.failure(what, done), what)
            else:
                done = self.conn.run(self._dump_argv(snapshot, "custom", tmp, compression), what)
                sha, size = sha256_file(tmp), os.path.getsize(tmp)
            if _pg_archive.head(self.module, tmp, self.zstd) != _pg_archive.ARCHIVE_MAGIC:
                raise GoliveError(
                    "pg_dump of database %s exited 0 but wrote no archive (%d bytes); see its messages: %s"
                    % (self.db, size, _run.tail(done.err))
                )
            self._counts = session.receive_json() or {}
            os.chmod(tmp, 0o600)
            os.rename(tmp, path)
            _io.fsync_dir(self.dir)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return sha, None, size, _warnings(done.err)

    def _dump_directory(self, snapshot, path, session, compression):
        """pg_dump -Fd -j N into a 0700 temp directory, hashed file by file, then renamed."""
        tmp = tempfile.mkdtemp(prefix=".golive-", suffix=".dir.part", dir=self.dir)
        target = os.path.join(tmp, "dump")
        try:
            done = self.conn.run(
                self._dump_argv(snapshot, "directory", target, compression), "pg_dump of database %s" % self.db
            )
            for name in os.listdir(target):
                os.chmod(os.path.join(target, name), 0o600)
            os.chmod(target, 0o700)
            sha, files, size = hash_directory(target)
            self._counts = session.receive_json() or {}
            os.rename(target, path)
            _io.fsync_dir(self.dir)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return sha, files, size, _warnings(done.err)


def _warnings(stderr):
    return [line for line in (stderr or "").splitlines() if line.strip()]


def check_params(p):
    """Argument checks the spec cannot express; fills in the defaults of ``jobs`` and ``compression``."""
    if p["jobs"] is None:
        p["jobs"] = 2 if p["format"] == "directory" else 1
    if p["jobs"] < 1:
        raise GoliveError("jobs must be at least 1, got %d" % p["jobs"])
    if p["format"] == "custom" and p["jobs"] != 1:
        raise GoliveError("jobs=%d needs format=directory; pg_dump writes the custom format in one process" % p["jobs"])
    if p["keep"] is not None and p["keep"] < 1:
        raise GoliveError("keep must be at least 1 (the new backup is always kept), got %d" % p["keep"])
    if p["size_estimate_ratio"] < 0:
        raise GoliveError("size_estimate_ratio must not be negative, got %s" % p["size_estimate_ratio"])
    p["compression"] = _pg_archive.parse(p["compression"], p["format"])["label"]


def checksum_problem(path, manifest, sha, files):
    """None if ``sha`` (and ``files``) match the manifest, else the message saying what differs."""
    if sha == manifest["sha256"]:
        return None
    msg = "backup %s: sha256 mismatch (expected %s, got %s)" % (path, manifest["sha256"], sha)
    if files is not None and isinstance(manifest.get("files"), dict):
        expected = manifest["files"]
        details = []
        for name in sorted(set(expected) | set(files)):
            if name not in files:
                details.append("%s missing" % name)
            elif name not in expected:
                details.append("%s not in the manifest" % name)
            elif files[name] != expected[name]:
                details.append("%s differs" % name)
        if details:
            msg += " (%s)" % ", ".join(details)
    return msg + "; the backup is corrupt or incomplete, do not restore from it"


def load(path, manifest_path=None, required=True):
    """``(manifest or None, manifest_path)`` of the backup at ``path``, checked against its format."""
    path = path.rstrip("/") or path
    if not os.path.exists(path):
        raise GoliveError("backup %s does not exist; check the path" % path)
    manifest_path = manifest_path or manifest_path_for(path)
    if not os.path.exists(manifest_path):
        if required:
            raise GoliveError(
                "backup %s has no manifest (looked for %s): its checksum cannot be checked; give the manifest "
                "option, or force: true to use it unchecked" % (path, manifest_path)
            )
        return None, manifest_path
    manifest = read_manifest(manifest_path)
    is_dir = os.path.isdir(path)
    if is_dir != (manifest["format"] == "directory"):
        raise GoliveError(
            "backup %s is a %s but manifest %s describes a %s-format backup; give the matching manifest"
            % (path, "directory" if is_dir else "file", manifest_path, manifest["format"])
        )
    return manifest, manifest_path
