# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _paths
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

EXAMPLE = "/var/lib/x"


@pytest.mark.parametrize("path", ["/var/lib/runbook-golive/locks/golive", "/a", "/srv/app..old/.hidden/x.json", "/é/ü"])
def test_plain_absolute_paths_pass(path):
    assert _paths.check_absolute("path", path, EXAMPLE) == path


@pytest.mark.parametrize(
    "path, says",
    [
        ("", "path is empty; give an absolute path such as /var/lib/x. Nothing was changed."),
        (None, "path is empty"),
        (
            "a/b",
            "path 'a/b' is a relative path, which would be taken from the module's working directory on the target",
        ),
        ("~/x", "path '~/x' is a relative path"),
        ("/", "path is /, the root directory; give a path below it such as /var/lib/x"),
        ("/a/../b", "path '/a/../b' has a '..' part; write the path out plainly, without ., .. or empty parts (/b, if"),
        ("/a/./b", "has a '.' part"),
        ("/a/.", "has a '.' part"),
        ("//a", "has an empty part (// or a trailing /)"),
        ("/a//b", "(/a/b, if that is the one meant)"),
        ("/a/", "(/a, if that is the one meant)"),
        ("/a\x00b", "holds a control character ('\\x00')"),
        ("/a\tb", "holds a control character ('\\t')"),
        ("/a\x85b", "holds a control character ('\\x85')"),
    ],
)
def test_other_paths_are_refused_naming_the_option_and_the_fix(path, says):
    with pytest.raises(GoliveError) as info:
        _paths.check_absolute("path", path, EXAMPLE)
    assert says in str(info.value) and str(info.value).endswith("Nothing was changed.")
