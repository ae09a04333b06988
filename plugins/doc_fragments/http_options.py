# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Options of every module that speaks HTTP (plugins/module_utils/_http.py).
    DOCUMENTATION = r"""
options:
  url:
    description:
      - The URL to request, for example V(http://127.0.0.1:8000/health).
      - A service behind a unix socket can be written V(unix:/run/app/app.sock:/health),
        or give O(unix_socket) and an C(http://localhost/...) URL.
    type: str
    required: true
  unix_socket:
    description:
      - Path of a unix socket to connect to instead of the URL's host and port.
    type: path
  headers:
    description:
      - Extra request headers.
    type: dict
    default: {}
  host_header:
    description:
      - Value of the C(Host) header, to check a virtual host through a load balancer
        by its address.
    type: str
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates to verify the server against.
    type: path
  request_timeout:
    description:
      - Seconds one request may take before it counts as not answered.
      - It bounds each network operation and the whole response body too, counted from the
        start of the request, so a server that trickles its answer a byte at a time is not
        waited for beyond it.
      - A response body larger than 1 MiB is not read further and counts as no answer.
    type: float
    default: 5.0
"""

    # The credentials of health_wait and smoke_check (_http.HTTP_AUTH_ARGUMENT_SPEC).
    AUTH = r"""
options:
  url_username:
    description:
      - User name of HTTP Basic authentication, sent with every request. The recommended
        way to give credentials, together with O(url_password).
    type: str
  url_password:
    description:
      - Password of HTTP Basic authentication, with O(url_username). Never logged.
    type: str
  secret_headers:
    description:
      - Request headers whose values are secret (C(Authorization), an API key), sent
        with every request like O(headers). Never logged.
    type: dict
    default: {}
notes:
  - >-
    A value shorter than four characters, or such as V(true), is taken for a flag, not a
    credential, and is not hidden from the module arguments: Ansible would hide every equal
    word and number of the result too.
  - >-
    Ansible writes a module's arguments to the target's system log before the module runs, with
    only URL passwords masked. Give credentials in O(url_username) and O(url_password), and secret
    headers in O(secret_headers), which Ansible never logs, rather than in URLs or O(headers).
"""
