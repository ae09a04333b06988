#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: smoke_command
short_description: Run a team's own smoke command against the release and judge it by its exit code
version_added: 0.1.0
description:
  - Runs one command, such as C(pytest -m smoke), C(npm run smoke:sso) or a C(test-smoke.sh), with the
    release under test in its environment (O(release)), and passes when it exits 0 within O(timeout)
    seconds.
  - The command is an argument list (O(argv)), never a shell string. It reads nothing (its stdin is
    C(/dev/null)) and runs in a session and process group of its own. At O(timeout) the whole group
    gets C(SIGTERM), and C(SIGKILL) 5 seconds later, and the task fails saying so. Whatever the command
    leaves running in its group when it ends is killed too.
  - The task fails when the command exits non-zero, times out, cannot be started, or O(chdir) is not
    a directory, and the result (RV(rc), RV(seconds), the end of RV(output)) is returned also then. To
    look at it and decide later, register the result and set C(failed_when) to V(false), or put the
    task in a C(block) with C(rescue).
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - In check mode the command is not run. The options are still checked, O(chdir) must exist
        and the program must be found, and the result says what would run (RV(skipped) is V(true)).
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  name:
    description:
      - How the command is reported, in the message and the release log.
    type: str
    required: true
  argv:
    description:
      - The command and its arguments, the program first, for example V([pytest, -m, smoke]).
      - The program is looked for on the C(PATH) (the one O(env) sets, if any) unless it holds a C(/);
        a relative path is relative to O(chdir).
      - Put no secret here (it is shown); give secrets in O(env).
    type: list
    elements: str
    required: true
  timeout:
    description:
      - Seconds the command may run. At the timeout its whole process group is killed and the task
        fails.
    type: float
    default: 300
  chdir:
    description:
      - The directory the command runs in; the module's own when not set.
    type: path
  env:
    description:
      - More environment variables for the command, names to values, for example a test user's token.
      - The values are treated as secrets (the option is C(no_log)) and are masked in RV(output) and
        the message. A value shorter than four characters or such as V(true) is no credential and is
        not masked.
      - The names of O(release) (C(GOLIVE_VERSION) and the others) are refused here.
    type: dict
    default: {}
  release:
    description:
      - The release under test, given to the command as C(GOLIVE_VERSION), C(GOLIVE_RELEASE_ID),
        C(GOLIVE_ENVIRONMENT), C(GOLIVE_URL) and C(GOLIVE_PREVIOUS_VERSION). A key that is not set
        leaves its variable out.
    type: dict
    default: {}
    suboptions:
      version:
        description: The version under test, as C(GOLIVE_VERSION).
        type: str
      release_id:
        description: The run's release id, as C(GOLIVE_RELEASE_ID).
        type: str
      environment:
        description: The environment (prod, staging...), as C(GOLIVE_ENVIRONMENT).
        type: str
      url:
        description:
          - The base URL the release answers at, as C(GOLIVE_URL). A password or token in it is masked
            in the output.
        type: str
      previous_version:
        description: The version served before, as C(GOLIVE_PREVIOUS_VERSION).
        type: str
notes:
  - >-
    Secrets are masked (V(********)) in RV(output), RV(argv) and the message: the values of O(env),
    passwords and secret-named parameters of URLs, C(NAME=value) and C(NAME: value) where the name
    looks secret (V(TOKEN), V(password), C(Authorization: Bearer ...)), and secret-named fields of
    JSON.
  - The command runs as the user the task runs as (use C(become) and C(become_user) for another).
  - The runbook.golive.verify role runs the commands of C(verify_smoke_commands) with this module,
    after its HTTP smoke checks, and rolls the release back when one fails.
seealso:
  - module: runbook.golive.smoke_check
  - module: runbook.golive.release_log
"""

EXAMPLES = r"""
- name: The team's pytest smoke suite against the new release, from the controller
  runbook.golive.smoke_command:
    name: pytest smoke
    argv: [pytest, -m, smoke, --env=prod]
    chdir: /srv/checkout/app
    timeout: 600
    env:
      SMOKE_USER_TOKEN: "{{ vault_smoke_token }}"
    release:
      version: "{{ golive_version }}"
      environment: prod
      url: https://app.example.com
  delegate_to: localhost

- name: The SSO smoke script, kept for a decision later
  runbook.golive.smoke_command:
    name: sso
    argv: [npm, run, smoke:sso]
    chdir: /srv/web
    env:
      SMOKE_API_URL: https://test.example.com
  register: sso_smoke
  failed_when: false
"""

RETURN = r"""
name:
  description: The command's name.
  returned: always
  type: str
  sample: pytest smoke
argv:
  description: The command that ran, its secrets masked.
  returned: always
  type: list
  elements: str
  sample: [pytest, -m, smoke]
timeout:
  description: The seconds it was allowed.
  returned: always
  type: float
  sample: 300.0
passed:
  description: Whether it exited 0 within its timeout; null in check mode.
  returned: always
  type: bool
  sample: true
skipped:
  description: Whether it was not run (check mode).
  returned: always
  type: bool
  sample: false
rc:
  description:
    - Its exit code; negative when a signal ended it (V(-15) for the timeout's C(SIGTERM)); null
      when it did not run.
  returned: always
  type: int
  sample: 0
timed_out:
  description: Whether it was still running at its timeout and was killed with its process group.
  returned: always
  type: bool
  sample: false
seconds:
  description: How long it ran, in seconds; null when it did not run.
  returned: always
  type: float
  sample: 12.3
output:
  description:
    - The end of what it wrote (stdout and stderr together, in order), at most 2048 characters, its
      secrets masked. A first line cut short is left out.
  returned: always
  type: str
  sample: "===== 14 passed, 2 deselected in 11.87s ====="
output_bytes:
  description: How many bytes it wrote in all.
  returned: always
  type: int
  sample: 5210
output_truncated:
  description: Whether RV(output) is only the end of what it wrote.
  returned: always
  type: bool
  sample: true
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _smoke_command
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            argv=dict(type="list", elements="str", required=True),
            timeout=dict(type="float", default=_smoke_command.DEFAULT_TIMEOUT),
            chdir=dict(type="path"),
            env=dict(type="dict", default={}, no_log=True),
            release=dict(
                type="dict",
                default={},
                options=dict(
                    version=dict(type="str"),
                    release_id=dict(type="str"),
                    environment=dict(type="str"),
                    url=dict(type="str"),
                    previous_version=dict(type="str"),
                ),
            ),
        ),
        supports_check_mode=True,
    )
    p = module.params
    secrets = _smoke_command.protect(module, p["env"], p["release"])
    try:
        result, failed = _smoke_command.run(
            module,
            p["name"],
            p["argv"],
            p["timeout"],
            chdir=p["chdir"],
            env=p["env"],
            release=p["release"],
            secrets=secrets,
            check_mode=module.check_mode,
        )
    except GoliveError as err:
        module.fail_json(**_smoke_command.not_run(p["name"], p["argv"], p["timeout"], secrets, msg="%s" % err))
    if failed:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
