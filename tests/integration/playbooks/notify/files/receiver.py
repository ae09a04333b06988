# Copyright (c) 2026 runbook.golive maintainers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A webhook receiver for the notify integration test, on 127.0.0.1 only.

Every POST is appended to LOG as one JSON line {"path", "body", "answer"}. By path:
  /flaky/<n>/...        503 for the first <n> requests to that path, then 200 "ok"
  /gone/...             404 "no_service" (a permanent refusal)
  /bot<token>/sendMessage  Telegram's {"ok": true, "result": {"message_id": <k>}}
  anything else         200 "ok"

Usage: python3 receiver.py PORT LOG
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

LOCK = threading.Lock()
SEEN = {}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the http.server API
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8", "replace")
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        with LOCK:
            SEEN[self.path] = SEEN.get(self.path, 0) + 1
            count = SEEN[self.path]
        status, answer = 200, b"ok"
        parts = self.path.strip("/").split("/")
        if parts[0] == "flaky" and len(parts) > 1 and count <= int(parts[1]):
            status, answer = 503, b"try later"
        elif parts[0] == "gone":
            status, answer = 404, b"no_service"
        elif parts[0].startswith("bot") and parts[-1] == "sendMessage":
            answer = json.dumps({"ok": True, "result": {"message_id": 1000 + count, "text": body.get("text")}}).encode()
        with LOCK, open(sys.argv[2], "a") as log:
            log.write(json.dumps({"path": self.path, "body": body, "answer": status}) + "\n")
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if answer.startswith(b"{") else "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
