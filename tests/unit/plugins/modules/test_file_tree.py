# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.runbook.golive.plugins.modules import file_tree

RID = "20261122T020000Z-1a2b3c"


def test_archive_then_restore_with_what_prepare_records(tmp_path, run_module):
    media = tmp_path / "media"
    media.mkdir()
    (media / "up.txt").write_text("before")
    args = dict(state="archived", paths=[str(media)], dest=str(tmp_path / "files"), release_id=RID)
    check, failed = run_module(file_tree.main, args, check_mode=True)
    assert not failed and check["changed"] and not (tmp_path / "files").exists()
    result, failed = run_module(file_tree.main, args)
    assert not failed and result["changed"]
    archive = result["trees"][0]["archive"]
    assert os.path.dirname(archive).endswith("~media") and archive.endswith("/%s.tar.gz" % RID)
    again, _failed = run_module(file_tree.main, args)
    assert not again["changed"]

    (media / "up.txt").write_text("after")
    # The prepare role adds the host to each entry; the module takes the entries as they are.
    entries = [dict(t, host="app1") for t in result["trees"]]
    back, failed = run_module(file_tree.main, dict(state="restored", archives=entries, release_id=RID))
    assert not failed and back["restored"] == [str(media)]
    assert (media / "up.txt").read_text() == "before"


def test_a_bad_list_fails_with_the_reason(tmp_path, run_module):
    (tmp_path / "m").mkdir()
    args = dict(state="archived", paths=[str(tmp_path / "m"), str(tmp_path / "m") + "/"], dest="/x", release_id=RID)
    result, failed = run_module(file_tree.main, dict(args, dest=str(tmp_path / "files")))
    assert failed and "twice" in result["msg"] and not (tmp_path / "files").exists()


def test_restore_needs_archives(run_module):
    result, failed = run_module(file_tree.main, dict(state="restored", release_id=RID))
    assert failed and "archives" in result["msg"]
