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
