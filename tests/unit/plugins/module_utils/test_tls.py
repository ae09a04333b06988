# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The TLS check against real TLS servers on 127.0.0.1, with certificates made by openssl."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

from ansible_collections.runbook.golive.plugins.module_utils import _tls
from ansible_collections.runbook.golive.plugins.module_utils._errors import GoliveError

pytestmark = pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command to make certificates")


def openssl(*argv):
    subprocess.run(("openssl",) + argv, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA and two certificates it signs for shop.lab.test: one for 90 days, one for 5."""
    d = tmp_path_factory.mktemp("pki")
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(d / "ca.key"),
        "-out",
        str(d / "ca.pem"),
        "-days",
        "30",
        "-subj",
        "/CN=Lab Test CA",
    )
    for name, days in (("long", 90), ("short", 5)):
        openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(d / (name + ".key")),
            "-out",
            str(d / (name + ".csr")),
            "-subj",
            "/CN=shop.lab.test",
        )
        (d / "ext.cnf").write_text("subjectAltName=DNS:shop.lab.test\n")
        openssl(
            "x509",
            "-req",
            "-in",
            str(d / (name + ".csr")),
            "-CA",
            str(d / "ca.pem"),
            "-CAkey",
            str(d / "ca.key"),
            "-CAcreateserial",
            "-out",
            str(d / (name + ".pem")),
            "-days",
            str(days),
            "-extfile",
            str(d / "ext.cnf"),
        )
    return d


@pytest.fixture
def tls_server(pki):
    """Start a TLS server on 127.0.0.1 with the named certificate; returns its port."""
    servers = []

    def start(name):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(pki / (name + ".pem")), str(pki / (name + ".key")))
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        listener.settimeout(0.2)
        stop = threading.Event()

        def serve():
            while not stop.is_set():
                try:
                    conn = listener.accept()[0]
                except socket.timeout:
                    continue
                try:
                    with context.wrap_socket(conn, server_side=True):
                        pass
                except (ssl.SSLError, OSError):
                    conn.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        servers.append((stop, thread, listener))
        return listener.getsockname()[1]

    yield start
    for stop, thread, listener in servers:
        stop.set()
        thread.join(2)
        listener.close()


def test_valid_certificate_is_described(pki, tls_server):
    port = tls_server("long")
    facts = _tls.check("127.0.0.1", port, "shop.lab.test", str(pki / "ca.pem"), min_days=14)
    assert facts["subject"] == "CN=shop.lab.test"
    assert facts["issuer"] == "CN=Lab Test CA"
    assert facts["dns_names"] == ["shop.lab.test"]
    assert 89 < facts["days_left"] <= 90
    assert facts["not_after"].endswith("Z")


def test_certificate_expiring_too_soon_is_refused(pki, tls_server):
    port = tls_server("short")
    with pytest.raises(GoliveError, match=r"expires .*, in [45]\.\d days; at least 14 are required. Renew it") as err:
        _tls.check("127.0.0.1", port, "shop.lab.test", str(pki / "ca.pem"), min_days=14)
    assert 4.9 < err.value.result["days_left"] <= 5
    # Five days are enough when that is what was asked.
    assert _tls.check("127.0.0.1", port, "shop.lab.test", str(pki / "ca.pem"), min_days=4)["days_left"] > 4


def test_wrong_name_and_unknown_ca_do_not_verify(pki, tls_server):
    port = tls_server("long")
    with pytest.raises(GoliveError, match="does not verify: .*give ca_path"):
        _tls.check("127.0.0.1", port, "other.lab.test", str(pki / "ca.pem"))
    with pytest.raises(GoliveError, match="does not verify"):
        _tls.check("127.0.0.1", port, "shop.lab.test")


def test_nothing_listening_and_no_tls_are_told_apart(pki):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(GoliveError, match="cannot connect to 127.0.0.1:%d" % port):
        _tls.check("127.0.0.1", port, "shop.lab.test", str(pki / "ca.pem"), timeout=2)

    plain = socket.socket()
    plain.bind(("127.0.0.1", 0))
    plain.listen(1)

    def answer_in_plain_text():
        conn = plain.accept()[0]
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        time.sleep(0.2)
        conn.close()

    thread = threading.Thread(target=answer_in_plain_text, daemon=True)
    thread.start()
    try:
        with pytest.raises(GoliveError, match="handshake .* failed: .*serving TLS on that port"):
            _tls.check("127.0.0.1", plain.getsockname()[1], "shop.lab.test", str(pki / "ca.pem"), timeout=2)
    finally:
        thread.join(2)
        plain.close()


def test_unreadable_ca_bundle_is_named(tmp_path):
    with pytest.raises(GoliveError, match="cannot read the CA bundle .*missing.pem"):
        _tls.check("127.0.0.1", 443, "shop.lab.test", str(tmp_path / "missing.pem"))


def test_a_url_as_host_is_refused_without_its_password():
    with pytest.raises(GoliveError) as info:
        _tls.check("https://ops:pw-tls-secret@shop.example.com/", 443)
    assert "pw-tls-secret" not in str(info.value)
    assert "https://ops:********@shop.example.com/" in str(info.value) and "give the name alone" in str(info.value)
