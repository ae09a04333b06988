# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: archives of file trees (tar.gz, sha256) and their restore. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import re
import shutil
import stat
import tarfile

from ansible_collections.runbook.golive.plugins.module_utils import _paths
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError
from ansible_collections.runbook.golive.plugins.module_utils._io import fsync_dir

# What a release id may be: it names a file.
RELEASE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}\Z")
# Kept as they are in a tree's key; every other character is escaped.
_PLAIN = re.compile(r"[A-Za-z0-9._-]")
SUFFIX = ".tar.gz"
PART = ".part"


# ---------------------------------------------------------------- pure logic


def tree_key(path):
    """The name of a tree's archive directory: its path without the leading ``/``, each ``/``
    as ``~``, and every other character but letters, digits, ``.``, ``_`` and ``-`` as ``%XX``
    (``~`` and ``%`` included). ``/srv/a_b`` -> ``srv~a_b``, ``/srv/a/b`` -> ``srv~a~b``:
    two trees never share a key, and the key reads as the path."""
    out = []
    for char in path.strip("/"):
        if char == "/":
            out.append("~")
        elif _PLAIN.match(char):
            out.append(char)
        else:
            out.append("".join("%%%02X" % b for b in bytearray(char.encode("utf-8"))))
    key = "".join(out)
    if key in ("", ".", ".."):
        raise GoliveError("cannot archive %r as a file tree; name a directory below /" % path)
    return key


def check_release_id(release_id):
    if not release_id or not RELEASE_ID_RE.match(release_id):
        raise GoliveError(
            "release_id %r cannot name an archive (letters, digits, . _ + -, at most 200, starting with a letter"
            " or digit); give the go-live's release id" % (release_id,)
        )


def _inside(child, parent):
    return child.startswith(parent.rstrip("/") + "/")


def check_trees(paths, what="the file trees"):
    """The trees of ``paths`` normalised, in their order; refused when one is relative, listed
    twice, or inside another (its files would be archived and restored twice)."""
    trees = []
    for raw in paths:
        if not raw or not os.path.isabs(raw):
            raise GoliveError("%s name %r, which is not an absolute path; give each tree as /its/path" % (what, raw))
        path = os.path.normpath(raw)
        if path.startswith("//"):
            path = "/" + path.lstrip("/")
        if path == "/":
            raise GoliveError("%s name /, which is not a file tree; name the directories to archive" % what)
        tree_key(path)
        trees.append((raw, path))
    for i, (raw_a, a) in enumerate(trees):
        for raw_b, b in trees[i + 1 :]:
            if a == b:
                raise GoliveError(
                    "%s list %s twice (as %r and %r); list each tree once. Nothing was changed."
                    % (what, a, raw_a, raw_b)
                )
            if _inside(a, b) or _inside(b, a):
                outer, inner = (b, a) if _inside(a, b) else (a, b)
                raise GoliveError(
                    "%s list %s and %s, which is inside it, so its files would be archived and put back twice;"
                    " list only %s. Nothing was changed." % (what, outer, inner, outer)
                )
    return [path for _raw, path in trees]


def layout(dest, path, release_id):
    """(directory of the tree's archives, this release's archive) under ``dest``."""
    directory = os.path.join(dest, tree_key(path))
    return directory, os.path.join(directory, release_id + SUFFIX)


def to_prune(names, keep, current):
    """The archive names (of one tree's directory) beyond the ``keep`` newest; ``current`` always stays.

    Names begin with the release id, which begins with its UTC time: by name is by age."""
    archives = sorted((n for n in names if n.endswith(SUFFIX)), reverse=True)
    kept = [current] if current in archives else []
    for name in archives:
        if len(kept) >= max(keep, 1):
            break
        if name not in kept:
            kept.append(name)
    return sorted(n for n in archives if n not in kept)


def unsafe_members(members):
    """The names of archive members that would land outside the directory they are extracted
    into: absolute, with ``..``, below a symbolic link of the archive, or hard links pointing out."""
    bad = []
    links = set()
    for member in members:
        name = os.path.normpath(member.name)
        parts = name.split("/")
        escapes = os.path.isabs(member.name) or ".." in parts
        if member.islnk():
            target = os.path.normpath(member.linkname)
            escapes = escapes or os.path.isabs(member.linkname) or ".." in target.split("/")
        if any("/".join(parts[:i]) in links for i in range(1, len(parts))):
            escapes = True
        if escapes:
            bad.append(member.name)
        if member.issym():
            links.add(name)
    return bad


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


# ---------------------------------------------------------------- the file system


def _ensure_dir(path, check_mode):
    """``path`` a directory of the running user (root) with mode 0700; True when it changed."""
    try:
        st = os.lstat(path)
    except OSError:
        st = None
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise GoliveError("%s is not a directory; move it away, the archives of the file trees go there" % path)
    wrong_owner = st is not None and st.st_uid != os.geteuid()
    if st is not None and stat.S_IMODE(st.st_mode) == 0o700 and not wrong_owner:
        return False
    if check_mode:
        return True
    try:
        if st is None:
            os.makedirs(path, 0o700)
        if wrong_owner:
            os.chown(path, os.geteuid(), os.getegid())
        os.chmod(path, 0o700)
    except OSError as err:
        raise GoliveError("cannot make %s a directory of its own with mode 0700: %s" % (path, err.strerror or err))
    return True


def _write_archive(source, archive):
    """``source`` as a tar.gz at ``archive``: written as ``archive.part`` (0600), synced, renamed."""
    part = archive + PART
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as err:
        raise GoliveError("cannot write %s: %s" % (part, err.strerror))
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            with tarfile.open(fileobj=handle, mode="w:gz") as tar:
                # A tree given as a symbolic link is archived as the directory it names.
                tar.add(os.path.realpath(source), arcname=".")
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(part, archive)
        fsync_dir(os.path.dirname(archive))
    except (OSError, tarfile.TarError) as err:
        if os.path.exists(part):
            os.unlink(part)
        raise GoliveError(
            "cannot archive %s into %s: %s; nothing was deployed, free space or fix the tree and rerun"
            % (source, archive, getattr(err, "strerror", None) or err)
        )


def archive_trees(p, check_mode):
    """Archive every tree of ``p['paths']`` for ``p['release_id']`` under ``p['dest']``, keep each
    tree's ``p['keep']`` newest archives. Everything is checked before anything changes."""
    check_release_id(p["release_id"])
    if p["keep"] < 1:
        raise GoliveError("keep is %d; keep at least 1 archive per tree (this release's)" % p["keep"])
    # The directory archives are written to, checked as every path a module writes is.
    dest = _paths.check_absolute("dest", p["dest"], "/var/backups/runbook-golive/files")
    trees = check_trees(p["paths"])
    for path in trees:
        if not os.path.isdir(path):
            raise GoliveError(
                "%s is not an existing directory; fix the list of file trees. Nothing was changed." % path
            )
        if dest == path or _inside(dest, path):
            raise GoliveError(
                "the archive directory %s is inside the file tree %s, which would archive its own archives;"
                " choose a directory outside it. Nothing was changed." % (dest, path)
            )
    # The same directory reached through a symbolic link is the same tree.
    check_trees([os.path.realpath(t) for t in trees], what="the file trees, by their real paths,")
    changed = _ensure_dir(dest, check_mode)
    out = []
    created = []
    pruned = []
    for path in trees:
        directory, archive = layout(dest, path, p["release_id"])
        entry = {"path": path, "archive": archive}
        changed = _ensure_dir(directory, check_mode) or changed
        if not os.path.isfile(archive):
            created.append(path)
            changed = True
            if not check_mode:
                _write_archive(path, archive)
        if os.path.isfile(archive):
            if stat.S_IMODE(os.stat(archive).st_mode) != 0o600:
                changed = True
                if not check_mode:
                    os.chmod(archive, 0o600)
            entry.update(sha256=sha256_file(archive), size=os.path.getsize(archive))
        else:
            entry.update(sha256=None, size=None)
        names = os.listdir(directory) if os.path.isdir(directory) else []
        for name in to_prune(names, p["keep"], p["release_id"] + SUFFIX):
            old = os.path.join(directory, name)
            pruned.append(old)
            changed = True
            if not check_mode:
                os.unlink(old)
        out.append(entry)
    return {"changed": changed, "trees": out, "created": created, "pruned": pruned, "archive_dir": dest}


def _extract(archive, target):
    with tarfile.open(archive, "r:gz") as tar:
        kwargs = {"numeric_owner": True}
        # The archive is ours (its sha256 checked): owners, modes and links are put back as they were.
        if hasattr(tarfile, "fully_trusted_filter"):
            kwargs["filter"] = "fully_trusted"
        # Every member was checked first (unsafe_members): none lands outside ``target``.
        tar.extractall(target, **kwargs)  # noqa: S202


def _members(archive):
    try:
        with tarfile.open(archive, "r:gz") as tar:
            return tar.getmembers()
    except (OSError, tarfile.TarError, EOFError) as err:
        raise GoliveError("cannot read the archive %s: %s; do not restore from it" % (archive, err))


def restore_trees(p, check_mode):
    """Put back each tree of ``p['archives']`` (``path``, ``archive``, ``sha256``) from its archive,
    after checking every archive; what was there is kept as ``<path>.pre-rollback-<release id>``.
    A tree whose kept copy exists was put back already and is left alone."""
    check_release_id(p["release_id"])
    items = p["archives"] or []
    trees = check_trees([a["path"] for a in items], what="the archives to put back")
    plan = []
    already = []
    for item, path in zip(items, trees):
        kept = "%s.pre-rollback-%s" % (path, p["release_id"])
        if os.path.lexists(kept):
            already.append(path)
            continue
        archive = item["archive"]
        if not os.path.isfile(archive):
            raise GoliveError(
                "the archive of %s (%s) is missing; %s is left as the go-live left it (no tree was put back)."
                " Restore it from another copy by hand." % (path, archive, path)
            )
        got = sha256_file(archive)
        if got != (item["sha256"] or "").lower():
            raise GoliveError(
                "the archive of %s (%s) is not the one written before the go-live (sha256 %s, expected %s);"
                " %s is left as the go-live left it (no tree was put back). Restore it from another copy by hand."
                % (path, archive, got, item["sha256"], path)
            )
        bad = unsafe_members(_members(archive))
        if bad:
            raise GoliveError(
                "the archive of %s (%s) holds entries that would land outside it (%s); do not restore from it."
                " No tree was put back." % (path, archive, ", ".join(bad[:5]))
            )
        plan.append((path, archive, kept))
    result = {
        "changed": bool(plan),
        "restored": [path for path, _a, _k in plan],
        "kept": dict((path, kept) for path, _a, kept in plan),
        "already": already,
    }
    if check_mode:
        return result
    done = []
    for path, archive, kept in plan:
        incoming = "%s.restoring-%s" % (path, p["release_id"])
        try:
            if os.path.lexists(incoming):
                shutil.rmtree(incoming)
            os.mkdir(incoming, 0o700)
            _extract(archive, incoming)
            if os.path.lexists(path):
                os.rename(path, kept)
            else:
                os.mkdir(kept, 0o700)
            os.rename(incoming, path)
            fsync_dir(os.path.dirname(path))
        except (OSError, tarfile.TarError) as err:
            result.update(restored=done, kept=dict((d, result["kept"][d]) for d in done))
            raise GoliveError(
                "putting back %s from %s failed: %s; what the go-live left is %s (or still %s), the archive"
                " unpacked so far is %s" % (path, archive, getattr(err, "strerror", None) or err, kept, path, incoming),
                **result,
            )
        done.append(path)
    return result
