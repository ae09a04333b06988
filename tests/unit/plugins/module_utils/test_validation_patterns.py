# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Patterns that validate a name, tag, version or identifier end at the end of the text: ``$``
also matches before a final newline, so ``v1.0.0\\n`` would pass for ``v1.0.0``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.runbook.golive.plugins.filter import golive
from ansible_collections.runbook.golive.plugins.module_utils import (
    _compose,
    _migrate,
    _pg_changes,
    _pg_schema_undo,
    _release_log,
)
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


@pytest.mark.parametrize(
    "pattern, valid",
    [
        (_compose.TAG_RE, "v1.4.2"),
        (_compose.VARIABLE_RE, "APP_TAG"),
        (_migrate._ENV_KEY, "DATABASE_URL"),
        (_release_log._COMMIT, "f92662a"),
        (_release_log._TABLE, "golive.release_log"),
        (_release_log._ISO, "2026-11-22T06:00:00Z"),
        (_pg_changes._SNAPSHOT, "745:749:746"),
        (_pg_schema_undo._LOCK_TIMEOUT, "10s"),
        (golive._VERSION, "v1.0.0+build"),
        (golive._HHMM, "02:00"),
        (golive._CLOCK, "2026-11-18T03:00 3"),
    ],
)
def test_a_trailing_newline_is_not_part_of_a_valid_value(pattern, valid):
    assert pattern.match(valid)
    assert not pattern.match(valid + "\n")


def test_an_image_tag_with_a_newline_is_refused():
    _compose.validate_tags({"app": "v1.4.2"})
    with pytest.raises(GoliveError, match="not a valid image tag"):
        _compose.validate_tags({"app": "v1.4.2\n"})


def test_a_release_log_table_with_a_newline_is_refused():
    assert _release_log.table_sql_name("golive.release_log") == '"golive"."release_log"'
    with pytest.raises(GoliveError, match="plain name or schema.name"):
        _release_log.table_sql_name("release_log\n")
