# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: the collection's exception types. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class GoliveError(Exception):
    """An error a module reports with fail_json(msg=str(err), **err.result)."""

    def __init__(self, msg, **result):
        super(GoliveError, self).__init__(msg)
        self.msg = msg
        self.result = result

    def __str__(self):
        return self.msg
