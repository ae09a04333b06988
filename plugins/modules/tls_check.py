#!/usr/bin/python
# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: tls_check
short_description: Check that a TLS endpoint's certificate verifies and stays valid long enough
version_added: 0.1.0
description:
  - Connects to a TLS endpoint (the public address of the service, usually the load balancer),
    verifies its certificate chain and that it is for O(server_name), and fails when it expires
    in fewer than O(min_days) days.
  - A failure says which it was - no connection, no TLS, a certificate that does not verify, or
    one that expires too soon - and what to do.
  - The module only reads, so it runs the same way in check mode.
author:
  - runbook.golive maintainers (@runbook-golive)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module never changes anything; in check mode it still connects.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  host:
    description:
      - The name or address to connect to, not a URL. A URL is refused, its credentials
        masked in the message.
    type: str
    required: true
  port:
    description: The TLS port.
    type: int
    default: 443
  server_name:
    description:
      - The name sent with SNI and that the certificate must be for; O(host) when not given.
      - Give the public name when O(host) is an address (V(127.0.0.1) on the load balancer itself).
    type: str
  ca_path:
    description:
      - A PEM file of the CA certificates to trust instead of the system's, for a private CA.
    type: path
  min_days:
    description: Fail when the certificate expires in fewer than this many days.
    type: int
    default: 14
  timeout:
    description: Seconds to wait for the connection and the handshake.
    type: float
    default: 10
seealso:
  - module: runbook.golive.health_wait
"""

EXAMPLES = r"""
- name: The public certificate is valid for at least 14 more days
  runbook.golive.tls_check:
    host: www.example.com

- name: Check the certificate nginx serves, on the load balancer itself
  runbook.golive.tls_check:
    host: 127.0.0.1
    server_name: shop.example.com
    ca_path: /etc/ssl/private-ca.pem
    min_days: 21
  register: golive_tls
"""

RETURN = r"""
server_name:
  description: The name the certificate was verified for.
  returned: always
  type: str
  sample: shop.example.com
subject:
  description: The certificate's subject.
  returned: when the certificate verified
  type: str
  sample: CN=shop.example.com
issuer:
  description: The certificate's issuer.
  returned: when the certificate verified
  type: str
  sample: CN=Example CA, O=Example
not_before:
  description: Start of validity, UTC.
  returned: when the certificate verified
  type: str
  sample: "2026-10-01T00:00:00Z"
not_after:
  description: End of validity, UTC.
  returned: when the certificate verified
  type: str
  sample: "2027-01-01T00:00:00Z"
days_left:
  description: Days until RV(not_after).
  returned: when the certificate verified
  type: float
  sample: 39.5
dns_names:
  description: The DNS names in the certificate's subjectAltName.
  returned: when the certificate verified
  type: list
  elements: str
  sample: [shop.example.com]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.runbook.golive.plugins.module_utils import _mask, _tls
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str", required=True),
            port=dict(type="int", default=443),
            server_name=dict(type="str"),
            ca_path=dict(type="path"),
            min_days=dict(type="int", default=14),
            timeout=dict(type="float", default=10),
        ),
        supports_check_mode=True,
    )
    params = module.params
    # A URL given as host by mistake may carry credentials: never echo them.
    _mask.protect(module, urls=[params["host"]])
    try:
        facts = _tls.check(
            params["host"],
            params["port"],
            params["server_name"],
            params["ca_path"],
            params["min_days"],
            params["timeout"],
        )
    except GoliveError as err:
        result = dict(server_name=_mask.mask_url(params["server_name"] or params["host"]))
        result.update(err.result)
        module.fail_json(msg=str(err), **result)
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
