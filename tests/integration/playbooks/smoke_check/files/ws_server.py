# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A WebSocket handshake answerer for the smoke_check integration test, on 127.0.0.1 only.

GET /ws with the Upgrade headers gets 101 and the RFC 6455 Sec-WebSocket-Accept;
GET /ws-bad gets 101 with a wrong one; anything else 400. The connection is then closed.

Usage: python3 ws_server.py PORT
"""

import base64
import hashlib
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 - the http.server API
        key = self.headers.get("Sec-WebSocket-Key")
        upgrade = (self.headers.get("Upgrade") or "").lower() == "websocket"
        connection = "upgrade" in (self.headers.get("Connection") or "").lower()
        if self.path in ("/ws", "/ws-bad") and key and upgrade and connection:
            accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()  # noqa: S324
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept if self.path == "/ws" else "d3Jvbmc=")
            self.end_headers()
        else:
            self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()
        self.close_connection = True

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
