"""GET /health: the release this process runs and whether the database answers."""

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from .db import engine
from .release import RELEASE

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)

# Shown on the status page; keep in step with the release tag.
APP_VERSION = "v1.3.0"


@bp.get("/health")
def health():
    info = {"version": APP_VERSION, "sha": RELEASE["sha"]}
    try:
        with engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        log.exception("health check: database unreachable")
        return jsonify(status="error", error=f"database: {type(exc).__name__}", **info), 500
    return jsonify(status="ok", **info)
