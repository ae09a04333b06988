"""GET /health: the release this process runs and whether the database answers.

Each worker warms its caches for GOLIVE_WARMUP_SECONDS (default 15) after it
starts; until then /health answers 503 ``{"status": "starting"}``.
"""

import logging
import os
import threading
import time

from flask import Blueprint, jsonify
from sqlalchemy import text

from .db import engine
from .release import RELEASE

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

WARMUP_SECONDS = float(os.environ.get("GOLIVE_WARMUP_SECONDS", "15"))
_ready = threading.Event()


def _warm_up():
    log.info("warming up the catalogue cache (%.0f s)", WARMUP_SECONDS)
    time.sleep(WARMUP_SECONDS)
    _ready.set()
    log.info("warm-up done")


threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()


@bp.get("/health")
def health():
    info = {"version": RELEASE["version"], "sha": RELEASE["sha"]}
    if not _ready.is_set():
        return jsonify(status="starting", **info), 503
    try:
        with engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        log.exception("health check: database unreachable")
        return jsonify(status="error", error=f"database: {type(exc).__name__}", **info), 500
    return jsonify(status="ok", **info)
