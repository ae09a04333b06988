# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: the paths a module writes or locks, checked before anything is made. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible.module_utils.six import string_types

from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def control_char(text):
    """The first control character in ``text`` (C0, DEL or C1), or None."""
    for char in text:
        if ord(char) < 32 or 127 <= ord(char) < 160:
            return char
    return None


def check_absolute(option, path, example):
    """Refuse ``path``, given as ``option``, unless it is absolute and written plainly: no
    ``.`` or ``..`` part, no empty part (``//``, a trailing ``/``), no control character, not
    ``/`` itself. A module would otherwise create or lock something relative to its working
    directory, or somewhere other than where the path seems to point. Returns ``path``."""
    if not isinstance(path, string_types) or not path:
        raise GoliveError("%s is empty; give an absolute path such as %s. Nothing was changed." % (option, example))
    char = control_char(path)
    if char is not None:
        raise GoliveError(
            "%s %r holds a control character (%r); give an absolute path without one, such as %s. "
            "Nothing was changed." % (option, path, char, example)
        )
    if not path.startswith("/"):
        raise GoliveError(
            "%s %r is a relative path, which would be taken from the module's working directory on the "
            "target; give an absolute path such as %s. Nothing was changed." % (option, path, example)
        )
    if path == "/":
        raise GoliveError(
            "%s is /, the root directory; give a path below it such as %s. Nothing was changed." % (option, example)
        )
    parts = path[1:].split("/")
    odd = [part for part in parts if part in ("", ".", "..")]
    if odd:
        what = "an empty part (// or a trailing /)" if odd[0] == "" else "a %r part" % odd[0]
        plain = posixpath.normpath("/" + path.lstrip("/"))
        raise GoliveError(
            "%s %r has %s; write the path out plainly, without ., .. or empty parts (%s, if that is the one meant). "
            "Nothing was changed." % (option, path, what, plain)
        )
    return path
