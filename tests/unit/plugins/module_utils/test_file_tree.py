# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import io
import os
import stat
import tarfile

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _file_tree
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

R1 = "20261101T020000Z-aaaaaa"
R2 = "20261102T020000Z-bbbbbb"
R3 = "20261103T020000Z-cccccc"


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def tree(root, files):
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return str(root)


def contents(root):
    out = {}
    for base, _dirs, names in os.walk(str(root)):
        for name in names:
            path = os.path.join(base, name)
            with open(path) as handle:
                out[os.path.relpath(path, str(root))] = handle.read()
    return out


def archived(tmp_path, paths, release_id=R1, keep=5, check_mode=False):
    p = dict(paths=paths, dest=str(tmp_path / "archives"), release_id=release_id, keep=keep)
    return _file_tree.archive_trees(p, check_mode)


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    "path, key",
    [
        ("/srv/golive-app/media", "srv~golive-app~media"),
        ("/srv/a_b", "srv~a_b"),
        ("/srv/a/b", "srv~a~b"),
        ("/srv/a~b", "srv~a%7Eb"),
        ("/srv/a%7Eb", "srv~a%257Eb"),
        ("/srv/my media", "srv~my%20media"),
        ("/srv/médias", "srv~m%C3%A9dias"),
    ],
)
def test_tree_key_reads_as_the_path(path, key):
    assert _file_tree.tree_key(path) == key


def test_trees_that_collided_under_the_old_names_get_their_own_keys():
    # The old name replaced / by _: both were "_srv_a_b".
    paths = ["/srv/a_b", "/srv/a/b", "/srv/a~b", "/srv/a%7Eb", "/srv/a--b", "/srv/a/-b"]
    assert len(set(_file_tree.tree_key(p) for p in paths)) == len(paths)


@pytest.mark.parametrize(
    "paths, words",
    [
        (["/srv/media", "/srv/media/"], ["the file trees list /srv/media twice", "list each tree once"]),
        (["/srv/media", "/srv/./media"], ["the file trees list /srv/media twice"]),
        (["/srv/media/avatars", "/srv/media"], ["/srv/media and /srv/media/avatars", "list only /srv/media"]),
        (["srv/media"], ["not an absolute path"]),
        (["/"], ["name /, which is not a file tree"]),
    ],
)
def test_duplicate_nested_and_relative_trees_are_refused(paths, words):
    with pytest.raises(GoliveError) as info:
        _file_tree.check_trees(paths)
    for word in words:
        assert word in str(info.value)


def test_siblings_sharing_a_prefix_are_not_nested():
    assert _file_tree.check_trees(["/srv/media", "/srv/media2"]) == ["/srv/media", "/srv/media2"]


@pytest.mark.parametrize(
    "names, keep, current, gone",
    [
        (["%s.tar.gz" % r for r in (R1, R2, R3)], 2, R3 + ".tar.gz", [R1 + ".tar.gz"]),
        (["%s.tar.gz" % r for r in (R1, R2, R3)], 5, R3 + ".tar.gz", []),
        # A rerun of an older release keeps its own archive and the newest others.
        (["%s.tar.gz" % r for r in (R1, R2, R3)], 2, R1 + ".tar.gz", [R2 + ".tar.gz"]),
        ([R1 + ".tar.gz", R2 + ".tar.gz.part", R3 + ".tar.gz"], 1, R3 + ".tar.gz", [R1 + ".tar.gz"]),
    ],
)
def test_to_prune_keeps_the_newest_and_the_current(names, keep, current, gone):
    assert _file_tree.to_prune(names, keep, current) == gone


@pytest.mark.parametrize("release_id", ["", "../x", "a/b", ".hidden", "x" * 201])
def test_release_ids_that_cannot_name_a_file_are_refused(release_id):
    with pytest.raises(GoliveError, match="cannot name an archive"):
        _file_tree.check_release_id(release_id)


# ---------------------------------------------------------------- archives


def test_each_tree_gets_its_own_archive_even_when_old_names_collided(tmp_path):
    a = tree(tmp_path / "srv" / "a_b", {"one.txt": "tree a_b"})
    b = tree(tmp_path / "srv" / "a" / "b", {"one.txt": "tree a/b"})
    result = archived(tmp_path, [a, b])
    assert result["changed"]
    first, second = result["trees"]
    assert first["archive"] != second["archive"]
    for entry in result["trees"]:
        assert os.path.basename(entry["archive"]) == R1 + ".tar.gz"
        with open(entry["archive"], "rb") as handle:
            data = handle.read()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["size"] == len(data)
        with tarfile.open(entry["archive"]) as tar:
            text = tar.extractfile("./one.txt").read().decode()
        assert text == ("tree a_b" if entry["path"] == a else "tree a/b")


def test_archives_are_root_only_and_whole(tmp_path):
    a = tree(tmp_path / "media", {"x/y.txt": "y"})
    result = archived(tmp_path, [a])
    archive = result["trees"][0]["archive"]
    assert mode(archive) == 0o600
    assert mode(os.path.dirname(archive)) == 0o700 and mode(tmp_path / "archives") == 0o700
    assert not [n for n in os.listdir(os.path.dirname(archive)) if n.endswith(".part")]


def test_a_rerun_keeps_the_archive_and_changes_nothing(tmp_path):
    a = tree(tmp_path / "media", {"y.txt": "y"})
    first = archived(tmp_path, [a])
    (tmp_path / "media" / "y.txt").write_text("changed after the archive")
    again = archived(tmp_path, [a])
    assert not again["changed"] and again["pruned"] == []
    assert again["trees"][0]["sha256"] == first["trees"][0]["sha256"]
    assert again["created"] == [] and sorted(again["trees"][0]) == ["archive", "path", "sha256", "size"]


def test_a_part_left_by_an_interrupted_run_is_written_again(tmp_path):
    a = tree(tmp_path / "media", {"y.txt": "y"})
    directory = tmp_path / "archives" / _file_tree.tree_key(a)
    directory.mkdir(parents=True)
    (directory / (R1 + ".tar.gz.part")).write_bytes(b"half")
    result = archived(tmp_path, [a])
    with tarfile.open(result["trees"][0]["archive"]) as tar:
        assert tar.extractfile("./y.txt").read() == b"y"
    assert sorted(os.listdir(str(directory))) == [R1 + ".tar.gz"]


def test_each_tree_keeps_its_newest_archives_only(tmp_path):
    a = tree(tmp_path / "srv" / "a_b", {"f": "1"})
    b = tree(tmp_path / "srv" / "a" / "b", {"f": "2"})
    archived(tmp_path, [a, b], R1, keep=2)
    archived(tmp_path, [a, b], R2, keep=2)
    result = archived(tmp_path, [a], R3, keep=2)
    assert result["pruned"] == [os.path.join(str(tmp_path / "archives"), _file_tree.tree_key(a), R1 + ".tar.gz")]
    assert sorted(os.listdir(str(tmp_path / "archives" / _file_tree.tree_key(a)))) == [R2 + ".tar.gz", R3 + ".tar.gz"]
    # The other tree's archives are its own: none of them was counted or removed.
    assert sorted(os.listdir(str(tmp_path / "archives" / _file_tree.tree_key(b)))) == [R1 + ".tar.gz", R2 + ".tar.gz"]


def test_check_mode_writes_nothing(tmp_path):
    a = tree(tmp_path / "media", {"y.txt": "y"})
    result = archived(tmp_path, [a], check_mode=True)
    assert result["changed"] and result["created"] == [a] and result["trees"][0]["sha256"] is None
    assert not (tmp_path / "archives").exists()


@pytest.mark.parametrize(
    "case, words",
    [
        ("missing", "is not an existing directory"),
        ("nested", "which is inside it"),
        ("dest_inside", "is inside the file tree"),
        ("linked", "by their real paths, list .* twice"),
    ],
)
def test_bad_lists_are_refused_before_anything_changes(tmp_path, case, words):
    a = tree(tmp_path / "media", {"y.txt": "y"})
    paths = {
        "missing": [a, str(tmp_path / "gone")],
        "nested": [a, tree(tmp_path / "media" / "sub", {})],
        "dest_inside": [a],
        "linked": [a, str(tmp_path / "link")],
    }[case]
    if case == "linked":
        os.symlink(a, str(tmp_path / "link"))
    dest = str(tmp_path / "media" / "archives") if case == "dest_inside" else str(tmp_path / "archives")
    with pytest.raises(GoliveError, match=words):
        _file_tree.archive_trees(dict(paths=paths, dest=dest, release_id=R1, keep=5), False)
    assert not os.path.exists(dest)


# ---------------------------------------------------------------- restore


def restored(entries, release_id=R1, check_mode=False):
    return _file_tree.restore_trees(dict(archives=entries, release_id=release_id), check_mode)


def test_restore_puts_back_each_tree_and_keeps_what_the_go_live_left(tmp_path):
    a = tree(tmp_path / "srv" / "a_b", {"one.txt": "tree a_b", "sub/two.txt": "two"})
    b = tree(tmp_path / "srv" / "a" / "b", {"one.txt": "tree a/b"})
    os.chmod(os.path.join(a, "one.txt"), 0o640)
    os.symlink("one.txt", os.path.join(a, "link"))
    entries = archived(tmp_path, [a, b])["trees"]
    (tmp_path / "srv" / "a_b" / "one.txt").write_text("changed by the go-live")
    (tmp_path / "srv" / "a_b" / "new.txt").write_text("new")
    (tmp_path / "srv" / "a" / "b" / "one.txt").write_text("changed too")

    check = restored(entries, check_mode=True)
    assert check["changed"] and check["restored"] == [a, b]
    assert (tmp_path / "srv" / "a_b" / "one.txt").read_text() == "changed by the go-live"

    result = restored(entries)
    assert result["restored"] == [a, b]
    assert contents(a) == {"one.txt": "tree a_b", "sub/two.txt": "two", "link": "tree a_b"}
    assert os.readlink(os.path.join(a, "link")) == "one.txt" and mode(os.path.join(a, "one.txt")) == 0o640
    assert contents(b) == {"one.txt": "tree a/b"}
    kept = result["kept"][a]
    assert kept == a + ".pre-rollback-" + R1
    assert contents(kept)["new.txt"] == "new" and contents(kept)["one.txt"] == "changed by the go-live"
    assert not os.path.exists(a + ".restoring-" + R1)

    again = restored(entries)
    assert not again["changed"] and again["already"] == [a, b] and again["restored"] == []


def test_a_tree_the_go_live_removed_is_put_back(tmp_path):
    a = tree(tmp_path / "media", {"y.txt": "y"})
    entries = archived(tmp_path, [a])["trees"]
    os.rename(a, str(tmp_path / "elsewhere"))
    result = restored(entries)
    assert contents(a) == {"y.txt": "y"} and os.path.isdir(result["kept"][a])


@pytest.mark.parametrize("damage", ["changed", "missing"])
def test_a_changed_or_missing_archive_touches_no_tree(tmp_path, damage):
    a = tree(tmp_path / "a", {"y.txt": "a"})
    b = tree(tmp_path / "b", {"y.txt": "b"})
    entries = archived(tmp_path, [a, b])["trees"]
    (tmp_path / "a" / "y.txt").write_text("go-live")
    (tmp_path / "b" / "y.txt").write_text("go-live")
    if damage == "changed":
        with open(entries[1]["archive"], "ab") as handle:
            handle.write(b"x")
    else:
        os.unlink(entries[1]["archive"])
    with pytest.raises(GoliveError) as info:
        restored(entries)
    message = str(info.value)
    assert ("is missing" if damage == "missing" else "sha256") in message and b in message
    assert "Restore it from another copy by hand" in message
    assert (tmp_path / "a" / "y.txt").read_text() == "go-live"
    assert not os.path.exists(a + ".pre-rollback-" + R1)


def test_an_archive_whose_entries_escape_is_refused(tmp_path):
    a = tree(tmp_path / "media", {})
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(str(bad), "w:gz") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    entry = dict(path=a, archive=str(bad), sha256=hashlib.sha256(bad.read_bytes()).hexdigest())
    with pytest.raises(GoliveError, match="would land outside it"):
        restored([entry])
    assert not (tmp_path / "escaped.txt").exists()


@pytest.mark.parametrize(
    "members, bad",
    [
        ([("link", "sym", "/etc"), ("link/passwd", "file", "")], ["link/passwd"]),
        ([("/etc/passwd", "file", "")], ["/etc/passwd"]),
        ([("hard", "lnk", "../outside")], ["hard"]),
        ([("link", "sym", "../elsewhere"), ("./sub/file", "file", "")], []),
    ],
)
def test_unsafe_members(members, bad):
    infos = []
    for name, kind, target in members:
        info = tarfile.TarInfo(name)
        info.type = {"sym": tarfile.SYMTYPE, "lnk": tarfile.LNKTYPE, "file": tarfile.REGTYPE}[kind]
        info.linkname = target
        infos.append(info)
    assert _file_tree.unsafe_members(infos) == bad


def test_a_tree_given_as_a_link_is_archived_as_its_directory(tmp_path):
    tree(tmp_path / "real", {"y.txt": "y"})
    os.symlink(str(tmp_path / "real"), str(tmp_path / "media"))
    entry = archived(tmp_path, [str(tmp_path / "media")])["trees"][0]
    with tarfile.open(entry["archive"]) as tar:
        assert tar.extractfile("./y.txt").read() == b"y"


@pytest.mark.parametrize(
    "dest, says",
    [
        ("archives", "is a relative path"),
        ("/var/backups/../etc", "has a '..' part"),
        ("/var/backups/", "an empty part"),
    ],
)
def test_an_archive_directory_not_written_plainly_is_refused_before_anything_is_made(tmp_path, dest, says):
    tree = tmp_path / "media"
    tree.mkdir()
    p = dict(paths=[str(tree)], dest=dest, release_id=R1, keep=5)
    with pytest.raises(GoliveError, match=says):
        _file_tree.archive_trees(p, False)
    assert not os.path.exists("archives") and not os.path.exists("/var/backups/../etc/" + R1)
