#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: file_tree
short_description: Archive file trees (media uploads) before a go-live, and put them back
version_added: 0.1.0
description:
  - With O(state=archived), makes one tar.gz of each directory of O(paths) for the release
    O(release_id), as C(<dest>/<key>/<release_id>.tar.gz), where the key is the tree's path
    without its leading C(/), each C(/) as C(~) and any character but letters, digits, C(.),
    C(_) and C(-) as C(%XX) (C(/srv/shop/media) is C(srv~shop~media)), so that two trees never
    share an archive. Each archive is written as C(.part), synced, then renamed, so one that exists
    is whole; an existing one of the same release is kept (a rerun changes nothing). The
    O(keep) newest archives of each tree stay, the others are removed.
  - The archives are the running user's (root's), mode 0600, in directories of mode 0700.
  - A path that is relative, listed twice, inside another listed tree, not an existing
    directory, or holding O(dest) is refused before anything changes.
  - With O(state=restored), checks every archive of O(archives) against its SHA-256 (and that
    no entry would land outside its tree) before any tree is touched, then for each tree
    unpacks the archive next to it (C(<path>.restoring-<release_id>)) and swaps it in; what was
    there is kept as C(<path>.pre-rollback-<release_id>). A tree whose kept copy exists was put
    back already and is left alone, so a rerun changes nothing.
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - With O(state=archived), reports the archives it would write and remove, writing nothing.
      - With O(state=restored), checks the archives and reports the trees it would put back,
        changing none.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  state:
    description:
      - V(archived) archives O(paths); V(restored) puts back the trees of O(archives).
    type: str
    choices: [archived, restored]
    required: true
  release_id:
    description:
      - The go-live's release id. It names the archives (it begins with the release's UTC time,
        so that by name is by age) and the kept copies of a restore.
    type: str
    required: true
  paths:
    description:
      - With O(state=archived), the directories to archive, by their absolute paths.
    type: list
    elements: path
  dest:
    description:
      - With O(state=archived), the directory of the archives (created with mode 0700).
    type: path
  keep:
    description:
      - With O(state=archived), how many archives of each tree stay (this release's always does).
    type: int
    default: 5
  archives:
    description:
      - With O(state=restored), the trees to put back, as RV(trees) of O(state=archived) returned them.
    type: list
    elements: dict
    suboptions:
      path:
        description: The tree's path.
        type: path
        required: true
      archive:
        description: Its archive.
        type: path
        required: true
      sha256:
        description: The archive's SHA-256 when it was written.
        type: str
        required: true
      size:
        description: The archive's size when it was written (not used).
        type: int
      host:
        description: The host it was made on, as the prepare role records it (not used).
        type: str
notes:
  - Owners, modes and symbolic links are archived and put back as they are (run it as root).
seealso:
  - module: runbook.golive.pg_backup
"""

EXAMPLES = r"""
- name: Archive the media uploads before the go-live
  runbook.golive.file_tree:
    state: archived
    paths: [/srv/shop/media]
    dest: /var/backups/runbook-golive/files
    release_id: "{{ release_id }}"
    keep: 5
  become: true
  register: archived

- name: Put them back in a rollback
  runbook.golive.file_tree:
    state: restored
    archives: "{{ archived.trees }}"
    release_id: "{{ release_id }}"
  become: true
"""

RETURN = r"""
archive_dir:
  description: The directory of the archives (O(dest), normalised).
  returned: when O(state=archived)
  type: str
  sample: /var/backups/runbook-golive/files
trees:
  description:
    - Each tree's archive of this release, its SHA-256 and size (null in check mode when it
      is not written yet).
  returned: when O(state=archived)
  type: list
  elements: dict
  sample:
    - path: /srv/shop/media
      archive: /var/backups/runbook-golive/files/srv~shop~media/20261122T020000Z-1a2b3c.tar.gz
      sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
      size: 1048576
created:
  description: The trees whose archive of this release this task wrote (or would write).
  returned: when O(state=archived)
  type: list
  elements: str
  sample: [/srv/shop/media]
pruned:
  description: The older archives removed (or that would be) beyond O(keep) per tree.
  returned: when O(state=archived)
  type: list
  elements: str
restored:
  description: The trees put back (or that would be, in check mode).
  returned: when O(state=restored)
  type: list
  elements: str
  sample: [/srv/shop/media]
kept:
  description: For each tree put back, where what the go-live left is kept.
  returned: when O(state=restored)
  type: dict
  sample: {/srv/shop/media: /srv/shop/media.pre-rollback-20261122T020000Z-1a2b3c}
already:
  description: The trees put back by an earlier run of the same rollback, left alone.
  returned: when O(state=restored)
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _file_tree
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", required=True, choices=["archived", "restored"]),
            release_id=dict(type="str", required=True),
            paths=dict(type="list", elements="path"),
            dest=dict(type="path"),
            keep=dict(type="int", default=5),
            archives=dict(
                type="list",
                elements="dict",
                options=dict(
                    path=dict(type="path", required=True),
                    archive=dict(type="path", required=True),
                    sha256=dict(type="str", required=True),
                    size=dict(type="int"),
                    host=dict(type="str"),
                ),
            ),
        ),
        required_if=[("state", "archived", ["paths", "dest"]), ("state", "restored", ["archives"])],
        supports_check_mode=True,
    )
    p = module.params
    try:
        if p["state"] == "archived":
            result = _file_tree.archive_trees(p, module.check_mode)
        else:
            result = _file_tree.restore_trees(p, module.check_mode)
    except GoliveError as err:
        module.fail_json(msg=str(err), **err.result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
