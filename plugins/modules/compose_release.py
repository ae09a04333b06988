#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: compose_release
short_description: Release Docker Compose services by image tag, and say which tags ran before
version_added: 0.1.0
description:
  - With O(state=present), in a compose project directory, records the image tag each listed
    service runs now, sets the new tag of each (in an env file or an override file, written
    atomically), pulls the images and brings the services up. It returns the previous and the
    new tags, and the exact image each service ran (RV(previous_images)), so that a rollback can
    return to exactly the previous images (give them back in O(tags) and O(images)).
  - A tag can be pushed again and name another image later. With O(images), each listed service
    runs exactly the image recorded for it, whatever its tag names now. An image with a repo
    digest is pulled by that digest, checked to be the recorded image ID, and tagged as the
    tag again before C(up) (which then pulls nothing for it). An image without one (built on
    the host) must still be the one its tag names, otherwise the task fails before anything
    changes and says how to put it back.
  - Services already running the wanted tag, with the tag file already saying so, are not
    touched and the result is not changed.
  - With O(state=run), runs O(command) once in a one-off container of the first listed service
    (C(run --rm)), with the tag given in O(tag)/O(tags) if any, without changing any file or
    running container. For migrations from the new image before the services switch, and for
    backups from a C(backup) service.
  - Works with C(docker compose) (v2) and, where only that exists, C(docker-compose) (v1),
    see O(compose_command).
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - With O(state=present), reads the running tags, images and the tag file and reports what
        would change (the diff of the tag file, the services that would be restarted or retagged),
        without writing, pulling, tagging or starting anything.
      - With O(state=run), reports the command without running it.
  diff_mode:
    support: full
    details: The tag file before and after.
  platform:
    platforms: posix
options:
  state:
    description:
      - V(present) releases the tags; V(run) runs O(command) in a one-off container.
    type: str
    choices: [present, run]
    default: present
  project_src:
    description:
      - The compose project directory.
    type: path
    required: true
  project_name:
    description:
      - The compose project name. Defaults to the directory's name, normalised as compose does.
    type: str
  files:
    description:
      - Compose files, relative to O(project_src) or absolute. Defaults to the first of
        C(compose.yaml), C(compose.yml), C(docker-compose.yml), C(docker-compose.yaml).
    type: list
    elements: path
  services:
    description:
      - The services to release (with O(state=run), exactly one).
    type: list
    elements: str
    required: true
  tag:
    description:
      - The tag for every service of O(services) not named in O(tags), for example V(v1.4.2).
    type: str
  tags:
    description:
      - Tags per service, for example the RV(previous_tags) of a release to roll back exactly.
    type: dict
    default: {}
  images:
    description:
      - The exact image per service, for example the RV(previous_images) of a release to roll back
        exactly. Each is a dict with C(image) (the reference with the tag, which must be the tag
        released for the service), C(id) (the image ID, C(sha256:...)) and C(digest) (the repo
        digest C(<repository>@sha256:...), or null when the image has none).
      - Services not listed here run what their tag names, as without this option.
    type: dict
    default: {}
  method:
    description:
      - Where the tags are written.
      - V(env_file) sets one variable per service in O(env_file) (the compose file uses it, for
        example with C(image) set to C(registry/app:${WEB_TAG})); other lines of the file are kept.
      - V(override_file) writes O(override_file), a compose file that sets each service's
        C(image); list it in O(files) after the main file.
    type: str
    choices: [env_file, override_file]
    default: env_file
  env_file:
    description:
      - The env file, relative to O(project_src). Defaults to C(.env), which compose reads
        itself; another file is passed to compose with C(--env-file).
    type: path
  variables:
    description:
      - With O(method=env_file), the variable of each service. Defaults to the service's name in
        upper case, other characters as C(_), and C(_TAG) (C(admin-bot) is C(ADMIN_BOT_TAG)).
    type: dict
    default: {}
  override_file:
    description:
      - With O(method=override_file), the override file this module owns.
    type: path
    default: compose.golive.yml
  repositories:
    description:
      - With O(method=override_file), the image repository of each service (without tag). Defaults
        to the one the override file or the running container names.
    type: dict
    default: {}
  mode:
    description:
      - Mode of a tag file this module creates (an existing file keeps its mode).
    type: raw
    default: '0600'
  pull:
    description:
      - Pull the services' images before bringing them up.
    type: bool
    default: true
  dependencies:
    description:
      - Start the services they depend on too (C(--no-deps) when false).
    type: bool
    default: true
  command:
    description:
      - With O(state=run), the argument list to run, for example V([alembic, upgrade, head]).
    type: list
    elements: str
  compose_command:
    description:
      - V(auto) uses C(docker compose) when the plugin answers, else C(docker-compose).
      - V(v2) or V(v1) insist on one.
    type: str
    choices: [auto, v2, v1]
    default: auto
notes:
  - The running tags are read from the containers' labels (C(com.docker.compose.project) and
    C(com.docker.compose.service)) with the docker client; one-off containers are ignored.
  - After C(up), every service must run its new tag (and each of O(images) its image ID),
    otherwise the task fails and says which tags to roll back to.
seealso:
  - module: runbook.golive.compose_status
"""

EXAMPLES = r"""
- name: Release v1.4.2 of web and worker
  runbook.golive.compose_release:
    project_src: /srv/shop
    services: [web, worker]
    tag: v1.4.2
  register: release

- name: Roll back to exactly the images that ran before
  runbook.golive.compose_release:
    project_src: /srv/shop
    services: [web, worker]
    tags: "{{ release.previous_tags }}"
    images: "{{ release.previous_images | dict2items | selectattr('value') | items2dict }}"

- name: Migrate from the new image, before the services switch
  runbook.golive.compose_release:
    state: run
    project_src: /srv/shop
    services: [web]
    tag: v1.4.2
    command: [alembic, upgrade, head]

- name: Tags in an override file instead of .env
  runbook.golive.compose_release:
    project_src: /srv/shop
    files: [docker-compose.yml, compose.golive.yml]
    method: override_file
    repositories:
      web: registry.example.com/shop/web
    services: [web]
    tag: v1.4.2
"""

RETURN = r"""
project_name:
  description: The compose project name used.
  returned: always
  type: str
  sample: shop
compose_command:
  description: The compose command used.
  returned: always
  type: str
  sample: docker compose
compose_version:
  description: V(v2) or V(v1).
  returned: always
  type: str
  sample: v2
services:
  description: The services released or run.
  returned: always
  type: list
  elements: str
  sample: [web, worker]
previous_tags:
  description:
    - The tag each service ran before the task (where none ran, the tag the tag file named;
      null when neither). Give it back in O(tags) to roll back.
  returned: when O(state=present)
  type: dict
  sample: {web: v1.4.1, worker: v1.4.1}
previous_images:
  description:
    - The image each service's running containers ran before the task, by reference, image ID
      and repo digest (null when the image has none, as one built on the host); null for a service
      where none ran or they ran different images. Give the non-null ones back in O(images).
  returned: when O(state=present)
  type: dict
  sample:
    web:
      image: registry.example.com/shop/web:v1.4.1
      id: sha256:5b0d5c0e4d3f2a1b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b
      digest: registry.example.com/shop/web@sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0
    worker: null
running_tags_before:
  description: The tag the running containers of each service had before (null where none ran).
  returned: when O(state=present)
  type: dict
tags:
  description: The tags released (or, with O(state=run), the one used for the one-off container).
  returned: always
  type: dict
  sample: {web: v1.4.2, worker: v1.4.2}
running_tags:
  description: The tags running after the task.
  returned: when O(state=present) and something was changed outside check mode
  type: dict
tag_file:
  description: The env file or override file that holds the tags.
  returned: when O(state=present)
  type: str
  sample: /srv/shop/.env
tag_file_changed:
  description: Whether the tag file changed (or would change, in check mode).
  returned: when O(state=present)
  type: bool
restarted:
  description: The services brought up again (or that would be).
  returned: when O(state=present)
  type: list
  elements: str
retagged:
  description:
    - Services of O(images) whose tag named another image, tagged again as their recorded image
      (pulled by its digest) before C(up), or that would be in check mode.
  returned: when O(state=present)
  type: list
  elements: str
new_services:
  description: Listed services that had no container before.
  returned: when O(state=present)
  type: list
  elements: str
variables:
  description: With O(method=env_file), the variable of each service.
  returned: when O(state=present) and O(method=env_file)
  type: dict
  sample: {web: WEB_TAG}
command:
  description: With O(state=run), the command run.
  returned: when O(state=run)
  type: list
  elements: str
rc:
  description: With O(state=run), the exit code of the one-off container.
  returned: when O(state=run) outside check mode
  type: int
stdout:
  description: With O(state=run), its output.
  returned: when O(state=run) outside check mode
  type: str
stderr:
  description: With O(state=run), its error output.
  returned: when O(state=run) outside check mode
  type: str
seconds:
  description: With O(state=run), how long it ran.
  returned: when O(state=run) outside check mode
  type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _compose
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", default="present", choices=["present", "run"]),
            project_src=dict(type="path", required=True),
            project_name=dict(type="str"),
            files=dict(type="list", elements="path"),
            services=dict(type="list", elements="str", required=True),
            tag=dict(type="str"),
            tags=dict(type="dict", default={}),
            images=dict(type="dict", default={}),
            method=dict(type="str", default="env_file", choices=["env_file", "override_file"]),
            env_file=dict(type="path"),
            variables=dict(type="dict", default={}),
            override_file=dict(type="path", default="compose.golive.yml"),
            repositories=dict(type="dict", default={}),
            mode=dict(type="raw", default="0600"),
            pull=dict(type="bool", default=True),
            dependencies=dict(type="bool", default=True),
            command=dict(type="list", elements="str"),
            compose_command=dict(type="str", default="auto", choices=["auto", "v2", "v1"]),
        ),
        required_if=[("state", "run", ["command"])],
        supports_check_mode=True,
    )
    p = dict(module.params)
    try:
        p["mode"] = int(str(p["mode"]), 8)
    except ValueError:
        module.fail_json(msg="mode %r is not an octal file mode; give it quoted, for example '0600'" % p["mode"])
    try:
        result = (_compose.run_once if p["state"] == "run" else _compose.release)(module, p)
    except GoliveError as err:
        module.fail_json(msg=str(err), **err.result)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
