# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Private to runbook.golive: the TLS certificate check of a public endpoint. Not a public API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import ssl
import time

from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError
from ansible_collections.runbook.golive.plugins.module_utils._mask import mask_url

DAY = 86400.0


def _name(rdns):
    """``subject``/``issuer`` of ``getpeercert()`` as ``CN=..., O=...``."""
    parts = []
    for rdn in rdns or ():
        for key, value in rdn:
            short = {"commonName": "CN", "organizationName": "O", "countryName": "C"}.get(key, key)
            parts.append("%s=%s" % (short, value))
    return ", ".join(parts)


def describe(cert, now):
    """The facts of a verified peer certificate (``getpeercert()``) at epoch ``now``."""
    not_after = ssl.cert_time_to_seconds(cert["notAfter"])
    not_before = ssl.cert_time_to_seconds(cert["notBefore"])
    return dict(
        subject=_name(cert.get("subject")),
        issuer=_name(cert.get("issuer")),
        not_before=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(not_before)),
        not_after=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(not_after)),
        days_left=round((not_after - now) / DAY, 2),
        dns_names=[value for kind, value in cert.get("subjectAltName", ()) if kind == "DNS"],
    )


def judge(facts, min_days, endpoint):
    """Raise when the certificate expires in fewer than ``min_days`` days."""
    if facts["days_left"] < min_days:
        raise GoliveError(
            "the TLS certificate of %s (%s) expires %s, in %.1f days; at least %d are required. "
            "Renew it before going live, or lower min_days if that is known and accepted."
            % (endpoint, facts["subject"], facts["not_after"], facts["days_left"], min_days),
            **facts,
        )


def fetch(host, port, server_name, ca_path=None, timeout=10.0):
    """Connect, verify the chain and the name, and return ``getpeercert()``."""
    endpoint = "%s:%d" % (host, port)
    try:
        context = ssl.create_default_context(cafile=ca_path) if ca_path else ssl.create_default_context()
    except (OSError, ssl.SSLError) as err:
        raise GoliveError(
            "cannot read the CA bundle %s: %s; give the PEM file of the CA that signs it" % (ca_path, err)
        )
    try:
        # Nested, not one parenthesized with: that needs Python 3.10 and hosts may run older ones.
        with socket.create_connection((host, port), timeout=timeout) as sock:  # noqa: SIM117
            with context.wrap_socket(sock, server_hostname=server_name) as tls:
                return tls.getpeercert()
    except ssl.SSLCertVerificationError as err:
        raise GoliveError(
            "the TLS certificate of %s for %s does not verify: %s. Fix the certificate, or give ca_path "
            "(the PEM of a private CA) or the server_name the certificate is for"
            % (endpoint, server_name, err.verify_message or err)
        )
    except ssl.SSLError as err:
        raise GoliveError(
            "TLS handshake with %s (%s) failed: %s; is it serving TLS on that port?" % (endpoint, server_name, err)
        )
    except (OSError, socket.timeout) as err:
        raise GoliveError("cannot connect to %s: %s; check host and port, and that it listens" % (endpoint, err))


def check(host, port, server_name=None, ca_path=None, min_days=14, timeout=10.0, now=None):
    """The whole check: a dict of facts, or GoliveError saying what is wrong."""
    if "/" in host or "@" in host:
        raise GoliveError(
            "host %r is a URL, not a name or address: give the name alone (host: shop.example.com) "
            "and the port in port" % mask_url(host)
        )
    server_name = server_name or host
    cert = fetch(host, port, server_name, ca_path, timeout)
    facts = describe(cert, time.time() if now is None else now)
    facts.update(host=host, port=port, server_name=server_name, min_days=min_days)
    judge(facts, min_days, "%s:%d" % (host, port))
    return facts
