# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where input_guard finds a template in the extra vars as they were given."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.runbook.golive.plugins.action.input_guard import templated_paths


@pytest.mark.parametrize(
    "value, found",
    [
        ("v1.4.2", []),
        ("v1.4.2+build.7", []),
        ("alice", []),
        ("", []),
        (42, []),
        (None, []),
        ("{{ lookup('pipe', 'id') }}", ["x"]),
        ("v1{% if true %}{% endif %}", ["x"]),
        ("{# a comment #}v1", ["x"]),
        (b"{{ 1 }}", ["x"]),
        # Braces alone are not Jinja.
        ("{v1}", []),
        ("{ {v1} }", []),
        (["a", "{{ b }}"], ["x[1]"]),
        ({"k": "{{ v }}"}, ["x.k"]),
        ({"{{ k }}": "v"}, ["x (a key)"]),
        ([{"url": "/a"}, {"url": "{{ u }}"}], ["x[1].url"]),
    ],
)
def test_templated_paths(value, found):
    assert templated_paths(value, "x") == found
