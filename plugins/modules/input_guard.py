#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: input_guard
short_description: Refuse extra vars that hold a Jinja template, before anything templates them
version_added: 0.1.0
description:
  - Extra vars (C(-e), an AWX job's extra variables or survey answers) are templates to Ansible
    the moment a task reads them. A go-live's inputs often come from CI tags or a chat command, and
    a tag named C({{ lookup('pipe', '...') }}) is a valid git ref that would run on the controller
    before any validation could refuse it.
  - This action reads the extra vars named in O(names) as they were given, without templating
    them, and fails when one of them (or any string inside a list or dict) holds C({{), C({%) or
    C({#). Every playbook of the collection runs it first, on the controller.
  - It runs on the controller only and changes nothing.
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Only reads.
  diff_mode:
    support: none
  platform:
    platforms: all
options:
  names:
    description:
      - The names of the variables to check when they were given as extra vars. Variables from
        the inventory, the roles or the playbook are not checked (they are the operator's own
        templates).
    type: list
    elements: str
    required: true
notes:
  - Only extra vars are checked; a variable of the same name from the inventory is not.
"""

EXAMPLES = r"""
- name: Refuse inputs that hold a template
  runbook.golive.input_guard:
    names: [golive_version, golive_owner, golive_confirm]
"""

RETURN = r"""
checked:
  description: The names of O(names) that were given as extra vars, and checked.
  returned: always
  type: list
  elements: str
  sample: [golive_version]
templated:
  description: Where a template was found (a variable name, with the path inside it).
  returned: failed
  type: list
  elements: str
  sample: [golive_version]
"""
