# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""golive_db_ssl_mode: verify-full for a remote database by default, no TLS required over a
unix socket or loopback; the errors of a certificate check explained with their fix."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.runbook.golive.plugins.module_utils import _pg

ROLE = Path(__file__).resolve().parents[4] / "roles" / "golive"


def default_ssl_mode(host):
    """golive_db_ssl_mode as the golive role's defaults give it for ``golive_db_host: host``."""
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    templar = Templar(loader=DataLoader(), variables=dict(defaults, golive_db_host=host))
    return templar.template(trust_as_template(defaults["golive_db_ssl_mode"]))


@pytest.mark.parametrize(
    "host",
    ["db1", "db.example.com", "10.0.0.5", "127.example.com", "127.0.0.1.example.com", "localhost.example.com", "::2"],
)
def test_a_remote_database_is_verified_by_default(host):
    assert default_ssl_mode(host) == "verify-full"


@pytest.mark.parametrize(
    "host", ["localhost", "127.0.0.1", "127.1.2.3", "::1", "/var/run/postgresql", "", None, " localhost "]
)
def test_a_socket_or_loopback_needs_no_tls(host):
    assert default_ssl_mode(host) == "prefer"


def test_the_role_accepts_only_libpq_modes():
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())
    option = spec["argument_specs"]["main"]["options"]["golive_db_ssl_mode"]
    assert option["choices"] == ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
    assert option["choices"] == _pg.PG_ARGUMENT_SPEC["ssl_mode"]["choices"]


@pytest.mark.parametrize(
    "stderr, expected",
    [
        (
            'psql: error: connection to server at "db1" (172.18.0.5), port 5432 failed: root certificate file '
            '"/root/.postgresql/root.crt" does not exist\nEither provide the file or change sslmode to disable '
            "server certificate verification.",
            "against the CA in /root/.postgresql/root.crt on the target, and there is none",
        ),
        (
            'psql: error: connection to server at "db1" (172.18.0.5), port 5432 failed: server certificate for '
            '"db-primary.internal" does not match host name "db1"',
            "is for db-primary.internal, not db1: connect by a name the certificate holds",
        ),
        (
            'psql: error: connection to server at "db1" (172.18.0.5), port 5432 failed: SSL error: certificate '
            "verify failed",
            "is not signed by the CA in ~/.postgresql/root.crt on the target",
        ),
    ],
)
def test_a_failed_certificate_check_is_explained(stderr, expected):
    msg = _pg.explain(stderr, "db1:5432", "app")
    assert msg is not None and expected in msg
    assert "db1:5432" in msg
