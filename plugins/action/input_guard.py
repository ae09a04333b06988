# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""runbook.golive.input_guard: refuses extra vars that hold a template, before anything
templates them (see plugins/modules/input_guard.py for the documentation)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

MARKERS = ("{{", "{%", "{#")


def templated_paths(value, where):
    """The paths inside ``value`` (a string, or lists and dicts of them) whose text holds a
    Jinja marker, e.g. ``['golive_version']`` or ``['verify_smoke_checks[0].url']``."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += templated_paths(key, "%s (a key)" % where)
            found += templated_paths(item, "%s.%s" % (where, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found += templated_paths(item, "%s[%d]" % (where, index))
    elif isinstance(value, (str, bytes)):
        text = to_text(value, errors="surrogate_or_strict")
        if any(marker in text for marker in MARKERS):
            found.append(where)
    return found


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("names",))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        names = self._task.args.get("names", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise AnsibleActionFail("input_guard: names must be a list of variable names")
        # The extra vars as given (-e, an AWX job's extra variables), before any templating:
        # reading them through task_vars or a template would run the template.
        manager = getattr(self._task, "_variable_manager", None)
        extra = getattr(manager, "extra_vars", None)
        if extra is None:
            raise AnsibleActionFail("input_guard: this Ansible does not expose the extra vars to check")
        bad = []
        for name in names:
            if name in extra:
                bad += templated_paths(extra[name], name)
        result.update(changed=False, checked=[n for n in names if n in extra])
        if bad:
            result.update(
                failed=True,
                templated=bad,
                msg=(
                    "%s %s a template ({{ }}, {%% %%} or {# #}): Ansible would run it on the controller. "
                    "A release tag, an owner or a confirmation never holds one; pass the plain value "
                    "(for untrusted input from CI or chat, check it before it reaches -e). Nothing was changed."
                    % (", ".join(bad), "holds" if len(bad) == 1 else "hold")
                ),
            )
        return result
