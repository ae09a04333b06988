"""What the long-running commands (run_worker, run_beat) share: a clean stop on SIGTERM
or SIGINT, and systemd's notification protocol (Type=notify)."""

import logging
import os
import signal
import socket
import time

from django.db import connection

log = logging.getLogger(__name__)


def notify(state):
    """Send READY=1, STOPPING=1... to systemd; nothing when not started by it."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(state.encode())


def database_unavailable(logger, exc):
    """A warning, not an error: the database may be restarting or being restored, and the
    loop retries. The connection is dropped so that the next try opens a new one."""
    logger.warning(
        "database unavailable (%s: %s); retrying", type(exc).__name__, " ".join(f"{exc}".split())
    )
    connection.close()


class Stopper:
    """Set by SIGTERM or SIGINT; the loops check it between jobs and while they sleep."""

    STEP = 0.2

    def __init__(self):
        self.signal = None
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum, _frame):
        # Only a flag: the loop logs and stops at its next check.
        self.signal = signum

    @property
    def requested(self):
        return self.signal is not None

    def sleep(self, seconds):
        """Sleep up to ``seconds``, waking within STEP of a stop request."""
        end = time.monotonic() + seconds
        while not self.requested:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, self.STEP))

    def stopped(self, what):
        name = signal.Signals(self.signal).name if self.signal else "end"
        log.info("%s: %s, stopped cleanly", what, name)
        notify("STOPPING=1")
