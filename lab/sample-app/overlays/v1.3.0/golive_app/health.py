"""GET /health: the release this process runs and whether the database answers."""

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from .db import engine
from .release import RELEASE

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/health")
def health():
    info = {"version": RELEASE["version"], "sha": RELEASE["sha"]}
    try:
        with engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        log.exception("health check: database unreachable")
        return jsonify(status="error", error=f"database: {type(exc).__name__}", **info), 500
    return jsonify(status="ok", **info)
