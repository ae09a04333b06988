#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: db_migrate
short_description: Run a release's database migrations (Alembic, Django or the app's own commands)
version_added: 0.1.0
description:
  - Brings the database of a release to a revision with the release's own migration tool,
    run in the release directory O(chdir) with the release's O(virtualenv).
  - Reports the revision before and after as the tool sees it, the heads and the
    pending migrations. At the target it changes nothing (RV(ignore:changed=false)).
  - In check mode it renders the plan (Alembic C(upgrade --sql), Django C(migrate --plan))
    and changes nothing.
  - A failed migration fails with the tool's own error text and reports the revision the
    tool sees afterwards, so the caller knows whether the database moved.
  - The module reads O(env_file) itself and runs the migration commands as O(run_as). Run
    the task as root (C(become) without C(become_user)) so that it can read an env file only
    root may read (systemd reads it as root) while the release's code runs as the application
    user, never as root.
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the current revision and renders the plan; nothing is migrated.
  diff_mode:
    support: full
    details: Shows the revision before and after.
  platform:
    platforms: posix
options:
  tool:
    description:
      - The migration tool of the application.
      - V(alembic) runs C(<virtualenv>/bin/python -m alembic).
      - V(django) runs C(<virtualenv>/bin/python manage.py).
      - V(command) runs the argument lists in O(commands).
    type: str
    choices: [alembic, django, command]
    required: true
  chdir:
    description:
      - The release directory the tool runs in (where C(alembic.ini) or C(manage.py) is).
    type: path
    required: true
  virtualenv:
    description:
      - The release's virtualenv; its C(bin/python) runs the tool.
      - Without it, C(python3) from the PATH is used.
    type: path
  state:
    description:
      - V(upgraded) applies migrations up to O(revision); a database already at or past it
        is left alone.
      - V(downgraded) unapplies migrations down to O(revision), which must be applied.
    type: str
    choices: [upgraded, downgraded]
    default: upgraded
  revision:
    description:
      - The target.
      - For V(alembic) and V(command), a revision id (a unique prefix is enough for Alembic),
        V(head) (the default with O(state=upgraded)), V(heads) (every branch) or V(base).
      - For V(django), V(head), a dict of app label to migration name (V(zero) unapplies all of
        an app), C(app.migration), or a migration name together with O(app_label).
      - Typically the RV(revision_before) recorded before the go-live, to roll back.
    type: raw
  app_label:
    description:
      - With O(tool=django), the app whose migration O(revision) names.
    type: str
  alembic_config:
    description:
      - Path of the Alembic configuration file, relative to O(chdir); Alembic's default is C(alembic.ini).
    type: str
  manage_py:
    description:
      - Path of Django's C(manage.py), relative to O(chdir).
    type: str
    default: manage.py
  commands:
    description:
      - With O(tool=command), the app's own commands as argument lists (no shell).
        C({revision}) in an argument is replaced by the target revision.
      - The module cannot know beforehand whether V(head) is already applied, so it runs
        the upgrade command and reports RV(ignore:changed) when the revision moved. In check
        mode it reports a change unless the target is the current revision.
    type: dict
    suboptions:
      current:
        description:
          - Prints the current revision on a line of its own (flags in parentheses after it are
            ignored, as in Alembic's C(current)); no such line means no revision.
        type: list
        elements: str
        required: true
      upgrade:
        description: Upgrades to C({revision}).
        type: list
        elements: str
        required: true
      downgrade:
        description: Downgrades to C({revision}).
        type: list
        elements: str
      plan:
        description: Prints what an upgrade to C({revision}) would do, without doing it.
        type: list
        elements: str
  environment:
    description:
      - Environment variables for the tool, added to those of O(env_file).
      - Usually holds C(DATABASE_URL), so it is never logged. Prefer O(env_file) so the
        secret never passes through Ansible variables.
    type: dict
    default: {}
  env_file:
    description:
      - A file of C(KEY=VALUE) lines on the host (such as C(/etc/golive-app/app.env)) whose
        variables are given to the tool. C(export) prefixes, quotes and C(#) comments are allowed.
      - The module reads it as its own user (root), not as O(run_as), so it may be readable by root
        only.
      - Values of secret-looking keys and passwords inside URLs are masked in the output.
    type: path
  run_as:
    description:
      - The user the migration commands (current revision, plan, upgrade, downgrade) run as, with
        its primary and supplementary groups from the host's user and group databases and
        C(HOME), C(USER) and C(LOGNAME) set to its own. The module itself keeps its user and reads
        O(env_file) and writes O(plan_file) as root.
      - A user that does not exist is refused, as is another user than the module's own when the
        module does not run as root. The user must be able to read O(chdir) and O(virtualenv).
      - Without it, the commands run as the user the module runs as. V(root) runs them as root
        (when the module runs as root).
      - Needs Python 3.9 or later on the host when it switches users.
    type: str
  lock_timeout:
    description:
      - How long any statement of the migration waits for a lock before it fails, as a PostgreSQL
        duration (V(30s), V(500ms), V(2min)); V(0) waits without limit.
      - An C(ALTER TABLE) queued behind a long transaction otherwise holds every later query on
        that table behind it, taking the application down while it waits.
      - Given to the tool's sessions as C(-c lock_timeout=...) in C(PGOPTIONS), after any
        C(PGOPTIONS) of O(env_file) or O(environment) (so it wins over them). libpq reads
        C(PGOPTIONS), so psycopg and psycopg2 (SQLAlchemy, Django) honour it, unless the
        application's connection sets C(options) itself; drivers without libpq (asyncpg, pg8000)
        ignore it.
    type: str
    default: 30s
  statement_timeout:
    description:
      - How long any statement of the migration may run before PostgreSQL cancels it, as a
        PostgreSQL duration; V(0), the default, sets no limit, also when the database role has
        one of its own. Sent in C(PGOPTIONS) as O(lock_timeout) is.
    type: str
    default: "0"
  plan_file:
    description:
      - Save the rendered plan (the SQL of Alembic's offline mode, Django's plan) to this file
        on the host, mode 0600. Written in check mode too; without check mode the plan is
        rendered before migrating, as an audit record of what was applied.
    type: path
seealso:
  - module: runbook.golive.health_wait
"""

EXAMPLES = r"""
- name: Record the revision before the go-live (check mode renders the plan)
  runbook.golive.db_migrate:
    tool: alembic
    chdir: /srv/golive-app/releases/{{ golive_release_id }}
    virtualenv: /srv/golive-app/releases/{{ golive_release_id }}/venv
    env_file: /etc/golive-app/app.env
    plan_file: /var/lib/golive/plan-{{ golive_release_id }}.sql
    run_as: golive-app
  check_mode: true
  become: true
  register: golive_migration_plan

- name: Migrate to head as the app's user, waiting at most 10 seconds for a lock
  runbook.golive.db_migrate:
    tool: alembic
    chdir: /srv/golive-app/releases/{{ golive_release_id }}
    virtualenv: /srv/golive-app/releases/{{ golive_release_id }}/venv
    env_file: /etc/golive-app/app.env
    run_as: golive-app
    lock_timeout: 10s
    statement_timeout: 15min
  become: true

- name: Roll the schema back to where it was
  runbook.golive.db_migrate:
    tool: alembic
    state: downgraded
    revision: "{{ golive_migration_plan.revision_before | default('base', true) }}"
    chdir: /srv/golive-app/releases/{{ golive_release_id }}
    virtualenv: /srv/golive-app/releases/{{ golive_release_id }}/venv
    env_file: /etc/golive-app/app.env
    run_as: golive-app
  become: true

- name: Django, back to a named migration of one app
  runbook.golive.db_migrate:
    tool: django
    state: downgraded
    revision:
      orders: 0007_add_invoice
    chdir: /srv/shop/current
    virtualenv: /srv/shop/current/venv
    environment:
      DJANGO_SETTINGS_MODULE: shop.settings.production

- name: The application's own migration commands
  runbook.golive.db_migrate:
    tool: command
    chdir: /srv/billing/current
    commands:
      current: [bin/billing, db, version]
      upgrade: [bin/billing, db, migrate, --to, "{revision}"]
      downgrade: [bin/billing, db, rollback, --to, "{revision}"]
    env_file: /etc/billing/billing.env
"""

RETURN = r"""
tool:
  description: The tool that ran.
  returned: always
  type: str
  sample: alembic
target:
  description:
    - The target as resolved (a full Alembic revision id, V(head), V(base), or for Django a
      dict of app to migration).
  returned: always
  type: raw
  sample: head
revision_before:
  description:
    - The revision before the run as the tool reports it. Alembic and O(tool=command), one
      revision id, null when the database has none, a list when it sits on several branches.
      Django, a dict of app label to the latest applied migration (V(zero) when none).
    - Give it back as O(revision) with O(state=downgraded) to roll back.
  returned: always
  type: raw
  sample: 3f1a9c2e7b10
revision_after:
  description:
    - The revision after the run, in the same form. In check mode, equal to RV(revision_before).
      After a failed migration, what the tool reports then (null if it could not tell).
  returned: always
  type: raw
  sample: 8c2d4e6f0a12
heads:
  description:
    - Alembic, the head revisions of the release. Django, a dict of app to its latest
      migration. Empty for O(tool=command).
  returned: always
  type: raw
  sample: [8c2d4e6f0a12]
pending:
  description:
    - The migrations the run applies (Alembic revision ids or Django C(app.migration)), in
      the order they run; for a downgrade the ones unapplied, newest first. Empty at the target.
  returned: always
  type: list
  elements: str
  sample: [5b7c9d1e3f20, 8c2d4e6f0a12]
plan:
  description:
    - The rendered plan (SQL for Alembic, Django's C(migrate --plan) output), when there is
      something to do and the module runs in check mode or O(plan_file) is set; null otherwise.
  returned: always
  type: str
  sample: "BEGIN;\nALTER TABLE items ADD COLUMN sku VARCHAR(64);\n..."
plan_file:
  description: The file the plan was saved to, or null.
  returned: always
  type: str
  sample: /var/lib/golive/plan-v1.1.0.sql
run_as:
  description: The user the migration commands ran as (O(run_as)); null when not given.
  returned: always
  type: str
  sample: golive-app
stderr:
  description: The tool's error output when the migration failed.
  returned: failure
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _migrate
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            tool=dict(type="str", required=True, choices=["alembic", "django", "command"]),
            chdir=dict(type="path", required=True),
            virtualenv=dict(type="path"),
            state=dict(type="str", default="upgraded", choices=["upgraded", "downgraded"]),
            revision=dict(type="raw"),
            app_label=dict(type="str"),
            alembic_config=dict(type="str"),
            manage_py=dict(type="str", default="manage.py"),
            commands=dict(
                type="dict",
                options=dict(
                    current=dict(type="list", elements="str", required=True),
                    upgrade=dict(type="list", elements="str", required=True),
                    downgrade=dict(type="list", elements="str"),
                    plan=dict(type="list", elements="str"),
                ),
            ),
            environment=dict(type="dict", default={}, no_log=True),
            env_file=dict(type="path"),
            plan_file=dict(type="path"),
            run_as=dict(type="str"),
            lock_timeout=dict(type="str", default="30s"),
            statement_timeout=dict(type="str", default="0"),
        ),
        required_if=[("state", "downgraded", ["revision"]), ("tool", "command", ["commands"])],
        supports_check_mode=True,
    )
    try:
        tool, revision = _migrate.setup(module, module.params)
        result = _migrate.migrate(tool, module.params["state"], revision, module.check_mode, module.params["plan_file"])
    except GoliveError as err:
        module.fail_json(msg=str(err), **err.result)
    if module._diff:
        after = result["target"] if module.check_mode and result["changed"] else result["revision_after"]
        result["diff"] = dict(before="revision: %s\n" % (result["revision_before"],), after="revision: %s\n" % (after,))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
